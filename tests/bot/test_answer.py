"""The answering core against a real index of the shared compilation."""

from __future__ import annotations

import re

import pytest

from bot.answer import EmptyQuestion
from bot.followup import Conversation


def test_answer_quotes_and_cites_the_right_section(corpus_answerer):
    answer = corpus_answerer.ask("粮食局的连城中心粮库“退城进郊”项目建多少座仓库？")
    assert answer.found
    assert answer.answer.startswith("据《粮食局2023年工作总结及2024年工作计划》")
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert markers and markers <= {s.n for s in answer.sources}
    top = answer.sources[0]
    assert top.report == "粮食局2023年工作总结及2024年工作计划"
    assert top.section.startswith("一、2023年工作总结 › （二）积极推进仓储项目建设及粮库信息化建设")
    assert "退城进郊" in top.text


def test_party_question_finds_censored_text(corpus_answerer):
    answer = corpus_answerer.ask("管理区是怎样打造党建品牌的？")
    assert answer.found
    assert "D建品牌" in answer.sources[0].text


def test_unknown_bureau_fails_closed_and_lists_reports(corpus_answerer):
    answer = corpus_answerer.ask("教育局2024年计划新建几所中小学？")
    assert not answer.found
    assert "教育局" in answer.answer and "粮食局2023年工作总结及2024年工作计划" in answer.answer
    assert answer.sources == []


def test_off_topic_question_is_not_found(corpus_answerer):
    answer = corpus_answerer.ask("NBA总决赛谁赢了？")
    assert not answer.found
    assert "没有找到" in answer.answer


@pytest.mark.parametrize("question", ["？？？", "😀😀😀", "……！！"])
def test_punctuation_or_emoji_is_not_found(corpus_answerer, question):
    assert not corpus_answerer.ask(question).found


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_raises(corpus_answerer, question):
    with pytest.raises(EmptyQuestion):
        corpus_answerer.ask(question)


def test_long_question_is_cut_with_a_notice(corpus_answerer):
    answer = corpus_answerer.ask("粮食局明年的计划是什么？" + "啊" * 5000)
    assert len(answer.question) == corpus_answerer.settings.max_question_chars
    assert any("过长" in n for n in answer.notes)


def test_comparison_cites_both_reports(corpus_answerer):
    answer = corpus_answerer.ask("粮食局和商务局在安全生产上各做了什么？")
    assert answer.found
    reports = {s.report for s in answer.cited_sources}
    assert any(r.startswith("粮食局") for r in reports) and any(r.startswith("商务局") for r in reports)
    assert "《粮食局" in answer.answer and "《商务局" in answer.answer


def test_follow_up_keeps_the_bureau_and_turns_to_the_plan(corpus_answerer):
    chat = Conversation()
    first = corpus_answerer.ask("粮食局今年在仓储项目建设上做了什么？", conversation=chat)
    assert first.found and first.sources[0].report.startswith("粮食局")
    follow = corpus_answerer.ask("那明年呢？", conversation=chat)
    assert follow.found
    assert all(s.report.startswith("粮食局") for s in follow.sources)
    assert follow.sources[0].section.startswith("三、2024年工作计划")


def test_report_option_restricts_and_unknown_report_is_refused(corpus_answerer):
    answer = corpus_answerer.ask("有哪些工作计划？", report="林业局")
    assert answer.found and all(s.report.startswith("林业局") for s in answer.sources)
    missing = corpus_answerer.ask("有哪些工作计划？", report="教育局")
    assert not missing.found and "教育局" in missing.answer


def test_source_returns_the_whole_section(corpus_answerer):
    answer = corpus_answerer.ask("粮食局明年粮食流通执法要开展哪些检查？")
    section = corpus_answerer.source(answer.sources[0].ref)
    assert section is not None
    assert answer.sources[0].text in section.text
    assert len(section.text) >= len(answer.sources[0].text)
    assert corpus_answerer.source("no-such-chunk") is None


def test_record_has_the_contract_fields(corpus_answerer):
    record = corpus_answerer.ask("林业局明年油茶新造的目标是多少？").record("q1")
    assert set(record) >= {"id", "question", "found", "answer", "sources"}
    assert set(record["sources"][0]) == {"n", "ref", "report", "section", "file", "chunk_id", "score", "text"}


def test_question_about_every_unit_is_a_roll_call_of_reports(corpus_answerer):
    answer = corpus_answerer.ask("哪些单位提到了招商引资？")
    assert answer.found
    lines = answer.answer.splitlines()
    titles = [re.match(r"据《(.+?)》：", line).group(1) for line in lines]
    assert len(titles) >= 3 and len(set(titles)) == len(titles)  # one line per report
    assert all("招商" in line for line in lines)
    cited = {s.report for s in answer.cited_sources}
    assert set(titles) == cited


def test_year_in_the_question_points_to_that_years_part(corpus_answerer):
    answer = corpus_answerer.ask("财政局预计2024年一般公共预算收入是多少？")
    assert answer.found
    assert answer.sources[0].section.startswith("三、2024年工作计划")


def test_named_report_and_part_answer_without_shared_words(corpus_answerer):
    answer = corpus_answerer.ask("统计局自己认为有哪些不足？")  # no word of the question is in the section
    assert answer.found
    assert answer.sources[0].section.startswith("二、存在的问题")
    assert not corpus_answerer.ask("粮食局局长叫什么名字？").found
