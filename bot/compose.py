"""The extractive answer: the question's most telling sentences from the sources, in report order, cited."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.lexical import BM25
from bot.retrieve import Hit
from ingest.terms import terms

_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?[”」）]?")


@dataclass(frozen=True)
class Picked:
    hit_index: int
    start: int
    text: str
    score: float


def sentences(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group().strip()) for m in _SENTENCE.finditer(text) if len(m.group().strip()) >= 4]


def pick_sentences(question: str, hits: list[Hit], bm25: BM25, max_chars: int, ignore: set[str]) -> list[Picked]:
    """Score sentences by the weight of question terms they contain, favouring better-ranked sources."""
    q_terms = {t for t in terms(question) if t not in ignore}
    scored: list[Picked] = []
    for i, hit in enumerate(hits):
        prior = 1.0 / (1 + i)
        for start, sent in sentences(hit.record.text):
            overlap = q_terms.intersection(terms(sent))
            weight = sum(bm25.weight(t) or 1.0 for t in overlap)
            scored.append(Picked(i, start, sent, weight + prior))
    if not scored:
        return []
    best = max(p.score for p in scored)
    chosen: list[Picked] = []
    used = 0
    seen: set[str] = set()
    for p in sorted(scored, key=lambda p: -p.score):
        key = re.sub(r"\W", "", p.text)
        if key in seen or (chosen and p.score < 0.45 * best):
            continue
        if chosen and used + len(p.text) > max_chars:
            continue
        chosen.append(p)
        seen.add(key)
        used += len(p.text)
        if used >= max_chars:
            break
    return chosen


def compose(question: str, hits: list[Hit], bm25: BM25, max_chars: int, ignore: set[str]) -> tuple[str, set[int]]:
    """Answer text with [n] markers (n = 1-based source number) and the set of sources it cites."""
    chosen = pick_sentences(question, hits, bm25, max_chars, ignore)
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
            last_of_run = j + 1 == len(mine) or mine[j + 1].hit_index != p.hit_index
            parts.append(text + (f"[{p.hit_index + 1}]" if last_of_run else ""))
            if last_of_run:
                cited.add(p.hit_index + 1)
        lines.append(f"据《{title}》：" + "".join(parts))
    return "\n".join(lines), cited


def _shorten(sentence: str, limit: int = 220) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"
