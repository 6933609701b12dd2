"""What a question asks for beyond its words: which reports it names, and which part (plan, summary, problems).

Matching is against the bureaus actually indexed, so a question naming one that is not (教育局) can fail
closed instead of being answered from another bureau's report.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from ingest.manifest import ReportEntry
from ingest.normalize import normalize_for_match
from ingest.terms import terms

_ORG_SUFFIX = re.compile(r"(?:局|委员会|委|办公室|中心|管理区|开发区|园区|厅|署)$")
_STRICT_SUFFIX = re.compile(r"(?:局|委员会|委|..厅)$")
_NOT_ORG = frozenset(
    "部署 市委 县委 区委 省委 党委 纪委 政法委 组织部 当局 格局 布局 大局 结局 全局 开局 新局 局面 局势 邮局 "
    "中心 园区 社区 镇区 城区 片区 景区 街区 市中心 核心 重心 爱心 信心 决心 用心 初心 连心".split()
)
_FUTURE = re.compile(r"明年|下一步|下一年|来年|今后|将要|将来|未来")
_PLAN = re.compile(r"计划|打算|准备|拟|安排|思路|谋划|目标|要点")
_PROBLEM = re.compile(r"问题|困难|短板|不足|差距|瓶颈|难点|薄弱")
_SUMMARY = re.compile(r"今年|去年|已经|做了|完成|取得|成效|成绩|亮点|总结|情况|进展|效果|怎么样|是(怎么|怎样|如何).+的")
_YEAR = re.compile(r"(20\d\d)\s*年")
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

    @property
    def report_ids(self) -> list[str] | None:
        ids = [rid for group in self.groups for rid in group]
        return ids or None

    @property
    def comparison(self) -> bool:
        return len(self.groups) > 1


@cache
def org_aliases(org: str) -> frozenset[str]:
    """Ways a question names a bureau: 民族事务委员会 → 民委, 经济开发区 → 开发区.

    Cached: every question matches every report's names, and the short forms need jieba.
    """
    if not org:
        return frozenset()
    aliases = {org}
    if org.endswith("委员会") and len(org) > 3:
        aliases.add(org[0] + "委")
        aliases.add(org[:-3] + "委")
    for tail in ("开发区", "管理区", "园区", "中心"):
        if org.endswith(tail) and len(org) > len(tail):
            aliases.add(tail if tail != "中心" else org)
    if org.endswith("局") and len(org) >= 5:
        aliases.update(_short_bureau_names(org[:-1]))
    return frozenset(aliases)


def _short_bureau_names(stem: str) -> set[str]:
    """交通运输局 → 交通局, 文化旅游局 → 文旅局, 人力资源和社会保障局 → 人社局: the first word, or the words' initials."""
    stem = re.sub(r"[和与及]", "", stem)
    splits = [[w for w in terms(stem) if len(w) >= 2]]
    if len(stem) % 2 == 0:
        splits.append([stem[i : i + 2] for i in range(0, len(stem), 2)])
    out: set[str] = set()
    for words in splits:
        if len(words) >= 2 and "".join(words) == stem:
            out.add(words[0] + "局")
            out.add("".join(w[0] for w in words) + "局")
            if len(words) > 2:
                out.add(words[0][0] + words[1][0] + "局")
    return {a for a in out if a not in _NOT_ORG}


def mentions(question: str) -> list[str]:
    """Words in the question that look like a bureau's name."""
    words = [w for w in terms(question) if w]
    found: list[str] = []
    for i, word in enumerate(words):
        candidate = word
        if word in {"局", "委", "委员会"} and i > 0:
            candidate = words[i - 1] + word
        if len(candidate) >= 2 and _ORG_SUFFIX.search(candidate) and candidate not in _NOT_ORG:
            found.append(candidate)
    return found


def plan_query(
    question: str, reports: list[ReportEntry], untitled: Mapping[str, Counter[str]] | None = None
) -> QueryPlan:
    """Find named reports (fail closed on named but missing bureaus) and the part of the report asked for.

    `untitled` holds term counts of reports whose title names no bureau: a bureau the question names may
    have written one of them (农业农村局 → the report that keeps saying 农业, 农村), so it is searched there
    instead of being refused.
    """
    text = normalize_for_match(question)
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
        for m in mentions(question)
        if _STRICT_SUFFIX.search(m) and not any(m in alias or alias in m for alias in by_alias)
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
    return QueryPlan(
        question=question,
        search_text=_topic(text) if across else text,
        groups=groups,
        unknown_orgs=unknown,
        kind=_kind(text),
        year=int(m.group(1)) if (m := _YEAR.search(text)) else None,
        across=across,
    )


def _untitled_author(mention: str, untitled: Mapping[str, Counter[str]]) -> list[str]:
    stem = _STRICT_SUFFIX.sub("", mention)
    words = [w for w in terms(stem) if len(w) >= 2]
    if not words:
        return []
    return sorted(rid for rid, counts in untitled.items() if all(counts[w] >= UNTITLED_MIN_COUNT for w in words))


def _topic(text: str) -> str:
    """What a question about every unit is about, without its framing ("哪些单位…明年…打算") that every report shares."""
    for pattern in (_ACROSS, _FUTURE, _PLAN, _SUMMARY):
        text = pattern.sub(" ", text)
    return " ".join(text.split()) or text


def _kind(text: str) -> str | None:
    for kind, pattern in (("问题", _PROBLEM), ("计划", _FUTURE), ("总结", _SUMMARY), ("计划", _PLAN)):
        if pattern.search(text):
            return kind
    return None


def _dedupe(groups: list[list[str]]) -> list[list[str]]:
    out: list[list[str]] = []
    for group in groups:
        if group not in out:
            out.append(group)
    return out
