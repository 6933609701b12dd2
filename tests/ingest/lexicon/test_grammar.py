"""The one grammar of heading numbers and sentences that every stage shares."""

from __future__ import annotations

import pytest

from ingest.lexicon.grammar import HEADING_START, cn_number, match_heading, part_words, sentences


@pytest.mark.parametrize(
    ("line", "family", "number"),
    [
        ("第二部分 2024年工作要点", "part", 2),
        ("第三章 保障措施", "part", 3),
        ("第一节 总体情况", "section", 1),
        ("三、存在的问题", "cn", 3),
        ("（十二）强化监督", "cn_paren", 12),
        ("4. 推进项目建设", "arabic", 4),
        ("2.3 完善制度", "decimal", 3),
        ("1.2.4 细化分工", "decimal3", 4),
        ("（3）加强培训", "arabic_paren", 3),
        ("②开展巡查", "circled", 2),
    ],
)
def test_every_family_is_recognised_with_its_number(line, family, number):
    found = match_heading(line)
    assert found is not None
    fam, match = found
    assert fam.name == family
    assert cn_number(match.group(1)) == number
    assert HEADING_START.match(line)


@pytest.mark.parametrize(
    "line", ["2023年，全局完成投资", "12.5%的增长", "1.5万亩高标准农田", "一是加强领导", "D组会议研究"]
)
def test_body_text_is_no_heading(line):
    assert match_heading(line) is None


def test_sentences_keep_their_offsets():
    text = "一是抓开工。二是促竣工；三是强谋划！“好。”"
    parts = sentences(text)
    assert [t for _, t in parts] == ["一是抓开工。", "二是促竣工；", "三是强谋划！", "“好。”"]
    assert all(text[s : s + len(t)] == t for s, t in parts)


def test_part_words_are_data():
    words = part_words()
    assert words.heading_plan.search("三、2024年工作计划")
    assert words.heading_problem.search("二、存在的问题")
    assert words.title.search("审计局2024年工作总结")
    assert words.not_title.search("2023年工作总结材料汇编")
