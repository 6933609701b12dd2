"""The extractive answer: the sentence that answers first, then what supports it, each cited.

A reader looks at the first line: it is the question's most telling sentence (from its most telling clause
on, when the sentence is long), cited. What follows supports it: the rest of its passage (a list's items
after the heading that announces them), then other sentences of the same report that score nearly as well.
Another report speaks only when one of its sentences answers about as well as the lead. Censored
characters read as what they stand for (`D组会议` → 党组会议); the sources stay verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.measure import FIGURE, asks_amount, asks_list
from bot.retrieve import Hit, term_weights
from ingest.index.lexical import BM25
from ingest.index.schema import under
from ingest.lexicon.grammar import CLAUSE_END, HEADING_START, ITEM, part_words, sentences
from ingest.lexicon.normalize import normalize_for_match, restore_censored
from ingest.lexicon.synonyms import SYNONYM_SHARE, equals
from ingest.lexicon.terms import terms

LEAD_CLAUSE_AT = 40
"""A lead sentence whose best clause starts later than this is shown from that clause, after an ellipsis."""
CLAUSE_NEAR = 0.5
"""A long lead is shown from the first of its clauses holding this share of the best one's weight: "从会议费…等方面
严控支出" before the heavier "从办公用纸…推动落实节约要求" of the same list."""
SENTENCE_NEAR = 0.8
"""A question that asks no figure is answered from the first sentence under the lead's heading scoring this close
to the lead: a section says what was done before its details."""
SUPPORT_SHARE = 0.5
"""Of the answer's characters, what a lead that answers by itself may be followed by."""
MIN_SUPPORT = 0.5
"""A supporting sentence scores at least this share of the lead (and a fifth of the question's weight)."""
OTHER_REPORT = 0.8
"""Another report's sentence follows the answer only when it scores this close to the lead."""
PAIR_TIE = 0.1
"""Weight of the question's character pairs found in a sentence, beside its terms: a tie-breaker for words the
question and the text segment differently (多少个托位 / 新增托位1320个)."""
PART_PRIOR = 0.2
"""A sentence in the part the question points to (its plan, its summary) scores this much more: a plan's
"在今年新增学位5400个的基础上" holds the words of "今年新增了多少学位", the summary's own sentence answers it."""
BUILDS_ON_SHARE = 0.5
"""A plan's "在今年新增学位5400个的基础上，明年…" repeats this year's figure: for a question about this year it
scores this share, so the summary's own sentence (全年新增学位5400个) leads."""
_BUILDS_ON = re.compile(r"在[^。；;]{2,60}的基础上")
_CLAUSE = re.compile(rf"(?:(?!{CLAUSE_END.pattern})[\s\S])+(?:{CLAUSE_END.pattern}|$)")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_ENDS = ("。", "！", "？", "；", "：", "…", "”", "）")


@dataclass(frozen=True)
class Asked:
    """What the answer needs of the question: its terms' weights, its character pairs, whether it asks for a
    figure."""

    weights: Mapping[str, float]
    pairs: frozenset[str] = frozenset()
    amount: bool = False
    part: str | None = None
    listing: bool = False
    otherwise: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Each term's exact equals (地区生产总值 for GDP): a sentence holding one holds the term, as retrieval weighs
    it; the thesaurus's looser senses would let any sentence with 工作 answer 干哪些活."""

    @classmethod
    def of(
        cls, question: str, question_terms: Iterable[str], bm25: BM25, ignore: set[str], part: str | None = None
    ) -> Asked:
        text = normalize_for_match(question)
        for word in sorted(ignore, key=lambda w: (-len(w), w)):  # 工业园区 before 园区, in every process
            if len(word) > 1:
                text = text.replace(word, " ")  # a unit's name chooses reports; it tells no sentence apart
        pairs = {run[i : i + 2] for run in _CJK_RUN.findall(text) for i in range(len(run) - 1)}
        weights = term_weights(question_terms, bm25.idf, ignore)
        otherwise = {t: words for t in weights if (words := equals(t))}
        return cls(weights, frozenset(pairs), asks_amount(question), part, asks_list(question), otherwise)


@dataclass(frozen=True)
class Picked:
    hit_index: int
    start: int
    text: str
    score: float


@dataclass
class Composed:
    """Answer text with [n] markers (n = 1-based source number), and for each cited source the offsets (in
    its chunk's text) of the sentences quoted from it, so a citation can name their own section."""

    text: str
    cited: dict[int, list[int]] = field(default_factory=dict)


def sentence_terms(hit: Hit) -> list[tuple[int, str, frozenset[str]]]:
    """The chunk's sentences with the terms the ingest stored for them (segmented again only for an index whose
    sentences don't line up, which a format check should already have refused)."""
    found = sentences(hit.record.text)
    stored = hit.record.sentence_terms
    if len(stored) != len(found):
        return [(start, sent, frozenset(terms(sent))) for start, sent in found]
    return [(start, sent, frozenset(ts)) for (start, sent), ts in zip(found, stored, strict=True)]


def _weight_in(sent_terms: frozenset[str], asked: Asked) -> float:
    """Summed in the question's order, not the set's (which changes with the process's hash seed): sentences
    that tie stay tied, and the same question gets the same answer in every process."""
    return sum(
        w if t in sent_terms else w * SYNONYM_SHARE
        for t, w in asked.weights.items()
        if t in sent_terms or not sent_terms.isdisjoint(asked.otherwise.get(t, ()))
    )


def _scored(hits: list[Hit], asked: Asked) -> list[Picked]:
    """Every sentence of the sources, scored by the share of the question's weight it holds (its character
    pairs breaking ties), less the lower its source ranks."""
    total = sum(asked.weights.values()) or 1.0
    out: list[Picked] = []
    for i, hit in enumerate(hits):
        decay = 1.0 / (1 + 0.5 * i)
        if asked.part and hit.record.kind == asked.part:
            decay *= 1 + PART_PRIOR
        for start, sent, sent_terms in sentence_terms(hit):
            got = _weight_in(sent_terms, asked) / total
            if got > 0:
                got += PAIR_TIE * _pair_share(sent, asked)
            if asked.part == "总结" and _BUILDS_ON.search(sent):
                got *= BUILDS_ON_SHARE
            out.append(Picked(i, start, sent, decay * got))
    return out


def _pair_share(sentence: str, asked: Asked) -> float:
    if not asked.pairs:
        return 0.0
    plain = normalize_for_match(sentence)
    return sum(pair in plain for pair in asked.pairs) / len(asked.pairs)


def pick_sentences(asked: Asked, hits: list[Hit], max_chars: int) -> tuple[list[Picked], list[Picked]]:
    """The passage that answers (the lead sentence with its lead-in and what follows it under its heading),
    then other sentences that support it; the top source's opening when nothing matches."""
    scored = _scored(hits, asked)
    if not scored:
        return [], []
    if max((p.score for p in scored if p.hit_index == 0), default=0.0) == 0.0:
        scored = [Picked(0, p.start, p.text, _pair_share(p.text, asked)) for p in scored if p.hit_index == 0]
        if max(p.score for p in scored) == 0.0:
            return _opening(scored, max_chars), []
    lead = max(scored, key=lambda p: (p.score, -p.hit_index, -p.start))
    record = hits[lead.hit_index].record
    mine = [p for p in scored if p.hit_index == lead.hit_index]
    part = record.part_at(lead.start).section
    if not asked.amount:  # "是怎么…的": the section tells it from its start, as soon as that says as much
        lead = next(
            (p for p in mine if p.score >= SENTENCE_NEAR * lead.score and record.part_at(p.start).section == part),
            lead,
        )
    listed = asked.listing and _first_item(lead, [p for p in mine if record.part_at(p.start).section == part])
    if listed:
        lead = listed  # "卡在哪几块": the list is the answer, from its first item on
    below = [p for p in mine if under(record.part_at(p.start).section, part)]
    before = [p for p in mine if p.start < lead.start]
    passage = [_from_best_clause(lead, asked)]
    lead_in = before[-1] if before else None
    if (
        lead_in is not None
        and _names_a_topic(lead_in.text)
        and not passage[0].text.startswith("…")
        and under(part, record.part_at(lead_in.start).section)
    ):
        passage.insert(0, lead_in)  # a lead-in (a title line, 一是…) names what the lead is about
    used = sum(len(p.text) for p in passage)
    announces = bool(listed) or _is_heading(lead.text, record.section) or lead.text.endswith(("：", ":"))
    budget = max_chars if announces or used <= LEAD_CLAUSE_AT else int(max_chars * SUPPORT_SHARE)
    for p in (p for p in below if p.start > lead.start):
        if used + len(p.text) > budget or (not announces and _numbered(p.text)):
            break  # the next item of a list starts: the lead's passage is over (unless the lead announced the list)
        if _announces_report(p.text):
            continue
        passage.append(p)
        used += len(p.text)
    seen = {_key(p.text) for p in passage} | {_key(lead.text)}
    floor = max(MIN_SUPPORT * lead.score, 0.2)
    support: list[Picked] = []
    for p in sorted(scored, key=lambda p: -p.score):
        if p.score < floor:
            break
        if (
            _announces_report(p.text)
            or _own_heading(p, lead, hits)
            or _key(p.text) in seen
            or used + len(p.text) > max(budget, int(max_chars * SUPPORT_SHARE))
        ):
            continue
        if hits[p.hit_index].record.report_id != record.report_id and p.score < OTHER_REPORT * lead.score:
            continue
        if asked.part and hits[p.hit_index].record.kind not in (asked.part, record.kind):
            continue  # "今年加装了几部电梯": next year's target is no support for this year's figure
        support.append(p)
        seen.add(_key(p.text))
        used += len(p.text)
    return passage, support


def _announces_report(sentence: str) -> bool:
    """现将有关情况报告如下。: the opening's last words, which say nothing after an answer."""
    return bool(part_words().announce.search(sentence))


def _first_item(lead: Picked, section: list[Picked]) -> Picked | None:
    """The 一是 that starts the list whose later item (三是…) the lead is, or stands under, in its section."""
    items = [(p, m.group(1)) for p in section if p.start <= lead.start and (m := ITEM.match(p.text))]
    if not items or items[-1][1] == "一":
        return None
    firsts = [p for p, n in items if n == "一"]
    return firsts[-1] if firsts else None


def _names_a_topic(sentence: str) -> bool:
    """A short line that titles what follows: numbered (一是…, （二）…), or one phrase without a comma."""
    if len(sentence) > LEAD_CLAUSE_AT:
        return False
    return _numbered(sentence) or not re.search(r"[，,；;]", sentence)


def _numbered(sentence: str) -> bool:
    return bool(HEADING_START.match(sentence) or ITEM.match(sentence))


def _from_best_clause(p: Picked, asked: Asked) -> Picked:
    """A long sentence is shown from its most telling clause on (from the first half as telling), when that
    comes late; for a question asking how much, from the most telling clause that holds a figure.

    Clauses are scored by the question's terms found in them as written (no segmenting at question time).
    """
    if len(p.text) <= 2 * LEAD_CLAUSE_AT:
        return p
    clauses = [
        (m.start(), sum(w for t, w in asked.weights.items() if t in m.group()), bool(FIGURE.search(m.group())))
        for m in _CLAUSE.finditer(p.text.lower())
    ]
    if asked.amount:
        clauses = [c for c in clauses if c[2] and c[1] > 0] or clauses
    best_at, best, _ = max(clauses, key=lambda c: (c[1], -c[0]), default=(0, 0.0, False))
    best_at = min((at for at, weight, _ in clauses if weight >= CLAUSE_NEAR * best), default=best_at)
    if best <= 0 or best_at <= LEAD_CLAUSE_AT:
        return p
    return Picked(p.hit_index, p.start, "…" + p.text[best_at:], p.score)


def pick_per_report(asked: Asked, hits: list[Hit], max_chars: int, every: bool = False) -> list[Picked]:
    """For "哪些单位…": each report's most telling sentence, reports in rank order, so the answer is a roll call.

    A comparison (`every`) names its reports, so each of them speaks, however weakly it matches.
    """
    best: dict[tuple[str, bool], Picked] = {}
    for i, hit in enumerate(hits):
        for start, sent, sent_terms in sentence_terms(hit):
            p = Picked(i, start, sent, _weight_in(sent_terms, asked))
            key = (hit.record.report_id, _is_heading(sent, hit.record.section))
            if (p.score > 0 or every) and (key not in best or _better(p, best[key], asked)):
                best[key] = p
    # a heading only names the topic: a report's own sentence speaks for it where one matches
    per_report = {rid: p for (rid, heading), p in sorted(best.items(), key=lambda kv: (not kv[0][1], kv[1].score > 0))}
    ranked = sorted(per_report.values(), key=lambda p: p.hit_index)
    top = max((p.score for p in ranked), default=0.0)
    chosen: list[Picked] = []
    used = 0
    for p in ranked:
        line = [_from_best_clause(p, asked), *_after_heading(p, hits)]
        size = sum(min(len(q.text), 220) for q in line)
        if not every and (p.score < 0.5 * top or (chosen and used + size > max_chars)):
            continue
        chosen.extend(line)
        used += size
    return chosen


def _better(p: Picked, than: Picked, asked: Asked) -> bool:
    """For a report's line of a roll call: the more telling sentence; for "分别是多少", one giving a figure
    before one that gives none ("二是资金投入压力较大" names the words, "教育经费总投入96.8亿元" answers)."""
    if asked.amount and p.score > 0 and than.score > 0:
        figured, other = bool(FIGURE.search(p.text)), bool(FIGURE.search(than.text))
        if figured != other:
            return figured
    return p.score > than.score


def _key(text: str) -> str:
    return re.sub(r"\W", "", text)


def _is_heading(sentence: str, section: str) -> bool:
    bare = sentence.rstrip("。：:；")
    return bare in section or (len(bare) <= 40 and bool(HEADING_START.match(bare)))


def _own_heading(p: Picked, lead: Picked, hits: list[Hit]) -> bool:
    """The heading of the lead's own section (or one above it) says only what the citation names; another
    section's heading points somewhere else, and may be support."""
    if p.hit_index != lead.hit_index:
        return False
    record = hits[p.hit_index].record
    section = record.part_at(p.start).section
    return _is_heading(p.text, section) and under(record.part_at(lead.start).section, section)


def _after_heading(p: Picked, hits: list[Hit]) -> list[Picked]:
    """A heading picked for a report is followed by its first sentence, so the line says something."""
    record = hits[p.hit_index].record
    if not _is_heading(p.text, record.section):
        return []
    following = next(((start, sent) for start, sent in sentences(record.text) if start > p.start), None)
    return [Picked(p.hit_index, following[0], following[1], p.score)] if following else []


def _opening(scored: list[Picked], max_chars: int) -> list[Picked]:
    out: list[Picked] = []
    used = 0
    for p in (p for p in scored if p.hit_index == 0):
        if out and used + len(p.text) > max_chars * SUPPORT_SHARE:
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
    question: str = "",
    part: str | None = None,
) -> Composed:
    """The answer: one cited line per report for a roll call or a comparison, else the lead and its support."""
    asked = Asked.of(question, question_terms, bm25, ignore, part)
    if per_report:
        return _roll_call(pick_per_report(asked, hits, max_chars, every), hits)
    passage, support = pick_sentences(asked, hits, max_chars)
    if not passage:
        return Composed("")
    report = hits[passage[0].hit_index].record.report_id
    cited: dict[int, list[int]] = {}
    text = _line(passage, hits, cited)
    text += _line(
        _in_report_order([p for p in support if hits[p.hit_index].record.report_id == report], hits), hits, cited
    )
    others: dict[str, list[Picked]] = {}
    for p in support:
        rid = hits[p.hit_index].record.report_id
        if rid != report:
            others.setdefault(rid, []).append(p)
    for picked in others.values():
        title = hits[picked[0].hit_index].record.report
        text += f"\n另据《{title}》：" + _line(_in_report_order(picked, hits), hits, cited)
    return Composed(text, cited)


def _roll_call(chosen: list[Picked], hits: list[Hit]) -> Composed:
    if not chosen:
        return Composed("")
    report_order: list[str] = []
    for p in sorted(chosen, key=lambda p: p.hit_index):
        rid = hits[p.hit_index].record.report_id
        if rid not in report_order:
            report_order.append(rid)
    cited: dict[int, list[int]] = {}
    lines = []
    for rid in report_order:
        mine = [p for p in chosen if hits[p.hit_index].record.report_id == rid]
        title = hits[mine[0].hit_index].record.report
        lines.append(f"据《{title}》：" + _line(_in_report_order(mine, hits), hits, cited))
    return Composed("\n".join(lines), cited)


def _in_report_order(picked: list[Picked], hits: list[Hit]) -> list[Picked]:
    return sorted(picked, key=lambda p: hits[p.hit_index].record.start + p.start)


def _line(picked: list[Picked], hits: list[Hit], cited: dict[int, list[int]]) -> str:
    """Sentences as shown, a marker after each run from one source; `cited` collects what each source gave."""
    parts: list[str] = []
    for j, p in enumerate(picked):
        text = restore_censored(_shorten(p.text))
        if not text.endswith(_ENDS):
            text += "："
        n = p.hit_index + 1
        cited.setdefault(n, []).append(p.start)
        last_of_run = j + 1 == len(picked) or picked[j + 1].hit_index != p.hit_index
        parts.append(text + (f"[{n}]" if last_of_run else ""))
    return "".join(parts)


def _shorten(sentence: str, limit: int = 220) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"
