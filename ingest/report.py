"""A file → its reports, each with title facts (bureau, year, kind) and its chunks."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.chunk import Chunk, chunk_report
from ingest.clean import clean_text
from ingest.split import split_reports
from ingest.structure import segment_report

_YEAR = re.compile(r"(20\d\d)\s*年")
_PLAN = re.compile(r"计划|安排|思路|打算|谋划|要点|下一步|明年|来年|展望")
_PROBLEM = re.compile(r"问题|困难|不足|短板|差距|建议")
_SUMMARY = re.compile(r"总结|成绩|成效|情况|回顾")
_ORG_END = re.compile(r"(?:关于)?(?:20\d\d|xxxx|XXXX|[一二]〇)")


@dataclass(frozen=True)
class TitleFacts:
    """What a title says about its report: who wrote it, for which year, and what it contains."""

    org: str
    year: int | None
    plan_year: int | None
    kinds: tuple[str, ...]

    @property
    def kind(self) -> str:
        return "+".join(self.kinds)


def title_facts(title: str) -> TitleFacts:
    """`粮食局2023年工作总结及2024年工作计划` → 粮食局, 2023, 2024, (总结, 计划)."""
    match = _ORG_END.search(title)
    org = title[: match.start()] if match else ""
    org = org.removesuffix("关于").strip(" ：:")
    years = [int(y) for y in _YEAR.findall(title)]
    year = years[0] if years else None
    later = [y for y in years[1:] if year is None or y > year]
    kinds = tuple(k for k, rx in (("总结", _SUMMARY), ("计划", _PLAN)) if rx.search(title))
    plan_year = later[0] if later else (year + 1 if year and "计划" in kinds else None)
    return TitleFacts(org, year, plan_year, kinds or ("总结",))


def classifier(facts: TitleFacts) -> Callable[[tuple[str, ...]], tuple[str, int | None]]:
    """Kind and year of a section from its top heading: the plan part, the problems part, or the summary."""

    def classify(path: tuple[str, ...]) -> tuple[str, int | None]:
        top = path[0] if path else ""
        if _PROBLEM.search(top):
            return "问题", facts.year
        if _PLAN.search(top) and not _SUMMARY.search(top):
            return "计划", facts.plan_year
        return "总结", facts.year

    return classify


@dataclass
class ParsedReport:
    report_id: str
    title: str
    file: str
    facts: TitleFacts
    text: str
    sections: int
    chunks: list[Chunk] = field(default_factory=list)


def parse_text(text: str, file: Path, max_tokens: int, count: Callable[[str], int]) -> list[ParsedReport]:
    """Clean, split into reports, build each heading tree and chunk it."""
    reports: list[ParsedReport] = []
    seen: dict[str, int] = {}
    for raw in split_reports(clean_text(text), file.stem):
        n = seen[raw.title] = seen.get(raw.title, 0) + 1
        report_id = hashlib.sha1(f"{file}\x1f{raw.title}\x1f{n}".encode()).hexdigest()[:16]
        facts = title_facts(raw.title)
        segments = segment_report(raw.text)
        chunks = chunk_report(report_id, raw.text, segments, max_tokens, count, classifier(facts), salt=report_id)
        reports.append(
            ParsedReport(
                report_id=report_id,
                title=raw.title,
                file=str(file),
                facts=facts,
                text=raw.text,
                sections=len({s.path for s in segments if s.path}),
                chunks=chunks,
            )
        )
    return reports
