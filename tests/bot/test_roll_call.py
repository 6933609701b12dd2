"""Broad questions about every unit ("各单位明年都打算干什么？", "哪些单位存在问题？"): each report's part in one
line of its own headings, the units without such a part named.

Four reports of our own, in four shapes of problem part: （一） headings, one paragraph of 一是…；二是… after a
lead-in, one 一是 paragraph each, and none at all; the 档案馆 in two years, of which the newer speaks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answer import Answerer
from bot.followup import Conversation
from tests.bot.served import served

WATER = "青山县水务局2025年工作总结和2026年工作计划"
ARCHIVE = "青山县档案馆2025年工作总结和2026年工作打算"
ARCHIVE_OLD = "青山县档案馆2024年工作总结和2025年工作打算"
MARKET = "青山县市场监督管理局2025年工作总结及2026年工作思路"
SPORT = "青山县体育中心2025年工作总结和2026年工作安排"

_BODY = "全年完成投资{n}万元，受益群众{m}人，相关台账全部归档，群众满意度持续提升，工作经验在全县推广交流。" * 3

REPORTS = {
    WATER: f"""{WATER}
一、2025年工作总结
（一）农村供水保障。{_BODY.format(n=3200, m=41000)}
（二）河湖长制落实。{_BODY.format(n=860, m=12000)}
（三）防汛抗旱工作。{_BODY.format(n=540, m=9000)}
二、存在的问题
（一）供水管网老化
部分乡镇供水管网建成超过二十年，漏损率偏高。
（二）专业人才短缺
基层水利站专业技术人员不足，年龄结构偏大。
三、2026年工作计划
（一）实施城乡供水一体化工程。{_BODY.format(n=5000, m=60000)}
（二）推进中小河流治理。{_BODY.format(n=2100, m=15000)}
""",
    ARCHIVE: f"""{ARCHIVE}
一、2025年工作总结
（一）档案接收进馆。{_BODY.format(n=120, m=800)}
（二）数字档案馆建设。{_BODY.format(n=450, m=1500)}
二、存在的问题
当前工作仍面临一些困难：一是库房容量接近饱和，新接收档案存放紧张；二是数字化加工经费不足，进度滞后；三是专业人员年龄偏大。
三、2026年工作打算
（一）启动新库房建设。{_BODY.format(n=900, m=0)}
（二）完成馆藏档案数字化。{_BODY.format(n=300, m=0)}
""",
    ARCHIVE_OLD: f"""{ARCHIVE_OLD}
一、2024年工作总结
（一）旧库房维修。{_BODY.format(n=80, m=200)}
（二）档案开放鉴定。{_BODY.format(n=60, m=300)}
二、2025年工作打算
（一）旧档案抢救修复。{_BODY.format(n=70, m=0)}
（二）开展档案宣传周。{_BODY.format(n=20, m=0)}
""",
    MARKET: f"""{MARKET}
一、2025年工作总结
（一）食品安全监管。{_BODY.format(n=210, m=5000)}
（二）优化营商环境。{_BODY.format(n=150, m=7000)}
二、存在的不足
一是监管力量与市场主体增长不匹配，一线执法人员偏少。
二是智慧监管平台应用不充分，数据共享不畅。
三、2026年工作思路
（一）守牢食品药品安全底线。{_BODY.format(n=260, m=0)}
（二）持续激发市场主体活力。{_BODY.format(n=180, m=0)}
""",
    SPORT: f"""{SPORT}
一、2025年工作总结
（一）全民健身活动。{_BODY.format(n=90, m=30000)}
（二）体育设施建设。{_BODY.format(n=700, m=20000)}
二、2026年工作安排
（一）举办县运动会。{_BODY.format(n=120, m=0)}
（二）新建健身步道。{_BODY.format(n=400, m=0)}
""",
}


@pytest.fixture(scope="module")
def roll_answerer(tmp_path_factory: pytest.TempPathFactory, embed_cache: Path) -> Iterator[Answerer]:
    folder = tmp_path_factory.mktemp("roll")
    for title, text in REPORTS.items():
        (folder / f"{title}.txt").write_text(text, encoding="utf-8")
    yield from served(folder, embed_cache)


def _line_of(answer_text: str, title: str) -> str:
    lines = [line for line in answer_text.splitlines() if line.startswith(f"《{title}》")]
    assert len(lines) == 1, answer_text
    return lines[0]


@pytest.mark.parametrize("question", ["哪些单位存在问题？", "各单位存在什么问题？"])
def test_every_units_problems_are_listed_in_each_shape(roll_answerer, question):
    answer = roll_answerer.ask(question)
    assert answer.found
    assert "（一）供水管网老化；（二）专业人才短缺。" in _line_of(answer.answer, WATER)
    assert "一是库房容量接近饱和，新接收档案存放紧张；二是数字化加工经费不足，进度滞后；三是专业人员年龄偏大" in (
        _line_of(answer.answer, ARCHIVE)
    )
    market = _line_of(answer.answer, MARKET)
    assert "“二、存在的不足”：一是监管力量与市场主体增长不匹配，一线执法人员偏少；二是智慧监管平台应用不充分" in market
    assert ARCHIVE_OLD not in answer.answer  # a unit's newest report speaks
    assert answer.answer.splitlines()[-1] == f"（《{SPORT}》中没有这一部分。）"
    cited = {s.report for s in answer.sources}
    assert cited == {WATER, ARCHIVE, MARKET}
    for line in answer.answer.splitlines()[:-1]:
        n = int(line.rsplit("[", 1)[1].rstrip("]"))
        assert line.startswith(f"《{answer.sources[n - 1].report}》")


def test_every_units_plans_are_listed_with_their_headings(roll_answerer):
    answer = roll_answerer.ask("各单位明年都打算干什么？")
    assert answer.found
    assert (
        f"《{WATER}》的“三、2026年工作计划”：（一）实施城乡供水一体化工程；（二）推进中小河流治理。[" in answer.answer
    )
    assert "（一）启动新库房建设；（二）完成馆藏档案数字化。" in _line_of(answer.answer, ARCHIVE)
    assert "（一）举办县运动会；（二）新建健身步道。" in _line_of(answer.answer, SPORT)
    assert "旧档案抢救修复" not in answer.answer
    water = next(s for s in answer.sources if s.report == WATER)
    opened = roll_answerer.source(water.ref)
    assert opened is not None and opened.text.startswith("（一）实施城乡供水一体化工程")


def test_a_year_asked_picks_the_report_of_that_year(roll_answerer):
    answer = roll_answerer.ask("各单位2025年的工作打算是什么？")
    assert answer.found
    assert "（一）旧档案抢救修复；（二）开展档案宣传周。" in _line_of(answer.answer, ARCHIVE_OLD)
    assert "启动新库房建设" not in answer.answer


def test_two_units_compared_without_a_topic_get_each_part(roll_answerer):
    answer = roll_answerer.ask("水务局和体育中心明年的工作安排分别是什么？")
    assert answer.found
    assert len(answer.answer.splitlines()) == 2
    assert "（一）实施城乡供水一体化工程" in _line_of(answer.answer, WATER)
    assert "（一）举办县运动会" in _line_of(answer.answer, SPORT)


def test_a_roll_call_with_a_topic_still_quotes_the_passages(roll_answerer):
    answer = roll_answerer.ask("哪些单位存在专业人员不足的问题？")
    assert answer.found
    assert "年龄" in answer.answer and "；（二）" not in answer.answer


def test_an_ordinal_after_a_roll_call_opens_that_units_part(roll_answerer):
    conversation = Conversation()
    first = roll_answerer.ask("各单位存在什么问题？", conversation=conversation)
    second_unit = first.sources[1].report
    answer = roll_answerer.ask("第二个具体说说", conversation=conversation)
    assert answer.found
    assert all(s.report == second_unit for s in answer.sources)
