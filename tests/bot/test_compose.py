"""Extractive answers lead with the sentence that answers, then what supports it, each run cited."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace

from bot.compose import compose
from bot.retrieve import Hit
from ingest.index.lexical import BM25
from ingest.index.schema import ChunkRecord, Part
from ingest.lexicon.grammar import sentences
from ingest.lexicon.normalize import restore_censored
from ingest.lexicon.terms import terms


def record(
    cid: str,
    text: str,
    start: int,
    report: str = "粮食局2023年工作总结",
    report_id: str = "r1",
    section: str = "一、总结",
    parts: tuple[Part, ...] = (),
) -> ChunkRecord:
    return ChunkRecord(
        chunk_id=cid,
        report_id=report_id,
        ordinal=0,
        section=section,
        block=section,
        start=start,
        end=start + len(text),
        block_start=0,
        block_end=0,
        text=text,
        kind="总结",
        year=2023,
        report=report,
        file="f.txt",
        terms=tuple(terms(text)),
        sentence_terms=tuple(tuple(terms(s)) for _, s in sentences(text)),
        parts=parts,
    )


def bm25_of(*records: ChunkRecord) -> BM25:
    return BM25.from_docs([list(r.terms) for r in records])


def markers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


def test_sentences_keep_their_offsets():
    text = "一是抓开工。二是促竣工；三是强谋划！"
    parts = sentences(text)
    assert [t for _, t in parts] == ["一是抓开工。", "二是促竣工；", "三是强谋划！"]
    assert all(text[s : s + len(t)] == t for s, t in parts)


def test_the_answering_sentence_comes_first_though_it_stands_later_in_the_report():
    a = record("a", "全年召开调度会议十二次，研究部署重点工作。新建高标准粮库三座，新增仓容五万吨。", 100)
    hits = [Hit(a, 0.03, 0.9, 10.0)]
    out = compose(terms("新建了几座粮库"), hits, bm25_of(a), 420, set(), question="新建了几座粮库？")
    assert out.text.startswith("新建高标准粮库三座")
    assert "调度会议" not in out.text
    assert markers(out.text) == set(out.cited) == {1}
    assert out.cited[1] == [a.text.index("新建高标准粮库")]


def test_how_it_was_done_is_told_from_the_sections_start():
    """The second sentence holds the question's words as written, the first nearly as many: the section's first
    says what was done, the second a detail."""
    text = "我局组建烙锅产业发展工作专班，推动商户规范经营。全年推动烙锅产业规范发展，争取上级资金支持。"
    a = record("a", text, 0)
    question = "商务局是怎么推动烙锅产业规范发展的？"
    out = compose(terms(question), [Hit(a, 0.03, 0.9, 1.0)], bm25_of(a), 420, set(), question=question)
    assert out.text.startswith("我局组建烙锅产业发展工作专班")
    figure = "全年争取上级烙锅产业发展资金1200万元，推荐商户申报项目，烙锅产业发展项目获批12个。"
    b = record("b", "我局组建推进烙锅产业发展工作专班，谋划推出组合拳。" + figure, 0)
    asked = "商务局争取了多少烙锅产业发展资金？"
    out = compose(terms(asked), [Hit(b, 0.03, 0.9, 1.0)], bm25_of(b), 420, set(), question=asked)
    assert out.text.startswith("全年争取上级烙锅产业发展资金1200万元")  # a figure asked: its own sentence


def test_a_short_lead_in_names_what_the_answer_is_about():
    a = record("a", "一是推进粮库建设。完成连城粮库主体工程，新增仓容五万吨。二是加强执法检查。", 0)
    out = compose(terms("仓容新增多少"), [Hit(a, 0.03, 0.9, 1.0)], bm25_of(a), 420, set(), question="仓容新增多少？")
    assert out.text.startswith("一是推进粮库建设。完成连城粮库主体工程")
    assert "执法检查" not in out.text


def test_a_long_sentence_is_shown_from_the_clause_with_the_figure_asked_for():
    long = (
        "围绕县域特色产业发展需要，统筹各类培训资源，组织开展订单式、项目制培训，"
        "完善培训补贴直达机制，推动培训与就业有效衔接，强化培训质量监督评估，全年新增技能人才3200人。"
    )
    a = record("a", long, 0)
    question = "新增技能人才多少人？"
    out = compose(terms(question), [Hit(a, 0.03, 0.9, 1.0)], bm25_of(a), 420, set(), question=question)
    assert out.text.startswith("…全年新增技能人才3200人。")
    assert out.cited == {1: [0]}  # the citation still points at the whole sentence


def test_a_long_sentence_is_shown_from_the_first_clause_half_as_telling_as_the_best():
    text = (
        "全面贯彻上级关于厉行勤俭的部署，研究出台机关运行经费管理办法十二条，从会议费、培训费、差旅费等方面严控支出，"
        "从办公用纸、空调使用、公务出差标准等细节层面推动落实节约要求，确保机关运行成本明显下降。"
    )
    a = record("a", text, 0)
    question = "今年落实节约要求，具体从哪些方面压减支出？"
    out = compose(terms(question), [Hit(a, 0.03, 0.9, 5.0)], bm25_of(a), 420, set(), question=question)
    assert "从会议费、培训费、差旅费等方面严控支出" in out.text[:60]


def test_another_report_speaks_only_when_it_answers_as_well():
    a = record("a", "连城中心粮库项目总投资五亿元。拟建八座仓库。", 100)
    b = record("b", "粮库信息化建设完成。与仓库无关的一句话。", 10, report="商务局2023年工作总结", report_id="r2")
    hits = [Hit(a, 0.03, 0.9, 10.0), Hit(b, 0.02, 0.88, 5.0)]
    out = compose(terms("连城中心粮库建多少座仓库"), hits, bm25_of(a, b), 420, set(), question="")
    assert "商务局" not in out.text and "无关" not in out.text
    assert set(out.cited) == {1}
    twin = record(
        "c", "连城中心粮库项目总投资五亿元，拟建八座仓库。", 10, report="商务局2023年工作总结", report_id="r2"
    )
    out = compose(
        terms("连城中心粮库建多少座仓库"), [hits[0], Hit(twin, 0.02, 0.88, 5.0)], bm25_of(a, twin), 420, set()
    )
    assert "\n另据《商务局2023年工作总结》：" in out.text and set(out.cited) == {1, 2}


def test_censored_characters_read_as_meant_and_sources_stay_verbatim():
    a = record("a", "严格落实D组会议第一议题制度，全年召开D组会议24次。DP增长5.2%。", 0)
    out = compose(terms("党组会议开了多少次"), [Hit(a, 0.03, 0.9, 1.0)], bm25_of(a), 420, set())
    assert "党组会议" in out.text and "D组" not in out.text
    assert "GDP增长5.2%" in restore_censored(a.text)
    assert "D组会议" in a.text


def test_no_shared_terms_falls_back_to_the_top_source_opening():
    a = record("a", "二、存在的问题\n一是预警预测的水平有待提升。二是统计服务水平有待提升。", 0)
    out = compose(terms("短板有哪些"), [Hit(a, 0.03, 0.9, 0.0)], bm25_of(a), 420, set())
    assert "预警预测" in out.text and set(out.cited) == {1}


def test_no_shared_terms_but_shared_characters_lead_with_the_sentence_that_has_them():
    text = "与邻县签订合作协议，推动落实三项计划。县文旅局积极协调配合，举办了第十四届芍药旅游文化节等活动。"
    a = record("a", text, 0)
    out = compose(
        terms("跟着办了哪些旅游节"), [Hit(a, 0.03, 0.9, 0.0)], bm25_of(a), 420, set(), question="跟着办了哪些旅游节？"
    )
    assert out.text.startswith("县文旅局积极协调配合") and set(out.cited) == {1}


def test_a_question_asking_which_ones_is_answered_with_the_list_from_its_first_item():
    text = (
        "一是招大引强不足。今年引进的项目以中小项目为主。二是项目推进不快。"
        "部分签约项目未按时开工，新开工项目入统率偏低。三是招商方式单一。以上门拜访为主。"
    )
    a = record("a", text, 0, section="一、总结 › （三）存在的主要问题")
    question = "招商卡在哪几块，签约项目没按时开工吗？"
    out = compose(terms(question), [Hit(a, 0.03, 0.9, 5.0)], bm25_of(a), 420, set(), question=question)
    assert out.text.startswith("一是招大引强不足") and "三是招商方式单一" in out.text


def test_length_is_capped():
    long = "。".join(f"粮库建设第{i}项工作进展顺利" for i in range(100)) + "。"
    a = record("a", long, 0)
    out = compose(terms("粮库建设进展"), [Hit(a, 0.03, 0.9, 1.0)], bm25_of(a), 200, set())
    assert len(out.text) < 320


def test_a_roll_call_gives_each_report_a_cited_line():
    a = record("a", "全年引进招商引资项目12个。", 0)
    b = record("b", "招商引资到位资金8亿元。", 0, report="商务局2023年工作总结", report_id="r2")
    hits = [Hit(a, 0.03, 0.9, 1.0), Hit(b, 0.02, 0.9, 1.0)]
    out = compose(terms("招商引资"), hits, bm25_of(a, b), 420, set(), per_report=True)
    lines = out.text.splitlines()
    assert [line[: line.index("》") + 1] for line in lines] == [
        "据《粮食局2023年工作总结》",
        "据《商务局2023年工作总结》",
    ]
    assert set(out.cited) == {1, 2}


def test_a_comparison_of_amounts_gives_each_report_a_line_with_a_figure():
    """ "分别是多少": the sentence that names the words without a figure (a problem heading) is no answer."""
    a = record("a", "二是资金投入压力较大。全年水利资金投入4.86亿元。", 0, report="水利局2025年工作总结")
    b = record("b", "全年教育经费总投入96.8亿元。", 0, report="教育局2025年工作总结", report_id="r2")
    hits = [Hit(a, 0.03, 0.9, 1.0), Hit(b, 0.02, 0.9, 1.0)]
    question = "水利局和教育局的资金投入分别是多少？"
    out = compose(terms("资金投入"), hits, bm25_of(a, b), 420, set(), per_report=True, every=True, question=question)
    first, second = out.text.splitlines()
    assert "4.86亿元" in first and "压力较大" not in first and "96.8亿元" in second


def test_the_sentence_announcing_the_report_follows_no_answer():
    a = record("a", "2025年，全年完成水利投资4.86亿元，同比增长12.3%。现将有关情况报告如下。", 0, section="")
    b = record("b", "全年水利投资中，农村供水投资6800万元。现将全年工作总结如下。", 0, section="一、总结")
    hits = [Hit(a, 0.03, 0.9, 1.0), Hit(b, 0.02, 0.9, 1.0)]
    out = compose(terms("水利投资"), hits, bm25_of(a, b), 420, set(), question="今年完成了多少水利投资？")
    assert "4.86亿元" in out.text and "如下" not in out.text


def test_a_sentence_in_the_part_asked_about_leads():
    """A plan restates this year's figure ("在今年…的基础上"), holding more of the question's words than the
    summary's own sentence; the question points to the summary, so the summary's sentence leads."""
    done = record("a", "全年新建、改扩建学校9所，新增学位5400个。", 100)
    plan = replace(
        record("b", "在今年新增学位5400个的基础上，明年再新增学位3600个。", 900, section="三、计划"), kind="计划"
    )
    hits = [Hit(done, 0.03, 0.9, 10.0), Hit(plan, 0.029, 0.9, 12.0)]
    # a close call, as it is on a real shelf: 今年 about as common as 新增 and 学位
    others = [record(f"o{i}", f"今年完成投资{i}亿元。", 2000 + i) for i in range(3)]
    others += [record(f"p{i}", f"新增学位{i}个。", 3000 + i) for i in range(3)]
    bm25 = bm25_of(done, plan, *others)
    asked = "今年新增了多少个学位？"
    out = compose(terms(asked), hits, bm25, 420, set(), question=asked, part="总结")
    assert out.text.startswith("全年新建、改扩建学校9所")
    unsteered = compose(terms(asked), hits, bm25, 420, set(), question=asked)
    assert unsteered.text.startswith("在今年新增学位")  # what the prior is for


def test_a_plan_that_repeats_this_years_figure_does_not_lead_an_answer_about_this_year():
    """The plan says "今年" beside the figure and more of the question's words than the summary's own sentence;
    its "在…的基础上" marks a restatement, so the summary's sentence leads a question about this year."""
    plan = replace(
        record("b", "在今年门急诊8.36万人次的基础上，力争明年门急诊量达到9万人次。", 900, section="三、计划"),
        kind="计划",
    )
    done = record("a", "全年门急诊8.36万人次，同比增长9.2%。", 100)
    hits = [Hit(done, 0.03, 0.9, 12.0), Hit(plan, 0.029, 0.9, 10.0)]
    others = [record(f"o{i}", f"今年出院病人{i}人次。", 2000 + i) for i in range(4)]  # 今年 is common on a shelf
    bm25 = bm25_of(plan, done, *others)
    asked = "卫生院今年门急诊量是多少人次？"
    assert compose(terms(asked), hits, bm25, 420, set(), question=asked, part="总结").text.startswith("全年门急诊")
    assert compose(terms(asked), hits, bm25, 420, set(), question=asked, part="计划").text.startswith("在今年")


def test_the_same_question_gets_the_same_answer_in_every_process():
    """Names overlap (工业园区, 园区) and sums tie: neither may depend on the hash seed of the process."""
    code = (
        "from bot.compose import Asked; from ingest.index.lexical import BM25; "
        "bm25 = BM25.from_docs([['园区', '发展', '空间'], ['工业', '拓展']]); "
        "a = Asked.of('工业园区发展空间怎么拓展？', ['工业园区', '发展', '空间', '拓展'], bm25, "
        "{'工业园区', '园区发展', '区'}); print(sorted(a.pairs), list(a.weights))"
    )
    seen = set()
    for seed in range(6):
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        seen.add(done.stdout)
    assert len(seen) == 1


def test_the_heading_of_the_leads_own_section_does_not_trail_the_answer():
    section = "一、2025年工作总结 › （一）参保扩面稳步推进，基本医保覆盖面持续巩固"
    text = (
        "（一）参保扩面稳步推进，基本医保覆盖面持续巩固\n\n"
        "坚持把参保扩面作为医保工作的基础，联合税务、民政等部门开展集中攻坚行动。"
        "截至12月底，全县基本医疗保险参保人数达41.36万人，参保率稳定在96.8%。在校学生参保率达到99.2%。"
    )
    a = record("a", text, 0, section=section, parts=(Part(0, section, 2, 0, len(text)),))
    question = "全县基本医保参保率是多少？"
    out = compose(terms(question), [Hit(a, 0.03, 0.9, 1.0)], bm25_of(a), 420, set(), question=question)
    assert "96.8%" in out.text and "巩固" not in out.text, out.text


def test_a_sentence_saying_the_asked_term_by_an_exact_equal_leads():
    """GDP asked, 地区生产总值 written (synonyms.txt `same:`): that sentence answers, not the report's opening."""
    text = (
        "2025年，在县委、县政府的坚强领导下，全镇上下坚持稳中求进，经济社会保持平稳健康发展态势。"
        "全年实现地区生产总值18.6亿元，同比增长6.2%。"
    )
    a = record("a", text, 0, section="")
    question = "石桥镇今年GDP多少？"
    out = compose(terms(question), [Hit(a, 0.03, 0.9, 1.0)], bm25_of(a), 420, set(), question=question)
    assert out.text.startswith("全年实现地区生产总值18.6亿元"), out.text
