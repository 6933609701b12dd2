"""Count questions: "多少名", "几座", "多少万元" ask for a number in a measure, which the answering text gives
in that measure (280名, 35座, 3680万元). Both the ranking and the relevance check weigh it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from ingest.lexicon.normalize import normalize_for_match
from ingest.lexicon.tables import word_lines, word_table

_COUNT_NUMBER = r"(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+|[xX×]+)(?:余|多)?(?:万|亿|千|百)?"


@cache
def _measures() -> tuple[re.Pattern[str], dict[str, frozenset[str]]]:
    """The question's "how many, in what" (多少名, 几座, 多少万元) and each measure's equals."""
    table = word_table("asking.txt")
    same: dict[str, frozenset[str]] = {}
    for raw in word_lines("asking.txt", "same"):
        group = frozenset(raw)
        same.update(dict.fromkeys(group, group))
    return re.compile(rf"(?:多少|几)(?:万|亿|千|百)?({_longest_first(table['measure'])})"), same


def asked_measure(question: str) -> frozenset[str]:
    """The measures a count question asks in (多少名 → 名, 人, 位); empty when it asks for no count or in 个."""
    pattern, same = _measures()
    found = pattern.search(normalize_for_match(question))
    if found is None:
        return frozenset()
    return same.get(found.group(1), frozenset({found.group(1)}))


_AMOUNT = re.compile(r"多少|几|多大|多高|多长|多远|比例|比重|占比")
FIGURE = re.compile(r"[0-9]|(?<![A-Za-z])[xX]+(?![A-Za-z])|百分之")
"""A figure, redacted ones included (xx亿元, x%): what a question asking how much is answered with."""


def asks_amount(question: str) -> bool:
    """The question asks how much or how many: its answer holds a figure."""
    return bool(_AMOUNT.search(question))


@cache
def count_pattern(measure: frozenset[str]) -> re.Pattern[str]:
    """A number in one of these measures (2860万人次, 约1400户, xx家)."""
    return re.compile(rf"{_COUNT_NUMBER}(?:{_longest_first(measure)})")


def _longest_first(words: Iterable[str]) -> str:
    """An alternation that prefers the longer measure (人次 before 人)."""
    return "|".join(sorted(words, key=len, reverse=True))
