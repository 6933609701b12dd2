"""Write bench/corpus6/reports/ from bench/corpus6/src/ and check questions.jsonl against the written files.

Sources are UTF-8 text with LF line endings; the first line of each source is the file's title and becomes the
file name. Each file is written with the format / encoding / line ending listed in FILES:

* plain text in an encoding (``utf-8``, ``utf-8-sig`` = UTF-8 with BOM, ``gb18030``) with LF or CRLF;
* ``docx``: a .docx written with python-docx with Word heading styles: the title as Heading 1, top headings
  (``一、…`` with no ``。``) as Heading 2, ``（一）…`` headings (no ``。``) as Heading 3, every other line Normal;
* ``docx-plain``: a .docx with NO heading styles: every paragraph is Normal; the title and the heading lines
  (``一、…`` / ``（一）…`` with no ``。``) are short paragraphs whose runs are bold;
* ``pdf``: a text PDF written with reportlab (CID font STSong-Light, A4, wrapped lines, invariant=1).

One source is a compilation (材料汇编): a compilation title line and a cover line, then several reports one after
another, each starting with its own title line (listed in COMPILATIONS). Its reports are checked one by one.

After writing, every file is read back (text files with their encoding, the .docx files with python-docx, joining
their paragraph texts, the PDF with pypdf) and compared with its source (the .docx and the PDF whitespace-
insensitively: the PDF's extracted text, whitespace removed, must contain every source paragraph, whitespace
removed). Styles and bold runs of the .docx files are checked, and the PDF's page count and size. Every report's size
is checked (2,500-4,500 characters, whitespace not counted) and the total (>= 32,000). Then every question's evidence
is looked up (whitespace ignored) in the text of the report its `report` word names, and must occur exactly once in
the corpus. Prints one line a file (and one a compiled report); exits non-zero on any mismatch.

    .venv/bin/python bench/corpus6/make.py

Needs python-docx, reportlab and pypdf (in the project's venv).
"""

from __future__ import annotations

import datetime
import io
import json
import re
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import docx
import pypdf
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
    "01-shenpi-2024.txt": ("txt", "utf-8", "\n"),
    "02-shenpi-2025.txt": ("txt", "utf-8", "\n"),
    "03-guozi.txt": ("pdf", None, None),
    "04-gongjijin.txt": ("docx", None, None),
    "05-fulian.txt": ("docx-plain", None, None),
    "06-jikong.txt": ("txt", "utf-8-sig", "\r\n"),
    "07-qixiang.txt": ("txt", "utf-8", "\n"),
    "08-zongbao.txt": ("txt", "gb18030", "\n"),
    "09-huibian.txt": ("txt", "utf-8", "\n"),
    "10-guixiang.txt": ("txt", "utf-8", "\r\n"),
}

# compilation source -> title lines of the reports it holds, in order
COMPILATIONS = {
    "09-huibian.txt": [
        "椿林县青苇乡人民政府2025年工作总结及2026年工作打算",
        "椿林县残疾人联合会2025年工作总结和2026年工作要点",
        "椿林县柏岗镇中心卫生院2025年工作总结和2026年工作计划",
    ],
}

FIELDS = ["id", "question", "answerable", "evidence", "report", "split"]
PREFIX = "c6"
MIN_CHARS, MAX_CHARS, MIN_TOTAL = 2500, 4500, 32000
MIN_EVIDENCE, MAX_EVIDENCE = 6, 25
PDF_PAGES = (2, 3)
STAMP = (2026, 1, 12, 9, 0, 0)

TOP_HEADING = re.compile(r"^[一二三四五六七八九十]+、")
SUB_HEADING = re.compile(r"^（[一二三四五六七八九十]+）")
PART_HEADING = re.compile(r"^第[一二三四五六七八九十]+部分")


def squash(text: str) -> str:
    """Text with all whitespace removed (full-width spaces included)."""
    return re.sub(r"\s", "", text)


def chars(text: str) -> int:
    """Characters of report text, whitespace not counted."""
    return len(squash(text))


def source_lines(source: str) -> list[str]:
    return [line.strip() for line in source.split("\n") if line.strip()]


def heading_level(line: str) -> int:
    """2 for a top heading, 3 for a （一） heading, 0 for a body line (a heading has no 。)."""
    if "。" in line:
        return 0
    if TOP_HEADING.match(line) or PART_HEADING.match(line):
        return 2
    if SUB_HEADING.match(line):
        return 3
    return 0


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


def write_docx(source: str, out: Path) -> None:
    document = docx.Document()
    for number, line in enumerate(source_lines(source)):
        document.add_paragraph(line, style=docx_style(line, number == 0))
    fix_docx(document, out)


def write_docx_plain(source: str, out: Path) -> None:
    """Every paragraph Normal; title and heading lines bold (the title also centred)."""
    document = docx.Document()
    for number, line in enumerate(source_lines(source)):
        paragraph = document.add_paragraph(style="Normal")
        run = paragraph.add_run(line)
        if number == 0 or heading_level(line):
            run.bold = True
        if number == 0:
            paragraph.alignment = 1
    fix_docx(document, out)


def read_docx(path: Path) -> tuple[str, list[tuple[str, str, bool]]]:
    """(paragraph texts joined with newlines, [(style name, text, all runs bold)])."""
    paragraphs = []
    for p in docx.Document(path).paragraphs:
        bold = bool(p.runs) and all(run.bold for run in p.runs)
        paragraphs.append((p.style.name, p.text, bold))
    return "\n".join(text for _, text, _ in paragraphs), paragraphs


def check_docx(source: str, paragraphs: list[tuple[str, str, bool]], name: str, plain: bool) -> int:
    want = source_lines(source)
    if len(want) != len(paragraphs):
        print(f"{name}: {len(paragraphs)} paragraphs, expected {len(want)}")
        return 1
    errors = 0
    for number, (line, (style, text, bold)) in enumerate(zip(want, paragraphs, strict=True)):
        if plain:
            expected, want_bold = "Normal", number == 0 or bool(heading_level(line))
        else:
            expected, want_bold = docx_style(line, number == 0), bold
        if style != expected or text != line or bold != want_bold:
            print(
                f"{name}: paragraph {number + 1} is {style!r} bold={bold} {text[:20]!r}, "
                f"expected {expected!r} bold={want_bold} {line[:20]!r}"
            )
            errors += 1
    return errors


def write_pdf(source: str, out: Path) -> None:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    title_style = ParagraphStyle(
        "title", fontName="STSong-Light", fontSize=16, leading=24, alignment=TA_CENTER, wordWrap="CJK", spaceAfter=12
    )
    head_style = ParagraphStyle(
        "head", fontName="STSong-Light", fontSize=12.5, leading=20, wordWrap="CJK", spaceBefore=6, spaceAfter=2
    )
    body_style = ParagraphStyle(
        "body", fontName="STSong-Light", fontSize=11, leading=18, wordWrap="CJK", firstLineIndent=22
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
        topMargin=2.5 * cm,
        bottomMargin=2.5 * cm,
        title=title,
        author="",
        subject="",
        creator="",
        producer="",
        invariant=1,
    )
    doc.build(story)


def read_pdf(path: Path) -> tuple[str, int, list[tuple[float, float]]]:
    reader = pypdf.PdfReader(str(path))
    pages = reader.pages
    text = "\n".join(page.extract_text() or "" for page in pages)
    sizes = [(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pages]
    return text, len(pages), sizes


def check_pdf(source: str, back: str, pages: int, sizes: list, name: str) -> int:
    errors = 0
    if not PDF_PAGES[0] <= pages <= PDF_PAGES[1]:
        print(f"{name}: {pages} pages, expected {PDF_PAGES[0]}-{PDF_PAGES[1]}")
        errors += 1
    if any(size != (595, 842) for size in sizes):
        print(f"{name}: page sizes {sizes}, expected A4")
        errors += 1
    flat = squash(back)
    for line in source_lines(source):
        if squash(line) not in flat:
            print(f"{name}: paragraph not in the extracted text: {line[:30]!r}")
            errors += 1
    return errors


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
        title = source.split("\n", 1)[0].strip()
        file_titles.append(title)
        if "\r" in source or source.startswith("\ufeff"):
            print(f"{name}: source must be UTF-8 without BOM, LF line endings")
            errors += 1
        if kind in ("docx", "docx-plain"):
            out = OUT / f"{title}.docx"
            (write_docx if kind == "docx" else write_docx_plain)(source, out)
            back, paragraphs = read_docx(out)
            bad = 0 if squash(back) == squash(source) else 1
            if bad:
                print(f"read-back mismatch: {out.name}")
            bad += check_docx(source, paragraphs, out.name, kind == "docx-plain")
            label, ending = ("docx" if kind == "docx" else "docx-bold"), "-"
        elif kind == "pdf":
            out = OUT / f"{title}.pdf"
            write_pdf(source, out)
            back, pages, sizes = read_pdf(out)
            bad = check_pdf(source, back, pages, sizes, out.name)
            label, ending = f"pdf {pages}p", "-"
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
    print(f"{'':>15}{total:>6,} chars  total, {len(written)} reports in {len(FILES)} files")
    if total < MIN_TOTAL:
        print(f"total {total} chars < {MIN_TOTAL}")
        errors += 1
    return written, file_titles, total, errors


def check_determinism() -> int:
    """Write every binary file a second time into memory-free temp paths and compare bytes."""
    errors = 0
    for name, (kind, _, _) in FILES.items():
        if kind not in ("docx", "docx-plain", "pdf"):
            continue
        source = (SRC / name).read_text(encoding="utf-8")
        title = source.split("\n", 1)[0].strip()
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


def main() -> None:
    written, file_titles, _, errors = write_reports()
    errors += check_determinism()
    errors += check_questions(written, file_titles)
    print(f"{errors} errors")
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
