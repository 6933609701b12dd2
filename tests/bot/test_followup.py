"""Follow-ups: carried forward when there is something to follow, asked back when there is nothing.

The end-to-end part indexes a small shelf of our own (two years of one 审计局, a 住建局) in a real Chroma.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answer import Answerer
from bot.followup import Conversation, Turn, ask_back
from bot.query import plan_query
from bot.services import Services
from bot.settings import Settings
from ingest.index.manifest import ReportEntry
from ingest.index.reader import IndexReader
from ingest.index.shelf import Shelf
from ingest.pipeline import run_ingest

AUDIT = "临江市松涛区审计局"
HOUSING = "松涛区住房和城乡建设局"
SHELF = Shelf.of(
    [
        ReportEntry(
            f"{AUDIT}-2024", f"{AUDIT}2024年工作总结和2025年工作计划", "f.txt", AUDIT, 3, 3, 2024, 2025, "总结+计划"
        ),
        ReportEntry(f"{HOUSING}-2024", f"{HOUSING}2024年工作总结", "f.txt", HOUSING, 3, 3, 2024, 2025, "总结+计划"),
    ]
)


@pytest.mark.parametrize("question", ["那明年呢？", "还有哪些问题？", "那2025年呢？", "那住建局呢？"])
def test_a_follow_up_with_nothing_before_it_is_asked_back(question):
    asked = ask_back(plan_query(question, SHELF), None, SHELF)
    assert asked is not None and "还没有上一个问题" in asked
    assert ask_back(plan_query(question, SHELF), Conversation(), SHELF) == asked


def test_the_question_back_offers_the_unit_it_named():
    asked = ask_back(plan_query("那住建局明年呢？", SHELF), None, SHELF)
    assert asked is not None and "住建局明年" in asked


@pytest.mark.parametrize("question", ["那燃气管道改造呢？", "住建局明年有什么计划？", "审计局今年完成了多少个项目？"])
def test_a_question_with_words_of_its_own_is_not_asked_back(question):
    assert ask_back(plan_query(question, SHELF), None, SHELF) is None


def test_with_a_question_before_it_a_follow_up_is_not_asked_back():
    chat = Conversation()
    chat.add(Turn("住建局今年做了什么？", "…", [[f"{HOUSING}-2024"]], "燃气"))
    assert ask_back(plan_query("那明年呢？", SHELF), chat, SHELF) is None


_AUDIT_2023 = f"""{AUDIT}2023年工作总结和2024年工作计划
一、2023年工作总结
（一）审计项目完成情况
全年完成审计项目36个，查出问题金额2.1亿元，推动整改落实率达到92%。
（二）队伍建设
组织审计干部参加业务培训12期，新增审计骨干8名。
二、存在的问题
审计信息化水平不高，大数据分析能力不足，专业人才短缺。
三、2024年工作计划
（一）审计项目安排
2024年计划安排审计项目38个，重点开展民生资金和政府投资项目审计。
（二）队伍建设
计划引进计算机审计人才3名，开展全员轮训。
"""

_AUDIT_2024 = f"""{AUDIT}2024年工作总结和2025年工作计划
一、2024年工作总结
（一）审计项目完成情况
全年完成审计项目38个，查出问题金额2.6亿元，推动整改落实率达到95%。
（二）队伍建设
引进计算机审计人才3名，组织全员轮训两轮。
二、存在的问题
部分被审计单位整改不够彻底，审计成果运用还不充分。
三、2025年工作计划
（一）审计项目安排
2025年计划安排审计项目40个，突出养老资金和专项债券审计。
（二）队伍建设
建设审计数据分析室，培养数据审计骨干10名。
"""

_HOUSING = f"""{HOUSING}2024年工作总结和2025年工作计划
一、2024年工作总结
（一）老旧小区改造
完成老旧小区改造42个，加装电梯126部，惠及居民5800户。
（二）燃气安全
排查燃气管道隐患310处，更新老化燃气管道48公里。
二、存在的问题
城市更新资金筹措渠道单一，物业管理覆盖面不够。
三、2025年工作计划
（一）老旧小区改造
计划改造老旧小区50个，加装电梯150部。
（二）燃气安全
改造老化燃气管道60公里，实现燃气用户安全检查全覆盖。
"""


@pytest.fixture(scope="module")
def shelf_answerer(tmp_path_factory: pytest.TempPathFactory, embed_cache: Path) -> Iterator[Answerer]:
    folder = tmp_path_factory.mktemp("shelf")
    for name, text in (
        (f"{AUDIT}2023年工作总结和2024年工作计划.txt", _AUDIT_2023),
        (f"{AUDIT}2024年工作总结和2025年工作计划.txt", _AUDIT_2024),
        (f"{HOUSING}2024年工作总结和2025年工作计划.txt", _HOUSING),
    ):
        (folder / name).write_text(text, encoding="utf-8")
    settings = Settings(_env_file=None, data_dir=folder / "data", embed_cache=embed_cache)  # type: ignore[call-arg]
    services = Services(settings, serving=False)
    result = run_ingest(
        sorted(folder.glob("*.txt")), settings, services.store, services.embeddings, show_progress=False
    )
    assert not result.failed
    yield Answerer(IndexReader(services.store, services.embeddings.name), services.embeddings, settings)
    services.close()


def test_a_chat_that_opens_with_a_follow_up_is_asked_what_it_is_about(shelf_answerer):
    chat = Conversation()
    opening = shelf_answerer.ask("那明年呢？", conversation=chat)
    assert not opening.found and opening.sources == [] and "上一个问题" in opening.answer
    assert chat.last is None

    first = shelf_answerer.ask("审计局今年完成了多少个审计项目？", conversation=chat)
    assert first.found and first.sources[0].report.startswith(f"{AUDIT}2024年")
    assert "38个" in first.sources[0].text

    follow = shelf_answerer.ask("那明年呢？", conversation=chat)
    assert follow.found
    assert all(s.report.startswith(f"{AUDIT}2024年") for s in follow.sources)
    assert "40个" in follow.sources[0].text


def test_a_short_name_split_by_jieba_is_answered_and_an_absent_unit_refused(shelf_answerer):
    housing = shelf_answerer.ask("住建局加装了多少部电梯？")
    assert housing.found and housing.sources[0].report.startswith(HOUSING)
    older = shelf_answerer.ask("2023年审计局工作中存在哪些问题？")
    assert older.found and all(s.report.startswith(f"{AUDIT}2023年") for s in older.sources)
    refused = shelf_answerer.ask("统计局明年计划开展哪些调查？")
    assert not refused.found and refused.sources == []
    assert "没有统计局的报告" in refused.answer and f"《{AUDIT}2024年工作总结和2025年工作计划》" in refused.answer


@pytest.mark.parametrize(
    ("opening", "follow", "said"),
    [
        ("住建局明年有什么打算？", "那今年呢？", "完成老旧小区改造42个"),
        ("住建局明年在燃气安全上打算做什么？", "那今年呢？", "排查燃气管道隐患310处"),
        ("住建局今年在燃气安全上做了什么？", "那明年呢？", "改造老化燃气管道60公里"),
    ],
)
def test_a_follow_up_asks_its_own_part_of_the_report(shelf_answerer, opening, follow, said):
    """The subject carries over (燃气安全); the part (明年, 打算) is the follow-up's own."""
    chat = Conversation()
    assert shelf_answerer.ask(opening, conversation=chat).found
    answer = shelf_answerer.ask(follow, conversation=chat)
    assert answer.found and said in answer.sources[0].text


def test_a_follow_up_naming_another_unit_keeps_the_part_asked_before(shelf_answerer):
    chat = Conversation()
    assert shelf_answerer.ask("住建局明年有什么计划？", conversation=chat).found
    answer = shelf_answerer.ask("那审计局呢？", conversation=chat)
    assert answer.found and "2025年计划安排审计项目40个" in answer.sources[0].text
