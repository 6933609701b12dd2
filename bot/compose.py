"""The extractive answer: the question's most telling sentences from the sources, in report order, cited."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.retrieve import Hit
from ingest.index.lexical import BM25
from ingest.lexicon.grammar import HEADING_START, sentences
from ingest.lexicon.terms import terms


@dataclass(frozen=True)
class Picked:
    hit_index: int
    start: int
    text: str
    score: float


def sentence_terms(hit: Hit) -> list[tuple[int, str, frozenset[str]]]:
    """The chunk's sentences with the terms the ingest stored for them (segmented again only for an index whose
    sentences don't line up, which a format check should already have refused)."""
    found = sentences(hit.record.text)
    stored = hit.record.sentence_terms
    if len(stored) != len(found):
        return [(start, sent, frozenset(terms(sent))) for start, sent in found]
    return [(start, sent, frozenset(ts)) for (start, sent), ts in zip(found, stored, strict=True)]


def pick_sentences(
    question_terms: Iterable[str], hits: list[Hit], bm25: BM25, max_chars: int, ignore: set[str]
) -> list[Picked]:
    """The sentences that carry the question's terms, best sources first; the top source always speaks.

    When no sentence shares a telling term with the question (it was found by meaning alone), the top
    source's opening sentences stand for it.
    """
    q_terms = {t for t in question_terms if t not in ignore}
    weights = {t: bm25.weight(t) or 1.0 for t in q_terms}
    total = sum(weights.values()) or 1.0
    scored: list[Picked] = []
    for i, hit in enumerate(hits):
        decay = 1.0 / (1 + 0.5 * i)
        for start, sent, sent_terms in sentence_terms(hit):
            overlap = sum(weights[t] for t in q_terms.intersection(sent_terms)) / total
            scored.append(Picked(i, start, sent, overlap * decay))
    if not scored:
        return []
    if max((p.score for p in scored if p.hit_index == 0), default=0.0) == 0.0:
        return _opening(scored, max_chars)
    ranked = sorted(scored, key=lambda p: -p.score)
    best = ranked[0].score
    chosen: list[Picked] = [ranked[0]]
    top_source = [p for p in ranked if p.hit_index == 0]
    if ranked[0].hit_index != 0 and top_source and top_source[0].score > 0:
        chosen.append(top_source[0])
    used = sum(len(p.text) for p in chosen)
    seen = {re.sub(r"\W", "", p.text) for p in chosen}
    for p in ranked[1:]:
        key = re.sub(r"\W", "", p.text)
        if p.score < max(0.5 * best, 0.2) or key in seen or used + len(p.text) > max_chars:
            continue
        chosen.append(p)
        seen.add(key)
        used += len(p.text)
    return _extend(chosen, scored, used, max_chars, seen)


def pick_per_report(
    question_terms: Iterable[str], hits: list[Hit], bm25: BM25, max_chars: int, ignore: set[str], every: bool = False
) -> list[Picked]:
    """For "哪些单位…": each report's most telling sentence, reports in rank order, so the answer is a roll call.

    A comparison (`every`) names its reports, so each of them speaks, however weakly it matches.
    """
    q_terms = {t for t in question_terms if t not in ignore}
    weights = {t: bm25.weight(t) or 1.0 for t in q_terms}
    best: dict[tuple[str, bool], Picked] = {}
    for i, hit in enumerate(hits):
        for start, sent, sent_terms in sentence_terms(hit):
            p = Picked(i, start, sent, sum(weights[t] for t in q_terms.intersection(sent_terms)))
            key = (hit.record.report_id, _is_heading(sent, hit.record.section))
            if (p.score > 0 or every) and (key not in best or p.score > best[key].score):
                best[key] = p
    # a heading only names the topic: a report's own sentence speaks for it where one matches
    per_report = {rid: p for (rid, heading), p in sorted(best.items(), key=lambda kv: (not kv[0][1], kv[1].score > 0))}
    ranked = sorted(per_report.values(), key=lambda p: p.hit_index)
    top = max((p.score for p in ranked), default=0.0)
    chosen: list[Picked] = []
    used = 0
    for p in ranked:
        line = [p, *_after_heading(p, hits)]
        size = sum(min(len(q.text), 220) for q in line)
        if not every and (p.score < 0.5 * top or (chosen and used + size > max_chars)):
            continue
        chosen.extend(line)
        used += size
    return chosen


def _is_heading(sentence: str, section: str) -> bool:
    bare = sentence.rstrip("。：:；")
    return bare in section or (len(bare) <= 40 and bool(HEADING_START.match(bare)))


def _after_heading(p: Picked, hits: list[Hit]) -> list[Picked]:
    """A heading picked for a report is followed by its first sentence, so the line says something."""
    record = hits[p.hit_index].record
    if not _is_heading(p.text, record.section):
        return []
    following = next(((start, sent) for start, sent in sentences(record.text) if start > p.start), None)
    return [Picked(p.hit_index, following[0], following[1], p.score)] if following else []


def _extend(chosen: list[Picked], scored: list[Picked], used: int, max_chars: int, seen: set[str]) -> list[Picked]:
    """A short answer goes on with what follows its best sentence in the top source (a list's items)."""
    anchor = next((p for p in chosen if p.hit_index == 0), None)
    if anchor is None:
        return chosen
    for p in scored:
        if used >= 0.6 * max_chars:
            break
        key = re.sub(r"\W", "", p.text)
        if p.hit_index != 0 or p.start <= anchor.start or key in seen or used + len(p.text) > max_chars:
            continue
        chosen.append(p)
        seen.add(key)
        used += len(p.text)
    return chosen


def _opening(scored: list[Picked], max_chars: int) -> list[Picked]:
    out: list[Picked] = []
    used = 0
    for p in (p for p in scored if p.hit_index == 0):
        if out and used + len(p.text) > max_chars:
            break
        out.append(p)
        used += len(p.text)
    return out


def compose(
    question_terms: Iterable[str],
    hits: list[Hit],
    bm25: BM25,
    max_chars: int,
    ignore: set[str],
    per_report: bool = False,
    every: bool = False,
) -> tuple[str, set[int]]:
    """Answer text with [n] markers (n = 1-based source number) and the set of sources it cites."""
    chosen = (
        pick_per_report(question_terms, hits, bm25, max_chars, ignore, every)
        if per_report
        else pick_sentences(question_terms, hits, bm25, max_chars, ignore)
    )
    if not chosen:
        return "", set()
    report_order: list[str] = []
    for p in sorted(chosen, key=lambda p: p.hit_index):
        title = hits[p.hit_index].record.report
        if title not in report_order:
            report_order.append(title)
    lines: list[str] = []
    cited: set[int] = set()
    for title in report_order:
        mine = sorted(
            (p for p in chosen if hits[p.hit_index].record.report == title),
            key=lambda p: hits[p.hit_index].record.start + p.start,
        )
        parts: list[str] = []
        for j, p in enumerate(mine):
            text = _shorten(p.text)
            if not text.endswith(("。", "！", "？", "；", "：", "…", "”", "）")):
                text += "："
            last_of_run = j + 1 == len(mine) or mine[j + 1].hit_index != p.hit_index
            parts.append(text + (f"[{p.hit_index + 1}]" if last_of_run else ""))
            if last_of_run:
                cited.add(p.hit_index + 1)
        lines.append(f"据《{title}》：" + "".join(parts))
    return "\n".join(lines), cited


def _shorten(sentence: str, limit: int = 220) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"
