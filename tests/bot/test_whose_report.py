"""An answer that speaks from another place's unit or another year than the question says, says so: 区医保局
answered from 云岭县医疗保障局, 去年 asked of a unit whose only report is this year's. A refusal carries no such note.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answer import Answerer
from tests.bot.served import served

HEALTH = "云岭县医疗保障局2025年工作总结和2026年工作计划"
AUDIT_OLD = "城北区审计局2024年工作总结和2025年工作计划"
AUDIT = "城北区审计局2025年工作总结和2026年工作计划"

REPORTS = {
    HEALTH: f"""{HEALTH}
一、2025年工作总结
（一）参保扩面稳步推进。截至2025年12月底，全县基本医疗保险参保人数达41.36万人，参保率稳定在96.8%，较上年提高0.4个百分点。
（二）基金监管持续加强。全年检查定点医药机构312家，追回医保基金856.3万元，曝光典型案例9起。
二、2026年工作计划
（一）巩固全民参保成果。力争参保率稳定在97%以上。
（二）织密基金监管网。开展打击欺诈骗保专项整治。
""",
    AUDIT_OLD: f"""{AUDIT_OLD}
一、2024年工作总结
（一）审计项目全面完成。全年完成审计项目38个，查出违规金额1.2亿元。
二、2025年工作计划
（一）扩大审计覆盖面。计划完成审计项目45个。
""",
    AUDIT: f"""{AUDIT}
一、2025年工作总结
（一）审计项目全面完成。全年完成审计项目46个，查出违规金额1.6亿元，推动整改问题210个。
二、2026年工作计划
（一）深化研究型审计。计划完成审计项目50个。
""",
}


@pytest.fixture(scope="module")
def whose_answerer(tmp_path_factory: pytest.TempPathFactory, embed_cache: Path) -> Iterator[Answerer]:
    folder = tmp_path_factory.mktemp("whose")
    for title, text in REPORTS.items():
        (folder / f"{title}.txt").write_text(text, encoding="utf-8")
    yield from served(folder, embed_cache)


@pytest.mark.parametrize(
    ("question", "org"),
    [
        ("区医保局今年追回了多少医保基金？", "云岭县医疗保障局"),
        ("城南区审计局今年完成了多少个审计项目？", "城北区审计局"),
    ],
)
def test_a_unit_of_another_place_is_named_in_a_note(whose_answerer, question, org):
    answer = whose_answerer.ask(question)
    assert answer.found, answer.answer
    assert any(org in note and "以下据它作答" in note for note in answer.notes), answer.notes


@pytest.mark.parametrize("question", ["县医保局今年追回了多少医保基金？", "城北区审计局今年完成了多少个审计项目？"])
def test_the_units_own_place_gives_no_note(whose_answerer, question):
    answer = whose_answerer.ask(question)
    assert answer.found and not answer.notes, answer.notes


def test_last_year_of_a_unit_with_one_report_says_the_year_it_speaks_of(whose_answerer):
    answer = whose_answerer.ask("医保局去年参保率是多少？")
    assert answer.found and "96.8%" in answer.answer
    assert "已索引的云岭县医疗保障局报告只有2025年的，以下是它写的2025年情况。" in answer.notes


@pytest.mark.parametrize("question", ["审计局去年完成了多少个审计项目？", "医保局参保率比去年提高了多少？"])
def test_last_year_held_or_compared_with_gives_no_note(whose_answerer, question):
    answer = whose_answerer.ask(question)
    assert answer.found and not answer.notes, (answer.answer, answer.notes)


def test_the_older_report_answers_last_year_when_the_shelf_has_it(whose_answerer):
    answer = whose_answerer.ask("审计局去年完成了多少个审计项目？")
    assert "38个" in answer.answer and "46个" not in answer.answer


def test_a_refusal_carries_no_note_of_whose_report(whose_answerer):
    answer = whose_answerer.ask("区医保局一共有多少名在编工作人员？")
    assert not answer.found
    assert not answer.notes
