"""Telegram's per-chat pace for private chats too.

Telegram asks bots to send about one message a second at most in any chat. PTB's `AIORateLimiter` paces
groups per chat but private chats only by the overall limit, so a user whose answers come back fast (or
bunched, after a re-index) can be sent two in the same second and risk a 429.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

_VISIBLE = frozenset({"sendMessage", "editMessageText", "sendDocument", "sendPhoto"})
_KEEP = 4096


class ChatPacedRateLimiter(AIORateLimiter):
    """`AIORateLimiter`, plus at most one visible message per `seconds_per_message` in each private chat."""

    def __init__(self, seconds_per_message: float = 1.05, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._seconds = seconds_per_message
        self._chats: dict[int, AsyncLimiter] = {}

    def _limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            if len(self._chats) >= _KEEP:  # forget chats that are idle, so the table stays small
                self._chats = {k: v for k, v in self._chats.items() if not v.has_capacity()}
            limiter = self._chats[chat_id] = AsyncLimiter(1, self._seconds)
        return limiter

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        chat_id = data.get("chat_id")
        if endpoint in _VISIBLE and isinstance(chat_id, int) and chat_id > 0:
            async with self._limiter(chat_id):
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
