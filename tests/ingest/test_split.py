"""A compilation (材料汇编) → its reports, cut at title lines; the cover is not a report."""

from __future__ import annotations

import itertools

import pytest

from ingest.clean import clean_text
from ingest.read import read_text
from ingest.split import is_title_line, split_reports
from tests.ingest.helpers import RANKED, UNNUMBERED, parse

COVER = "各级局机关2023年工作总结及2024年工作计划材料汇编（11篇）"
TITLES = [
    "管理区2023年工作总结及2024年工作计划",
    "招商中心2023年工作总结和2024年工作安排",
    "粮食局2023年工作总结及2024年工作计划",
    "统计局2023年工作总结和2024年工作思路的报告",
    "民族事务委员会2023年工作总结及下一步工作计划",
    "财政局2023年工作总结和2024年工作计划",
    "林业局2023年工作总结及2024年工作思路",
    "工业园区2023年工作总结和2023年工作思路",
    "经济开发区2023年工作总结和2024年工作思路",
    "商务局关于2023年工作总结及2024年工作打算的总结",
    "2023年工作总结和2024年工作谋划",
]


@pytest.fixture(scope="module")
def cleaned(compilation):
    return clean_text(read_text(compilation, 20_000_000))


def test_compilation_gives_exactly_its_eleven_reports(cleaned):
    reports = split_reports(cleaned, "bureau-reports-2023")
    assert [r.title for r in reports] == TITLES


def test_cover_title_is_not_a_report(cleaned):
    assert cleaned.split("\n")[0] == COVER
    assert not is_title_line(COVER)
    reports = split_reports(cleaned, "bureau-reports-2023")
    assert all(COVER not in r.text and r.title != "bureau-reports-2023" for r in reports)


def test_report_offsets_point_into_the_cleaned_text(cleaned):
    reports = split_reports(cleaned, "x")
    for report in reports:
        assert cleaned[report.offset : report.offset + len(report.text)] == report.text
    # consecutive reports neither overlap nor skip a body line
    for a, b in itertools.pairwise(reports):
        assert a.offset + len(a.text) < b.offset
        assert b.title in cleaned[a.offset + len(a.text) : b.offset]


def test_each_report_body_starts_after_its_title_and_holds_its_own_text(cleaned):
    by_title = {r.title: r.text for r in split_reports(cleaned, "x")}
    assert by_title["粮食局2023年工作总结及2024年工作计划"].split("\n")[0].startswith("xxxx年是全面贯彻落实")
    assert "连城中心粮库" in by_title["粮食局2023年工作总结及2024年工作计划"]
    assert "连城中心粮库" not in by_title["统计局2023年工作总结和2024年工作思路的报告"]
    assert "林长制" in by_title["林业局2023年工作总结及2024年工作思路"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("粮食局2023年工作总结及2024年工作计划", True),
        ("商务局关于2023年工作总结及2024年工作打算的总结", True),
        ("2023年工作总结和2024年工作谋划", True),
        ("XX县审计局2023年度述职报告", True),
        (COVER, False),  # a cover
        ("2023年工作总结材料目录", False),
        ("一、2023年工作总结", False),  # a numbered heading
        ("（三）2024年工作计划", False),
        ("3.年度工作计划", False),
        ("现将2023年工作总结如下：", False),  # a lead-in sentence
        ("我们认真制定年度工作计划。并按月调度。", False),
        ("年度计划", False),  # no report word
        ("总结", False),
    ],
)
def test_title_line_rule(line, expected):
    assert is_title_line(line) is expected


def test_title_words_inside_a_paragraph_do_not_split(cleaned):
    # 管理区's body mentions "2024年工作安排" mid-paragraph; that must not start a report.
    reports = split_reports(cleaned, "x")
    assert "2024年工作安排x队西瓜种植基地" in reports[0].text


def test_a_title_needs_a_blank_line_before_it():
    text = "交通局2023年工作总结\n\n正文第一段。\n水利局2023年工作总结\n正文第二段。"
    reports = split_reports(text, "file")
    assert [r.title for r in reports] == ["交通局2023年工作总结"]
    assert "水利局2023年工作总结" in reports[0].text


def test_file_without_a_title_line_is_one_report_named_after_the_file():
    text = "今年以来，我局扎实推进各项工作。\n一、主要成效\n全年完成投资xx亿元。"
    (report,) = parse(text, "水务局年度材料.txt")
    assert report.title == "水务局年度材料"
    assert report.text == text


def test_long_preface_before_the_first_title_is_kept_as_a_report():
    preface = "前言。" + "本书收录了各部门提交的年度材料，供学习交流参考使用。" * 10
    reports = split_reports(f"{preface}\n\n{RANKED}\n\n{UNNUMBERED}", "汇编")
    assert [r.title for r in reports] == ["汇编", "环保局2023年工作总结及2024年工作计划", "文旅局2023年工作总结"]
    assert reports[0].text == preface


def test_title_with_trailing_full_stop_is_trimmed():
    (report,) = split_reports("林业局2023年工作总结。\n\n正文。", "f")
    assert report.title == "林业局2023年工作总结"


def test_empty_and_blank_text_give_no_report():
    assert split_reports("", "f") == []
    assert split_reports("\n\n  \n", "f") == []


PART_LINES = (
    "石湾区档案馆2024年工作总结和2025年工作计划\n\n"
    "2024年工作开展情况\n\n馆藏数字化稳步推进。全年完成档案数字化12万页，新建查档服务点3个。\n\n"
    "存在的不足\n\n专业人员偏少。档案修复人员仅2名。\n\n"
    "2025年工作计划\n\n加快数字档案馆建设。2025年计划完成档案数字化15万页。\n"
)


def test_a_line_naming_a_part_of_the_report_above_is_no_new_report():
    [report] = split_reports(PART_LINES, "x")
    assert report.title == "石湾区档案馆2024年工作总结和2025年工作计划"
    assert "2025年计划完成档案数字化15万页" in report.text


@pytest.mark.parametrize("part_line", ["下一步工作打算", "3.2025年工作思路", "2025年度工作要点"])
def test_a_line_that_names_one_part_and_nothing_else_heads_a_part(part_line):
    """Under a title that names a plan, a plan line with no unit of its own is that report's plan part."""
    text = PART_LINES.replace("2025年工作计划\n\n加快", f"{part_line}\n\n加快")
    [report] = split_reports(text, "x")
    assert report.title == "石湾区档案馆2024年工作总结和2025年工作计划"
    assert f"{part_line}\n\n加快数字档案馆建设" in report.text


@pytest.mark.parametrize(
    "next_title", ["2024年工作总结和2025年工作谋划", "石湾区方志馆2025年工作计划", "下一步工作打算"]
)
def test_the_next_report_of_a_compilation_still_starts_at_its_title(next_title):
    """Two parts, or a unit's name, make a report title; a plan line under a summary-only title starts one."""
    above = "石湾区档案馆2024年工作总结\n\n馆藏数字化稳步推进。全年完成档案数字化12万页。\n\n"
    below = f"{next_title}\n\n加快数字档案馆建设。2025年计划完成档案数字化15万页。\n"
    titles = [r.title for r in split_reports(above + below, "x")]
    assert titles == ["石湾区档案馆2024年工作总结", next_title]


def test_a_title_wrapped_after_a_connective_is_one_title():
    """A PDF sets a long title on two lines, breaking after 及: the title is both, the body starts after them."""
    body = "2025年，市国资委坚持稳中求进。\n第一部分 2025年工作完成情况\n" + "一、国有企业改革深化提升。" * 20
    text = "禾阳市人民政府国有资产监督管理委员会2025年工作总结及\n2026年工作思路\n" + body
    [report] = split_reports(text, "x")
    assert report.title == "禾阳市人民政府国有资产监督管理委员会2025年工作总结及2026年工作思路"
    assert report.text == body.strip("\n") and text[report.offset :].startswith("2025年，市国资委")
    [plain] = split_reports("粮食局2023年工作总结\n2024年工作计划\n" + body, "x")
    assert plain.title == "粮食局2023年工作总结"  # no connective: the next line is the plan part's heading
