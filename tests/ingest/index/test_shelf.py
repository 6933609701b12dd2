"""The shelf as questions see it: reports by unit, the names matched as written, the superseded reports."""

from __future__ import annotations

from ingest.index.manifest import ReportEntry
from ingest.index.shelf import Shelf
from ingest.lexicon.aliases import Match, mentions


def report(org: str, year: int, title: str = "") -> ReportEntry:
    title = title or f"{org}{year}年工作总结"
    return ReportEntry(f"{org or title}-{year}", title, "f.txt", org, 3, 3, year, year + 1, "总结+计划")


SHELF = Shelf.of(
    [
        report("临江市松涛区审计局", 2023),
        report("临江市松涛区审计局", 2024),
        report("临江市博物馆", 2024),
        report("", 2024, title="柳溪村2024年工作总结"),
        report("", 2024, title="2024年工作总结"),
    ]
)


def test_only_an_older_report_of_the_same_unit_is_superseded():
    assert SHELF.superseded == {"临江市松涛区审计局-2023"}


def test_names_no_unit_form_covers_are_matched_as_written():
    assert SHELF.as_written == (
        ("临江市博物馆", "临江市博物馆", ""),
        ("柳溪村2024年工作总结", "", "柳溪村2024年工作总结-2024"),
        ("2024年工作总结", "", "2024年工作总结-2024"),
    )


def test_one_unit_index_serves_every_question():
    [mention] = mentions("区审计局明年计划安排多少个项目？")
    assert SHELF.units.named(mention) == (Match.EXACT, ["临江市松涛区审计局"])
    assert [r.year for r in SHELF.by_org["临江市松涛区审计局"]] == [2023, 2024]
    assert SHELF.first_org() == "临江市松涛区审计局"
