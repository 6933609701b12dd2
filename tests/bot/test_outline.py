"""Broad questions about a whole part of one report: its headings, each cited; a part the report lacks, said so;
and in a chat, questions that name no unit.

Three reports of our own (a 交通运输局 whose summary is too long for one chunk, a 文化旅游局 with no problems part,
a street office whose opening names it), ingested into a real Chroma as `reportbot ingest` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answer import Answerer
from bot.followup import Conversation
from bot.outline import outline_of
from tests.bot.served import served

TRANSPORT = "云溪县交通运输局2025年工作总结及2026年工作计划"
CULTURE = "云溪县文化和旅游局2025年工作总结及2026年工作计划"
STREET = "云溪县城关街道办事处2025年工作总结和2026年工作计划"

_TRANSPORT = f"""{TRANSPORT}
一、2025年工作总结
（一）农村公路提档升级。
全年新改建农村公路86公里，完成县道升级改造3条，实施危桥改造11座，农村公路优良中等路率达到88.6%。推行“路长制”，县乡村三级路长412名全部上岗，建立日常巡查、定期养护、应急抢通三项机制，全年处置路面病害1.2万平方米，清理边沟2100公里。新增农村公路养护公益性岗位160个，优先安排脱贫户和低收入户就业，人均年增收9000元。
（二）客货运输服务提质。
开通城乡公交线路6条，实现建制村通客车率100%，新投放新能源公交车45辆。完成县级物流配送中心建设，乡镇快递物流站点覆盖率达到100%，村级寄递物流服务点覆盖率达到92%。组织开展道路运输市场秩序整治，查处非法营运车辆37台次，约谈运输企业负责人19人次，城乡客运安全运行无事故。
（三）交通重点项目建设。
争取上级交通补助资金2.3亿元，完成交通固定资产投资9.6亿元，同比增长12%。云溪至河口二级公路建成通车，县城南外环线完成路基工程的85%，临港物流园连接线完成征地拆迁。建立重点项目周调度、月通报制度，县级领导包联项目7个，协调解决用地、资金、管线迁改等问题23个。
（四）安全生产和行业治理。
开展交通运输安全生产大排查大整治，排查隐患426处，整改到位419处，挂牌督办重大隐患3处。完成“两客一危”车辆动态监控全覆盖，驾驶员培训考核1800人次。推进交通运输综合执法改革，执法案卷评查优秀率达到90%。
二、存在的问题
农村公路养护资金缺口较大，部分乡道路面老化；城乡客运线路运营补贴压力大；专业技术人才不足。
三、2026年工作计划
（一）推进农村公路建设。计划新改建农村公路90公里，改造危桥12座，落实农村公路养护资金。
（二）完善运输服务体系。新开城乡公交线路4条，建成乡镇综合运输服务站5个。
（三）抓好重点项目。力争完成交通固定资产投资10亿元，县城南外环线全线贯通。
"""

_CULTURE = f"""{CULTURE}
一、2025年工作总结
（一）公共文化服务。新建城市书房4个，举办文化惠民演出126场，图书馆年接待读者21万人次。
（二）文旅融合发展。全县接待游客386万人次，旅游综合收入28.5亿元，创建省级旅游休闲街区1个。
（三）安全生产。开展文旅场所安全生产检查42次，排查隐患58处，全部整改到位。
二、2026年工作计划
（一）公共文化服务。新建城市书房3个，推进乡镇综合文化站提档升级。
（二）文旅融合发展。力争接待游客420万人次，创建国家AAAA级旅游景区1个。
"""


_STREET = f"""{STREET}
2025年，城关街道在县委、县政府的坚强领导下，聚焦民生实事，扎实推进各项工作。现将有关情况报告如下。
一、2025年工作总结
（一）背街小巷改造。完成背街小巷改造14条，新增路灯260盏。
（二）社区养老服务。建成社区食堂4个，全年助餐5.6万人次。
二、存在的问题
社区工作者流动性大，部分老旧小区无物业管理。
三、2026年工作计划
（一）改造背街小巷10条。
（二）新建社区食堂2个。
"""


@pytest.fixture(scope="module")
def outline_answerer(tmp_path_factory: pytest.TempPathFactory, embed_cache: Path) -> Iterator[Answerer]:
    folder = tmp_path_factory.mktemp("outline")
    (folder / f"{TRANSPORT}.txt").write_text(_TRANSPORT, encoding="utf-8")
    (folder / f"{CULTURE}.txt").write_text(_CULTURE, encoding="utf-8")
    (folder / f"{STREET}.txt").write_text(_STREET, encoding="utf-8")
    yield from served(folder, embed_cache)


HEADINGS = [
    "（一）农村公路提档升级。",
    "（二）客货运输服务提质。",
    "（三）交通重点项目建设。",
    "（四）安全生产和行业治理。",
]


@pytest.mark.parametrize(
    "question", ["交通运输局今年主要做了哪些工作？", "交通局2025年工作总体怎么样？", "交通局今年干了啥？"]
)
def test_a_broad_question_about_a_long_part_is_answered_with_its_headings(outline_answerer, question):
    answer = outline_answerer.ask(question)
    assert answer.found
    first, *lines = answer.answer.splitlines()
    assert first == f"《{TRANSPORT}》的“一、2025年工作总结”分4个方面："
    assert [line.split("[")[0] for line in lines] == HEADINGS
    for line, source in zip(lines, answer.sources, strict=False):
        n = int(line.rsplit("[", 1)[1].rstrip("]"))
        heading = line.split("[")[0].rstrip("。")
        assert answer.sources[n - 1].cited and answer.sources[n - 1].section.endswith(heading), source
    opened = outline_answerer.source(answer.sources[1].ref)
    assert opened is not None and opened.text.startswith(HEADINGS[1]) and "查处非法营运车辆" in opened.text
    assert HEADINGS[2] not in opened.text


@pytest.mark.parametrize("question", ["介绍一下交通运输局的工作", "交通运输局的报告主要内容是什么？"])
def test_a_question_naming_only_a_unit_gets_the_reports_parts(outline_answerer, question):
    answer = outline_answerer.ask(question)
    assert answer.found
    assert answer.answer.splitlines() == [
        f"《{TRANSPORT}》分3个部分：",
        "一、2025年工作总结。[1]",
        "二、存在的问题。[2]",
        "三、2026年工作计划。[3]",
    ]
    assert [s.section for s in answer.sources] == ["一、2025年工作总结", "二、存在的问题", "三、2026年工作计划"]


def test_the_outline_lists_headings_at_the_level_where_the_part_branches(outline_answerer):
    index = outline_answerer.reader.current()
    transport = next(r.report_id for r in index.manifest.reports if r.title == TRANSPORT)
    outline = outline_of(index.records, [transport], "总结")
    assert outline is not None and outline.root == "一、2025年工作总结"
    assert [h.text + "。" for h in outline.headings] == HEADINGS


def test_a_part_one_chunk_holds_is_quoted_not_outlined(outline_answerer):
    answer = outline_answerer.ask("交通运输局存在哪些问题？")
    assert answer.found and "分" not in answer.answer.split("：")[0]
    assert "农村公路养护资金缺口较大" in answer.answer


def test_a_unit_followed_by_a_verb_that_reads_as_a_word_with_its_ending_is_still_named(outline_answerer):
    answer = outline_answerer.ask("交通运输局面临哪些困难？")  # 局面 is a word; here the name ends at 局
    assert answer.found and answer.sources[0].report == TRANSPORT and "养护资金缺口" in answer.answer


@pytest.mark.parametrize("question", ["城关街道今年工作怎么样？", "城关街道2025年做了什么？", "街道办今年做了什么？"])
def test_a_short_part_is_quoted_from_its_heading_not_from_the_reports_opening(outline_answerer, question):
    """The opening lines name the unit, so they sit nearest to any question naming it; they are no part."""
    answer = outline_answerer.ask(question)
    assert answer.found and answer.sources[0].report == STREET
    assert answer.answer.startswith("一、2025年工作总结") and "现将有关情况报告如下" not in answer.answer


def test_a_question_with_a_topic_is_not_outlined(outline_answerer):
    answer = outline_answerer.ask("交通运输局今年危桥改造了多少座？")
    assert answer.found and "方面：" not in answer.answer and "11座" in answer.answer


@pytest.mark.parametrize("question", ["文旅局存在哪些问题？", "文化和旅游局有哪些不足？"])
def test_a_part_the_report_lacks_is_said_so_with_the_parts_it_has(outline_answerer, question):
    answer = outline_answerer.ask(question)
    assert not answer.found
    assert f"《{CULTURE}》中没有“存在的问题”这一部分" in answer.answer
    assert "一、2025年工作总结；二、2026年工作计划" in answer.answer


def test_a_chat_turns_from_the_outline_to_the_plan_and_to_another_unit(outline_answerer):
    chat = Conversation()
    assert "分4个方面" in outline_answerer.ask("交通运输局今年主要做了哪些工作？", conversation=chat).answer
    plan = outline_answerer.ask("那明年呢？", conversation=chat)
    assert plan.found and "计划新改建农村公路90公里" in plan.sources[0].text
    problems = outline_answerer.ask("存在什么问题？", conversation=chat)
    assert problems.found and "养护资金缺口" in problems.answer
    other = outline_answerer.ask("文旅局呢？", conversation=chat)
    assert not other.found and "没有“存在的问题”这一部分" in other.answer


def test_a_question_naming_no_unit_in_a_chat_stays_with_the_last_unit(outline_answerer):
    alone = outline_answerer.ask("安全生产排查了多少处隐患？")
    assert alone.found and "426处" in alone.answer
    chat = Conversation()
    assert outline_answerer.ask("文旅局今年接待了多少游客？", conversation=chat).found
    answer = outline_answerer.ask("安全生产排查了多少处隐患？", conversation=chat)
    assert answer.found and "58处" in answer.answer and answer.sources[0].report == CULTURE


def test_what_the_last_unit_does_not_say_is_asked_of_every_report(outline_answerer):
    chat = Conversation()
    assert outline_answerer.ask("文旅局今年接待了多少游客？", conversation=chat).found
    answer = outline_answerer.ask("危桥改造了多少座？", conversation=chat)
    assert answer.found and "11座" in answer.answer and answer.sources[0].report == TRANSPORT


@pytest.mark.parametrize("question", ["存在什么问题？", "明年计划干什么？"])
def test_a_chat_opening_with_no_unit_and_no_topic_is_asked_what_it_is_about(outline_answerer, question):
    answer = outline_answerer.ask(question, conversation=Conversation())
    assert not answer.found and answer.sources == [] and "还没有上一个问题" in answer.answer


def test_a_follow_up_naming_only_a_part_answers_from_that_part(outline_answerer):
    """ "那明年呢？" borrows 养护, which the summary says three times and the plan once."""
    chat = Conversation()
    assert outline_answerer.ask("交通运输局今年在公路养护方面做了什么？", conversation=chat).found
    answer = outline_answerer.ask("那明年呢？", conversation=chat)
    assert answer.found and answer.sources[0].section.startswith("三、2026年工作计划")
    assert (
        answer.answer.startswith("（一）推进农村公路建设") or "计划新改建农村公路90公里" in answer.answer.split("[")[0]
    )


def test_after_an_outline_a_heading_is_picked_by_its_number(outline_answerer):
    chat = Conversation()
    assert "分4个方面" in outline_answerer.ask("交通运输局今年主要做了哪些工作？", conversation=chat).answer
    third = outline_answerer.ask("第三个具体说说", conversation=chat)
    assert third.found and "完成交通固定资产投资9.6亿元" in third.answer
    assert all(s.section.startswith("一、2025年工作总结 › （三）交通重点项目建设") for s in third.cited_sources)
    second = outline_answerer.ask("（二）呢？", conversation=chat)  # the list still stands after a picked heading
    assert second.found and "开通城乡公交线路6条" in second.answer
    beyond = outline_answerer.ask("第九个呢？", conversation=chat)
    assert not beyond.found and beyond.answer == "上一个回答列出了4项，请说第1到第4项中的哪一项。"


def test_a_part_asked_after_a_figure_is_asked_as_a_whole_of_the_next_unit(outline_answerer):
    """ "存在什么问题？" after a figure is about the problems, not the figure: "街道办呢？" asks the street's problems."""
    chat = Conversation()
    assert outline_answerer.ask("交通运输局今年危桥改造了多少座？", conversation=chat).found
    assert "养护资金缺口" in outline_answerer.ask("存在什么问题？", conversation=chat).answer
    street = outline_answerer.ask("街道办呢？", conversation=chat)
    assert street.found and "社区工作者流动性大" in street.answer


def test_a_part_said_missing_still_sets_what_the_next_turn_asks(outline_answerer):
    chat = Conversation()
    assert outline_answerer.ask("文旅局今年接待了多少游客？", conversation=chat).found
    assert not outline_answerer.ask("存在什么问题？", conversation=chat).found
    transport = outline_answerer.ask("交通运输局呢？", conversation=chat)
    assert transport.found and "养护资金缺口" in transport.answer


def test_a_new_question_another_report_answers_better_leaves_the_last_unit(outline_answerer):
    chat = Conversation()
    assert outline_answerer.ask("交通运输局今年新改建农村公路多少公里？", conversation=chat).found
    answer = outline_answerer.ask("新建了多少个社区食堂？", conversation=chat)
    assert answer.found and answer.sources[0].report == STREET and "社区食堂4个" in answer.answer


def test_a_year_no_report_covers_gets_no_outline(outline_answerer):
    answer = outline_answerer.ask("交通运输局2028年计划做什么？")
    assert not answer.found and "方面" not in answer.answer


def test_after_the_reports_parts_a_part_picked_by_its_number_is_outlined(outline_answerer):
    chat = Conversation()
    assert "分3个部分" in outline_answerer.ask("介绍一下交通运输局的工作", conversation=chat).answer
    part = outline_answerer.ask("第一部分呢？", conversation=chat)
    assert part.found and part.answer.splitlines()[0] == f"《{TRANSPORT}》的“一、2025年工作总结”分4个方面："
    item = outline_answerer.ask("第四个方面呢？", conversation=chat)
    assert item.found and "排查隐患426处" in item.answer
