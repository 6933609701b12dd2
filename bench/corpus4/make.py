"""Write bench/corpus4/reports/ from bench/corpus4/src/ and check questions.jsonl against the written files.

Sources are UTF-8 text; the first line of each source is the report title and becomes the file name.
Each report is written with the encoding / line ending listed in FILES. After writing, every file is read back
with its encoding and compared with its source, and every question's evidence is looked up (whitespace ignored)
in the text of the report its `report` word names. Prints one line a file; exits non-zero on any mismatch.

    .venv/bin/python bench/corpus4/make.py

Standalone: needs nothing beyond the standard library.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
OUT = HERE / "reports"
QUESTIONS = HERE / "questions.jsonl"

# source file -> (encoding, newline)
FILES = {
    "01-tongjiju.txt": ("utf-8", "\n"),
    "02-shuiwuju-2023.txt": ("utf-8", "\n"),
    "03-shuiwuju-2024.txt": ("utf-8", "\n"),
    "04-minzhengju.txt": ("gb18030", "\n"),
    "05-linyeju.txt": ("gb18030", "\r\n"),
    "06-kejiju.txt": ("utf-8", "\n"),
    "07-shangwuju.txt": ("utf-8", "\n"),
    "08-eryuan.txt": ("utf-8", "\n"),
}

FIELDS = ["id", "question", "answerable", "evidence", "report", "split"]
MIN_CHARS, MAX_CHARS, MIN_TOTAL = 2500, 4500, 28000


def squash(text: str) -> str:
    """Text with all whitespace removed (full-width spaces included)."""
    return re.sub(r"\s", "", text)


def chars(text: str) -> int:
    """Characters of report text, whitespace not counted."""
    return len(squash(text))


def write_reports() -> tuple[dict[str, str], int]:
    """Write every report; return (title -> text as read back, number of errors)."""
    errors = 0
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    written: dict[str, str] = {}
    for name, (encoding, newline) in FILES.items():
        source = (SRC / name).read_text(encoding="utf-8")
        title = source.split("\n", 1)[0].strip()
        if "\r" in source:
            print(f"{name}: source must use LF line endings")
            errors += 1
        out = OUT / f"{title}.txt"
        out.write_bytes(source.replace("\n", newline).encode(encoding))
        raw = out.read_bytes()
        crlf = raw.count(b"\r\n")
        if (newline == "\r\n") != (crlf > 0) or (newline == "\r\n" and crlf != raw.count(b"\n")):
            print(f"{out.name}: line endings are not {newline!r}")
            errors += 1
        back = raw.decode(encoding).replace("\r\n", "\n")
        status = "ok" if back == source else "DIFF"
        n = chars(source)
        size = "ok" if MIN_CHARS <= n <= MAX_CHARS else "SIZE"
        ending = "CRLF" if newline == "\r\n" else "LF"
        print(f"{len(raw):>8,} bytes {n:>6,} chars  {encoding:<8} {ending:<4} {status:<4} {size:<4} {out.name}")
        if status != "ok":
            print(f"read-back mismatch: {out.name}")
            errors += 1
        if size != "ok":
            print(f"{out.name}: {n} chars, outside {MIN_CHARS}-{MAX_CHARS}")
            errors += 1
        written[title] = back
    total = sum(chars(text) for text in written.values())
    print(f"{'':>15}{total:>6,} chars  total, {len(written)} reports")
    if total < MIN_TOTAL:
        print(f"total {total} chars < {MIN_TOTAL}")
        errors += 1
    return written, errors


def check_questions(written: dict[str, str]) -> int:
    errors = 0
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    flat = {title: squash(text) for title, text in written.items()}
    corpus = "\n".join(flat.values())
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
        if qid != f"c4-{number:02d}":
            print(f"{qid}: expected id c4-{number:02d}")
            errors += 1
        want = "tune" if number % 2 else "held"
        if row["split"] != want:
            print(f"{qid}: split {row['split']!r}, expected {want!r}")
            errors += 1
        if not isinstance(row["answerable"], bool) or not isinstance(row["evidence"], list):
            print(f"{qid}: answerable must be bool and evidence a list")
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
            if ev != ev.strip() or re.search(r"\s", ev):
                print(f"{qid}: whitespace in evidence {ev!r}")
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
    written, errors = write_reports()
    errors += check_questions(written)
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
