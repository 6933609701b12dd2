"""Hybrid retrieval: dense (Chroma) and BM25 ranks fused by reciprocal rank, then weighed with what the text
and the question's framing say.

The fused rank score is the base. Six small terms are added to it, their weights fitted on the tune
halves of the question sets (bench/README.md), in the same units:

- the chunk's best sentence: the share of the question's term weight that one of its sentences holds
  (small-to-big: a chunk is as good as its most telling sentence, so a long section with the one
  answering line is not outranked by a chunk that mentions every term once, far apart);
- the part the question points to (plan, summary, problems), when its words point one way only: about as
  much as ten places in one ranking, so a chunk whose text answers better still wins;
- a question with no part word, no year and not about every unit ("研发投入占GDP的比重是多少？") asks what
  is, which the summary says: half the part's weight for summary chunks (a plan's "力争达到2.45%" is not it);
- a report superseded by a later one of the same unit, when the question names no year: a little less
  ("现在", "明年" mean the latest report);
- a count asked in a measure (多少户, 几座): a little more for a chunk that gives a number in it;
- the one year a question names ("2023年…普及率是多少"): as much for a chunk of that year's part (its summary
  of 2023, or its plan for 2023) or one whose text names it (2025年目标 33%); not for a question naming two
  (2025年想突破…那2024年实际…), whose years say nothing alone of the one asked about.

Of chunks that say nearly the same (`SAME_TEXT` of their words shared, and the same figures), only the best
counts until every other candidate has had its place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.measure import count_pattern
from bot.query import QueryPlan
from ingest.index.embed import Embeddings
from ingest.index.reader import LoadedIndex
from ingest.index.schema import ChunkRecord
from ingest.lexicon.synonyms import SYNONYM_SHARE, said_otherwise

RRF_K = 60
POOL = 40
SENTENCE_WEIGHT = 0.005
PART_WEIGHT = 0.003
SUPERSEDED_WEIGHT = 0.001
UNCUED_WEIGHT = 0.0015
MEASURE_WEIGHT = 0.002
YEAR_WEIGHT = 0.002
SAME_TEXT = 0.8
"""Share of words two chunks have in common (of all words either has, figures aside) from which the lower, with the
same figures, says nothing new."""


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
        return _one_per_report(_rank(index, embedder, plan, None, POOL, distinct=False), k)
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


def term_weights(terms: Iterable[str], idf: Mapping[str, float], ignore: set[str]) -> dict[str, float]:
    """How much each of the question's terms tells: its idf, or the most an idf can be for a term no chunk has
    (the question asks for something the reports may not say)."""
    top = max(idf.values(), default=1.0)
    return {t: idf.get(t, top) for t in terms if t not in ignore}


def sentence_coverage(
    sentence_terms: Iterable[Iterable[str]],
    weights: Mapping[str, float],
    otherwise: Mapping[str, frozenset[str]] | None = None,
) -> float:
    """The largest share of the question's term weight that a single sentence holds; a word no report uses
    counts, at a share of its weight, where the sentence has one of its synonyms (`otherwise`)."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    best = 0.0
    for terms in sentence_terms:
        have = set(terms)
        got = sum(w for t, w in weights.items() if t in have)  # in the question's order: sums that tie stay tied
        for term, words in (otherwise or {}).items():
            if term not in have and not have.isdisjoint(words):
                got += SYNONYM_SHARE * weights.get(term, 0.0)
        best = max(best, got)
    return best / total


def _rank(
    index: LoadedIndex,
    embedder: Embeddings,
    plan: QueryPlan,
    report_ids: list[str] | None,
    k: int,
    distinct: bool = True,
) -> list[Hit]:
    n = len(index.records)
    if n == 0:
        return []
    dense_sim = _dense(index, embedder, plan, report_ids)
    lex = index.bm25.scores(list(plan.search_terms))
    if report_ids:
        lex = np.where(index.report_mask(report_ids), lex, -1.0)
    lex_order = [int(i) for i in np.argsort(-lex)[:POOL] if lex[i] > 0]
    dense_order = sorted(dense_sim, key=lambda i: -dense_sim[i])
    fused: dict[int, float] = {}
    for order in (dense_order, lex_order):
        for rank, i in enumerate(order):
            fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
    weights = term_weights(plan.search_terms, index.bm25.idf, index.org_terms | plan.name_terms)
    otherwise = {t: words for t in weights if (words := said_otherwise(t, index.bm25.idf))}
    superseded = index.shelf.superseded if plan.year is None else frozenset()
    count = count_pattern(plan.measure) if plan.measure else None
    year = plan.sole_year
    named = str(year)
    for i in fused:
        rec = index.records[i]
        if year and (rec.year == year or named in rec.text):
            fused[i] += YEAR_WEIGHT
        fused[i] += SENTENCE_WEIGHT * sentence_coverage(rec.sentence_terms, weights, otherwise)
        if count is not None and count.search(rec.text):
            fused[i] += MEASURE_WEIGHT
        if plan.kind and rec.kind == plan.kind:
            fused[i] += PART_WEIGHT
        elif plan.uncued and rec.kind == "总结":
            fused[i] += UNCUED_WEIGHT
        if rec.report_id in superseded:
            fused[i] -= SUPERSEDED_WEIGHT
    best = sorted(fused, key=lambda i: -fused[i])
    best = _distinct(best, index.records, k) if distinct else best[:k]
    return [Hit(index.records[i], fused[i], dense_sim.get(i, 0.0), float(max(lex[i], 0.0))) for i in best]


def _distinct(order: list[int], records: Sequence[ChunkRecord], k: int) -> list[int]:
    """The top k, a chunk that says what a better one already says (a county's copy of another's template
    report, a passage repeated from summary into plan) after every one that says something else: five copies
    of one passage would otherwise fill the sources and crowd out the passage that answers. Its figures must
    be the same too: towns that fill one template with their own numbers each say something. Not for a roll
    call, where each report saying the same is the answer."""
    chosen: list[int] = []
    seen: list[Gist] = []
    repeats: list[int] = []
    for i in order:
        if len(chosen) == k:
            break
        gist = Gist.of(records[i])
        if any(gist.repeats(other) for other in seen):
            repeats.append(i)
            continue
        chosen.append(i)
        seen.append(gist)
    return (chosen + repeats)[:k]


_FIGURES = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Gist:
    """What a chunk says, as its words apart from figures, and its figures in order."""

    words: frozenset[str]
    figures: tuple[str, ...]

    @classmethod
    def of(cls, record: ChunkRecord) -> Gist:
        figures = tuple(_FIGURES.findall(record.text))
        numbers = set(figures)
        words = frozenset(t for ts in record.sentence_terms for t in ts if t.rstrip("%") not in numbers)
        return cls(words, figures)

    def worded_as(self, other: Gist) -> bool:
        """Nearly the same words (`SAME_TEXT` of all either has): one template, whatever figures fill it."""
        return bool(self.words) and len(self.words & other.words) >= SAME_TEXT * len(self.words | other.words)

    def repeats(self, other: Gist) -> bool:
        return self.figures == other.figures and self.worded_as(other)


def filled_template(hits: list[Hit]) -> bool:
    """Another report's source says what the top one says in its words but with figures of its own: units
    that filled one template (towns of a county), so which unit's figure is meant is for the answer to show."""
    if not hits:
        return False
    top = Gist.of(hits[0].record)
    return any(
        h.record.report_id != hits[0].record.report_id
        and (g := Gist.of(h.record)).worded_as(top)
        and not g.repeats(top)
        for h in hits[1:]
    )


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
