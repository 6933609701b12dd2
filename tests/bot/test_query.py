"""Which reports a question names, and which part of a report it asks about."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.query import plan_query
from ingest.index.manifest import ReportEntry
from ingest.index.shelf import Shelf


def entry(org: str, title: str) -> ReportEntry:
    return ReportEntry(f"id-{org or title}", title, "f.txt", org, 3, 3, 2023, 2024, "总结+计划")


REPORTS = Shelf.of(
    [
        entry("粮食局", "粮食局2023年工作总结及2024年工作计划"),
        entry("商务局", "商务局关于2023年工作总结及2024年工作打算的总结"),
        entry("民族事务委员会", "民族事务委员会2023年工作总结及下一步工作计划"),
        entry("经济开发区", "经济开发区2023年工作总结和2024年工作思路"),
        entry("", "2023年工作总结和2024年工作谋划"),
    ]
)


def test_named_bureau_restricts_to_its_report():
    plan = plan_query("粮食局明年打算新建哪些粮库？", REPORTS)
    assert plan.groups == [["id-粮食局"]]
    assert plan.kind == "计划"


@pytest.mark.parametrize(
    ("question", "org"),
    [
        ("民委下一步怎么落实交流计划？", "民族事务委员会"),
        ("民宗委下一步怎么落实交流计划？", "民族事务委员会"),  # where religion is the same office's (data)
        ("开发区的招商情况", "经济开发区"),
    ],
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
        ("为困难群众免费代理了多少案件？", "总结"),  # 困难 within 困难群众 is whom it was for, not a problem
        ("计划生育工作怎么样？", "总结"),
        ("统计局2024年工作思路是什么？", "计划"),  # 思路 ends 工作思路, its head: still the plan
        ("2025年的工作要点有哪些？", "计划"),
        ("党建工作搞得咋样？", "总结"),  # how it went
        ("项目推进得如何？", "总结"),
        ("审计局为啥说整改特别难？卡在哪儿？", "问题"),  # as people say it
        ("招商中心的签约额被什么拖累了？", "问题"),
        ("财政局为啥说今年收支难平？", "问题"),  # why: the cause a report gives of a shortfall, beside 今年
        ("项目建设难度有多大？", None),  # 难度 is no difficulty of the unit's
        ("招商中心说驻外招商没啥效果，是怎么回事？", "问题"),  # a result said to be missing
        ("驻外招商的成效不明显在哪？", "问题"),
        ("驻外招商取得了哪些成效？", "总结"),
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


def report(org: str, year: int, title: str | None = None, kind: str = "总结+计划") -> ReportEntry:
    title = title or f"{org}{year}年工作总结和{year + 1}年工作计划"
    return ReportEntry(f"{org or title}-{year}", title, "f.txt", org, 3, 3, year, year + 1, kind)


SHELF = Shelf.of(
    [
        report("松涛区住房和城乡建设局", 2024),
        report("临江市卫生健康委员会", 2024),
        report("临江市发展和改革委员会", 2024),
        report("城西新区市场监督管理局", 2024),
        report("柳溪县人力资源和社会保障局", 2024),
        report("临江市松涛区审计局", 2023),
        report("临江市松涛区审计局", 2024),
        report("柳溪县职业中等专业学校", 2024),
        report("柳溪县柏岗镇中心卫生院", 2024),
        report("", 2024, title="2024年工作总结"),
    ]
)


@pytest.mark.parametrize(
    ("question", "org"),
    [
        ("住建局加装了多少部电梯？", "松涛区住房和城乡建设局"),
        ("卫健委的家庭医生签约率是多少？", "临江市卫生健康委员会"),
        ("市卫健委明年有什么打算？", "临江市卫生健康委员会"),
        ("发改委争取了多少上级资金？", "临江市发展和改革委员会"),
        ("市场监管局处置了多少起投诉？", "城西新区市场监督管理局"),
        ("市监局处置了多少起投诉？", "城西新区市场监督管理局"),
        ("人社局培育了哪些劳务品牌？", "柳溪县人力资源和社会保障局"),
        ("城西新区市场监督管理局有哪些不足？", "城西新区市场监督管理局"),
        ("县职专明年要开哪些新专业？", "柳溪县职业中等专业学校"),  # a school called by its kind (unit_names.txt)
        ("职专今年毕业生就业率多少？", "柳溪县职业中等专业学校"),
        ("柏岗镇卫生院今年门急诊量是多少人次？", "柳溪县柏岗镇中心卫生院"),  # the town's name opens the unit's
    ],
)
def test_units_named_the_way_people_say_them_choose_their_report(question, org):
    plan = plan_query(question, SHELF)
    assert plan.groups == [[f"{org}-2024"]] and plan.unknown_orgs == []


@pytest.mark.parametrize(
    ("question", "year"),
    [
        ("审计局明年计划安排多少个审计项目？", 2024),  # no year: the newest report, its 明年
        ("审计局今年完成了多少个审计项目？", 2024),
        ("区审计局有哪些不足？", 2024),
        ("审计局去年完成了多少个审计项目？", 2023),  # the year before the newest report
        ("审计局今年完成了多少个审计项目，比去年多了多少？", 2024),  # 去年 is what this year is compared with
        ("审计局的审计项目较去年增加了多少？", 2024),
        ("2023年审计局工作中存在哪些问题？", 2023),  # the report whose years hold 2023
        ("审计局2024年完成了多少个审计项目？", 2024),  # 2024 is the 2024 report's summary year …
        ("审计局2024年计划安排多少个审计项目？", 2023),  # … and the 2023 report's plan year
    ],
)
def test_of_two_years_of_one_unit_the_question_gets_one(question, year):
    assert plan_query(question, SHELF).groups == [[f"临江市松涛区审计局-{year}"]]


def test_a_unit_the_shelf_lacks_is_refused_with_the_nearest_named():
    plan = plan_query("统计局明年计划开展哪些调查？", SHELF)
    assert plan.groups == [] and plan.unknown_orgs == ["统计局"]
    assert plan.nearest_orgs == ["临江市松涛区审计局"]
    assert plan_query("教育局明年计划新建几所学校？", SHELF).nearest_orgs == []


def test_a_name_like_a_unit_is_neither_chosen_nor_refused():
    plan = plan_query("监管局处置了多少起投诉？", SHELF)
    assert plan.groups == [] and plan.unknown_orgs == []


def test_untitled_report_is_claimed_by_the_town_it_keeps_naming():
    untitled = {"2024年工作总结-2024": Counter({"柳溪": 12, "茶园": 6})}
    plan = plan_query("柳溪镇的茶园面积有多少？", SHELF, untitled)
    assert plan.groups == [["2024年工作总结-2024"]] and plan.named == ["柳溪镇"]
    assert plan_query("石湾镇的茶园面积有多少？", SHELF, untitled).groups == []


def test_two_units_compared_make_two_groups_in_the_order_named():
    plan = plan_query("卫健委和住建局在安全生产上各做了什么？", SHELF)
    assert plan.groups == [["临江市卫生健康委员会-2024"], ["松涛区住房和城乡建设局-2024"]]
    assert plan_query("卫健委在住建局的配合下做了什么？", SHELF).groups == [["临江市卫生健康委员会-2024"]]


def test_each_report_without_a_unit_is_found_by_its_title():
    shelf = Shelf.of([report("", 2024, title="柳溪村2024年工作总结"), report("", 2024, title="石湾村2024年工作总结")])
    assert plan_query("石湾村2024年工作总结里的茶园面积是多少？", shelf).groups == [["石湾村2024年工作总结-2024"]]


@pytest.mark.parametrize(
    ("question", "uncued"),
    [
        ("粮食局的仓容是多少？", True),  # what is: the summary's
        ("粮食局明年的仓容是多少？", False),
        ("粮食局2024年的仓容是多少？", False),  # a year says which part for itself
        ("粮食局有哪些问题？", False),
        ("哪些单位提到了仓容？", False),  # about every unit: any part may mention it
    ],
)
def test_a_question_with_no_cue_asks_what_is(question, uncued):
    assert plan_query(question, REPORTS).uncued is uncued
