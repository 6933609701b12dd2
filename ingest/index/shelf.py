"""The indexed reports as a question's unit names are matched against them, built once per generation.

Every question is matched against every unit on the shelf; at 11,000 reports, grouping them by unit and
indexing the units' names per question cost more than the search itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from ingest.index.manifest import ReportEntry
from ingest.lexicon.aliases import UnitIndex, unit_forms
from ingest.lexicon.normalize import normalize_for_match


@dataclass(frozen=True)
class Shelf:
    reports: tuple[ReportEntry, ...]
    by_org: Mapping[str, tuple[ReportEntry, ...]]
    units: UnitIndex
    as_written: tuple[tuple[str, str, str], ...]
    """(name as matched, unit, report) for the names no unit form covers, found in a question as written: a
    unit with an ending we do not know (…医院; report "": the unit's reports), or the title of a report that
    names no unit."""

    @classmethod
    def of(cls, reports: Iterable[ReportEntry]) -> Shelf:
        listed = tuple(reports)
        grouped: dict[str, list[ReportEntry]] = {}
        for report in listed:
            grouped.setdefault(report.org, []).append(report)
        as_written = [(normalize_for_match(org), org, "") for org in grouped if org and not unit_forms(org)]
        as_written += [(normalize_for_match(r.title), "", r.report_id) for r in grouped.get("", ())]
        return cls(
            listed,
            {org: tuple(entries) for org, entries in grouped.items()},
            UnitIndex.of(grouped),
            tuple(as_written),
        )

    @cached_property
    def by_id(self) -> Mapping[str, ReportEntry]:
        return {r.report_id: r for r in self.reports}

    @cached_property
    def superseded(self) -> frozenset[str]:
        """Reports of a unit that has a later report (by year): "现在", "明年" mean the latest one."""
        latest: dict[str, int] = {}
        for r in self.reports:
            if r.org and r.year:
                latest[r.org] = max(latest.get(r.org, r.year), r.year)
        return frozenset(r.report_id for r in self.reports if r.org and r.year and r.year < latest[r.org])

    def first_org(self) -> str:
        return next((r.org for r in self.reports if r.org), "")
