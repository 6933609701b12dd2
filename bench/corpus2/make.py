"""Build corpus 2's report files in bench/corpus2/reports/ from the sources in bench/corpus2/src/.

Needs (only to rebuild; the generated files are committed, and neither tests nor the product run this):
  - python-docx and pypdf (project dependencies), reportlab (>=4), Pillow (>=10), pdfplumber (the read-back check);
  - a CJK TrueType font for the scanned pages: Debian's fonts-wqy-microhei
    (/usr/share/fonts/truetype/wqy/wqy-microhei.ttc), or set CORPUS2_FONT to another .ttf/.ttc.
The text PDF uses reportlab's built-in CID font STSong-Light (Adobe-GB1), so it needs no font file.

    .venv/bin/python bench/corpus2/make.py

Source markup (only in the sources that become .docx / .pdf): `#T ` title, `#1 `/`#2 `/`#3 ` heading levels,
`#B ` a bold line, and a table between `#TABLE` and `#END`, one row a line, cells split by `|`, the first row the
header; a cell `<<` merges into the cell on its left. Every other line is a body paragraph.

Each run writes the same text (no randomness); the bytes can differ only by the zip and PDF timestamps that
python-docx and Pillow write. After building, every file is read back (pypdf and pdfplumber for the text PDF,
python-docx, the codecs) and compared with its source; the scanned PDF must have no text layer and at most 3 pages.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
OUT = HERE / "reports"
FONT = Path(os.environ.get("CORPUS2_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"))
FIXED_DATE = dt.datetime(2025, 1, 10, 9, 0, 0)

# source file -> (output file name, how it is built)
PLAN: dict[str, tuple[str, str]] = {
    "01-weijianwei.txt": ("市卫健委2024年工作总结及2025年工作计划.docx", "docx-styled"),
    "02-zhujianju.txt": ("河西区住房和城乡建设局2024年工作总结和2025年工作计划.txt", "utf8"),
    "03-fagaiwei.txt": ("青川市发改委2024年工作总结及2025年工作要点.pdf", "pdf-text"),
    "04-shichangjianguan.txt": ("城东新区市场监督管理局2024年工作总结及2025年工作思路.txt", "utf8"),
    "05-renshe.txt": ("云岭县人力资源和社会保障局2024年工作总结和2025年工作计划.txt", "gb18030"),
    "06-shenji-2023.txt": ("青川市河西区审计局2023年工作总结和2024年工作计划.txt", "utf8"),
    "07-shenji-2024.txt": ("青川市河西区审计局2024年工作总结和2025年工作计划.txt", "utf8"),
    "08-donghu-jiedao.txt": ("东湖街道2024年工作总结.docx", "docx-plain"),
    "09-taoyuan-zhen.txt": ("桃源镇2024年工作总结（扫描件）.pdf", "pdf-scan"),
    "10-sanzhong.txt": ("青川三中2024年工作总结及2025年工作计划.txt", "utf8"),
    "11-huibian.txt": ("河西区部门2024年工作总结材料汇编.txt", "utf8"),
    "12-nongyenongcun.txt": ("云岭县农业农村局2024年工作总结及2025年工作安排.txt", "utf8"),
    "13-shengtaihuanjing.txt": ("青川市生态环境局城东新区分局2024年工作总结及2025年工作思路.txt", "utf8"),
    "14-yibao.txt": ("河西区医疗保障局2024年工作总结和2025年工作计划.txt", "utf8"),
}


@dataclass
class Block:
    kind: str  # "title" | "h1" | "h2" | "h3" | "bold" | "para" | "table"
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)


def parse(source: str) -> list[Block]:
    blocks: list[Block] = []
    table: list[list[str]] | None = None
    marks = {"#T ": "title", "#1 ": "h1", "#2 ": "h2", "#3 ": "h3", "#B ": "bold"}
    for line in source.splitlines():
        if table is not None:
            if line.strip() == "#END":
                blocks.append(Block("table", rows=table))
                table = None
            elif line.strip():
                table.append([cell.strip() for cell in line.split("|")])
            continue
        if line.strip() == "#TABLE":
            table = []
            continue
        if not line.strip():
            continue
        kind = next((k for mark, k in marks.items() if line.startswith(mark)), "para")
        text = line[3:] if kind != "para" else line
        blocks.append(Block(kind, text.strip()))
    return blocks


# ---------------------------------------------------------------- .docx


def _docx_core(document) -> None:
    props = document.core_properties
    props.author = "corpus2"
    props.created = FIXED_DATE
    props.modified = FIXED_DATE
    props.last_modified_by = "corpus2"
    props.revision = 1


def _set_east_asian_font(run, name: str) -> None:
    from docx.oxml.ns import qn

    run.font.name = name
    r_pr = run._element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = r_pr.makeelement(qn("w:rFonts"), {})
        r_pr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


def build_docx_styled(blocks: list[Block], out: Path) -> None:
    """Word's own heading styles (Title, Heading 1, Heading 2) and a real table with a header row and a merged cell."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = Document()
    _docx_core(document)
    styles = {"title": "Title", "h1": "Heading 1", "h2": "Heading 2", "h3": "Heading 3"}
    for block in blocks:
        if block.kind in styles:
            paragraph = document.add_paragraph(style=styles[block.kind])
            _set_east_asian_font(paragraph.add_run(block.text), "黑体")
        elif block.kind == "bold":
            paragraph = document.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = paragraph.add_run(block.text)
            run.bold = True
            _set_east_asian_font(run, "宋体")
        elif block.kind == "table":
            _docx_table(document, block.rows)
        else:
            paragraph = document.add_paragraph()
            paragraph.paragraph_format.first_line_indent = Pt(24)
            _set_east_asian_font(paragraph.add_run(block.text), "仿宋")
    document.save(str(out))


def _docx_table(document, rows: list[list[str]]) -> None:
    width = max(len(row) for row in rows)
    table = document.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value == "<<":
                continue
            cell = table.cell(r, c)
            cell.text = value
            if r == 0:
                for run in cell.paragraphs[0].runs:
                    run.bold = True
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value == "<<":
                start = c - 1
                while row[start] == "<<":
                    start -= 1
                table.cell(r, start).merge(table.cell(r, c))
    # the header row repeats on each page, as Word's "标题行重复" does
    from docx.oxml.ns import qn

    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = tr_pr.makeelement(qn("w:tblHeader"), {})
    tr_pr.append(header)


def build_docx_plain(blocks: list[Block], out: Path) -> None:
    """No heading styles at all: every line is a Normal paragraph, headings are short lines set in bold."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = Document()
    _docx_core(document)
    for n, block in enumerate(blocks):
        paragraph = document.add_paragraph()
        run = paragraph.add_run(block.text)
        if block.kind == "bold":
            run.bold = True
            _set_east_asian_font(run, "黑体")
            if n == 0:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                run.font.size = Pt(18)
        else:
            paragraph.paragraph_format.first_line_indent = Pt(24)
            _set_east_asian_font(run, "仿宋")
    document.save(str(out))


# ---------------------------------------------------------------- text PDF


def build_pdf_text(blocks: list[Block], out: Path) -> None:
    """A born-digital PDF with a ruled table, set in the Adobe-GB1 CID font every PDF reader has."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    font = "STSong-Light"
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=18, firstLineIndent=22, wordWrap="CJK")
    styles = {
        "title": ParagraphStyle("title", fontName=font, fontSize=16, leading=24, alignment=TA_CENTER, spaceAfter=12),
        "h1": ParagraphStyle("h1", fontName=font, fontSize=13, leading=22, spaceBefore=8, spaceAfter=4),
        "h2": ParagraphStyle("h2", fontName=font, fontSize=12, leading=20, spaceBefore=4),
        "h3": ParagraphStyle("h3", fontName=font, fontSize=11, leading=18, firstLineIndent=11),
        "bold": ParagraphStyle("caption", fontName=font, fontSize=11, leading=18, alignment=TA_CENTER, spaceBefore=6),
    }
    story: list = []
    for block in blocks:
        if block.kind == "table":
            rows = [
                [Paragraph(cell, ParagraphStyle("cell", fontName=font, fontSize=10, leading=14)) for cell in row]
                for row in block.rows
            ]
            table = Table(rows, colWidths=[70 * mm, 45 * mm, 35 * mm], repeatRows=1)
            table.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
                        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ]
                )
            )
            story += [table, Spacer(1, 6)]
        else:
            story.append(Paragraph(block.text, styles.get(block.kind, body)))
    doc = SimpleDocTemplate(
        str(out),
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=22 * mm,
        title="",
        author="",
        creator="corpus2",
        invariant=1,
    )
    doc.build(story)


# ---------------------------------------------------------------- scanned PDF


DPI = 200
PAGE_W, PAGE_H = int(8.27 * DPI), int(11.69 * DPI)  # A4
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 175, 200, 185
FONT_PX, TITLE_PX, LINE_GAP = 33, 45, 19


def build_pdf_scan(blocks: list[Block], out: Path) -> None:
    """Page images only, as an office scanner makes them: a slight tilt, soft edges, then black and white at 200 dpi
    (CCITT G4 in the PDF), and no text layer."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    if not FONT.exists():
        sys.exit(f"missing CJK font {FONT} (apt-get install fonts-wqy-microhei, or set CORPUS2_FONT)")
    body_font = ImageFont.truetype(str(FONT), FONT_PX)
    title_font = ImageFont.truetype(str(FONT), TITLE_PX)
    width = PAGE_W - 2 * MARGIN_X
    lines: list[tuple[str, object, int, bool]] = []  # text, font, x offset, centred
    for n, block in enumerate(blocks):
        if block.kind == "title" or n == 0:
            for part in _wrap(block.text, title_font, width):
                lines.append((part, title_font, 0, True))
            lines.append(("", body_font, 0, False))
            continue
        indent = 0 if block.text.startswith(("一、", "二、", "三、", "四、")) else 2 * FONT_PX
        for i, part in enumerate(_wrap(block.text, body_font, width, first_indent=indent)):
            lines.append((part, body_font, indent if i == 0 else 0, False))
    pages: list[Image.Image] = []
    y = MARGIN_TOP
    page, draw = _new_page()
    for text, font, x_off, centred in lines:
        height = (TITLE_PX if font is title_font else FONT_PX) + LINE_GAP
        if y + height > PAGE_H - MARGIN_BOTTOM:
            pages.append(page)
            page, draw = _new_page()
            y = MARGIN_TOP
        x = MARGIN_X + x_off
        if centred:
            x = (PAGE_W - draw.textlength(text, font=font)) // 2
        draw.text((x, y), text, font=font, fill=28)
        y += height
    pages.append(page)
    for n, image in enumerate(pages, 1):
        draw = ImageDraw.Draw(image)
        folio = f"— {n} —"
        draw.text(
            ((PAGE_W - draw.textlength(folio, font=body_font)) // 2, PAGE_H - MARGIN_BOTTOM + 60),
            folio,
            font=body_font,
            fill=28,
        )
    if len(pages) > 3:
        sys.exit(f"scanned report has {len(pages)} pages; keep it to 3")
    scanned = []
    for n, image in enumerate(pages):
        tilted = image.rotate(0.35 if n % 2 == 0 else -0.25, resample=Image.BICUBIC, fillcolor=250)
        soft = tilted.filter(ImageFilter.GaussianBlur(0.6))
        scanned.append(soft.point(lambda v: 255 if v > 150 else 0).convert("1"))
    buffer = BytesIO()
    scanned[0].save(buffer, format="PDF", save_all=True, append_images=scanned[1:], resolution=DPI)
    out.write_bytes(buffer.getvalue())


def _new_page():
    from PIL import Image, ImageDraw

    page = Image.new("L", (PAGE_W, PAGE_H), 250)
    return page, ImageDraw.Draw(page)


def _wrap(text: str, font, width: int, first_indent: int = 0) -> list[str]:
    """Greedy character wrapping, keeping closing punctuation off the start of a line (避头点)."""
    closers = "，。、；：？！”’）》】"
    lines: list[str] = []
    current = ""
    limit = width - first_indent
    for char in text:
        if font.getlength(current + char) > limit and current and char not in closers:
            lines.append(current)
            current = ""
            limit = width
        current += char
    if current:
        lines.append(current)
    return lines


# ---------------------------------------------------------------- check


def plain(source: str) -> str:
    """The source's words as a reader should get them back: markup gone, table cells in reading order."""
    kept = []
    for block in parse(source):
        if block.kind == "table":
            kept += [cell for row in block.rows for cell in row if cell != "<<"]
        else:
            kept.append(block.text)
    return "".join("".join(kept).split())


def check(out: Path, how: str, source: str) -> str:
    """Read the built file back the way the product's libraries do and compare with the source; '' when it matches."""
    squash = "".join
    if out.stat().st_size > 300_000:
        return f"{out.stat().st_size} bytes"
    if how == "pdf-scan":
        import pypdf

        reader = pypdf.PdfReader(str(out))
        layer = squash(page.extract_text() for page in reader.pages).strip()
        return "has a text layer" if layer else ("" if len(reader.pages) <= 3 else f"{len(reader.pages)} pages")
    if how == "pdf-text":
        import pdfplumber
        import pypdf

        want = plain(source)
        by_pypdf = squash(squash(page.extract_text().split()) for page in pypdf.PdfReader(str(out)).pages)
        with pdfplumber.open(str(out)) as pdf:
            by_plumber = squash(squash((page.extract_text() or "").split()) for page in pdf.pages)
        bad = [name for name, got in (("pypdf", by_pypdf), ("pdfplumber", by_plumber)) if got != want]
        return f"{', '.join(bad)} text differs" if bad else ""
    if how.startswith("docx"):
        from docx import Document
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = Document(str(out))
        got: list[str] = []
        for child in document.element.body.iterchildren():
            if child.tag.endswith("}p"):
                got.append(Paragraph(child, document).text)
            elif child.tag.endswith("}tbl"):
                for row in Table(child, document).rows:
                    cells = row.cells  # a merged cell appears once per grid column it spans
                    got += [cell.text for i, cell in enumerate(cells) if i == 0 or cell._tc is not cells[i - 1]._tc]
        return "" if squash(squash(got).split()) == plain(source) else "docx text differs"
    codec = "gb18030" if how == "gb18030" else "utf-8"
    return "" if out.read_bytes().decode(codec) == source else "text differs"


# ---------------------------------------------------------------- questions


def report_texts() -> dict[str, str]:
    """Each report's title and its words (whitespace dropped); a compilation is cut at its title lines."""
    texts: dict[str, str] = {}
    for source_name in PLAN:
        lines = [line.removeprefix("##paidbegin##") for line in plain_lines((SRC / source_name).read_text("utf-8"))]
        starts = [i for i, line in enumerate(lines) if is_title(line)]
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else len(lines)
            texts[lines[start]] = "".join("".join(lines[start:end]).split())
    return texts


def plain_lines(source: str) -> list[str]:
    lines: list[str] = []
    for block in parse(source):
        lines += [c for row in block.rows for c in row if c != "<<"] if block.kind == "table" else [block.text]
    return lines


def is_title(line: str) -> bool:
    return re.fullmatch(r"(?!第)[^\s，。【]{2,}20\d\d年工作总结\S*(?:计划|要点|思路|安排|打算)", line) is not None


def check_questions() -> int:
    """Every answerable question names exactly one report (or none, for every-unit questions) and at least one of
    its evidence strings is in that report's text; unanswerable ones carry no evidence and no report."""
    import json

    texts = report_texts()
    problems = 0
    for line in (HERE / "questions.jsonl").read_text("utf-8").splitlines():
        item = json.loads(line)
        word, evidence = item["report"], item["evidence"]
        if not item["answerable"]:
            bad = "unanswerable with evidence or report" if evidence or word else ""
        else:
            titles = [title for title in texts if word and word in title] if word else list(texts)
            found = [ev for ev in evidence if any("".join(ev.split()) in texts[title] for title in titles)]
            if word and len(titles) != 1:
                bad = f"report word {word!r} matches {len(titles)} titles"
            elif not found:
                bad = "no evidence string in the report"
            else:
                bad = ""
        if bad:
            problems += 1
            print(f"BAD {item['id']}: {bad}")
    return problems


# ---------------------------------------------------------------- main


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    failed = 0
    for source_name, (out_name, how) in PLAN.items():
        source = (SRC / source_name).read_text(encoding="utf-8")
        out = OUT / out_name
        if how == "utf8":
            shutil.copyfile(SRC / source_name, out)
        elif how == "gb18030":
            out.write_bytes(source.encode("gb18030"))
        elif how == "docx-styled":
            build_docx_styled(parse(source), out)
        elif how == "docx-plain":
            build_docx_plain(parse(source), out)
        elif how == "pdf-text":
            build_pdf_text(parse(source), out)
        elif how == "pdf-scan":
            build_pdf_scan(parse(source), out)
        else:
            raise ValueError(how)
        problem = check(out, how, source)
        status = f"BAD {problem}" if problem else "OK"
        print(f"{out.stat().st_size:>8,} bytes {len(plain(source)):>6,} chars  {status:<4} {out.name}")
        failed += bool(problem)

    print(f"{len(report_texts())} reports")
    failed += check_questions()
    if failed:
        sys.exit(f"{failed} problem(s)")


if __name__ == "__main__":
    main()
