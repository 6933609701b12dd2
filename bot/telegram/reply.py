"""Sending: HTML with a plain-text fallback, split messages, throttled edits for streaming."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.telegram.format import plain, split_message

log = logging.getLogger(__name__)
EDIT_EVERY = 1.5


async def send_html(message: Message, text_html: str, markup: InlineKeyboardMarkup | None = None) -> list[Message]:
    """Reply with each piece; buttons go on the last. A parse error falls back to plain text once."""
    pieces = split_message(text_html)
    sent: list[Message] = []
    for i, piece in enumerate(pieces):
        buttons = markup if i == len(pieces) - 1 else None
        try:
            sent.append(await message.reply_text(piece, parse_mode=ParseMode.HTML, reply_markup=buttons))
        except BadRequest as exc:
            if "parse" not in str(exc).lower():
                raise
            log.warning("HTML rejected (%s); sending plain text", exc)
            for part in split_message(plain(piece)):
                sent.append(await message.reply_text(part, reply_markup=buttons))
    return sent


async def edit_html(message: Message, text_html: str, markup: InlineKeyboardMarkup | None = None) -> None:
    try:
        await message.edit_text(text_html, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as exc:
        low = str(exc).lower()
        if "not modified" in low:
            return
        if "parse" not in low:
            raise
        await message.edit_text(plain(text_html)[:4096], reply_markup=markup)


class Throttle:
    """At most one edit per EDIT_EVERY seconds per message, within Telegram's per-chat limits."""

    def __init__(self, every: float = EDIT_EVERY) -> None:
        self.every = every
        self._last = 0.0

    def ready(self) -> bool:
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            return True
        return False


async def keep_typing(message: Message, done: asyncio.Event) -> None:
    """Re-send the typing indicator every 4 s until the answer is ready."""
    while not done.is_set():
        try:
            await message.chat.send_action("typing")
        except Exception as exc:  # the indicator is cosmetic; never fail an answer over it
            log.debug("typing indicator failed: %s", exc)
        try:
            await asyncio.wait_for(done.wait(), timeout=4.0)
        except TimeoutError:
            continue
