"""Hybrid retrieval: dense (Chroma) and BM25 ranks fused by reciprocal rank, steered by the query plan."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.query import QueryPlan
from ingest.index.reader import LoadedIndex
from ingest.index.schema import ChunkRecord

RRF_K = 60
POOL = 40
KIND_BONUS = 0.006


@dataclass(frozen=True)
class Hit:
    record: ChunkRecord
    score: float
    dense: float
    lexical: float


def retrieve(index: LoadedIndex, embedder: Embeddings, plan: QueryPlan, k: int) -> list[Hit]:
    """Top-k chunks; a comparison draws from each named report in turn so every side is cited, and a question
    about all units from as many reports as have a match."""
    if plan.comparison:
        per = [_rank(index, embedder, plan, group, max(2, k // len(plan.groups) + 1)) for group in plan.groups]
        merged: list[Hit] = []
        for row in range(max(len(p) for p in per)):
            merged.extend(p[row] for p in per if row < len(p))
        return merged[:k]
    if plan.across:
        return _one_per_report(_rank(index, embedder, plan, None, POOL), k)
    return _rank(index, embedder, plan, plan.report_ids, k)


def _one_per_report(ranked: list[Hit], k: int) -> list[Hit]:
    """ "哪些单位…" asks about every report: each report's best chunk first, in rank order, then the rest."""
    seen: set[str] = set()
    first: list[Hit] = []
    rest: list[Hit] = []
    for hit in ranked:
        (rest if hit.record.report_id in seen else first).append(hit)
        seen.add(hit.record.report_id)
    return (first + rest)[:k]


def query_vector(embedder: Embeddings, plan: QueryPlan) -> list[float]:
    return embedder.embed_query(plan.search_text)


def _rank(index: LoadedIndex, embedder: Embeddings, plan: QueryPlan, report_ids: list[str] | None, k: int) -> list[Hit]:
    n = len(index.records)
    if n == 0:
        return []
    allowed = None
    if report_ids:
        allowed = np.zeros(n, dtype=bool)
        wanted = set(report_ids)
        for i, rec in enumerate(index.records):
            allowed[i] = rec.report_id in wanted
    dense_sim = _dense(index, embedder, plan, report_ids)
    lex = index.bm25.scores(list(plan.search_terms))
    if allowed is not None:
        lex = np.where(allowed, lex, -1.0)
    lex_order = [int(i) for i in np.argsort(-lex)[:POOL] if lex[i] > 0]
    dense_order = sorted(dense_sim, key=lambda i: -dense_sim[i])
    fused: dict[int, float] = {}
    for rank, i in enumerate(dense_order):
        fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
    for rank, i in enumerate(lex_order):
        fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
    if plan.kind or plan.year:
        for i in fused:
            rec = index.records[i]
            if rec.kind == plan.kind if plan.kind else rec.year == plan.year:
                fused[i] += KIND_BONUS
    best = sorted(fused, key=lambda i: -fused[i])[:k]
    return [Hit(index.records[i], fused[i], dense_sim.get(i, 0.0), float(max(lex[i], 0.0))) for i in best]


def _dense(index: LoadedIndex, embedder: Embeddings, plan: QueryPlan, report_ids: list[str] | None) -> dict[int, float]:
    vector = query_vector(embedder, plan)
    where = {"report_id": {"$in": report_ids}} if report_ids else None
    got = index.chunks.query(
        query_embeddings=[vector],
        n_results=min(POOL, len(index.records)),
        where=where,
        include=["distances"],
    )
    out: dict[int, float] = {}
    for cid, dist in zip(got["ids"][0], got["distances"][0], strict=True):
        pos = index.positions.get(cid)
        if pos is not None:
            out[pos] = 1.0 - float(dist)
    return out
