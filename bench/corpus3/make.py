"""Write bench/corpus3/reports/ from bench/corpus3/src/ and check questions.jsonl against the written files.

Sources are UTF-8 text; the first line of each source is the report title and becomes the file name.
Each report is written with the encoding / line ending listed in FILES. After writing, every file is read back
with its encoding and compared with its source, and every question's evidence is looked up in the text of the
report its `report` word names. Prints one line a file; exits non-zero on any mismatch.

    .venv/bin/python bench/corpus3/make.py
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
    "01-jiaoyuju.txt": ("utf-8", "\n"),
    "02-wenlvju.txt": ("utf-8", "\n"),
    "03-jiaotongju.txt": ("gb18030", "\n"),
    "04-zigui-2023.txt": ("utf-8", "\n"),
    "05-zigui-2024.txt": ("utf-8", "\n"),
    "06-chengguanju.txt": ("gb18030", "\r\n"),
    "07-gaoxinqu.txt": ("utf-8", "\n"),
}

FIELDS = ["id", "question", "answerable", "evidence", "report", "split"]


def chars(text: str) -> int:
    """Characters of report text, whitespace not counted."""
    return len(re.sub(r"\s", "", text))


def write_reports() -> dict[str, tuple[Path, str]]:
    """Write every report; return title -> (file, text as read back)."""
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    written: dict[str, tuple[Path, str]] = {}
    for name, (encoding, newline) in FILES.items():
        source = (SRC / name).read_text(encoding="utf-8")
        title = source.split("\n", 1)[0].strip()
        out = OUT / f"{title}.txt"
        out.write_bytes(source.replace("\n", newline).encode(encoding))
        back = out.read_bytes().decode(encoding).replace("\r\n", "\n")
        status = "ok" if back == source else "DIFF"
        print(f"{out.stat().st_size:>8,} bytes {chars(source):>6,} chars  {encoding:<8} {status:<4} {out.name}")
        if status != "ok":
            sys.exit(f"read-back mismatch: {out.name}")
        written[title] = (out, back)
    total = sum(chars(text) for _, text in written.values())
    print(f"{'':>15}{total:>6,} chars  total, {len(written)} reports")
    return written


def check_questions(written: dict[str, tuple[Path, str]]) -> int:
    errors = 0
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    corpus = "\n".join(text for _, text in written.values())
    ids = [row["id"] for row in rows]
    if len(set(ids)) != len(ids):
        print("duplicate ids")
        errors += 1
    for row in rows:
        qid = row.get("id")
        if list(row) != FIELDS:
            print(f"{qid}: fields {list(row)}")
            errors += 1
            continue
        if row["split"] not in ("tune", "held"):
            print(f"{qid}: split {row['split']}")
            errors += 1
        if not row["answerable"]:
            if row["evidence"] or row["report"]:
                print(f"{qid}: unanswerable with evidence/report")
                errors += 1
            continue
        evidence = row["evidence"]
        if not 1 <= len(evidence) <= 2:
            print(f"{qid}: {len(evidence)} evidence strings")
            errors += 1
        if row["report"]:
            titles = [t for t in written if row["report"] in t]
            if len(titles) != 1:
                print(f"{qid}: report word {row['report']!r} names {len(titles)} reports")
                errors += 1
                continue
            targets = [written[titles[0]][1]]
        else:
            targets = [text for _, text in written.values()]
        for ev in evidence:
            if ev != ev.strip() or re.search(r"\s", ev):
                print(f"{qid}: whitespace in evidence {ev!r}")
                errors += 1
            if not any(ev in text for text in targets):
                print(f"{qid}: evidence not in the named report: {ev!r}")
                errors += 1
            n = corpus.count(ev)
            if n != 1:
                print(f"{qid}: evidence occurs {n} times in the corpus: {ev!r}")
                errors += 1
        if not row["report"] and len(evidence) == 2:
            sources = {next(t for t, (_, text) in written.items() if ev in text) for ev in evidence}
            if len(sources) != 2:
                print(f"{qid}: every-unit evidence does not come from two reports")
                errors += 1
    answerable = sum(1 for row in rows if row["answerable"])
    print(f"questions: {len(rows)} ({answerable} answerable, {len(rows) - answerable} unanswerable), {errors} errors")
    return errors


def main() -> None:
    written = write_reports()
    if check_questions(written):
        sys.exit(1)


if __name__ == "__main__":
    main()
