"""A file → its reports, each with title facts (bureau, year, kind) and its chunks."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from ingest.chunk import chunk_report
from ingest.clean import clean_text
from ingest.index.schema import ChunkRecord, ParsedReport, TitleFacts
from ingest.lexicon.grammar import YEAR, part_words, sentences
from ingest.lexicon.terms import terms
from ingest.split import split_reports
from ingest.structure import segment_report

_ORG_END = re.compile(r"(?:关于)?(?:20\d\d|xxxx|XXXX|[一二]〇)")


def title_facts(title: str) -> TitleFacts:
    """`粮食局2023年工作总结及2024年工作计划` → 粮食局, 2023, 2024, (总结, 计划)."""
    match = _ORG_END.search(title)
    org = title[: match.start()] if match else ""
    org = org.removesuffix("关于").strip(" ：:")
    years = [int(y) for y in YEAR.findall(title)]
    year = years[0] if years else None
    later = [y for y in years[1:] if year is None or y > year]
    words = part_words()
    kinds = tuple(k for k, rx in (("总结", words.heading_summary), ("计划", words.heading_plan)) if rx.search(title))
    plan_year = later[0] if later else (year + 1 if year and "计划" in kinds else None)
    return TitleFacts(org, year, plan_year, kinds or ("总结",))


def classifier(facts: TitleFacts) -> Callable[[tuple[str, ...]], tuple[str, int | None]]:
    """Kind and year of a section: the plan part, the problems part, or the summary, as the lowest heading that
    names only a part says, or else its top heading."""

    words = part_words()

    def classify(path: tuple[str, ...]) -> tuple[str, int | None]:
        for heading in reversed(path[1:]):
            named = _part_named(heading)
            if named == "problem":
                return "问题", facts.year
            if named == "plan":
                return "计划", facts.plan_year
        top = path[0] if path else ""
        if words.heading_problem.search(top):
            return "问题", facts.year
        if words.heading_plan.search(top) and not words.heading_summary.search(top):
            return "计划", facts.plan_year
        return "总结", facts.year

    return classify


_PART_FILLER = re.compile(
    r"^(?:[（(][\d一二三四五六七八九十]+[)）]|[\d一二三四五六七八九十]+(?:[.．]\d+)*[.．、])\s*"
    r"|\d{4}年度?|xxxx年度?|存在的?|工作|主要|重点|方面|几点|一些|及|和|与|以及|的|\s"
)


def _part_named(heading: str) -> str | None:
    """The one part a lower heading names and says nothing else of ("（三）存在的主要问题", "3.2024年工作打算"): it
    heads that part though the top heading above it is the summary's. "（二）解决群众困难问题" is work done."""
    words = part_words()
    named = [name for name, rx in words.headings if rx.search(heading)]
    if len(named) != 1 or named[0] == "summary":
        return None
    rest = heading
    for _, rx in words.headings:
        rest = rx.sub("", rest)
    return named[0] if not _PART_FILLER.sub("", rest) else None


def parse_text(
    text: str,
    file: Path,
    max_tokens: int,
    count: Callable[[str], int],
    headings: Mapping[str, int] | None = None,
) -> list[ParsedReport]:
    """Clean, split into reports, build each heading tree and chunk it.

    `headings` is what the file's format marks as headings (`ingest.read.ReadText.headings`), if anything.
    """
    reports: list[ParsedReport] = []
    seen: dict[str, int] = {}
    for raw in split_reports(clean_text(text), file.stem, headings):
        n = seen[raw.title] = seen.get(raw.title, 0) + 1
        report_id = hashlib.sha1(f"{file}\x1f{raw.title}\x1f{n}".encode()).hexdigest()[:16]
        facts = title_facts(raw.title)
        segments = segment_report(raw.text, headings)
        pieces = chunk_report(report_id, raw.text, segments, max_tokens, count, classifier(facts), salt=report_id)
        chunks = [_with_terms(replace(c, report=raw.title, file=str(file))) for c in pieces]
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


def _with_terms(chunk: ChunkRecord) -> ChunkRecord:
    """Segmenting is the slow part of answering: done here, once, for the chunk and each of its sentences."""
    return replace(
        chunk,
        terms=tuple(terms(chunk.search_text)),
        sentence_terms=tuple(tuple(terms(sent)) for _, sent in sentences(chunk.text)),
    )
