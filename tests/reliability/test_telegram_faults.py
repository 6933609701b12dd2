"""Faults and hostile input around the real Telegram bot, against the loopback fake Bot API.

* the bot process SIGKILLed in the middle of an admin /reindex, then restarted;
* the Chroma server stopped and restarted under a running bot (server mode);
* forged 原文 callbacks, a non-admin's document and a stranger's question.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.services import Services
from bot.settings import Settings
from bot.telegram.app import build_application, poll
from ingest.pipeline import run_ingest
from tests.bot.telegram.conftest import spy_questions
from tests.fakes.telegram_server import FakeTelegramServer, SentMessage

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

TOKEN = "5550004321:AAH-reportbot-faults-SECRET-p7W"
ADMIN = 1001
USER = 42
OTHER = 43
STRANGER = 777
QUESTION = "粮食局明年打算新建哪些粮库？"
APOLOGY = "抱歉，处理时出错了"
SUMMARY = "索引已更新"
WAIT = 90.0


def _sent(tg: FakeTelegramServer, chat_id: int) -> list[SentMessage]:
    return tg.sent_messages(chat_id, include_deleted=True)


def _cited(message: SentMessage, bureau: str) -> bool:
    body, sep, sources = message.text.partition("来源")
    return bool(sep) and "[1]" in body and bureau in sources


async def _say(tg: FakeTelegramServer, chat_id: int, text: str, n: int = 1, timeout: float = WAIT) -> list[SentMessage]:
    """Push `text` (a /command when it starts with "/") and return the bot's next `n` messages to the chat."""
    before = len(_sent(tg, chat_id))
    (tg.push_command if text.startswith("/") else tg.push_message)(chat_id, text)
    await tg.wait_for_async(lambda _c: len(_sent(tg, chat_id)) >= before + n, timeout=timeout)
    return _sent(tg, chat_id)[before:]


async def _serve(app: Application, scenario: Callable[[], Awaitable[None]]) -> None:
    """Run the app as production does (poll) beside `scenario`; the bot must not stop on its own."""
    stop = asyncio.Event()
    polling = asyncio.create_task(poll(app, stop))
    work = asyncio.create_task(scenario())
    done, _ = await asyncio.wait({polling, work}, return_when=asyncio.FIRST_COMPLETED)
    if polling in done:
        work.cancel()
        raise AssertionError(f"the bot stopped by itself (exit code {polling.result()})")
    stop.set()
    code = await polling
    work.result()  # the scenario's own failure first
    assert code == 0


def _no_apologies(tg: FakeTelegramServer) -> None:
    apologies = [m for m in tg.sent_messages(include_deleted=True) if APOLOGY in m.text]
    assert not apologies, f"the error handler apologised: {apologies}"
    assert not tg.internal_errors, "\n".join(tg.internal_errors)


# ------------------------------------------------------------------------------------------------ SIGKILL


def _bot_process(env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "bot", "telegram"], env=env, cwd=cwd, stdout=out, stderr=out)


def _wait(predicate: Callable[[], object], timeout: float, what: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(
                f"the bot exited ({proc.returncode}) while waiting for {what}:\n{log.read_text()[-3000:]}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)


def _generation(data_dir: Path) -> str:
    return str(json.loads((data_dir / "current.json").read_text(encoding="utf-8"))["generation"])


def test_sigkill_during_reindex_then_restart(tmp_path, corpus_services, compilation):
    data_dir = tmp_path / "data"
    shutil.copytree(corpus_services.settings.data_dir, data_dir)
    reports = tmp_path / "reports"
    reports.mkdir()
    # a copy with one more line: not a duplicate of the indexed compilation, so the re-index reads it whole
    (reports / compilation.name).write_bytes(compilation.read_bytes() + b"\n")
    live = _generation(data_dir)
    generations_before = set(os.listdir(data_dir / "generations"))
    log = tmp_path / "bot.log"
    with FakeTelegramServer(token=TOKEN) as tg:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("REPORTBOT_", "CHROMA_", "OPENAI_", "TELEGRAM_"))
        }
        env.update(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_BASE_URL=tg.base_url,
            TELEGRAM_BASE_FILE_URL=tg.base_file_url,
            REPORTBOT_DATA_DIR=str(data_dir),
            REPORTBOT_EMBED_CACHE=str(tmp_path / "fresh-cache.sqlite"),  # empty: the re-index has to embed
            REPORTBOT_REPORTS_DIR=str(reports),
            REPORTBOT_ADMIN_IDS=str(ADMIN),
            REPORTBOT_ALLOWED_USER_IDS=str(USER),
            OMP_WAIT_POLICY="PASSIVE",
            PYTHONFAULTHANDLER="1",  # a crash (SIGBUS, SIGSEGV) leaves its stack in the log
            ANONYMIZED_TELEMETRY="False",
        )
        proc = _bot_process(env, tmp_path, log)
        try:
            _wait(lambda: tg.calls_of("getUpdates"), 60, "the first getUpdates", proc, log)
            tg.push_command(ADMIN, "/reindex")

            def started() -> bool:
                progress = any("重建索引中" in m.text for m in _sent(tg, ADMIN))
                return progress or bool(set(os.listdir(data_dir / "generations")) - generations_before)

            _wait(started, WAIT, "the re-index to start", proc, log)
            time.sleep(0.5)  # well inside the embedding of the whole compilation
            assert not any(SUMMARY in m.text for m in _sent(tg, ADMIN)), "the re-index finished before the kill"
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            assert _generation(data_dir) == live, "a killed re-index published a generation"

            proc = _bot_process(env, tmp_path, log)
            answered = len(_sent(tg, USER))
            tg.push_message(USER, QUESTION)
            _wait(lambda: len(_sent(tg, USER)) > answered, WAIT, "the answer after the restart", proc, log)
            answer = _sent(tg, USER)[answered]
            assert _cited(answer, "粮食局"), answer.text
            assert _generation(data_dir) == live

            before = len(_sent(tg, ADMIN))
            tg.push_command(ADMIN, "/reindex")
            _wait(
                lambda: any(SUMMARY in m.text or "失败" in m.text for m in _sent(tg, ADMIN)[before:]),
                300,
                "the re-index summary",
                proc,
                log,
            )
            summary = next(m.text for m in _sent(tg, ADMIN)[before:] if SUMMARY in m.text or "失败" in m.text)
            assert SUMMARY in summary and "失败 0" in summary, summary
            assert _generation(data_dir) != live, "the completed re-index was not published"
            assert proc.poll() is None
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        _no_apologies(tg)
        assert TOKEN not in log.read_text(errors="replace"), "the bot token leaked into the log"


# ------------------------------------------------------------------------------------------------ Chroma outage


def _server_settings(tmp_path: Path, tg: FakeTelegramServer, port: int, embed_cache: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "data",
        embed_cache=embed_cache,
        chroma_host="127.0.0.1",
        chroma_port=port,
        telegram_bot_token=TOKEN,
        telegram_base_url=tg.base_url,
        telegram_base_file_url=tg.base_file_url,
        allowed_user_ids={USER},
        admin_ids={ADMIN},
        rate_limit_per_minute=1000,
    )


def _with_server_bot(
    tmp_path, chroma_server, compilation, embed_cache, scenario, before_start: Callable[[], None] | None = None
) -> FakeTelegramServer:
    """Ingest the compilation into the Chroma server, then run the bot (server mode) through `scenario(tg)`;
    `before_start` runs once the bot is built, before it starts."""
    with FakeTelegramServer(token=TOKEN) as tg:
        settings = _server_settings(tmp_path, tg, chroma_server.port, embed_cache)
        services = Services(settings)
        try:
            result = run_ingest([compilation], settings, services.store, services.embeddings, show_progress=False)
            assert not result.failed
            app = build_application(services)
            if before_start:
                before_start()
            asyncio.run(_serve(app, lambda: scenario(tg)))
        finally:
            services.close()
    return tg


def test_chroma_server_outage_and_recovery(tmp_path, chroma_server, compilation, embed_cache):
    async def scenario(tg: FakeTelegramServer) -> None:
        first = await _say(tg, USER, QUESTION)
        assert _cited(first[0], "粮食局"), first[0].text

        await asyncio.to_thread(chroma_server.stop)
        for _ in range(2):  # the outage persists: every question gets the clear reply, none an apology
            down = await _say(tg, USER, "林业局在森林防火上建立了什么样的防控机制？")
            assert "暂时不可用" in down[0].text, down[0].text

        await asyncio.to_thread(chroma_server.start)
        again = await _say(tg, USER, "林业局在森林防火上建立了什么样的防控机制？")
        assert _cited(again[0], "林业局"), again[0].text
        later = await _say(tg, USER, QUESTION)
        assert _cited(later[0], "粮食局"), later[0].text

    tg = _with_server_bot(tmp_path, chroma_server, compilation, embed_cache, scenario)
    _no_apologies(tg)


def test_admin_commands_during_chroma_outage(tmp_path, chroma_server, compilation, embed_cache):
    async def scenario(tg: FakeTelegramServer) -> None:
        await tg.wait_for_async(lambda calls: any(c.method == "getUpdates" for c in calls), timeout=WAIT)
        await asyncio.to_thread(chroma_server.stop)
        for command in ("/status", "/reports"):
            reply = await _say(tg, ADMIN, command)
            assert APOLOGY not in reply[0].text, f"{command}: {reply[0].text}"
            assert "暂时不可用" in reply[0].text, f"{command}: {reply[0].text}"

    _with_server_bot(tmp_path, chroma_server, compilation, embed_cache, scenario)


def test_bot_starts_while_chroma_is_down(tmp_path, chroma_server, compilation, embed_cache):
    async def scenario(tg: FakeTelegramServer) -> None:
        down = await _say(tg, USER, QUESTION)
        assert "暂时不可用" in down[0].text, down[0].text
        await asyncio.to_thread(chroma_server.start)
        up = await _say(tg, USER, QUESTION)
        assert _cited(up[0], "粮食局"), up[0].text

    _with_server_bot(tmp_path, chroma_server, compilation, embed_cache, scenario, before_start=chroma_server.stop)


# ------------------------------------------------------------------------------------------------ hostile input


def test_forged_callbacks_foreign_documents_and_strangers(tmp_path, corpus_services, monkeypatch):
    reports = tmp_path / "reports"
    with FakeTelegramServer(token=TOKEN) as tg:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            data_dir=corpus_services.settings.data_dir,
            embed_cache=corpus_services.settings.embed_cache,
            reports_dir=reports,
            telegram_bot_token=TOKEN,
            telegram_base_url=tg.base_url,
            telegram_base_file_url=tg.base_file_url,
            allowed_user_ids={USER, OTHER},
            admin_ids={ADMIN},
        )
        services = Services(settings, _store=corpus_services.store)  # the session's open index, read-only here
        app = build_application(services)
        asked = spy_questions(monkeypatch, app)

        def alerts() -> list[dict]:
            return [c.params for c in tg.calls_of("answerCallbackQuery") if c.status == 200]

        async def press(chat_id: int, data: str, message_id: int) -> dict:
            count = len(alerts())
            tg.push_callback_query(chat_id, chat_id, data, message_id)
            await tg.wait_for_async(lambda _c: len(alerts()) > count, timeout=WAIT)
            return alerts()[count]

        async def scenario() -> None:
            answer = (await _say(tg, USER, QUESTION))[0]
            assert _cited(answer, "粮食局"), answer.text
            shown = [b["callback_data"] for row in answer.reply_markup["inline_keyboard"] for b in row]
            assert shown and all(d.startswith("src:") for d in shown)
            other_answer = (await _say(tg, OTHER, "统计局为第五次经济普查做了哪些准备？"))[0]
            assert asked == [QUESTION, "统计局为第五次经济普查做了哪些准备？"]

            # chat 43 presses a button carrying a chunk id that only chat 42 was shown
            before_other = len(_sent(tg, OTHER))
            forged = await press(OTHER, shown[0], other_answer.message_id)
            assert forged.get("show_alert") in (True, "true"), forged
            # a made-up chunk id, and data that is not ours at all, in the chat that did see sources
            before_user = len(_sent(tg, USER))
            made_up = await press(USER, "src:00000000-not-a-chunk", answer.message_id)
            assert made_up.get("show_alert") in (True, "true"), made_up
            junk = await press(USER, "x" * 64, answer.message_id)
            assert junk.get("show_alert") in (True, "true"), junk
            await asyncio.sleep(0.5)
            assert len(_sent(tg, OTHER)) == before_other, "a section was sent for a forged button"
            assert len(_sent(tg, USER)) == before_user, "a section was sent for a made-up chunk id"

            # the control: the chat's own button works
            section = await press(USER, shown[0], answer.message_id)
            assert not section.get("show_alert"), section
            await tg.wait_for_async(lambda _c: len(_sent(tg, USER)) > before_user, timeout=WAIT)
            assert "粮食局" in _sent(tg, USER)[before_user].text

            # a non-admin's document is refused, never downloaded, never saved
            count = len(_sent(tg, USER))
            tg.push_document(USER, USER, "植入.txt", "粮食局2023年工作总结\n一、伪造内容".encode())
            await tg.wait_for_async(lambda _c: len(_sent(tg, USER)) > count, timeout=WAIT)
            assert "只限管理员" in _sent(tg, USER)[count].text
            assert not tg.calls_of("getFile") and not tg.calls_of("downloadFile")
            assert not reports.exists() or not any(reports.iterdir())

            # a stranger is refused, with their id, and nothing is retrieved for them
            refusal = (await _say(tg, STRANGER, "粮食局明年打算新建哪些粮库？"))[0]
            assert "没有使用权限" in refusal.text and str(STRANGER) in refusal.text
            strangers_press = await press(STRANGER, shown[0], 1)
            assert "没有权限" in str(strangers_press.get("text")), strangers_press
            assert len(asked) == 2, f"retrieval ran for a refused request: {asked}"

        try:
            asyncio.run(_serve(app, scenario))
        finally:
            services._store = None  # the session fixture owns the store
            services.close()
        _no_apologies(tg)
        assert not tg.sent_documents()


@pytest.fixture(autouse=True)
def _quiet_chroma_telemetry(monkeypatch):
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
