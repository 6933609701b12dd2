"""What the bot keeps between updates: per-chat conversations and the sources it has shown in each chat."""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

from bot.answer import Answer, Answerer
from bot.followup import Conversation
from bot.services import Services
from bot.telegram.access import Access, RateLimiter

_MAX_CHATS = 10_000
_SOURCES_PER_CHAT = 200


@dataclass
class ChatMemory:
    conversation: Conversation
    last_answer: Answer | None = None
    shown: deque[str] = field(default_factory=lambda: deque(maxlen=_SOURCES_PER_CHAT))


@dataclass
class BotState:
    """Built once in post_init; handlers reach it through `context.bot_data["state"]`."""

    services: Services
    answerer: Answerer
    access: Access
    limiter: RateLimiter
    history_turns: int
    chats: OrderedDict[int, ChatMemory] = field(default_factory=OrderedDict)

    def memory(self, chat_id: int) -> ChatMemory:
        mem = self.chats.get(chat_id)
        if mem is None:
            mem = self.chats[chat_id] = ChatMemory(Conversation(max_turns=self.history_turns))
            while len(self.chats) > _MAX_CHATS:
                self.chats.popitem(last=False)
        else:
            self.chats.move_to_end(chat_id)
        return mem

    def remember(self, chat_id: int, answer: Answer) -> None:
        mem = self.memory(chat_id)
        mem.last_answer = answer
        mem.shown.extend(s.ref for s in answer.sources)

    def may_show(self, chat_id: int, ref: str) -> bool:
        """A 原文 button is honoured only for a source this chat was actually shown."""
        mem = self.chats.get(chat_id)
        return mem is not None and ref in mem.shown
