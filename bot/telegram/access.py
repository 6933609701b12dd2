"""Who may use the bot, and how often: locked down unless the settings say otherwise."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from dataclasses import dataclass, field


@dataclass
class Access:
    users: set[int | str]
    chats: set[int | str]
    admins: set[int | str]

    @property
    def open_to_all(self) -> bool:
        return "*" in self.users or "*" in self.chats

    @property
    def nobody(self) -> bool:
        return not self.users and not self.chats and not self.admins

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admins

    def allows(self, user_id: int | None, chat_id: int | None) -> bool:
        if user_id is None:
            return False
        if self.is_admin(user_id) or "*" in self.users or user_id in self.users:
            return True
        return chat_id is not None and ("*" in self.chats or chat_id in self.chats)


@dataclass
class RateLimiter:
    """Sliding one-minute window per user."""

    per_minute: int
    window: float = 60.0
    _seen: dict[int, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def retry_after(self, user_id: int, now: float | None = None) -> float:
        """0 when the user may ask now (and counts the question), else seconds to wait."""
        now = time.monotonic() if now is None else now
        times = self._seen[user_id]
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.per_minute:
            return self.window - (now - times[0])
        times.append(now)
        return 0.0
