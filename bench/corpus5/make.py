"""Write bench/corpus5/reports/ from bench/corpus5/src/ and check questions.jsonl against the written files.

Sources are UTF-8 text with LF line endings; the first line of each source is the file's title and becomes the
file name. Each file is written with the format / encoding / line ending listed in FILES:

* plain text in an encoding (``utf-8``, ``utf-8-sig`` = UTF-8 with BOM, ``gb18030``) with LF or CRLF;
* one ``.docx`` written with python-docx: the title as a Heading 1 paragraph, top headings (``一、…``) as
  Heading 2, ``（一）…`` headings as Heading 3, every other non-empty line as a normal paragraph.

One source is a compilation (材料汇编): a compilation title line, then several reports one after another, each
starting with its own title line (listed in COMPILATIONS). Its reports are checked one by one.

After writing, every file is read back (text files with their encoding, the .docx with python-docx, joining its
paragraph texts) and compared with its source (the .docx whitespace-insensitively). Every report's size is checked
(2,500-4,500 characters, whitespace not counted) and the total (>= 30,000). Then every question's evidence is looked up
(whitespace ignored) in the text of the report its `report` word names, and must occur exactly once in the corpus.
Prints one line a file (and one a compiled report); exits non-zero on any mismatch.

    .venv/bin/python bench/corpus5/make.py

Needs python-docx (in the project's venv).
"""

from __future__ import annotations

import datetime
import io
import json
import re
import sys
import zipfile
from pathlib import Path

import docx

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
OUT = HERE / "reports"
QUESTIONS = HERE / "questions.jsonl"

# source file -> (format, encoding, newline); format "txt" or "docx" (encoding / newline unused for docx)
FILES = {
    "01-jiaotong.txt": ("txt", "utf-8", "\n"),
    "02-wenlv.txt": ("docx", None, None),
    "03-tuiyijunren.txt": ("txt", "utf-8-sig", "\r\n"),
    "04-huibian.txt": ("txt", "gb18030", "\n"),
    "05-renfang.txt": ("txt", "utf-8", "\n"),
    "06-chengguan.txt": ("txt", "utf-8", "\n"),
    "07-liuyin.txt": ("txt", "utf-8", "\n"),
    "08-jiaoti-2024.txt": ("txt", "utf-8", "\n"),
    "09-jiaoti-2025.txt": ("txt", "utf-8", "\n"),
}

# compilation source -> title lines of the reports it holds, in order
COMPILATIONS = {
    "04-huibian.txt": [
        "松桥县马坊镇人民政府2025年工作总结及2026年工作打算",
        "松桥县供销合作社联合社2025年工作总结和2026年工作思路",
        "松桥县职业中等专业学校2025年工作总结及2026年工作计划",
    ],
}

FIELDS = ["id", "question", "answerable", "evidence", "report", "split"]
PREFIX = "c5"
MIN_CHARS, MAX_CHARS, MIN_TOTAL = 2500, 4500, 30000
MIN_EVIDENCE, MAX_EVIDENCE = 6, 25

TOP_HEADING = re.compile(r"^[一二三四五六七八九十]+、")
SUB_HEADING = re.compile(r"^（[一二三四五六七八九十]+）")


def squash(text: str) -> str:
    """Text with all whitespace removed (full-width spaces included)."""
    return re.sub(r"\s", "", text)


def chars(text: str) -> int:
    """Characters of report text, whitespace not counted."""
    return len(squash(text))


def docx_style(line: str, first: bool) -> str:
    if first:
        return "Heading 1"
    if TOP_HEADING.match(line):
        return "Heading 2"
    if SUB_HEADING.match(line):
        return "Heading 3"
    return "Normal"


def write_docx(source: str, out: Path) -> None:
    """Write the .docx; fixed metadata and zip timestamps, so that every run writes the same bytes."""
    document = docx.Document()
    stamp = datetime.datetime(2026, 1, 5, 9, 0, 0)
    props = document.core_properties
    props.author = props.last_modified_by = ""
    props.created = props.modified = stamp
    props.revision = 1
    first = True
    for line in source.split("\n"):
        line = line.strip()
        if not line:
            continue
        document.add_paragraph(line, style=docx_style(line, first))
        first = False
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(2026, 1, 5, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, src.read(item.filename))


def read_docx(path: Path) -> tuple[str, list[tuple[str, str]]]:
    """(paragraph texts joined with newlines, [(style name, text)])."""
    paragraphs = [(p.style.name, p.text) for p in docx.Document(path).paragraphs]
    return "\n".join(text for _, text in paragraphs), paragraphs


def check_docx_styles(source: str, paragraphs: list[tuple[str, str]], name: str) -> int:
    want = [line.strip() for line in source.split("\n") if line.strip()]
    if len(want) != len(paragraphs):
        print(f"{name}: {len(paragraphs)} paragraphs, expected {len(want)}")
        return 1
    errors = 0
    for number, (line, (style, text)) in enumerate(zip(want, paragraphs, strict=True)):
        expected = docx_style(line, number == 0)
        if style != expected or text != line:
            print(f"{name}: paragraph {number + 1} is {style!r} {text[:20]!r}, expected {expected!r} {line[:20]!r}")
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
        if kind == "docx":
            out = OUT / f"{title}.docx"
            write_docx(source, out)
            back, paragraphs = read_docx(out)
            status = "ok" if squash(back) == squash(source) else "DIFF"
            errors += check_docx_styles(source, paragraphs, out.name)
            size_bytes = out.stat().st_size
            label, ending = "docx", "-"
        else:
            out = OUT / f"{title}.txt"
            out.write_bytes(source.replace("\n", newline).encode(encoding))
            raw = out.read_bytes()
            crlf = raw.count(b"\r\n")
            if (newline == "\r\n") != (crlf > 0) or (newline == "\r\n" and crlf != raw.count(b"\n")):
                print(f"{out.name}: line endings are not {newline!r}")
                errors += 1
            if (encoding == "utf-8-sig") != raw.startswith(b"\xef\xbb\xbf"):
                print(f"{out.name}: BOM does not match encoding {encoding}")
                errors += 1
            back = raw.decode(encoding).replace("\r\n", "\n")
            status = "ok" if back == source else "DIFF"
            size_bytes = len(raw)
            label = "utf-8+BOM" if encoding == "utf-8-sig" else encoding
            ending = "CRLF" if newline == "\r\n" else "LF"
        if status != "ok":
            print(f"read-back mismatch: {out.name}")
            errors += 1
        n = chars(back)
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
        if qid != f"{PREFIX}-{number:02d}":
            print(f"{qid}: expected id {PREFIX}-{number:02d}")
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
    errors += check_questions(written, file_titles)
    print(f"{errors} errors")
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
