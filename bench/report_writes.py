"""Why `ingest.pipeline._write_new` writes report texts in batches: one `add` per report, side by side.

    python -m bench.report_writes [--scales 1 10]      # → bench/results/report_writes.json

Each report's full text is stored for `reportbot source`. Until 0.2.0 that was one `reports_col.add` per
report; a 100× ingest then spent almost 13 minutes after its last embedding. This writes the reports of the
scaled corpus (the same texts, parsed as the pipeline does) into a fresh embedded Chroma collection (as
`EmbeddedStore` creates it), once with one `add` per report and once in batches of 100, each in its own temp
directory, and times both. The one-by-one cost per report grows with the collection, so 100× takes minutes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import corpus_files, log, write_result

BATCH = 100


def reports_of(scale: int) -> list[tuple[str, str, dict[str, Any]]]:
    from bot.settings import Settings
    from ingest.read import read_text
    from ingest.report import parse_text
    from ingest.tokens import load_encoding

    settings = Settings()
    encoding = load_encoding()
    out = []
    for path in corpus_files(scale):
        for r in parse_text(
            read_text(path, int(settings.max_file_mb * 1_000_000), settings.max_pdf_pages),
            Path(str(path.resolve())),
            settings.chunk_tokens,
            lambda s: len(encoding.encode(s, disallowed_special=())),
        ):
            out.append((r.report_id, r.text, {"file": r.file, "title": r.title}))
    return out


def write(reports: list[tuple[str, str, dict[str, Any]]], batch: int) -> float:
    import chromadb

    from ingest.index.store import REPORTS, chroma_settings

    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        client = chromadb.PersistentClient(path=tmp, settings=chroma_settings())
        col = client.create_collection(REPORTS, embedding_function=None)
        started = time.perf_counter()
        for i in range(0, len(reports), batch):
            part = reports[i : i + batch]
            col.add(
                ids=[r[0] for r in part],
                embeddings=[[0.0]] * len(part),
                documents=[r[1] for r in part],
                metadatas=[r[2] for r in part],
            )
        seconds = time.perf_counter() - started
        client.close()
    return seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scales", nargs="+", type=int, default=[1, 10])
    args = p.parse_args()
    rows = []
    for scale in args.scales:
        reports = reports_of(scale)
        chars = sum(len(r[1]) for r in reports)
        one = write(reports, 1)
        batched = write(reports, BATCH)
        rows.append(
            {
                "scale": scale,
                "reports": len(reports),
                "chars": chars,
                "one_add_per_report_s": round(one, 2),
                f"batches_of_{BATCH}_s": round(batched, 2),
                "ms_per_report_one_by_one": round(one / len(reports) * 1000, 1),
                "speedup": round(one / batched, 1),
            }
        )
        log(str(rows[-1]))
    path = write_result("report_writes", {"benchmark": "report_writes", "batch": BATCH, "table": rows})
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
