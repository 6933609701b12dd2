"""Telegram's one-message-a-second pace holds in private chats, not only in groups as PTB's limiter has it."""

from __future__ import annotations

import asyncio
from itertools import pairwise

from bot.telegram.app import build_application
from tests.bot.telegram.conftest import USER, drive


def test_messages_to_one_private_chat_are_paced(bot_settings, open_services, tg):
    app = build_application(open_services(bot_settings()))

    async def scenario(app):
        await asyncio.gather(*(app.bot.send_message(USER, f"第{i}条") for i in range(3)))
        await app.bot.send_chat_action(USER, "typing")  # not a message: not paced

    drive(app, scenario)
    times = sorted(c.time for c in tg.calls_of("sendMessage") if c.params.get("chat_id") == USER)
    assert len(times) == 3
    assert all(b - a >= 1.0 for a, b in pairwise(times)), times
