"""The production entry point `run_bot`: start-up, redaction of the token, the error handler, and 409 Conflict."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import pytest
from telegram import Bot
from telegram.error import Conflict

from bot.answer import Answerer
from bot.telegram import app as app_module
from bot.telegram.app import PUBLIC_COMMANDS, build_application, serve_webhook
from tests.bot.telegram.conftest import TOKEN, USER, WAIT, restored_logging, sent

QUESTION = "粮食局明年打算新建哪些粮库？"
BOOM = "这个问题会让核心出错"
APOLOGY = "抱歉，处理时出错了，请稍后再试。"
CONFLICT_LINE = (
    "reportbot: error: another process is already polling with this bot token (409 Conflict); "
    "run a single poller, or use --webhook behind a load balancer for several replicas"
)


def test_run_bot_redacts_the_token_apologises_for_errors_and_exits_1_on_conflict(
    bot_settings, open_services, tg, monkeypatch, caplog, capsys
):
    services = open_services(bot_settings())
    real_ask = Answerer.ask

    def ask(self, question, *args, **kwargs):
        if question == BOOM:  # like an httpx error, the message quotes a Bot API URL with the token in it
            raise RuntimeError(f"upstream failed: POST {tg.base_url}{TOKEN}/sendMessage")
        return real_ask(self, question, *args, **kwargs)

    monkeypatch.setattr(Answerer, "ask", ask)
    stopped = threading.Event()
    problems: list[BaseException] = []

    def user_then_rival() -> None:
        try:
            tg.wait_for(lambda calls: any(c.method == "getUpdates" for c in calls), timeout=WAIT)
            tg.push_message(USER, QUESTION)
            tg.wait_for(lambda _c: len(sent(tg, USER)) >= 1, timeout=WAIT)
            tg.push_message(USER, BOOM)
            tg.wait_for(lambda _c: len(sent(tg, USER)) >= 2, timeout=WAIT)
        except BaseException as exc:
            problems.append(exc)
        finally:
            asyncio.run(rival_polls())

    async def rival_polls() -> None:
        """A second instance polls with the same token until the bot gives up."""
        async with Bot(TOKEN, base_url=tg.base_url) as rival:
            deadline = time.monotonic() + WAIT
            while not stopped.is_set() and time.monotonic() < deadline:
                try:
                    await rival.get_updates(timeout=0)
                except Conflict:
                    pass
                await asyncio.sleep(0.1)

    driver = threading.Thread(target=user_then_rival)
    driver.start()
    with restored_logging("httpx", "httpcore"), caplog.at_level(logging.DEBUG):
        try:
            code = app_module.run_bot(services)
        finally:
            stopped.set()
            driver.join(WAIT)
    assert not problems, problems

    assert code == 1
    err = capsys.readouterr().err
    assert CONFLICT_LINE in err
    assert any(c.status == 409 for c in tg.calls_of("getUpdates"))

    answer, apology = sent(tg, USER)
    assert "来源" in answer.text
    assert apology.text == APOLOGY
    assert tg.calls_of("setMyCommands")[0].time < tg.calls_of("getUpdates")[0].time  # post_init ran

    [failure] = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "bot.telegram.handlers"]
    assert "failed: RuntimeError: upstream failed: POST" in failure.getMessage()
    assert "/bot<redacted>/sendMessage" in failure.getMessage()
    secret = TOKEN.split(":", 1)[1]
    assert secret not in caplog.text and secret not in err
    assert not [r for r in caplog.records if secret in r.getMessage()]


def test_poll_returns_1_with_one_clear_line_when_getupdates_answers_409(bot_settings, open_services, tg, capsys):
    tg.fail_next("getUpdates", error_code=409, description="Conflict: terminated by other getUpdates request")
    app = build_application(open_services(bot_settings()))
    assert asyncio.run(asyncio.wait_for(app_module.poll(app), WAIT)) == 1
    assert capsys.readouterr().err == CONFLICT_LINE + "\n"
    assert [c.status for c in tg.calls_of("getUpdates")][:1] == [409]


def test_webhook_mode_also_sets_the_menus_and_warns_at_start_up(bot_settings, open_services, tg, caplog):
    app = build_application(open_services(bot_settings(allowed_user_ids=None, admin_ids=None)))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def scenario():
        stop = asyncio.Event()
        url = "https://bot.example.org/hook"  # TLS ends at the load balancer; we listen on plain HTTP
        server = asyncio.create_task(serve_webhook(app, url, "127.0.0.1", port, "s3cret", stop))
        await tg.wait_for_async(lambda _c: tg.calls_of("setWebhook") or server.done(), timeout=WAIT)
        stop.set()
        assert await server == 0

    with caplog.at_level(logging.WARNING, logger="bot.telegram.app"):
        asyncio.run(scenario())
    public = [{"command": c.command, "description": c.description} for c in PUBLIC_COMMANDS]
    [menu] = tg.calls_of("setMyCommands")
    assert menu.params["commands"] == public and menu.time < tg.calls_of("setWebhook")[0].time
    assert "nobody will be answered" in caplog.text


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_telegram_refusing_the_start_is_one_line_and_exit_1(bot_settings, open_services, tg, capsys, mode):
    services = open_services(bot_settings())
    if mode == "polling":
        tg.fail_next("deleteWebhook", error_code=400, description="Bad Request: bot is being updated")
        expected, kwargs = "Bot is being updated", {}
    else:  # Telegram only calls https URLs
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        expected = "Bad webhook: an https url must be provided for webhook"
        kwargs = {"webhook_url": "http://bot.example.org/hook", "listen": "127.0.0.1", "port": port}
    with restored_logging("httpx", "httpcore"):
        assert app_module.run_bot(services, **kwargs) == 1
    assert capsys.readouterr().err == f"reportbot: error: Telegram refused: {expected}\n"
