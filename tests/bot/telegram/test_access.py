"""Who is answered: allow-lists, strangers, the locked-down default, and groups."""

from __future__ import annotations

import logging

from bot.telegram.app import build_application
from tests.bot.telegram.conftest import (
    GROUP,
    OTHER,
    STRANGER,
    USER,
    WAIT,
    drive,
    say,
    sent,
    spy_questions,
    state_of,
)
from tests.fakes.telegram_server import DEFAULT_GROUP_USER_ID

QUESTION = "粮食局明年打算新建哪些粮库？"


def _refusal(user_id: int) -> str:
    return f"抱歉，你还没有使用权限。请把你的 ID {user_id} 发给管理员开通。"


def test_stranger_is_refused_politely_logged_and_nothing_is_retrieved(
    bot_settings, open_services, tg, monkeypatch, caplog
):
    app = build_application(open_services(bot_settings()))
    asked = spy_questions(monkeypatch, app)

    async def scenario(app):
        for text in (QUESTION, "/reports", "/source 1", "/ask 商务局明年有哪些工作打算？"):
            [refusal] = await say(tg, STRANGER, text)
            assert refusal.text == _refusal(STRANGER)
        tg.push_callback_query(STRANGER, STRANGER, "src:0123456789abcdef0123", 1)
        await tg.wait_for_async(lambda _c: tg.calls_of("answerCallbackQuery"), timeout=WAIT)
        [answer] = await say(tg, USER, QUESTION)  # the same question from an allowed user is answered
        assert "来源" in answer.text

    with caplog.at_level(logging.WARNING, logger="bot.telegram.handlers"):
        drive(app, scenario)
    assert asked == [QUESTION]  # only the allowed user's question reached retrieval
    assert STRANGER not in state_of(app).chats
    assert not [c for c in tg.calls_of("sendChatAction") if c.params["chat_id"] == STRANGER]
    assert tg.calls_of("answerCallbackQuery")[0].params["text"] == "没有权限。"
    refused = [r.getMessage() for r in caplog.records if r.name == "bot.telegram.handlers"]
    assert refused.count(f"refused request from user {STRANGER} in chat {STRANGER}") == 5


def test_locked_down_by_default_with_a_start_up_warning_and_star_opens_it(
    bot_settings, open_services, tg, monkeypatch, caplog
):
    locked = build_application(open_services(bot_settings(allowed_user_ids=None, admin_ids=None)))
    asked = spy_questions(monkeypatch, locked)

    async def nobody(app):
        for user in (USER, STRANGER):
            [refusal] = await say(tg, user, QUESTION)
            assert refusal.text == _refusal(user)

    with caplog.at_level(logging.WARNING, logger="bot.telegram.app"):
        drive(locked, nobody)
    assert asked == []
    [warning] = [r for r in caplog.records if r.name == "bot.telegram.app"]
    assert warning.levelno == logging.WARNING
    assert "nobody will be answered" in warning.getMessage()
    assert "REPORTBOT_ALLOWED_USER_IDS" in warning.getMessage() and "'*'" in warning.getMessage()

    caplog.clear()
    monkeypatch.setenv("REPORTBOT_ALLOWED_USER_IDS", "*")
    opened = build_application(open_services(bot_settings(allowed_user_ids=None, admin_ids=None)))

    async def everyone(app):
        for user in (USER, STRANGER):
            [answer] = await say(tg, user, QUESTION)
            assert "来源" in answer.text

    with caplog.at_level(logging.WARNING, logger="bot.telegram.app"):
        drive(opened, everyone)
    assert not [r for r in caplog.records if r.name == "bot.telegram.app"]


def test_group_answers_only_ask_mention_or_reply(bot_settings, open_services, tg, monkeypatch):
    app = build_application(open_services(bot_settings(allowed_user_ids=None, allowed_chat_ids={GROUP})))
    asked = spy_questions(monkeypatch, app)
    group = {"chat_type": "supergroup"}

    async def scenario(app):
        tg.push_message(GROUP, "粮食局今年取得了哪些成绩？", **group)  # plain text in a group: not for the bot
        [usage] = await say(tg, GROUP, "/ask", **group)
        assert usage.text == "用法：/ask 粮食局明年打算新建哪些粮库？"
        [by_command] = await say(tg, GROUP, f"/ask {QUESTION}", **group)
        [by_mention] = await say(tg, GROUP, "@reportbot_test_bot 商务局明年有哪些工作打算？", **group)
        [by_reply] = await say(tg, GROUP, "林业局今年取得了哪些成绩？", reply_to_bot=True, **group)
        for answer in (by_command, by_mention, by_reply):
            assert "来源" in answer.text
        assert "[1] 商务局" in by_mention.text and "[1] 林业局" in by_reply.text
        [elsewhere] = await say(tg, -1009999, f"/ask {QUESTION}", **group)  # a group not on the list
        assert elsewhere.text == _refusal(DEFAULT_GROUP_USER_ID)

    drive(app, scenario)
    assert [q.strip() for q in asked] == [QUESTION, "商务局明年有哪些工作打算？", "林业局今年取得了哪些成绩？"]
    assert len(sent(tg, GROUP)) == 4  # usage + three answers; the plain message got nothing
    assert OTHER not in state_of(app).chats
