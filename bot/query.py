"""What a question asks for beyond its words: which reports it names, and which part (plan, summary, problems).

Matching is against the bureaus actually indexed, so a question naming one that is not (教育局) can fail
closed instead of being answered from another bureau's report.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from bot.measure import as_counted, asked_measure, asks_amount
from ingest.index.manifest import ReportEntry
from ingest.index.shelf import Shelf
from ingest.lexicon.aliases import Match, mentions, name_kind, other_place
from ingest.lexicon.grammar import YEAR, part_words
from ingest.lexicon.normalize import normalize_for_match
from ingest.lexicon.tables import word_table
from ingest.lexicon.terms import segment, terms

UNTITLED_MIN_COUNT = 5
_ACROSS = re.compile(
    r"(哪些|哪几个|各个?|每个|所有|全部)(单位|部门|局|机关|委|区|园区|报告)(都|分别)?|(单位|部门|报告)(都)?有哪些"
)
_COMPARE = re.compile(r"和|与|及|以及|跟|同|、|对比|比较|分别|各")
_LAST_YEAR = re.compile(r"(?<![比较])去年")
"""去年 naming the year asked about, not the one this year is compared with (比去年, 较去年)."""


@dataclass
class QueryPlan:
    """How to search for one question."""

    question: str
    search_text: str
    groups: list[list[str]] = field(default_factory=list)
    unknown_orgs: list[str] = field(default_factory=list)
    nearest_orgs: list[str] = field(default_factory=list)
    named: list[str] = field(default_factory=list)
    elsewhere: list[tuple[str, str]] = field(default_factory=list)
    """(name asked, unit matched) where the unit is of another place or level than the name says (区医保局 →
    云岭县医疗保障局): answered, with a note of whose report it is."""
    kind: str | None = None
    uncued: bool = False
    """Neither a part word nor a year, and not about every unit: it asks what is (a figure, a fact), which a
    report's summary holds."""
    year: int | None = None
    across: bool = False
    measure: frozenset[str] = frozenset()
    _terms: tuple[str, ...] = field(default=(), repr=False)
    _terms_of: str | None = field(default=None, repr=False)

    @property
    def sole_year(self) -> int | None:
        """`year`, when it is the only year the search text names: of two (2025年想突破…那2024年实际…) neither alone
        says which one is asked about."""
        return self.year if self.year and set(YEAR.findall(self.search_text)) == {str(self.year)} else None

    @property
    def search_terms(self) -> tuple[str, ...]:
        """The search text's terms, segmented once however often retrieval, checks and answers ask."""
        if self._terms_of != self.search_text:
            self._terms, self._terms_of = tuple(as_counted(terms(self.search_text))), self.search_text
        return self._terms

    @property
    def name_terms(self) -> frozenset[str]:
        """The words of the units the question names: they choose reports, as a title's name does, and tell no
        passage apart (农业|农村 of 农业农村局, asked of a report whose title names no unit)."""
        return frozenset(t for name in self.named for t in terms(name))

    @property
    def amount(self) -> bool:
        """It asks how much or how many."""
        return asks_amount(self.question)

    @property
    def report_ids(self) -> list[str] | None:
        ids = [rid for group in self.groups for rid in group]
        return ids or None

    @property
    def comparison(self) -> bool:
        return len(self.groups) > 1


def plan_query(question: str, shelf: Shelf, untitled: Mapping[str, Counter[str]] | None = None) -> QueryPlan:
    """Find named reports (fail closed on named but missing units) and the part of the report asked for.

    `untitled` holds term counts of reports whose title names no unit: a unit the question names may
    have written one of them (农业农村局 → the report that keeps saying 农业, 农村), so it is searched there
    instead of being refused.
    """
    text = normalize_for_match(question)
    kind = _kind(text)
    units = _named_units(text, shelf, untitled or {}, kind)
    groups = _dedupe([group for _, group in sorted(units.groups, key=lambda g: g[0])])
    if len(groups) > 1 and not _COMPARE.search(question):
        groups = groups[:1]
    across = not groups and not units.unknown and bool(_ACROSS.search(text))
    plan = QueryPlan(
        question=question,
        search_text=_topic(text) if across else text,
        groups=groups,
        unknown_orgs=units.unknown,
        nearest_orgs=units.nearest,
        named=units.named,
        elsewhere=units.elsewhere,
        kind=kind,
        uncued=not (across or YEAR.search(text) or any(p.search(text) for _, p, _ in _cue_patterns())),
        year=int(year.group(1)) if (year := YEAR.search(text)) else None,
        across=across,
        measure=asked_measure(question),
    )
    return plan


@dataclass
class _Units:
    groups: list[tuple[int, list[str]]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    nearest: list[str] = field(default_factory=list)
    named: list[str] = field(default_factory=list)
    elsewhere: list[tuple[str, str]] = field(default_factory=list)


def _named_units(text: str, shelf: Shelf, untitled: Mapping[str, Counter[str]], kind: str | None) -> _Units:
    """Each unit named, where, as one group of reports; the named units the shelf lacks.

    A mention that is like some unit's name but no short form of it (监管局 beside 市场监督管理局) neither
    chooses a report nor is refused: the whole shelf is searched, and the relevance check decides.
    """
    out = _Units()
    for mention in mentions(text):
        level, orgs = shelf.units.named(mention)
        if level >= Match.SHORT:
            chosen = [rid for org in orgs for rid in _choose(shelf.by_org[org], text, kind)]
            out.groups.append((mention.start, sorted(chosen)))
            out.named.append(mention.name)
            out.elsewhere.extend((mention.name, o) for o in orgs if other_place(mention.places_before(o), o))
        elif authored := _untitled_author(mention.name, untitled):
            out.groups.append((mention.start, authored))
            out.named.append(mention.name)
        elif level == Match.NONE and mention.strict:
            out.unknown.append(mention.name)
            out.nearest.extend(o for o in shelf.units.nearest(mention.name) if o not in out.nearest)
    for needle, org, report_id in shelf.as_written:
        if (pos := text.find(needle)) >= 0:
            out.groups.append((pos, [report_id] if report_id else sorted(_choose(shelf.by_org[org], text, kind))))
            out.named.append(org or shelf.by_id[report_id].title)
    return out


def _choose(entries: Sequence[ReportEntry], text: str, kind: str | None) -> list[str]:
    """Of one unit's reports (two years of it), the one a question asks about.

    Each report speaks of its own 今年 and 明年 (the 2023 report's plans for 2024 are what the 2024 report
    says was done), so searching both would mix two years' figures under one answer. A year in the
    question picks the report whose years hold it: its summary year for a question about what was done,
    its plan year for one about plans. Without a year the question is about the newest report, and
    its 今年/明年 are that report's (去年 is the year before it, when the shelf has that report, unless it
    is what this year is compared with: 比去年提高了多少).
    """
    if len(entries) < 2:
        return [e.report_id for e in entries]
    asked = {int(y) for y in YEAR.findall(text)}
    if asked:
        held = [e for e in entries if asked & {e.year, e.plan_year}]
        planned = [e for e in held if e.plan_year in asked]
        done = [e for e in held if e.year in asked]
        picked = (planned or done) if kind == "计划" else (done or planned)
        return [e.report_id for e in picked or entries]
    wanted = "计划" if kind == "计划" else "总结"
    fitting = [e for e in entries if wanted in e.kind] or entries
    newest = max(e.year or 0 for e in fitting)
    if _LAST_YEAR.search(text) and "今年" not in text and any(e.year == newest - 1 for e in fitting):
        newest -= 1
    return [e.report_id for e in fitting if (e.year or 0) == newest]


def last_year_unheld(plan: QueryPlan, shelf: Shelf) -> list[ReportEntry]:
    """ "医保局去年参保率": the named unit's newest report is the only year the shelf has of it, so 去年 cannot
    pick an older one; the answer says which year it speaks of rather than pass one year off as another."""
    text = normalize_for_match(plan.question)
    if plan.year or plan.kind == "计划" or not _LAST_YEAR.search(text) or "今年" in text:
        return []
    out = []
    for rid in plan.report_ids or []:
        entry = shelf.by_id[rid]
        years = {e.year for e in shelf.by_org.get(entry.org, ()) if e.year}
        if entry.org and entry.year and entry.year == max(years) and entry.year - 1 not in years:
            out.append(entry)
    return out


def _untitled_author(mention: str, untitled: Mapping[str, Counter[str]]) -> list[str]:
    split = name_kind(mention)
    words = [w for w in terms(split[0] if split else mention) if len(w) >= 2]
    if not words:
        return []
    return sorted(rid for rid, counts in untitled.items() if all(counts[w] >= UNTITLED_MIN_COUNT for w in words))


def _topic(text: str) -> str:
    """What a question about every unit is about, without its framing ("哪些单位…明年…打算") that every report shares."""
    words = part_words()
    for pattern in (_ACROSS, words.ask_future, words.ask_plan, words.ask_summary):
        text = pattern.sub(" ", text)
    return " ".join(text.split()) or text


_CUES = (
    ("问题", "ask_problem", 2.0),
    ("计划", "ask_future", 2.0),
    ("计划", "ask_plan", 1.0),
    ("总结", "ask_summary", 1.0),
)
"""Which part each list of question words points to, and how firmly (fitted on the tune halves)."""


@cache
def _cue_patterns() -> tuple[tuple[str, re.Pattern[str], float], ...]:
    table = word_table("parts.txt")
    return tuple((kind, re.compile(word), weight) for kind, name, weight in _CUES for word in table[name])


def _kind(text: str) -> str | None:
    """The part a question's words point to, when they point one way: every cue word votes for its part.

    "明年打算…" votes twice for the plan; "年初计划新建的…建成没有" votes once each for the plan and the summary,
    so no part is chosen and the text alone decides (retrieval weighs the part, it never filters by it).
    """
    inside = _inside_words(text)
    votes: dict[str, float] = {}
    for kind, pattern, weight in _cue_patterns():
        found = sum(1 for m in pattern.finditer(text) if not inside(m.start(), m.end()))
        votes[kind] = votes.get(kind, 0.0) + weight * found
    ranked = sorted(votes.items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] <= 0 or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return None
    return ranked[0][0]


def _inside_words(text: str) -> Callable[[int, int], bool]:
    """Whether a span lies within one longer word of the question and does not end it: 困难 in 困难群众 names
    whom the work was for, 计划 in 计划生育 a field of work, so neither asks about a part of the report; a word
    ending a compound is its head (思路 in 工作思路 is still the plan)."""
    words: list[tuple[int, int]] = []
    at = 0
    for word in segment(text):
        words.append((at, at + len(word)))
        at += len(word)
    return lambda start, end: any(a <= start and end < b for a, b in words)


def _dedupe(groups: list[list[str]]) -> list[list[str]]:
    out: list[list[str]] = []
    for group in groups:
        if group not in out:
            out.append(group)
    return out
