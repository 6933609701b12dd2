"""Why chunks are at most 512 tokens: the same pipeline and Answerer at several chunk sizes.

    python -m bench.chunk_size [--tokens 256 384 512 768]      # → bench/results/chunk_size.json

For each size, a fresh embedded index of the compilation (`run_ingest` with REPORTBOT_CHUNK_TOKENS = that
size, vectors from the bench's embedding cache; sizes not cached yet are embedded once) and `run_eval` at
k = 5 on the dev set and on bench/questions-more.jsonl.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from bench.common import CORPUS, DEV, MORE, bench_settings, log, write_result

K = 5


def measure(tokens: int, data_dir: Path) -> dict[str, Any]:
    from bot.cli.evaluate import run_eval
    from bot.services import Services
    from ingest.pipeline import run_ingest

    settings = bench_settings(1, "embedded", data_dir=data_dir, chunk_tokens=tokens)
    services = Services(settings)
    try:
        result = run_ingest([CORPUS], settings, services.store, services.embeddings, show_progress=False)
        row: dict[str, Any] = {"chunk_tokens": tokens, "chunks": result.manifest.chunks if result.manifest else 0}
        answerer = services.answerer()
        for name, path in (("dev", DEV), ("more", MORE)):
            summary = run_eval(answerer, path, K, None).summary()
            row[name] = {k: summary[k] for k in ("hit@1", "hit@5", "mrr", "refused_unanswerable")}
        return row
    finally:
        services.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokens", nargs="+", type=int, default=[256, 384, 512, 768])
    args = p.parse_args()
    rows = []
    for tokens in args.tokens:
        with tempfile.TemporaryDirectory(prefix=f"bench-chunks-{tokens}-") as tmp:
            rows.append(measure(tokens, Path(tmp)))
        log(json.dumps(rows[-1], ensure_ascii=False))
    path = write_result("chunk_size", {"benchmark": "chunk_size", "k": K, "table": rows})
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
