"""What a question asks for beyond its words: which reports it names, and which part (plan, summary, problems).

Matching is against the bureaus actually indexed, so a question naming one that is not (教育局) can fail
closed instead of being answered from another bureau's report.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from ingest.index.manifest import ReportEntry
from ingest.lexicon.aliases import mentions, org_aliases, unit_words
from ingest.lexicon.grammar import YEAR, part_words
from ingest.lexicon.normalize import normalize_for_match
from ingest.lexicon.terms import terms

UNTITLED_MIN_COUNT = 5
_ACROSS = re.compile(
    r"(哪些|哪几个|各个?|每个|所有|全部)(单位|部门|局|机关|委|区|园区|报告)(都|分别)?|(单位|部门|报告)(都)?有哪些"
)
_COMPARE = re.compile(r"和|与|及|以及|跟|同|、|对比|比较|分别|各")


@dataclass
class QueryPlan:
    """How to search for one question."""

    question: str
    search_text: str
    groups: list[list[str]] = field(default_factory=list)
    unknown_orgs: list[str] = field(default_factory=list)
    kind: str | None = None
    year: int | None = None
    across: bool = False
    _terms: tuple[str, ...] = field(default=(), repr=False)
    _terms_of: str | None = field(default=None, repr=False)

    @property
    def search_terms(self) -> tuple[str, ...]:
        """The search text's terms, segmented once however often retrieval, checks and answers ask."""
        if self._terms_of != self.search_text:
            self._terms, self._terms_of = tuple(terms(self.search_text)), self.search_text
        return self._terms

    @property
    def report_ids(self) -> list[str] | None:
        ids = [rid for group in self.groups for rid in group]
        return ids or None

    @property
    def comparison(self) -> bool:
        return len(self.groups) > 1


def plan_query(
    question: str, reports: list[ReportEntry], untitled: Mapping[str, Counter[str]] | None = None
) -> QueryPlan:
    """Find named reports (fail closed on named but missing bureaus) and the part of the report asked for.

    `untitled` holds term counts of reports whose title names no bureau: a bureau the question names may
    have written one of them (农业农村局 → the report that keeps saying 农业, 农村), so it is searched there
    instead of being refused.
    """
    text = normalize_for_match(question)
    question_terms = terms(text)
    by_alias: dict[str, set[str]] = {}
    for report in reports:
        for alias in org_aliases(report.org):
            by_alias.setdefault(alias, set()).add(report.report_id)
        if not report.org:
            by_alias.setdefault(report.title, set()).add(report.report_id)
    groups: list[list[str]] = []
    seen: set[str] = set()
    for alias in sorted(by_alias, key=len, reverse=True):
        pos = text.find(alias)
        if pos >= 0 and not any(alias in other for other in seen):
            seen.add(alias)
            groups.append(sorted(by_alias[alias]))
    unknown = [
        m
        for m in mentions(question_terms)
        if unit_words().strict.search(m) and not any(m in alias or alias in m for alias in by_alias)
    ]
    for m in list(unknown):
        authored = _untitled_author(m, untitled or {})
        if authored:
            unknown.remove(m)
            groups.append(authored)
    groups = _dedupe(groups)
    if len(groups) > 1 and not _COMPARE.search(question):
        groups = groups[:1]
    across = not groups and not unknown and bool(_ACROSS.search(text))
    plan = QueryPlan(
        question=question,
        search_text=_topic(text) if across else text,
        groups=groups,
        unknown_orgs=unknown,
        kind=_kind(text),
        year=int(year.group(1)) if (year := YEAR.search(text)) else None,
        across=across,
    )
    if plan.search_text == text:
        plan._terms, plan._terms_of = tuple(question_terms), text
    return plan


def _untitled_author(mention: str, untitled: Mapping[str, Counter[str]]) -> list[str]:
    stem = unit_words().strict.sub("", mention)
    words = [w for w in terms(stem) if len(w) >= 2]
    if not words:
        return []
    return sorted(rid for rid, counts in untitled.items() if all(counts[w] >= UNTITLED_MIN_COUNT for w in words))


def _topic(text: str) -> str:
    """What a question about every unit is about, without its framing ("哪些单位…明年…打算") that every report shares."""
    words = part_words()
    for pattern in (_ACROSS, words.ask_future, words.ask_plan, words.ask_summary):
        text = pattern.sub(" ", text)
    return " ".join(text.split()) or text


def _kind(text: str) -> str | None:
    words = part_words()
    for kind, pattern in (
        ("问题", words.ask_problem),
        ("计划", words.ask_future),
        ("总结", words.ask_summary),
        ("计划", words.ask_plan),
    ):
        if pattern.search(text):
            return kind
    return None


def _dedupe(groups: list[list[str]]) -> list[list[str]]:
    out: list[list[str]] = []
    for group in groups:
        if group not in out:
            out.append(group)
    return out
