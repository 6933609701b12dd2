"""Write tests/data/structure-tree.json: the heading tree the fixed-rank `ingest/structure.py` built for each
report of the shared compilation, as digests (the shared text itself is never copied into the project).

Ranking heading families by appearance must give the same tree on that corpus (it numbers 一、/（一） in the
canonical order), so `test_structure.py` compares against what the old code gave. Run once by hand, from the
project root, with the commit that still held the fixed ranks:

    .venv/bin/python tests/data/make_structure_tree.py 5bed023
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[2] / "shared" / "corpus" / "bureau-reports-2023.txt"


def tree_digest(segments: list[tuple[tuple[str, ...], int, int]]) -> str:
    """The same digest `test_structure.py` computes: every segment's path and offsets, in order."""
    payload = json.dumps([[list(p), s, e] for p, s, e in segments], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def main(commit: str) -> None:
    from ingest.clean import clean_text
    from ingest.read import read_text
    from ingest.split import split_reports

    source = subprocess.run(
        ["git", "show", f"{commit}:ingest/structure.py"], check=True, capture_output=True, text=True
    ).stdout
    old = types.ModuleType("old_structure")
    sys.modules[old.__name__] = old
    exec(compile(source, "old_structure.py", "exec"), old.__dict__)
    reports = []
    for raw in split_reports(clean_text(read_text(CORPUS, 20_000_000)), CORPUS.stem):
        segments = [(s.path, s.start, s.end) for s in old.segment_report(raw.text)]
        reports.append(
            {
                "title_sha1": hashlib.sha1(raw.title.encode()).hexdigest(),
                "segments": len(segments),
                "paths": len({p for p, _, _ in segments if p}),
                "tops": len({p[0] for p, _, _ in segments if p}),
                "digest": tree_digest(segments),
            }
        )
    out = {"made_by": f"tests/data/make_structure_tree.py {commit}", "reports": reports}
    (HERE / "structure-tree.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "HEAD")
