"""Follow-up questions without an LLM: carry the bureau and the subject of the previous turn forward."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from bot.query import QueryPlan

_FOLLOWUP = re.compile(r"^(?:那|那么|还有|另外|再|其|它|他们|该局|该单位|这个|这些|同样)|呢[？?]?$")


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str
    groups: list[list[str]]
    subject: str


@dataclass
class Conversation:
    """Bounded history of one chat; `/new` or a new session clears it."""

    max_turns: int = 6
    turns: deque[Turn] = field(default_factory=deque)

    def add(self, turn: Turn) -> None:
        self.turns.append(turn)
        while len(self.turns) > self.max_turns:
            self.turns.popleft()

    def clear(self) -> None:
        self.turns.clear()

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def pairs(self) -> list[tuple[str, str]]:
        return [(t.question, t.answer) for t in self.turns]


def is_followup(question: str) -> bool:
    stripped = question.strip()
    return len(stripped) <= 24 and bool(_FOLLOWUP.search(stripped))


def carry_forward(plan: QueryPlan, conversation: Conversation | None) -> QueryPlan:
    """A follow-up that names no report keeps the last one's reports and borrows its subject for search."""
    last = conversation.last if conversation else None
    if last is None or not is_followup(plan.question):
        return plan
    if not plan.groups and not plan.unknown_orgs:
        plan.groups = [list(g) for g in last.groups]
    plan.search_text = f"{plan.search_text} {last.subject}".strip()
    return plan
