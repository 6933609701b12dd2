"""Report text → heading tree: levels ranked by each report's own order, Word styles, lead sentences, 一是 items,
and the sloppy numbering of real reports."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import docx
import pytest

from ingest.clean import clean_text
from ingest.read import BOLD_LEVEL, TABLE_LEVEL, read_document, read_text
from ingest.report import parse_text
from ingest.split import split_reports
from ingest.structure import ITEM_RANK, LEAD_RANK, cn_number, segment_report
from tests.ingest.helpers import RANKED, SKIPPED_TWO, UNNUMBERED, count_tokens, parse, path_of

DATA = Path(__file__).resolve().parents[1] / "data"

ZONGJIE = "一、2023年工作总结"
CANGCHU = "（二）积极推进仓储项目建设及粮库信息化建设"


def body(text: str) -> str:
    """The text of a single-report file without its title line."""
    return text.split("\n", 2)[2]


def segment_at(text: str, needle: str, headings: dict[str, int] | None = None):
    """The segment holding the first occurrence of needle."""
    pos = text.index(needle)
    (segment,) = [s for s in segment_report(text, headings) if s.start <= pos < s.end]
    return segment


def path_at(text: str, needle: str, headings: dict[str, int] | None = None) -> tuple[str, ...]:
    """The heading path of the segment holding the first occurrence of needle."""
    return segment_at(text, needle, headings).path


@pytest.fixture(scope="module")
def real(compilation):
    return {r.title: r for r in parse(read_text(compilation, 20_000_000), compilation.name)}


def test_segments_tile_the_report_in_order():
    text = body(RANKED)
    segments = segment_report(text)
    assert all(a.end <= b.start for a, b in itertools.pairwise(segments))
    covered = {i for s in segments for i in range(s.start, s.end)}
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_numbered_ranks_nest():
    text = body(RANKED)
    assert path_at(text, "全年检查建筑工地") == (ZONGJIE, "（一）大气污染防治成效明显", "1.扬尘管控")
    assert path_at(text, "完成燃煤锅炉淘汰改造") == (
        ZONGJIE,
        "（一）大气污染防治成效明显",
        "2.工业废气治理",
        "（1）燃煤锅炉",
    )
    assert path_at(text, "对42家重点企业") == (ZONGJIE, "（一）大气污染防治成效明显", "2.工业废气治理", "（2）在线监测")
    # a new （二） closes 1./（1） below the old （一）
    assert path_at(text, "县城污水处理率") == (ZONGJIE, "（二）水环境质量持续改善", "二是县城污水处理率达到97%")
    assert path_at(text, "（一）推进清洁取暖改造") == ("三、2024年工作计划", "（一）推进清洁取暖改造，完成3000户")
    assert path_at(text, "2023年，县环保局") == ()


def test_ranks_are_recorded():
    segments = {s.path[-1]: s.ranks for s in segment_report(body(RANKED)) if s.path}
    assert segments["（2）在线监测"] == (1, 2, 3, 4)
    assert segments["一是环保执法人员不足"] == (1, ITEM_RANK)


def test_lead_sentence_items_split_one_paragraph():
    text = body(RANKED)
    items = [s for s in segment_report(text) if s.ranks and s.ranks[-1] == ITEM_RANK and s.path[0] == ZONGJIE]
    assert [s.path[-1] for s in items] == [
        "一是完成12条黑臭水体整治",
        "二是县城污水处理率达到97%",
        "三是新建农村污水管网86公里",
    ]
    assert [text[s.start : s.end] for s in items] == [
        "一是完成12条黑臭水体整治。",
        "二是县城污水处理率达到97%。",
        "三是新建农村污水管网86公里。",
    ]


def test_report_with_no_numbered_headings_uses_lead_sentences():
    text = body(UNNUMBERED)
    assert path_at(text, "全年接待游客") == ("文旅融合持续深化",)
    assert path_at(text, "新建城市书房") == ("公共文化服务提质",)
    assert path_at(text, "山水文化节") == ("下一步工作打算", "一是办好第三届山水文化节")
    assert path_at(text, "今年以来") == ()
    assert {s.ranks for s in segment_report(text)} <= {(), (LEAD_RANK,), (LEAD_RANK, ITEM_RANK)}


def test_plain_paragraphs_without_any_heading_are_kept_whole():
    text = "今年以来，我们坚持稳中求进，各项工作有序开展，全年完成投资xx亿元，同比增长x%。\n同时，我们加强干部队伍建设，组织培训xx场次，参训人数xxx人。"
    segments = segment_report(text)
    assert [(s.path, text[s.start : s.end]) for s in segments] == [((), text)]
    (report,) = parse(text, "无标题.txt")
    assert [c.text for c in report.chunks] == [text]
    assert report.chunks[0].section == ""


def test_missing_second_heading_still_opens_the_third():
    text = body(SKIPPED_TWO)
    assert path_at(text, "启动国道改线工程") == ("三、2024年工作思路", "（一）重大项目")
    assert path_at(text, "新开通城乡公交线路") == ("一、2023年工作总结", "（二）运输服务")


def test_decimal_numbers_and_years_are_not_headings():
    text = "一、总体情况\n3.5亿元投入农田水利建设，同比增长12%。\n2023.10完成验收，工程质量评定为优良等级并交付使用。"
    assert path_at(text, "3.5亿元") == ("一、总体情况",)
    assert path_at(text, "2023.10") == ("一、总体情况",)


def test_out_of_order_number_inside_leads_is_not_a_top_heading():
    text = (
        "三、2024年工作思路及重点\n"
        "抓实林长制主线。坚持以林长制为统领，压实责任。\n"
        "加快推进生态提质。一是森林提质。二是湿地提质。\n"
        "五.加快推进生态惠民。一是强化项目要素保障。二是发展林下经济。"
    )
    path = path_at(text, "发展林下经济")
    assert path[0] == "三、2024年工作思路及重点"
    assert path[1] == "五.加快推进生态惠民"


@pytest.mark.parametrize(
    ("token", "value"), [("一", 1), ("九", 9), ("十", 10), ("十一", 11), ("二十", 20), ("二十三", 23), ("12", 12)]
)
def test_cn_number(token, value):
    assert cn_number(token) == value


def test_liangshiju_section_path(real):
    report = real["粮食局2023年工作总结及2024年工作计划"]
    hits = [c for c in report.chunks if "连城中心粮库“退城进郊”建设项目" in c.text]
    assert hits
    assert all(path_of(c.section)[:2] == (ZONGJIE, CANGCHU) for c in hits)
    assert "一、2023年工作总结 › （二）积极推进仓储项目建设及粮库信息化建设" in {c.block for c in hits}
    # the plan part is its own top section
    plan = [c for c in report.chunks if path_of(c.section)[:1] == ("三、2024年工作计划",)]
    assert len(plan) >= 5 and all(c.kind == "计划" and c.year == 2024 for c in plan)


def test_linyeju_wu_dot_stays_inside_the_plan_section(real):
    report = real["林业局2023年工作总结及2024年工作思路"]
    tops = [path_of(c.section)[0] for c in report.chunks if c.section]
    assert set(tops) == {"一、工作成绩及亮点工作", "二、存在的困难问题", "三、2024年工作思路及重点"}
    huimin = [c for c in report.chunks if "强化项目要素保障" in c.text]
    assert huimin
    assert all(path_of(c.section)[0] == "三、2024年工作思路及重点" and c.kind == "计划" for c in huimin)
    leads = {path_of(c.section)[1] for c in report.chunks if c.section.startswith("一、工作成绩及亮点工作 › ")}
    assert {"林长制工作提级领跑", "灾害防控能力显著提升", "生态潜力有效激活"} <= leads


def test_jingji_kaifaqu_jumps_from_one_to_three(real):
    report = real["经济开发区2023年工作总结和2024年工作思路"]
    tops = [path_of(c.section)[0] for c in report.chunks if c.section]
    assert set(tops) == {"一、2023年工作总结", "三、2024年工作思路"}
    assert tops.index("三、2024年工作思路") > tops.index("一、2023年工作总结")
    second = {path_of(c.section)[1] for c in report.chunks if c.section.startswith("三、2024年工作思路 › ")}
    assert second == {
        "（一）聚焦产业发展，全面推动产业平台提质提效",
        "（二）聚力项目攻坚，全面推进主城区开发建设",
        "（三）突出D建引领，激发高质量发展红色动能",
    }


def test_every_real_report_has_a_heading_tree(real):
    for title, report in real.items():
        assert report.sections >= 5, title
        assert sum(1 for c in report.chunks if c.section) >= len(report.chunks) - 2, title


# --- levels ranked by the report's own order --------------------------------------------------------------

PARTS = """城建局2023年工作总结及2024年工作要点

第一部分 2023年工作总结
1.项目建设稳步推进
1.1重点工程
全年实施重点工程12项，完成投资8.6亿元。
1.2民生工程
（1）教育设施。新建幼儿园3所，新增学位900个。
（2）医疗设施。改造乡镇卫生院5家。
2.营商环境持续优化
2.1审批提速
企业开办时间压减至1个工作日，审批事项精简三成。
3.存在的不足
一是项目储备不足；二是要素保障偏弱。
第二部分 2024年工作要点
1.抓好项目谋划
计划新建城市停车场4处，新增泊位2000个。
2.深化改革攻坚
（1）推进国企改革。完成3家企业整合重组。
"""
PART_ONE = "第一部分 2023年工作总结"
PART_TWO = "第二部分 2024年工作要点"


def test_parts_then_arabic_then_decimal_then_paren():
    text = body(PARTS)
    assert path_at(text, "全年实施重点工程") == (PART_ONE, "1.项目建设稳步推进", "1.1重点工程")
    assert path_at(text, "新增学位900个") == (PART_ONE, "1.项目建设稳步推进", "1.2民生工程", "（1）教育设施")
    assert path_at(text, "企业开办时间") == (PART_ONE, "2.营商环境持续优化", "2.1审批提速")
    assert path_at(text, "要素保障偏弱") == (PART_ONE, "3.存在的不足", "二是要素保障偏弱")
    # the plan is its own part, not the tail of `3.存在的不足`
    assert path_at(text, "计划新建城市停车场") == (PART_TWO, "1.抓好项目谋划")
    assert path_at(text, "完成3家企业整合重组") == (PART_TWO, "2.深化改革攻坚", "（1）推进国企改革")
    assert segment_at(text, "新增学位900个").ranks == (1, 2, 3, 4)


def test_the_plan_part_is_classified_as_plan():
    (report,) = parse(PARTS)
    plan = [c for c in report.chunks if "停车场" in c.text or "整合重组" in c.text]
    assert plan and all(path_of(c.section)[0] == PART_TWO and c.kind == "计划" and c.year == 2024 for c in plan)
    summary = [c for c in report.chunks if "卫生院" in c.text]
    assert summary and all(c.kind == "总结" and c.year == 2023 for c in summary)


ARABIC_TOP = """1.基本情况
今年以来，全局上下围绕中心工作，各项任务有序推进。
2.主要成效
（1）农业生产。粮食总产量达到31万吨，增长2.1%。
（2）农民增收。农村居民人均可支配收入增长7.5%。
3.下一步打算
（1）稳定粮食生产。确保播种面积不减少。
"""


def test_a_report_whose_top_level_is_arabic():
    assert path_at(ARABIC_TOP, "全局上下") == ("1.基本情况",)
    assert path_at(ARABIC_TOP, "人均可支配收入") == ("2.主要成效", "（2）农民增收")
    assert path_at(ARABIC_TOP, "播种面积不减少") == ("3.下一步打算", "（1）稳定粮食生产")
    assert segment_at(ARABIC_TOP, "人均可支配收入").ranks == (1, 2)


CN_PAREN_FIRST = """（一）2023年工作开展情况
一、抓党建
全年开展主题党日活动24次，覆盖党员860人。
二、抓发展
引进项目15个，到位资金9亿元。
（二）2024年工作安排
一、稳增长
力争地区生产总值增长6%，固定资产投资增长8%。
"""


def test_paren_numbers_before_any_cn_number_are_the_top_level():
    assert path_at(CN_PAREN_FIRST, "主题党日") == ("（一）2023年工作开展情况", "一、抓党建")
    assert path_at(CN_PAREN_FIRST, "引进项目15个") == ("（一）2023年工作开展情况", "二、抓发展")
    # （二） is a sibling of （一）: it closes 二、 and its own 一、 starts a new list
    assert path_at(CN_PAREN_FIRST, "地区生产总值") == ("（二）2024年工作安排", "一、稳增长")
    assert segment_at(CN_PAREN_FIRST, "地区生产总值").ranks == (1, 2)


CIRCLED = """一、重点工作
（一）农业生产
①粮食生产
全年粮食播种面积稳定在45万亩，单产提高3%。
②高标准农田
新建高标准农田2万亩，配套灌溉设施。
（二）农村改革
①土地确权
完成确权登记颁证1.2万户，确权率99%。
二、存在问题
基层农技人员不足，服务能力有待提升。
"""


def test_circled_numbers_nest_below_the_paren_numbers():
    assert path_at(CIRCLED, "45万亩") == ("一、重点工作", "（一）农业生产", "①粮食生产")
    assert path_at(CIRCLED, "新建高标准农田2万亩") == ("一、重点工作", "（一）农业生产", "②高标准农田")
    assert path_at(CIRCLED, "确权登记") == ("一、重点工作", "（二）农村改革", "①土地确权")
    assert path_at(CIRCLED, "基层农技人员") == ("二、存在问题",)


DECIMAL = """1.财政收支
1.1财政收入
1.1.1税收收入
全年完成税收收入18.3亿元，增长5%。
1.1.2非税收入
非税收入完成4.1亿元，下降3%。
1.2财政支出
民生支出占一般公共预算支出的比重达到80%。
2.债务管理
2.1化解存量债务
全年化解存量债务6亿元，风险总体可控。
"""


def test_three_level_decimal_numbers():
    assert path_at(DECIMAL, "税收收入18.3亿元") == ("1.财政收支", "1.1财政收入", "1.1.1税收收入")
    assert path_at(DECIMAL, "非税收入完成") == ("1.财政收支", "1.1财政收入", "1.1.2非税收入")
    assert path_at(DECIMAL, "民生支出") == ("1.财政收支", "1.2财政支出")
    assert path_at(DECIMAL, "化解存量债务6亿元") == ("2.债务管理", "2.1化解存量债务")
    assert segment_at(DECIMAL, "非税收入完成").ranks == (1, 2, 3)


def test_decimal_numbers_start_a_new_list_under_each_parent_number():
    text = "1.1规划编制\n完成国土空间规划编制，报省政府审批。\n1.2用地保障\n保障项目用地3000亩，盘活存量土地800亩。\n2.1执法监察\n立案查处违法用地12宗，结案率100%。"
    assert path_at(text, "保障项目用地") == ("1.2用地保障",)
    assert path_at(text, "立案查处") == ("2.1执法监察",)


ITEMS_UNDER_ARABIC = """1.强化安全监管
全年开展安全检查1200次。一是排查隐患300处；二是整治问题企业20家。
2.提升应急能力
一是新建应急物资库2个。二是组建专业救援队伍3支。
"""


def test_items_inside_arabic_sections():
    assert path_at(ITEMS_UNDER_ARABIC, "全年开展安全检查") == ("1.强化安全监管",)
    assert path_at(ITEMS_UNDER_ARABIC, "整治问题企业") == ("1.强化安全监管", "二是整治问题企业20家")
    assert path_at(ITEMS_UNDER_ARABIC, "救援队伍") == ("2.提升应急能力", "二是组建专业救援队伍3支")
    assert segment_at(ITEMS_UNDER_ARABIC, "救援队伍").ranks == (1, ITEM_RANK)


def test_a_family_seen_before_keeps_its_level():
    # 1. was learned below （一）; under 二、 it comes straight after 二、 and still nests, not as a sibling
    text = "一、工作总结\n（一）招商引资\n1.签约项目\n签约项目20个，总投资56亿元。\n二、工作计划\n1.项目落地\n推动10个项目开工，年内投产5个。\n（一）要素保障\n保障用地500亩，落实资金2亿元。"
    assert path_at(text, "推动10个项目开工") == ("二、工作计划", "1.项目落地")
    assert path_at(text, "保障用地500亩") == ("二、工作计划", "（一）要素保障")


def test_a_new_family_between_known_ones_takes_its_usual_place():
    # （1） first appears right under 第二部分, where 1. was seen before: a later 1. nests above it, not under it
    text = "第一部分 总结\n1.概况\n概况正文，概况正文。\n第二部分 计划\n（1）预算编制\n编制正文，编制正文。\n1.重点任务\n（1）项目一\n项目正文，项目正文。"
    assert path_at(text, "项目正文") == ("第二部分 计划", "1.重点任务", "（1）项目一")


def test_a_number_repeated_on_its_own_line_is_the_next_sibling():
    text = (
        "一、安全监管\n全年检查企业300家，整改隐患900项。\n二、应急演练\n组织综合演练12场，参演人员3000人次。\n"
        "二、宣传教育\n开展安全宣传进企业活动40场，发放资料2万份。\n三、下一步计划\n计划正文，计划正文。"
    )
    assert path_at(text, "开展安全宣传") == ("二、宣传教育",)
    assert path_at(text, "计划正文") == ("三、下一步计划",)


def test_a_paragraph_running_on_into_the_next_numbers_is_cut_at_them():
    text = (
        "三、2025年工作计划\n"
        "（一）推进法律援助扩面，受理案件1600件以上。（二）新建调解组织3个，调解成功率98%以上。（三）完成普法规划中期评估。\n"
        "（四）社会保障\n①扩大参保覆盖面，新增参保2000人；②提高待遇标准，月人均提高20元；③加强基金监管。\n"
        "（五）加快建设，确保年底完工。（七）号地块同步开工，配套道路同步建设。"
    )
    top = "三、2025年工作计划"
    assert path_at(text, "受理案件1600件") == (top, "（一）推进法律援助扩面，受理案件1600件以上")
    assert path_at(text, "新建调解组织") == (top, "（二）新建调解组织3个，调解成功率98%以上")
    assert path_at(text, "中期评估") == (top, "（三）完成普法规划中期评估")
    assert path_at(text, "月人均提高") == (top, "（四）社会保障", "②提高待遇标准，月人均提高20元")
    assert path_at(text, "加强基金监管") == (top, "（四）社会保障", "③加强基金监管")
    # only the next number cuts: （七） after （五） is text of （五）
    assert path_at(text, "号地块同步开工") == (top, "（五）加快建设，确保年底完工")


def test_items_continue_from_the_paragraph_before():
    text = "一、主要工作\n一是完成道路硬化20公里。二是新建桥梁3座。\n三是改造危房120户。四是新建村级活动场所5个。"
    assert path_at(text, "改造危房") == ("一、主要工作", "三是改造危房120户")
    assert path_at(text, "村级活动场所") == ("一、主要工作", "四是新建村级活动场所5个")
    # a paragraph that starts its own list again is not a continuation
    again = text + "\n一是修缮祠堂2处。二是整治河塘6口。"
    assert path_at(again, "整治河塘") == ("一、主要工作", "二是整治河塘6口")


# --- Word styles and bold lines ---------------------------------------------------------------------------

STYLED = """总体情况
1.收入完成情况
全年完成一般公共预算收入25亿元，增长4%。
2.支出保障情况
全年民生支出20亿元，占比八成。
重点工作
1.预算改革
全面实施预算绩效管理，评价项目120个。
项目建设
（1）新建学校两所。完成主体工程。
体制改革
推进乡镇财政管理体制改革，理顺收支关系。
"""
STYLES = {"总体情况": 1, "重点工作": 1, "项目建设": 2, "体制改革": 2}


def test_styled_lines_are_headings_and_numbers_nest_below_them():
    assert path_at(STYLED, "一般公共预算收入", STYLES) == ("总体情况", "1.收入完成情况")
    assert path_at(STYLED, "预算绩效", STYLES) == ("重点工作", "1.预算改革")
    # a Heading 2 closes the plain 1. that was open under the Heading 1
    assert path_at(STYLED, "完成主体工程", STYLES) == ("重点工作", "项目建设", "（1）新建学校两所")
    assert path_at(STYLED, "乡镇财政管理", STYLES) == ("重点工作", "体制改革")
    assert segment_at(STYLED, "完成主体工程", STYLES).ranks[:2] == (1, 2)
    # without the styles the same lines are plain text under the numbers
    assert path_at(STYLED, "乡镇财政管理")[-1] == "（1）新建学校两所"


def test_unstyled_line_of_a_styled_number_family_keeps_the_styled_level():
    text = "一、总体情况\n（一）收入\n收入正文，收入正文。\n二、下一步计划\n计划正文，计划正文。"
    headings = {"一、总体情况": 1, "（一）收入": 2}
    assert path_at(text, "计划正文", headings) == ("二、下一步计划",)
    assert segment_at(text, "计划正文", headings).ranks == (1,)


def test_bold_lines_are_a_family_and_bold_numbers_are_their_number():
    text = "一、工作总结\n主要做法\n做法正文，做法正文。\n（一）党建\n党建正文，党建正文。\n存在不足\n不足正文，不足正文。\n二、工作计划\n计划正文，计划正文。"
    headings = {"一、工作总结": BOLD_LEVEL, "主要做法": BOLD_LEVEL, "存在不足": BOLD_LEVEL, "二、工作计划": BOLD_LEVEL}
    assert path_at(text, "做法正文", headings) == ("一、工作总结", "主要做法")
    assert path_at(text, "党建正文", headings) == ("一、工作总结", "主要做法", "（一）党建")
    assert path_at(text, "不足正文", headings) == ("一、工作总结", "存在不足")
    assert path_at(text, "计划正文", headings) == ("二、工作计划",)


def test_a_table_caption_files_its_rows_inside_the_section():
    text = "一、主要指标\n表：指标、2023年、目标\n地区生产总值：2023年 310亿元；目标 330亿元。\n二、下一步\n计划正文，计划正文。"
    headings = {"表：指标、2023年、目标": TABLE_LEVEL}
    assert path_at(text, "地区生产总值", headings) == ("一、主要指标", "表：指标、2023年、目标")
    assert segment_at(text, "地区生产总值", headings).ranks == (1, LEAD_RANK)
    assert path_at(text, "计划正文", headings) == ("二、下一步",)


def _styled_docx(path: Path, paragraphs: list[tuple[str, str | None]]) -> None:
    document = docx.Document()
    for text, style in paragraphs:
        if style == "bold":
            document.add_paragraph().add_run(text).bold = True
        else:
            document.add_paragraph(text, style=style)
    document.save(str(path))


def test_word_styles_reach_the_tree_through_parse_text(tmp_path):
    path = tmp_path / "styled.docx"
    _styled_docx(
        path,
        [
            ("水务局2023年工作总结", "Title"),
            ("工作成效", "Heading 1"),
            ("供水保障", "Heading 2"),
            ("1.新建水厂一座，日供水能力提高2万吨。", None),
            ("2.改造老旧管网35公里。", None),
            ("下步打算", "Heading 1"),
            ("建成智慧水务平台，实现远程抄表全覆盖。", None),
            ("水务局2024年工作计划", "Title"),
            ("重点任务", "Heading 1"),
            ("开工建设第二水源工程。", None),
        ],
    )
    document = read_document(path, 10_000_000)
    reports = parse_text(document.text, path, 24, count_tokens, headings=document.headings)
    assert [r.title for r in reports] == ["水务局2023年工作总结", "水务局2024年工作计划"]

    def sections(needle: str, parsed=reports) -> set[tuple[str, ...]]:
        return {path_of(c.section) for r in parsed for c in r.chunks if needle in c.text}

    assert {p[:2] for p in sections("改造老旧管网")} == {("工作成效", "供水保障")}
    assert sections("智慧水务平台") == {("下步打算",)}
    assert sections("第二水源") == {("重点任务",)}
    # without the styles the second title (no blank line above it) does not start a report, nor 重点任务 a section
    plain = parse_text(document.text, path, 24, count_tokens)
    assert len(plain) == 1
    assert all("重点任务" not in p for p in sections("第二水源", plain))


def test_one_title_line_opening_the_file_names_the_report():
    text = "关于全年水务运行的情况通报\n一、供水\n全年供水3000万吨。"
    (report,) = parse_text(text, Path("/reports/f.docx"), 512, count_tokens, {"关于全年水务运行的情况通报": 0})
    assert report.title == "关于全年水务运行的情况通报"
    assert path_of(report.chunks[0].section) == ("一、供水",)
    (plain,) = parse_text(text, Path("/reports/f.docx"), 512, count_tokens)
    assert plain.title == "f"


# --- the shared corpus: the tree the fixed ranks gave ------------------------------------------------------


def _tree_digest(segments) -> str:
    payload = json.dumps([[list(s.path), s.start, s.end] for s in segments], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def test_shared_corpus_trees_are_what_fixed_ranks_gave(compilation):
    expected = json.loads((DATA / "structure-tree.json").read_text(encoding="utf-8"))["reports"]
    raws = split_reports(clean_text(read_text(compilation, 20_000_000)), compilation.stem)
    assert [hashlib.sha1(r.title.encode()).hexdigest() for r in raws] == [e["title_sha1"] for e in expected]
    for raw, want in zip(raws, expected, strict=True):
        segments = segment_report(raw.text)
        got = {
            "segments": len(segments),
            "paths": len({s.path for s in segments if s.path}),
            "tops": len({s.path[0] for s in segments if s.path}),
            "digest": _tree_digest(segments),
        }
        assert got == {k: want[k] for k in got}, raw.title


def test_shared_docx_with_its_bold_lines_gives_the_same_trees(shared_dir):
    document = read_document(shared_dir / "corpus" / "variants" / "bureau-reports-2023.docx", 20_000_000)
    assert document.headings  # its title and 一、 lines are bold
    styled = parse_text(document.text, Path("c.docx"), 512, count_tokens, headings=document.headings)
    plain = parse_text(document.text, Path("c.docx"), 512, count_tokens)
    assert [r.title for r in styled] == [r.title for r in plain]
    for a, b in zip(styled, plain, strict=True):
        assert [c.section for c in a.chunks] == [c.section for c in b.chunks], a.title


def test_unnumbered_part_lines_head_their_parts():
    from tests.ingest.test_split import PART_LINES

    [report] = split_reports(PART_LINES, "x")
    paths = {report.text[s.start : s.end].split("。")[0]: s.path for s in segment_report(report.text)}
    assert paths["馆藏数字化稳步推进"] == ("2024年工作开展情况", "馆藏数字化稳步推进")
    assert paths["专业人员偏少"] == ("存在的不足", "专业人员偏少")
    assert paths["加快数字档案馆建设"] == ("2025年工作计划", "加快数字档案馆建设")


def test_a_caption_under_numbered_headings_is_no_part_line():
    text = "一、主要工作\n（一）项目建设\n全年完成投资5亿元。\n2024年主要指标完成情况\n指标：投资，完成5亿元。\n"
    paths = [s.path for s in segment_report(text)]
    assert all(path[:1] == ("一、主要工作",) for path in paths)


def test_a_number_before_a_year_is_a_heading_number():
    """ "1.2025年工作完成情况" is heading 1 of a report numbered 1. / 1.1 / 2., not the decimal 1.2025."""
    text = (
        "江湾市档案局2025年工作总结和2026年工作思路\n\n"
        "1.2025年工作完成情况\n\n1.1馆藏建设稳步推进。全年接收进馆档案1.2万卷。\n\n"
        "1.2利用服务提质增效。全年接待查档群众8600人次。\n\n"
        "2.存在的问题\n\n2.1库房容量不足。现有库房使用率已达92%。\n\n"
        "3.2026年工作思路\n\n3.1推进新馆建设。完成新馆主体工程。\n"
    )
    [report] = parse(text)
    sections = {c.section for c in report.chunks}
    assert any(path_of(s)[:1] == ("2.存在的问题",) for s in sections)
    assert not any("1.2025年工作完成情况" in s and "存在的问题" in s for s in sections)
    assert {c.kind for c in report.chunks if "库房容量" in c.text} == {"问题"}


def test_a_part_line_after_numbered_topics_opens_the_next_part():
    """一、…十、 number the summary's topics at the top; a bare 存在的问题 or 下一步工作思路 line after them opens the
    report's next part, a sibling of 十、, not a paragraph inside it."""
    text = (
        "一、气象监测能力全面提升\n全年新建区域自动气象站24个，完成雷达站建设。\n"
        "十、党建和队伍建设不断加强\n全年开展集中学习12次，完成支部标准化建设。\n"
        "存在的问题\n一是精细化预报能力仍有不足，局地强降水预报偏弱。\n"
        "下一步工作思路\n提高预报预警精准度。力争晴雨预报准确率达到88%，完善短时临近预报业务流程。\n"
    )
    assert path_at(text, "精细化预报") == ("存在的问题",)
    assert path_at(text, "力争晴雨")[:1] == ("下一步工作思路",)
    assert path_at(text, "集中学习") == ("十、党建和队伍建设不断加强",)
    under_a_part = (
        "一、2025年工作总结\n（一）气象监测\n全年新建站点24个，完成雷达站建设。\n存在的问题\n表中列出的问题。\n"
    )
    assert path_at(under_a_part, "表中列出")[0] == "一、2025年工作总结"  # a caption under a part stays there


_END_MATTER = """青川县水利局2025年工作总结及2026年工作计划
一、2025年工作总结
（一）水利投资。全年完成水利投资4.86亿元。
二、2026年工作计划
（一）推进重点工程。确保清水河水库下闸蓄水。
（二）加强水利队伍建设。计划公开招聘水利专业技术人员12名。
2026年，县水利局将持续深入践行新时代治水思路，奋力谱写水利高质量发展新篇章。
特此报告。
青川县水利局
2025年12月18日
"""


@pytest.mark.parametrize("needle", ["2026年，县水利局将", "特此报告", "青川县水利局\n2025年", "2025年12月18日"])
def test_end_matter_stands_under_no_heading(needle):
    text = _END_MATTER.split("\n", 1)[1]
    assert path_at(text, "计划公开招聘") == ("二、2026年工作计划", "（二）加强水利队伍建设")
    seg = segment_at(text, needle)
    assert seg.path == () and not seg.body


def test_end_matter_makes_no_chunk_and_leaves_the_last_item_its_own():
    [report] = parse(_END_MATTER, "水利局.txt")
    last = next(c for c in report.chunks if "计划公开招聘" in c.text)
    assert last.part_at(last.text.index("计划公开招聘")).section.endswith("（二）加强水利队伍建设")
    assert last.text.endswith("12名。")
    assert not any("奋力谱写" in c.text or "2025年12月18日" in c.text for c in report.chunks)


def test_a_last_item_that_merely_opens_with_a_year_is_no_end_matter():
    text = _END_MATTER.split("\n", 1)[1].split("2026年，县水利局")[0] + "2026年计划新建小型水库2座，年内开工。\n"
    assert path_at(text, "新建小型水库") == ("二、2026年工作计划", "（二）加强水利队伍建设")
