"""Write bench/corpus7/reports/ from bench/corpus7/src/ and check questions.jsonl against the written files.

Sources are UTF-8 text with LF line endings; the title line of each source becomes the file name. The title is the
first line, except for the sources in TITLE_LINE (a 公文 whose line 1 is a document number such as ``澜公〔2027〕5号``,
line 2 the title and line 3 the addressee). Each file is written with the format / encoding / line ending listed in
FILES:

* plain text in an encoding (``utf-8``, ``utf-8-sig`` = UTF-8 with BOM, ``gb18030``) with LF or CRLF;
* ``docx``: a .docx written with python-docx with Word heading styles: the title as Heading 1, top headings
  (``一、…`` with no ``。``) as Heading 2, ``（一）…`` headings (no ``。``) as Heading 3, every other line Normal;
* ``docx-plain``: a .docx with NO heading styles: every paragraph is Normal; the title and the heading lines
  (``一、…`` / ``（一）…`` with no ``。``) are short paragraphs whose runs are bold;
* ``pdf``: a text PDF written with reportlab (CID font STSong-Light, A4, wrapped lines, invariant=1) with a running
  header on every page (the unit name in PDF_HEADER, small, with a rule under it) and the page number ``— N —``
  centred in the footer.

In both .docx formats a block of consecutive source lines that start and end with ``|`` is a real Word table
(style 'Table Grid', the first row the header row, its runs bold; the cells are the ``|``-separated texts,
stripped), placed where it stands in the text. A Markdown separator row (``|---|---|``) is not a table row.

One source is a compilation (材料汇编): a compilation title line and a cover line, then several reports one after
another, each starting with its own title line (listed in COMPILATIONS). Its reports are checked one by one.

After writing, every file is read back and compared with its source: text files with their encoding (exactly); the
.docx files with python-docx, reading paragraphs and table cells in document order (the body's children), block by
block (style, text, bold runs; table style, rows and cells) and whitespace-insensitively as a whole (a table row
reads back as ``| cell | cell |``); the PDF with pypdf, page by page: each page must hold the header line once and
its own footer ``— N —`` once; both are removed, the pages joined, and the text (whitespace removed) must contain
every source paragraph (whitespace removed), also those that run over a page break, and no header or footer left.
The PDF's page count and page size are checked. Every report's size is checked (2,500-4,500 characters, whitespace
not counted) and the total (>= 29,000). Then every question's evidence is looked up (whitespace ignored) in the text
of the report its `report` word names, and must occur exactly once in the corpus; evidence may not hold ``|`` (it
must lie inside one table cell). Prints one line a file (and one a compiled report); exits non-zero on any mismatch.

    .venv/bin/python bench/corpus7/make.py

Options (for testing the writers on throwaway sources; the defaults are this directory's): ``--src DIR``,
``--out DIR``, ``--questions FILE`` (or the environment variables CORPUS7_SRC, CORPUS7_OUT, CORPUS7_QUESTIONS).

Needs python-docx, reportlab and pypdf (in the project's venv).
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import re
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import docx
import pypdf
from docx.table import Table
from docx.text.paragraph import Paragraph as DocxParagraph
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
OUT = HERE / "reports"
QUESTIONS = HERE / "questions.jsonl"

# source file -> (format, encoding, newline); format "txt", "docx", "docx-plain" or "pdf"
FILES = {
    "01-gongan.txt": ("txt", "utf-8", "\n"),
    "02-shuiwu.txt": ("pdf", None, None),
    "03-sifa.txt": ("docx-plain", None, None),
    "04-zgh-2025.txt": ("txt", "gb18030", "\n"),
    "05-zgh-2026.txt": ("txt", "utf-8-sig", "\r\n"),
    "06-chengtou.txt": ("txt", "utf-8", "\n"),
    "07-tuanquwei.txt": ("docx", None, None),
    "08-huibian.txt": ("txt", "utf-8", "\n"),
}

# source file -> index of its title line among its non-empty lines (default 0, the first line)
TITLE_LINE = {"01-gongan.txt": 1}

# compilation source -> title lines of the reports it holds, in order
COMPILATIONS = {
    "08-huibian.txt": [
        "梓溪县荻港镇荻花村村民委员会2026年工作总结和2027年工作计划",
        "梓溪县科学技术协会2026年工作总结及2027年工作打算",
        "梓溪县红十字会2026年工作总结和2027年工作安排",
    ],
}

# running header of the PDF (every page)
PDF_HEADER = "国家税务总局岚州市澜川区税务局"

FIELDS = ["id", "question", "answerable", "evidence", "report", "split"]
PREFIX = "c7"
MIN_CHARS, MAX_CHARS, MIN_TOTAL = 2500, 4500, 29000
MIN_EVIDENCE, MAX_EVIDENCE = 6, 30
PDF_PAGES = (3, 5)
STAMP = (2027, 1, 11, 9, 0, 0)

TOP_HEADING = re.compile(r"^[一二三四五六七八九十]+、")
SUB_HEADING = re.compile(r"^（[一二三四五六七八九十]+）")
PART_HEADING = re.compile(r"^第[一二三四五六七八九十]+部分")
DOC_NUMBER = re.compile(r"^\S+〔\d{4}〕\d+号$")
FOOTER = re.compile(r"^—\s*(\d+)\s*—$")
SEPARATOR_ROW = re.compile(r"^\|[\s:|-]*-[\s:|-]*\|$")


def squash(text: str) -> str:
    """Text with all whitespace removed (full-width spaces included)."""
    return re.sub(r"\s", "", text)


def chars(text: str) -> int:
    """Characters of report text, whitespace not counted."""
    return len(squash(text))


def source_lines(source: str) -> list[str]:
    return [line.strip() for line in source.split("\n") if line.strip()]


def title_of(name: str, source: str) -> str:
    return source_lines(source)[TITLE_LINE.get(name, 0)]


def heading_level(line: str) -> int:
    """2 for a top heading, 3 for a （一） heading, 0 for a body line (a heading has no 。)."""
    if "。" in line:
        return 0
    if TOP_HEADING.match(line) or PART_HEADING.match(line):
        return 2
    if SUB_HEADING.match(line):
        return 3
    return 0


def is_table_line(line: str) -> bool:
    return len(line) >= 2 and line.startswith("|") and line.endswith("|")


def table_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line[1:-1].split("|")]


def blocks(source: str) -> list[tuple[str, object]]:
    """The source as [("p", line)] and [("t", rows)] blocks; consecutive ``|…|`` lines form one table."""
    out: list[tuple[str, object]] = []
    for line in source_lines(source):
        if is_table_line(line):
            if SEPARATOR_ROW.match(line):
                continue
            if out and out[-1][0] == "t":
                out[-1][1].append(table_cells(line))  # type: ignore[union-attr]
            else:
                out.append(("t", [table_cells(line)]))
        else:
            out.append(("p", line))
    return out


def table_row_text(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def blocks_text(items: list[tuple[str, object]]) -> str:
    lines = []
    for kind, value in items:
        if kind == "p":
            lines.append(value)
        else:
            lines.extend(table_row_text(row) for row in value)  # type: ignore[union-attr]
    return "\n".join(lines)  # type: ignore[arg-type]


def docx_style(line: str, first: bool) -> str:
    if first:
        return "Heading 1"
    level = heading_level(line)
    return f"Heading {level}" if level else "Normal"


def fix_docx(document: docx.Document, out: Path) -> None:
    """Save with fixed metadata and zip timestamps, so that every run writes the same bytes."""
    props = document.core_properties
    props.author = props.last_modified_by = ""
    props.created = props.modified = datetime.datetime(*STAMP)
    props.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, src.read(item.filename))


def add_table(document: docx.Document, rows: list[list[str]]) -> None:
    table = document.add_table(rows=len(rows), cols=max(len(row) for row in rows))
    table.style = document.styles["Table Grid"]
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            paragraph = table.cell(r, c).paragraphs[0]
            run = paragraph.add_run(text)
            if r == 0:
                run.bold = True


def write_docx(source: str, out: Path) -> None:
    document = docx.Document()
    first = True
    for kind, value in blocks(source):
        if kind == "t":
            add_table(document, value)  # type: ignore[arg-type]
            continue
        document.add_paragraph(value, style=docx_style(value, first))  # type: ignore[arg-type]
        first = False
    fix_docx(document, out)


def write_docx_plain(source: str, out: Path) -> None:
    """Every paragraph Normal; title and heading lines bold (the title also centred)."""
    document = docx.Document()
    first = True
    for kind, value in blocks(source):
        if kind == "t":
            add_table(document, value)  # type: ignore[arg-type]
            continue
        paragraph = document.add_paragraph(style="Normal")
        run = paragraph.add_run(value)  # type: ignore[arg-type]
        if first or heading_level(value):  # type: ignore[arg-type]
            run.bold = True
        if first:
            paragraph.alignment = 1
        first = False
    fix_docx(document, out)


def all_bold(paragraph: DocxParagraph) -> bool:
    return bool(paragraph.runs) and all(run.bold for run in paragraph.runs)


def read_docx(path: Path) -> tuple[str, list[tuple]]:
    """(text in document order, [("p", style, text, bold)] and [("t", style, rows, header bold)] blocks).

    The body's children are read in order, so that table cells stand where the table stands; a table row reads
    back as ``| cell | cell |``.
    """
    document = docx.Document(path)
    items: list[tuple] = []
    lines: list[str] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            p = DocxParagraph(child, document)
            items.append(("p", p.style.name, p.text, all_bold(p)))
            lines.append(p.text)
        elif tag == "tbl":
            table = Table(child, document)
            rows = [[cell.text for cell in row.cells] for row in table.rows]
            header_bold = bool(table.rows) and all(
                all_bold(p) for cell in table.rows[0].cells for p in cell.paragraphs if p.text
            )
            items.append(("t", table.style.name if table.style is not None else None, rows, header_bold))
            lines.extend(table_row_text(row) for row in rows)
    return "\n".join(lines), items


def check_docx(source: str, items: list[tuple], name: str, plain: bool) -> int:
    want = blocks(source)
    got_tables, want_tables = sum(1 for i in items if i[0] == "t"), sum(1 for w in want if w[0] == "t")
    if len(want) != len(items) or [w[0] for w in want] != [i[0] for i in items]:
        print(
            f"{name}: {len(items)} blocks ({got_tables} tables), expected {len(want)} ({want_tables} tables) "
            "in the same order"
        )
        return 1
    errors = 0
    first = True
    for number, ((kind, value), item) in enumerate(zip(want, items, strict=True)):
        if kind == "t":
            rows = value
            _, style, got_rows, header_bold = item
            widths = {len(row) for row in rows}  # type: ignore[union-attr]
            if len(widths) != 1:
                print(f"{name}: table at block {number + 1} has rows of {sorted(widths)} cells")
                errors += 1
            if len(rows) < 2:  # type: ignore[arg-type]
                print(f"{name}: table at block {number + 1} has only a header row")
                errors += 1
            if style != "Table Grid" or got_rows != rows or not header_bold:
                print(
                    f"{name}: table at block {number + 1} is {style!r} header bold={header_bold} "
                    f"{len(got_rows)} rows, expected 'Table Grid' bold header {len(rows)} rows"  # type: ignore[arg-type]
                )
                errors += 1
            continue
        line = value
        _, style, text, bold = item
        if plain:
            expected, want_bold = "Normal", first or bool(heading_level(line))  # type: ignore[arg-type]
        else:
            expected, want_bold = docx_style(line, first), bold  # type: ignore[arg-type]
        first = False
        if style != expected or text != line or bold != want_bold:
            print(
                f"{name}: paragraph {number + 1} is {style!r} bold={bold} {text[:20]!r}, "
                f"expected {expected!r} bold={want_bold} {line[:20]!r}"  # type: ignore[index]
            )
            errors += 1
    return errors


def pdf_page_marks(canvas, doc) -> None:
    """Running header (unit name, small, rule under it) and centred page number footer on every page."""
    width, height = A4
    canvas.saveState()
    canvas.setFont("STSong-Light", 9)
    canvas.drawCentredString(width / 2, height - 1.6 * cm, PDF_HEADER)
    canvas.setLineWidth(0.6)
    canvas.line(doc.leftMargin, height - 1.8 * cm, width - doc.rightMargin, height - 1.8 * cm)
    canvas.setFont("STSong-Light", 10.5)
    canvas.drawCentredString(width / 2, 1.4 * cm, f"— {doc.page} —")
    canvas.restoreState()


def write_pdf(source: str, out: Path) -> None:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    title_style = ParagraphStyle(
        "title", fontName="STSong-Light", fontSize=16, leading=24, alignment=TA_CENTER, wordWrap="CJK", spaceAfter=12
    )
    head_style = ParagraphStyle(
        "head", fontName="STSong-Light", fontSize=13, leading=22, wordWrap="CJK", spaceBefore=6, spaceAfter=2
    )
    body_style = ParagraphStyle(
        "body", fontName="STSong-Light", fontSize=12, leading=21, wordWrap="CJK", firstLineIndent=24
    )
    story = []
    for number, line in enumerate(source_lines(source)):
        if number == 0:
            story.append(Paragraph(escape(line), title_style))
        elif heading_level(line):
            story.append(Paragraph(escape(line), head_style))
        else:
            story.append(Paragraph(escape(line), body_style))
    story.append(Spacer(1, 6))
    title = source_lines(source)[0]
    doc = SimpleDocTemplate(
        str(out),
        pagesize=A4,
        leftMargin=2.6 * cm,
        rightMargin=2.6 * cm,
        topMargin=2.6 * cm,
        bottomMargin=2.4 * cm,
        title=title,
        author="",
        subject="",
        creator="",
        producer="",
        invariant=1,
    )
    doc.build(story, onFirstPage=pdf_page_marks, onLaterPages=pdf_page_marks)


def read_pdf(path: Path) -> tuple[list[str], list[tuple[float, float]]]:
    reader = pypdf.PdfReader(str(path))
    pages = reader.pages
    texts = [page.extract_text() or "" for page in pages]
    sizes = [(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pages]
    return texts, sizes


def strip_page_marks(texts: list[str], name: str) -> tuple[str, int]:
    """Remove each page's header line and footer line (each must be there once); return (body text, errors)."""
    errors = 0
    bodies = []
    for number, text in enumerate(texts, 1):
        lines = text.split("\n")
        headers = [i for i, line in enumerate(lines) if line.strip() == PDF_HEADER]
        footers = [i for i, line in enumerate(lines) if FOOTER.match(line.strip())]
        if len(headers) != 1:
            print(f"{name}: page {number} has the header line {len(headers)} times")
            errors += 1
        numbers = [int(FOOTER.match(lines[i].strip()).group(1)) for i in footers]  # type: ignore[union-attr]
        if numbers != [number]:
            print(f"{name}: page {number} has footers {numbers}, expected [{number}]")
            errors += 1
        drop = set(headers) | set(footers)
        bodies.append("\n".join(line for i, line in enumerate(lines) if i not in drop))
    return "\n".join(bodies), errors


def check_pdf(source: str, texts: list[str], sizes: list, name: str) -> tuple[str, int, int]:
    """(body text, errors, paragraphs that run over a page break)."""
    errors = 0
    pages = len(texts)
    if not PDF_PAGES[0] <= pages <= PDF_PAGES[1]:
        print(f"{name}: {pages} pages, expected {PDF_PAGES[0]}-{PDF_PAGES[1]}")
        errors += 1
    if any(size != (595, 842) for size in sizes):
        print(f"{name}: page sizes {sizes}, expected A4")
        errors += 1
    body, bad = strip_page_marks(texts, name)
    errors += bad
    flat = squash(body)
    header = squash(PDF_HEADER)
    if flat.count(header) != squash(source).count(header):
        print(
            f"{name}: header text left in the body {flat.count(header)} times, "
            f"the source has it {squash(source).count(header)} times"
        )
        errors += 1
    if any(FOOTER.match(line.strip()) for line in body.split("\n")):
        print(f"{name}: a footer line is left in the body")
        errors += 1
    pages_flat = [squash(t) for t in texts]
    over = 0
    for line in source_lines(source):
        if squash(line) not in flat:
            print(f"{name}: paragraph not in the extracted text: {line[:30]!r}")
            errors += 1
        elif not any(squash(line) in page for page in pages_flat):
            over += 1
    return body, errors, over


def split_compilation(name: str, text: str) -> tuple[dict[str, str], int]:
    """Split a compilation's text into {report title: report text}; the preamble goes to no report."""
    lines = text.split("\n")
    titles = COMPILATIONS[name]
    starts = []
    for title in titles:
        found = [i for i, line in enumerate(lines) if line.strip() == title]
        if len(found) != 1:
            print(f"{name}: title line {title!r} found {len(found)} times")
            return {}, 1
        starts.append(found[0])
    if starts != sorted(starts):
        print(f"{name}: report titles out of order")
        return {}, 1
    reports = {}
    for k, (title, start) in enumerate(zip(titles, starts, strict=True)):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        reports[title] = "\n".join(lines[start:end]).strip("\n") + "\n"
    return reports, 0


def size_line(n: int, name: str, indent: str = "") -> tuple[str, int]:
    if MIN_CHARS <= n <= MAX_CHARS:
        return "ok", 0
    print(f"{indent}{name}: {n} chars, outside {MIN_CHARS}-{MAX_CHARS}")
    return "SIZE", 1


def write_text(source: str, out: Path, encoding: str, newline: str) -> tuple[str, int]:
    out.write_bytes(source.replace("\n", newline).encode(encoding))
    raw = out.read_bytes()
    errors = 0
    crlf = raw.count(b"\r\n")
    if (newline == "\r\n") != (crlf > 0) or (newline == "\r\n" and crlf != raw.count(b"\n")):
        print(f"{out.name}: line endings are not {newline!r}")
        errors += 1
    if (encoding == "utf-8-sig") != raw.startswith(b"\xef\xbb\xbf"):
        print(f"{out.name}: BOM does not match encoding {encoding}")
        errors += 1
    if encoding == "gb18030":
        try:
            raw.decode("utf-8")
            print(f"{out.name}: GB18030 file also decodes as UTF-8")
            errors += 1
        except UnicodeDecodeError:
            pass
    back = raw.decode(encoding).replace("\r\n", "\n")
    if back != source:
        print(f"read-back mismatch: {out.name}")
        errors += 1
    return back, errors


def check_title_line(name: str, source: str) -> int:
    """A source whose title is not its first line: the lines before the title are a 公文 document number."""
    index = TITLE_LINE.get(name, 0)
    if not index:
        return 0
    lines = source_lines(source)
    if not DOC_NUMBER.match(lines[0]):
        print(f"{name}: line 1 {lines[0]!r} is not a document number (…〔yyyy〕N号)")
        return 1
    if len(lines) <= index + 1 or DOC_NUMBER.match(lines[index]) or "。" in lines[index]:
        print(f"{name}: line {index + 1} {lines[index]!r} is not a title")
        return 1
    return 0


def write_reports() -> tuple[dict[str, str], list[str], int, int]:
    """Write every file; return (report title -> text as read back, file titles, total chars, number of errors)."""
    errors = 0
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    written: dict[str, str] = {}
    file_titles: list[str] = []
    total = 0
    for name, (kind, encoding, newline) in FILES.items():
        source = (SRC / name).read_text(encoding="utf-8")
        title = title_of(name, source)
        file_titles.append(title)
        if "\r" in source or source.startswith("\ufeff"):
            print(f"{name}: source must be UTF-8 without BOM, LF line endings")
            errors += 1
        if kind != "txt" and name in TITLE_LINE:
            print(f"{name}: TITLE_LINE is for text files only")
            errors += 1
        errors += check_title_line(name, source)
        extra = ""
        if kind in ("docx", "docx-plain"):
            out = OUT / f"{title}.docx"
            (write_docx if kind == "docx" else write_docx_plain)(source, out)
            back, items = read_docx(out)
            bad = 0 if squash(back) == squash(blocks_text(blocks(source))) else 1
            if bad:
                print(f"read-back mismatch: {out.name}")
            bad += check_docx(source, items, out.name, kind == "docx-plain")
            label, ending = ("docx" if kind == "docx" else "docx-bold"), "-"
            tables = [item[2] for item in items if item[0] == "t"]
            if tables:
                extra = ", ".join(f"{len(rows)}x{len(rows[0])}" for rows in tables)
                extra = f"{len(tables)} Word table(s) read back in place: {extra} (rows x cells)"
        elif kind == "pdf":
            out = OUT / f"{title}.pdf"
            write_pdf(source, out)
            texts, sizes = read_pdf(out)
            back, bad, over = check_pdf(source, texts, sizes, out.name)
            label, ending = f"pdf {len(texts)}p", "-"
            extra = f"header + footer on {len(texts)} pages removed; {over} paragraph(s) run over a page break"
        else:
            out = OUT / f"{title}.txt"
            back, bad = write_text(source, out, encoding, newline)
            label = "utf-8+BOM" if encoding == "utf-8-sig" else encoding
            ending = "CRLF" if newline == "\r\n" else "LF"
        errors += bad
        status = "ok" if not bad else "BAD"
        size_bytes = out.stat().st_size
        # the PDF is counted by its source (extraction may add or drop whitespace only)
        n = chars(source) if kind == "pdf" else chars(back)
        total += n
        if name in COMPILATIONS:
            print(f"{size_bytes:>8,} bytes {n:>6,} chars  {label:<9} {ending:<4} {status:<4} {'':<4} {out.name}")
            reports, bad = split_compilation(name, back)
            errors += bad
            for report_title, text in reports.items():
                size, bad = size_line(chars(text), report_title, "  ")
                errors += bad
                print(f"{'':>14} {chars(text):>6,} chars  {'':<9} {'':<4} {'':<4} {size:<4}   └ {report_title}")
                written[report_title] = text
        else:
            size, bad = size_line(n, out.name)
            errors += bad
            print(f"{size_bytes:>8,} bytes {n:>6,} chars  {label:<9} {ending:<4} {status:<4} {size:<4} {out.name}")
            written[title] = back
        if extra:
            print(f"{'':>14}   └ {extra}")
    print(f"{'':>15}{total:>6,} chars  total, {len(written)} reports in {len(FILES)} files")
    if total < MIN_TOTAL:
        print(f"total {total} chars < {MIN_TOTAL}")
        errors += 1
    return written, file_titles, total, errors


def check_determinism() -> int:
    """Write every binary file a second time into temp paths and compare bytes."""
    errors = 0
    for name, (kind, _, _) in FILES.items():
        if kind not in ("docx", "docx-plain", "pdf"):
            continue
        source = (SRC / name).read_text(encoding="utf-8")
        title = title_of(name, source)
        suffix = ".pdf" if kind == "pdf" else ".docx"
        first = (OUT / f"{title}{suffix}").read_bytes()
        again = OUT / f".again{suffix}"
        {"docx": write_docx, "docx-plain": write_docx_plain, "pdf": write_pdf}[kind](source, again)
        if again.read_bytes() != first:
            print(f"{title}{suffix}: a second build writes different bytes")
            errors += 1
        again.unlink()
    return errors


def check_questions(written: dict[str, str], file_titles: list[str]) -> int:
    errors = 0
    if not QUESTIONS.exists():
        print(f"questions: {QUESTIONS} does not exist")
        return 1
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    flat = {title: squash(text) for title, text in written.items()}
    # the whole corpus as written: every report, plus the preamble of each compilation
    corpus = "\n".join(flat.values())
    preambles = []
    for name in COMPILATIONS:
        source = (SRC / name).read_text(encoding="utf-8")
        first = COMPILATIONS[name][0]
        preambles.append(squash(source.split(first, 1)[0]))
    corpus = corpus + "\n" + "\n".join(preambles)
    compilation_titles = [t for t in file_titles if t not in written]
    ids = [row.get("id") for row in rows]
    if len(set(ids)) != len(ids):
        print("duplicate ids")
        errors += 1
    for number, row in enumerate(rows, 1):
        qid = row.get("id")
        if list(row) != FIELDS:
            print(f"{qid}: fields {list(row)}")
            errors += 1
            continue
        if qid != f"{PREFIX}-{number:03d}":
            print(f"{qid}: expected id {PREFIX}-{number:03d}")
            errors += 1
        want = "tune" if number % 2 else "held"
        if row["split"] != want:
            print(f"{qid}: split {row['split']!r}, expected {want!r}")
            errors += 1
        if not isinstance(row["answerable"], bool) or not isinstance(row["evidence"], list):
            print(f"{qid}: answerable must be bool and evidence a list")
            errors += 1
            continue
        if not isinstance(row["question"], str) or not row["question"].strip():
            print(f"{qid}: empty question")
            errors += 1
        if not isinstance(row["report"], str):
            print(f"{qid}: report must be a string")
            errors += 1
            continue
        if not row["answerable"]:
            if row["evidence"] or row["report"]:
                print(f"{qid}: unanswerable with evidence/report")
                errors += 1
            continue
        evidence = row["evidence"]
        if not evidence:
            print(f"{qid}: answerable without evidence")
            errors += 1
            continue
        if row["report"]:
            titles = [t for t in written if row["report"] in t]
            if len(titles) != 1:
                print(f"{qid}: report word {row['report']!r} names {len(titles)} reports")
                errors += 1
                continue
            if any(row["report"] in t for t in compilation_titles):
                print(f"{qid}: report word {row['report']!r} is in a compilation title")
                errors += 1
            targets = {titles[0]: flat[titles[0]]}
            if len(evidence) > 3:
                print(f"{qid}: {len(evidence)} evidence strings for one report")
                errors += 1
        else:
            targets = flat
            if len(evidence) < 2:
                print(f"{qid}: report '' needs an evidence string per report (at least 2)")
                errors += 1
        sources = []
        for ev in evidence:
            if not isinstance(ev, str) or ev != ev.strip() or re.search(r"\s", ev):
                print(f"{qid}: whitespace in evidence {ev!r}")
                errors += 1
                continue
            if "|" in ev:
                print(f"{qid}: evidence {ev!r} holds '|' (it must lie inside one table cell)")
                errors += 1
            if not MIN_EVIDENCE <= len(ev) <= MAX_EVIDENCE:
                print(f"{qid}: evidence {ev!r} is {len(ev)} chars, outside {MIN_EVIDENCE}-{MAX_EVIDENCE}")
                errors += 1
            found = [t for t, text in targets.items() if squash(ev) in text]
            if not found:
                print(f"{qid}: evidence not in the named report: {ev!r}")
                errors += 1
            sources.extend(found)
            n = corpus.count(squash(ev))
            if n != 1:
                print(f"{qid}: evidence occurs {n} times in the corpus: {ev!r}")
                errors += 1
        if not row["report"] and len(set(sources)) != len(evidence):
            print(f"{qid}: evidence strings of a report '' question do not come from {len(evidence)} different reports")
            errors += 1
    answerable = sum(1 for row in rows if row.get("answerable") is True)
    tune = sum(1 for row in rows if row.get("split") == "tune")
    print(
        f"questions: {len(rows)} ({answerable} answerable, {len(rows) - answerable} unanswerable; "
        f"{tune} tune, {len(rows) - tune} held), {errors} errors"
    )
    return errors


def parse_args() -> None:
    global SRC, OUT, QUESTIONS
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--src", type=Path, default=Path(os.environ.get("CORPUS7_SRC", SRC)))
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("CORPUS7_OUT", OUT)))
    parser.add_argument("--questions", type=Path, default=Path(os.environ.get("CORPUS7_QUESTIONS", QUESTIONS)))
    args = parser.parse_args()
    SRC, OUT, QUESTIONS = args.src, args.out, args.questions


def main() -> None:
    parse_args()
    written, file_titles, _, errors = write_reports()
    errors += check_determinism()
    errors += check_questions(written, file_titles)
    print(f"{errors} errors")
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
