"""Which reports a question names, and which part of a report it asks about."""

from __future__ import annotations

import pytest

from bot.query import plan_query
from ingest.index.manifest import ReportEntry


def entry(org: str, title: str) -> ReportEntry:
    return ReportEntry(f"id-{org or title}", title, "f.txt", org, 3, 3, 2023, 2024, "总结+计划")


REPORTS = [
    entry("粮食局", "粮食局2023年工作总结及2024年工作计划"),
    entry("商务局", "商务局关于2023年工作总结及2024年工作打算的总结"),
    entry("民族事务委员会", "民族事务委员会2023年工作总结及下一步工作计划"),
    entry("经济开发区", "经济开发区2023年工作总结和2024年工作思路"),
    entry("", "2023年工作总结和2024年工作谋划"),
]


def test_named_bureau_restricts_to_its_report():
    plan = plan_query("粮食局明年打算新建哪些粮库？", REPORTS)
    assert plan.groups == [["id-粮食局"]]
    assert plan.kind == "计划"


@pytest.mark.parametrize(
    ("question", "org"), [("民委下一步怎么落实交流计划？", "民族事务委员会"), ("开发区的招商情况", "经济开发区")]
)
def test_aliases_find_the_bureau(question, org):
    assert plan_query(question, REPORTS).groups == [[f"id-{org}"]]


@pytest.mark.parametrize("question", ["教育局2024年计划新建几所中小学？", "卫健委明年有什么计划？"])
def test_bureau_without_a_report_fails_closed(question):
    plan = plan_query(question, REPORTS)
    assert plan.groups == []
    assert plan.unknown_orgs


def test_party_committees_are_not_bureaus():
    assert plan_query("市委的部署落实得怎么样？", REPORTS).unknown_orgs == []


def test_comparison_names_two_groups():
    plan = plan_query("粮食局和商务局在安全生产上各做了什么？", REPORTS)
    assert plan.comparison
    assert sorted(g[0] for g in plan.groups) == ["id-商务局", "id-粮食局"]


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("粮食局明年有什么打算？", "计划"),
        ("统计局的工作短板有哪些？", "问题"),
        ("管理区今年发放了哪些救助资金？", "总结"),
        ("统计局为经济普查做了哪些准备？", "总结"),
        ("招商中心是怎么借助在外乡贤力量招商的？", "总结"),  # 是…的 tells of what was done
        ("招商中心怎么借助在外乡贤力量招商？", None),
        ("党建工作", None),
    ],
)
def test_kind_of_question(question, kind):
    assert plan_query(question, REPORTS).kind == kind


def test_censored_characters_are_normalised_in_the_search_text():
    assert "党建" in plan_query("D建品牌怎么打造？", REPORTS).search_text


def test_untitled_report_is_claimed_by_the_bureau_of_its_field():
    from collections import Counter

    untitled = {"id-2023年工作总结和2024年工作谋划": Counter({"农业": 9, "农村": 10, "教育": 0})}
    claimed = plan_query("农业农村局明年的重点是什么？", REPORTS, untitled)
    assert claimed.groups == [["id-2023年工作总结和2024年工作谋划"]] and not claimed.unknown_orgs
    refused = plan_query("教育局明年的重点是什么？", REPORTS, untitled)
    assert refused.groups == [] and refused.unknown_orgs == ["教育局"]


@pytest.mark.parametrize("question", ["哪些单位提到了招商引资？", "各部门明年在乡村振兴上有什么打算？"])
def test_question_about_every_unit_searches_without_its_framing(question):
    plan = plan_query(question, REPORTS)
    assert plan.across and plan.groups == []
    assert "单位" not in plan.search_text and "部门" not in plan.search_text


def test_named_bureau_is_not_a_question_about_every_unit():
    assert not plan_query("粮食局在哪些部门的配合下开展执法？", REPORTS).across


def test_year_of_the_question_is_read():
    assert plan_query("财政局预计2024年一般公共预算收入是多少？", REPORTS).year == 2024


def test_a_fact_without_a_bureau_is_not_a_roll_call():
    assert not plan_query("报告里提到的退城进郊项目是什么？", REPORTS).across
    assert plan_query("提到乡村振兴的单位有哪些？", REPORTS).across
