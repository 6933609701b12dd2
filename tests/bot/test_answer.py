"""The answering core against a real index of the shared compilation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answer import Answerer, EmptyQuestion
from bot.followup import Conversation
from bot.query import plan_query
from bot.services import Services
from bot.settings import Settings
from ingest.pipeline import run_ingest
from tests.bot.served import served


def test_answer_leads_with_the_answer_and_cites_the_right_section(corpus_answerer):
    answer = corpus_answerer.ask("粮食局的连城中心粮库“退城进郊”项目建多少座仓库？")
    assert answer.found
    assert "拟建xx座仓库" in answer.answer[:80]  # the answer first, not the report's title or its preamble
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert markers and markers <= {s.n for s in answer.sources}
    assert "《" not in answer.answer  # one report answers: nothing from another follows
    top = answer.sources[0]
    assert top.report == "粮食局2023年工作总结及2024年工作计划"
    assert top.section.startswith("一、2023年工作总结 › （二）积极推进仓储项目建设及粮库信息化建设")
    assert "退城进郊" in top.text


def test_party_question_finds_censored_text_and_reads_it_as_meant(corpus_answerer):
    answer = corpus_answerer.ask("管理区是怎样打造党建品牌的？")
    assert answer.found
    assert "D建品牌" in answer.sources[0].text  # sources stay verbatim
    assert "培树党建品牌" in answer.answer and "D建" not in answer.answer
    assert "D建品牌" in corpus_answerer.source(answer.sources[0].ref).text


def test_cited_sentence_names_its_own_item_within_the_chunk(corpus_answerer):
    answer = corpus_answerer.ask("管理区是怎样打造党建品牌的？")
    top = answer.sources[0]
    index = corpus_answerer.reader.current()
    chunk = index.records[index.positions[top.chunk_id]]
    assert top.section.startswith(chunk.section + " › ") and top.section.endswith("二是培树D建品牌")
    assert top.label.endswith("二是培树党建品牌")  # shown as the answer reads it
    assert answer.record()["sources"][0]["section"] == top.section
    assert top.ref.startswith(top.chunk_id + ":")


def test_a_year_no_source_speaks_of_is_refused(corpus_answerer):
    assert corpus_answerer.ask("粮食局2024年计划新建几座粮库？").found
    assert not corpus_answerer.ask("粮食局2027年计划新建几座粮库？").found


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


CORPUS2 = Path(__file__).resolve().parents[2] / "bench" / "corpus2" / "reports"


@pytest.fixture(scope="module")
def corpus2_answerer(tmp_path_factory: pytest.TempPathFactory, embed_cache: Path) -> Iterator[Answerer]:
    """Two reports of our own second corpus: a labour bureau with ①② items under （一） headings, and an audit
    bureau whose summary uses plan words (年初计划…, 按照计划拟办的…)."""
    files = [
        CORPUS2 / name
        for name in (
            "云岭县人力资源和社会保障局2024年工作总结和2025年工作计划.txt",
            "青川市河西区审计局2024年工作总结和2025年工作计划.txt",
        )
    ]
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("c2") / "data", embed_cache=embed_cache)  # type: ignore[call-arg]
    svc = Services(settings, serving=False)
    assert not run_ingest(files, settings, svc.store, svc.embeddings, show_progress=False).failed
    yield svc.answerer()
    svc.close()


def test_plan_words_about_done_work_find_the_summary(corpus2_answerer):
    answer = corpus2_answerer.ask("人社局年初计划新建的技能大师工作室建成没有？")
    assert answer.found
    assert answer.sources[0].section.startswith("一、2024年工作完成情况")
    assert "技能大师工作室已经完成建设" in answer.answer[:80]


def test_the_plan_part_still_answers_a_plan_question(corpus2_answerer):
    answer = corpus2_answerer.ask("人社局明年城镇新增就业的目标是多少？")
    assert answer.found and answer.sources[0].section.startswith("三、2025年工作计划")


def test_source_opens_the_item_the_cited_sentence_stands_in(corpus2_answerer):
    answer = corpus2_answerer.ask("人社局建了多少个乡镇零工驿站？")
    assert answer.found
    top = answer.cited_sources[0]
    assert top.section.endswith("③建设家门口就业服务站")
    index = corpus2_answerer.reader.current()
    chunk = index.records[index.positions[top.chunk_id]]
    assert chunk.section.endswith("（一）就业形势保持总体稳定")  # the chunk holds the whole （一） section
    item = corpus2_answerer.source(top.ref)
    whole = corpus2_answerer.source(top.chunk_id)
    assert item is not None and whole is not None
    assert item.section.endswith("③建设家门口就业服务站") and item.text.startswith("③建设家门口就业服务站")
    assert "④加大创业扶持力度" not in item.text and "④加大创业扶持力度" in whole.text


@pytest.fixture(scope="module")
def two_year_answerer(tmp_path_factory: pytest.TempPathFactory, embed_cache: Path) -> Iterator[Answerer]:
    """One report whose summary and plan say the same thing of two years, in nearly the same words."""
    folder = tmp_path_factory.mktemp("years")
    (folder / "青石县水务局2023年工作总结及2024年工作计划.txt").write_text(
        "青石县水务局2023年工作总结及2024年工作计划\n"
        "一、2023年工作总结\n"
        "（一）农村供水保障。全县农村自来水普及率达到93.5%，新建农村供水工程12处。\n"
        "（二）河湖管护。完成河道清淤36公里，河长巡河2400人次。\n"
        "（三）水库除险加固。经省水利厅批复，白石水库和青龙水库列入年度除险加固计划，年内全部完工。\n"
        "二、2024年工作计划\n"
        "（一）农村供水保障。巩固农村供水成果，农村自来水普及率力争达到95%，农村自来水水质达标率稳步提升，"
        "新建农村供水工程15处。\n"
        "（二）河湖管护。完成河道清淤40公里。\n",
        encoding="utf-8",
    )
    yield from served(folder, embed_cache)


@pytest.mark.parametrize(("year", "part"), [(2023, "一、2023年工作总结"), (2024, "二、2024年工作计划")])
def test_the_one_year_a_question_names_picks_that_years_part(two_year_answerer, year, part):
    answer = two_year_answerer.ask(f"青石县{year}年农村自来水普及率是多少？")
    assert answer.found and answer.sources[0].section.startswith(part)


@pytest.mark.parametrize(
    ("question", "said", "not_said"),
    [
        ("今年河道清淤了多少公里？", "清淤36公里", "40公里"),
        ("明年计划新建多少处农村供水工程？", "工程15处", "工程12处"),
    ],
)
def test_the_other_years_figure_does_not_follow_the_answer(two_year_answerer, question, said, not_said):
    answer = two_year_answerer.ask(question)
    assert answer.found and said in answer.answer and not_said not in answer.answer


def test_a_unit_the_reports_speak_of_is_searched_though_it_wrote_none(two_year_answerer):
    answer = two_year_answerer.ask("今年省水利厅批复了哪两座水库除险加固？")
    assert answer.found and "白石水库和青龙水库" in answer.answer
    refused = two_year_answerer.ask("省交通运输厅今年修了多少公里路？")
    assert not refused.found and "没有省交通运输厅的报告" in refused.answer
    unanswered = two_year_answerer.ask("省水利厅今年给了多少补助资金？")  # spoken of, but not of this
    assert not unanswered.found and "没有省水利厅的报告" in unanswered.answer


@pytest.fixture(scope="module")
def template_answerer(tmp_path_factory: pytest.TempPathFactory, embed_cache: Path) -> Iterator[Answerer]:
    """Eight towns' reports written from one template; only the last says something of its own on the topic."""
    folder = tmp_path_factory.mktemp("template")
    towns = ["白沙镇", "青山镇", "柳河镇", "石桥镇", "龙口镇", "金堤镇", "双河镇", "桃源镇"]
    for n, town in enumerate(towns):
        own = "（三）公路养护。桃源镇农村公路养护里程达到86公里，聘用护路员40名。\n" if n == len(towns) - 1 else ""
        (folder / f"{town}2023年工作总结.txt").write_text(
            f"{town}2023年工作总结\n"
            "（一）农村公路建设。全年新改建农村公路12公里，完成危桥改造3座，农村公路通达率保持100%。\n"
            "（二）人居环境整治。清理村庄垃圾560吨，改造农村户厕210座。\n" + own,
            encoding="utf-8",
        )
    yield from served(folder, embed_cache)


def test_copies_of_one_passage_do_not_crowd_out_the_passage_that_says_something_else(template_answerer):
    answer = template_answerer.ask("农村公路新改建了多少公里？", k=5)
    texts = [s.text for s in answer.sources]
    assert answer.found and any("养护里程" in t for t in texts)
    distinct = len(set(texts))
    assert len(set(texts[:distinct])) == distinct  # copies only after every passage that says something else


@pytest.mark.parametrize("question", ["危桥改造了几座？", "危桥改造了多少座？"])
def test_how_many_asked_with_ji_is_asked_as_with_duoshao(template_answerer, question):
    answer = template_answerer.ask(question)
    assert answer.found and "危桥改造3座" in answer.answer


@pytest.fixture(scope="module")
def street_answerer(tmp_path_factory: pytest.TempPathFactory, embed_cache: Path) -> Iterator[Answerer]:
    """Two short reports, asked in short spoken questions, which the model places far from any chunk."""
    folder = tmp_path_factory.mktemp("street")
    (folder / "青柳街道办事处2024年工作总结.txt").write_text(
        "青柳街道办事处2024年工作总结\n"
        "一、2024年工作总结\n"
        "（一）老旧小区改造稳步推进\n"
        "全年完成老旧小区改造9个，惠及居民2860户，加装电梯17部，新增停车位430个。\n"
        "（二）社区养老服务不断完善\n"
        "1.建成社区嵌入式养老服务中心2家，新增养老床位120张。\n"
        "2.为辖区80岁以上老人发放高龄津贴共计36.5万元，惠及老人1210名。\n"
        "3.开通“助餐热线”，全年送餐上门2.1万人次。\n"
        "（三）基层治理提质增效\n"
        "推行“网格+警格”联动，划分网格46个，配备专职网格员52名，全年化解矛盾纠纷318起，化解率98.7%。\n",
        encoding="utf-8",
    )
    (folder / "石门县审计局2024年工作总结.txt").write_text(
        "石门县审计局2024年工作总结\n"
        "一、主要工作成效\n"
        "（一）聚焦主责主业。全年共完成审计项目38个，查出违规金额1.26亿元，移送案件线索5件。\n"
        "（二）强化整改落实。督促被审计单位整改问题216个，整改率96%，推动建立完善制度41项。\n",
        encoding="utf-8",
    )
    yield from served(folder, embed_cache)


@pytest.mark.parametrize(
    ("question", "answered_by"),
    [
        ("高龄津贴发了多少钱？", "36.5万元"),
        ("矛盾纠纷化解率多少？", "化解率98.7%"),
    ],
)
def test_a_short_count_question_whose_words_one_sentence_holds_is_answered(street_answerer, question, answered_by):
    answer = street_answerer.ask(question)
    assert answer.found and answered_by in answer.answer


@pytest.mark.parametrize("question", ["青柳街道有多少常住人口？", "审计局有几个处室？", "街道2023年改造了几个小区？"])
def test_a_short_count_question_the_reports_do_not_answer_is_still_refused(street_answerer, question):
    assert not street_answerer.ask(question).found


@pytest.fixture(scope="module")
def own_figures_answerer(tmp_path_factory: pytest.TempPathFactory, embed_cache: Path) -> Iterator[Answerer]:
    """Five towns fill one template, each with its own figure."""
    folder = tmp_path_factory.mktemp("own-figures")
    towns = [
        ("白沙镇", 12, "茶叶"),
        ("青山镇", 15, "油茶"),
        ("柳河镇", 9, "蔬菜"),
        ("石桥镇", 21, "中药材"),
        ("龙口镇", 7, "柑橘"),
    ]
    for town, km, crop in towns:
        (folder / f"{town}2023年工作总结.txt").write_text(
            f"{town}2023年工作总结\n"
            f"（一）农村公路建设。坚持把农村公路建设作为乡村振兴的基础工程，统筹上级补助资金和镇级自筹资金，"
            f"全年新改建农村公路{km}公里，同步完善路灯、护栏、标志标线等安全设施，群众出行更加便捷安全。\n"
            f"（二）特色产业。{town}发展{crop}种植，带动农户增收。\n",
            encoding="utf-8",
        )
    yield from served(folder, embed_cache)


def test_towns_that_fill_one_template_with_their_own_figures_each_speak(own_figures_answerer):
    answer = own_figures_answerer.ask("农村公路新改建了多少公里？", k=5)
    roads = [s for s in answer.sources if "农村公路建设" in s.text]
    assert answer.found and len({s.report for s in roads}) >= 4
    # the question names no town: each says its own figure, under its own name
    assert answer.answer.count("据《") >= 4 and "据《石桥镇2023年工作总结》" in answer.answer
    assert all(f"农村公路{km}公里" in answer.answer for km in (21, 12, 15))


@pytest.fixture(scope="module")
def untitled_answerer(tmp_path_factory: pytest.TempPathFactory, embed_cache: Path) -> Iterator[Answerer]:
    """A report whose title names no unit, though its text keeps saying whose it is."""
    folder = tmp_path_factory.mktemp("untitled")
    (folder / "2024年工作总结和2025年工作谋划.txt").write_text(
        "2024年工作总结和2025年工作谋划\n"
        "2024年，我局坚持水利发展优先，聚焦水利工程建设、水利改革、水利安全监管和供水保障等重点任务，"
        "全县水利事业稳中有进，水利投资再创新高。\n"
        "一、2024年工作总结\n"
        "（一）保障城乡供水\n"
        "一是巩固城区供水。城区日供水能力达到8万吨。\n"
        "二是抓好农村供水工程。全年新建农村供水工程12处，10月中旬完成建设任务并通过县级验收。\n"
        "（二）加强水利安全监管\n"
        "开展水利工程安全检查46次，整改隐患118处。\n"
        "二、2025年工作谋划\n"
        "继续推进水利现代化，新建农村供水工程8处。\n",
        encoding="utf-8",
    )
    yield from served(folder, embed_cache, chunk_tokens=60)  # small chunks: the opening paragraph is its own


def test_the_words_of_a_unit_named_for_an_untitled_report_tell_no_passage_apart(untitled_answerer):
    question = "水利局今年农村供水工程建设任务完成情况如何？"
    index = untitled_answerer.reader.current()
    plan = plan_query(question, index.shelf, index.untitled_terms)
    named = set(plan.name_terms) & set(plan.search_terms)  # 水利局 here; 农业|农村 of 农业农村局 elsewhere
    assert plan.groups and named and not named & index.org_terms
    answer = untitled_answerer.ask(question)
    assert answer.found and answer.answer.startswith("二是抓好农村供水工程")
