"""Report text → heading tree: numbered ranks, lead sentences, 一是 items, and the sloppy numbering of real reports."""

from __future__ import annotations

import itertools

import pytest

from ingest.read import read_text
from ingest.structure import ITEM_RANK, LEAD_RANK, cn_number, segment_report
from tests.ingest.helpers import RANKED, SKIPPED_TWO, UNNUMBERED, parse, path_of

ZONGJIE = "一、2023年工作总结"
CANGCHU = "（二）积极推进仓储项目建设及粮库信息化建设"


def body(text: str) -> str:
    """The text of a single-report file without its title line."""
    return text.split("\n", 2)[2]


def path_at(text: str, needle: str) -> tuple[str, ...]:
    """The heading path of the segment holding the first occurrence of needle."""
    pos = text.index(needle)
    (segment,) = [s for s in segment_report(text) if s.start <= pos < s.end]
    return segment.path


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
