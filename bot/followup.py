"""Follow-up questions without an LLM: carry the bureau and the subject of the previous turn forward."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from bot.query import QueryPlan
from ingest.index.shelf import Shelf
from ingest.lexicon.grammar import YEAR, part_words
from ingest.lexicon.normalize import normalize_for_match
from ingest.lexicon.terms import terms

_FOLLOWUP = re.compile(r"^(?:那|那么|还有|另外|再|其|它|他们|该局|该单位|这个|这些|同样)|呢[？?]?$")
_MARKERS = frozenset({"那么", "还有", "另外", "再", "其", "它", "他们", "该局", "该单位", "这个", "这些", "同样"})


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str
    groups: list[list[str]]
    subject: str
    kind: str | None = None
    named: tuple[str, ...] = ()
    outline: tuple[tuple[str, str], ...] = ()
    """(report id, section) of each heading an outline answer listed, in order: "第二个方面呢？" picks one."""


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


_NUMERALS = "一二三四五六七八九十"
_ORDINAL = re.compile(
    rf"第([{_NUMERALS}]{{1,3}}|\d{{1,2}})(?:个|(?=方面|部分|点|项|条|呢|[？?，,。]|$))|[（(]([{_NUMERALS}]{{1,3}}|\d{{1,2}})[）)]"
)
ORDINAL_CHARS = 30
"""Longest question read as picking a heading of the last outline by its number."""


def asked_ordinal(question: str, conversation: Conversation | None) -> int | None:
    """After an outline, "第二个方面具体说说" / "（三）呢？" asks about the heading of that number (1-based)."""
    last = conversation.last if conversation else None
    if last is None or not last.outline or len(question.strip()) > ORDINAL_CHARS:
        return None
    m = _ORDINAL.search(question)
    return _number(m.group(1) or m.group(2)) if m else None


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    tens, _, ones = text.rpartition("十")
    if "十" not in text:
        return _NUMERALS.index(text) + 1 if len(text) == 1 else 0
    return (_NUMERALS.index(tens) + 1 if tens else 1) * 10 + (_NUMERALS.index(ones) + 1 if ones else 0)


def is_followup(question: str) -> bool:
    stripped = question.strip()
    return len(stripped) <= 24 and bool(_FOLLOWUP.search(stripped))


def leans_on_context(plan: QueryPlan, bare: bool) -> bool:
    """A follow-up by its words (那…呢), or a question that names neither a unit nor anything to look for
    ("存在什么问题？", "明年计划干什么？"): only the last turn says whose and about what."""
    return is_followup(plan.question) or (bare and _names_no_unit(plan))


def leans_softly(plan: QueryPlan, conversation: Conversation | None, bare: bool) -> bool:
    """A question in a chat that names no unit but says what it asks ("明年打算怎么改进培训？" after two turns
    about 统计局): most likely still about the last turn's unit, though it may be a new question for all."""
    last = conversation.last if conversation else None
    return last is not None and bool(last.groups) and _names_no_unit(plan) and not leans_on_context(plan, bare)


def _names_no_unit(plan: QueryPlan) -> bool:
    return not (plan.groups or plan.unknown_orgs or plan.across or plan.comparison)


def carry_forward(
    plan: QueryPlan, conversation: Conversation | None, bare: bool = False, soft: bool = False
) -> QueryPlan:
    """A follow-up that names no report keeps the last one's reports and the names it was asked by, and
    borrows its subject for search; the part it asks about is its own, else the last one's. `bare`: the
    question's own words name nothing to look for; `soft`: carry into a question that `leans_softly` too."""
    last = conversation.last if conversation else None
    if last is None or not (leans_on_context(plan, bare) or (soft and leans_softly(plan, conversation, bare))):
        return plan
    said = plan.search_text
    if not plan.groups and not plan.unknown_orgs:
        plan.groups = [list(g) for g in last.groups]
        plan.named = list(last.named)
        said = " ".join((said, *last.named))
    plan.search_text = f"{said} {last.subject}".strip()
    plan.kind = plan.kind or last.kind
    return plan


def ask_back(plan: QueryPlan, conversation: Conversation | None, shelf: Shelf, bare: bool = False) -> str | None:
    """A follow-up with nothing before it ("那明年呢？" opening a chat, or "存在什么问题？" over several units'
    reports) is asked back, not searched.

    Its own words say only which part (明年, 问题) or which unit it wants, not what about: a search would
    answer from whatever the bare words happen to fit, with citations that make the guess look sure.
    """
    if (conversation is not None and conversation.last is not None) or not leans_on_context(plan, bare):
        return None
    if not bare and _own_words(plan):
        return None
    unit = plan.named[0] if plan.named else shelf.first_org()
    if plan.kind == "计划":
        example = f"{unit}明年在哪项工作上有什么计划"
    elif plan.kind == "问题":
        example = f"{unit}在哪项工作上还存在问题"
    else:
        example = f"{unit}今年在哪项工作上做了什么"
    return (
        f"“{plan.question.strip()}”像是接着上一个问题问的，但这里还没有上一个问题。"
        f"请把要问的单位和事情说完整，例如：{example}？"
    )


def _own_words(plan: QueryPlan) -> list[str]:
    """What the question says besides follow-up markers, the units it names, years and report parts."""
    return _bare_terms(plan.question, plan.named)


def _bare_terms(text: str, named: list[str]) -> list[str]:
    text = normalize_for_match(text)
    for name in named:
        text = text.replace(normalize_for_match(name), " ")
    text = YEAR.sub(" ", text)
    words = part_words()
    for pattern in (words.ask_future, words.ask_plan, words.ask_summary, words.ask_problem):
        text = pattern.sub(" ", text)
    return [t for t in terms(text) if t not in _MARKERS]
