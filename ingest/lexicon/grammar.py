"""One grammar of how Chinese work reports are written: heading numbers, sentence ends, report parts, years.

Every stage that needs to recognise these (reading PDFs, splitting compilations, the heading tree, chunking,
titles, questions, extractive answers) asks here, so a new numbering style or a new word for "plan" is added
once. The vocabularies are data: `data/parts.txt` lists the words that mark a report's summary, plan and
problems parts, for titles and headings and for questions alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ingest.lexicon.tables import word_table

CN_NUMERALS = "零〇一二三四五六七八九十"
_CN = "一二三四五六七八九十"
_UNIT = "[%％万亿千百元个倍米吨亩户人次家台辆座所项件公]"
"""What follows a decimal number that is a quantity (1.5万亩), not a heading (1.5 完善制度)."""
_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0}


@dataclass(frozen=True)
class Family:
    """One style of heading number. `pattern` matches at a paragraph's start; group 1 is the number."""

    name: str
    pattern: re.Pattern[str]


# Listed in the order a reader expects them to nest when a report gives no other clue.
HEADING_FAMILIES: tuple[Family, ...] = (
    Family("part", re.compile(rf"^第\s*([{_CN}\d]{{1,3}})\s*(?:部分|篇|章)\s*[、.．:：]?\s*")),
    Family("section", re.compile(rf"^第\s*([{_CN}\d]{{1,3}})\s*节\s*[、.．:：]?\s*")),
    Family("cn", re.compile(rf"^([{_CN}]{{1,3}})\s*[、.．]\s*")),
    Family("cn_paren", re.compile(rf"^[（(]\s*([{_CN}]{{1,3}})\s*[）)]\s*")),
    Family("arabic", re.compile(r"^(\d{1,2})\s*[.．、](?:(?!\d)|(?=\d{4}年))\s*")),  # 1.2025年工作完成情况
    Family("decimal", re.compile(rf"^(\d{{1,2}}[.．]\d{{1,2}})(?![.．]?\d|{_UNIT})\s*[、.．]?\s*")),
    Family("decimal3", re.compile(rf"^(\d{{1,2}}[.．]\d{{1,2}}[.．]\d{{1,2}})(?![.．]?\d|{_UNIT})\s*[、.．]?\s*")),
    Family("arabic_paren", re.compile(r"^[（(]\s*(\d{1,2})\s*[）)]\s*")),
    Family("circled", re.compile(r"^([\u2460-\u2473])\s*")),
)
FAMILY_NAMES = tuple(f.name for f in HEADING_FAMILIES)

HEADING_START = re.compile("|".join(f"(?:{f.pattern.pattern.removeprefix('^')})" for f in HEADING_FAMILIES))
"""A paragraph that opens with any heading number (without the `^`: use `.match`)."""

ITEM = re.compile(rf"(?:(?<=^)|(?<=[。；;！？]))\s*([{_CN}]{{1,2}})是")
"""一是 / 二是 … inside a paragraph."""

LEAD = re.compile(r"^([^，,。；;：:！？\d]{3,16})[。！]")
"""A paragraph's short lead sentence that works as its heading: `强化监督执纪。…`."""

SENTENCE_END = "。！？；;!?"
CLOSING = "”’」』）)"
SENTENCE = re.compile(rf"[^{SENTENCE_END}\n]*(?:[{SENTENCE_END}]+[{CLOSING}]*|\n|$)")
CLAUSE_END = re.compile(r"[，；;：:]|,(?!\d{3}(?!\d))")
"""Where a sentence's clauses end; a comma that groups a number's thousands (库容5,000吨) ends none."""
"""Sentences with their end marks and closing quotes; every character of a text lands in one match."""

YEAR = re.compile(r"(20\d\d)\s*年")


def cn_number(token: str) -> int:
    """Value of a heading number: Chinese or Arabic up to 99 (十一 → 11), circled ① → 1, decimal 1.2 → 2."""
    token = token.strip()
    if not token:
        return 0
    if "\u2460" <= token[0] <= "\u2473":
        return ord(token[0]) - 0x2460 + 1
    if re.fullmatch(r"\d+(?:[.．]\d+)+", token):
        return int(re.split(r"[.．]", token)[-1])
    if token.isdigit():
        return int(token)
    if token.startswith("十"):
        return 10 + (cn_number(token[1:]) if len(token) > 1 else 0)
    if "十" in token:
        tens, _, ones = token.partition("十")
        return _CN_DIGITS.get(tens, 0) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(token, 0)


_MOST_SPECIFIC_FIRST = tuple(sorted(HEADING_FAMILIES, key=lambda f: -len(f.pattern.pattern)))


def match_heading(paragraph: str) -> tuple[Family, re.Match[str]] | None:
    """The heading family a paragraph opens with, most specific first (1.1.1 before 1.1 before 1.)."""
    for family in _MOST_SPECIFIC_FIRST:
        found = family.pattern.match(paragraph)
        if found:
            return family, found
    return None


def sentences(text: str, min_chars: int = 4) -> list[tuple[int, str]]:
    """(offset, sentence) pairs, stripped, skipping fragments too short to say anything."""
    out: list[tuple[int, str]] = []
    for m in SENTENCE.finditer(text):
        body = m.group()
        stripped = body.strip()
        if len(stripped) >= min_chars:
            out.append((m.start() + len(body) - len(body.lstrip()), stripped))
    return out


@dataclass(frozen=True)
class PartWords:
    """Words that mark a part of a report, as data (`data/parts.txt`): in headings, and in questions."""

    heading_summary: re.Pattern[str]
    heading_plan: re.Pattern[str]
    heading_problem: re.Pattern[str]
    ask_summary: re.Pattern[str]
    ask_plan: re.Pattern[str]
    ask_future: re.Pattern[str]
    ask_problem: re.Pattern[str]
    title: re.Pattern[str]
    not_title: re.Pattern[str]
    closing_line: re.Pattern[str]
    announce: re.Pattern[str]
    closing_start: re.Pattern[str]

    @property
    def headings(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """How a heading names each part of a report, the summary first."""
        return (("summary", self.heading_summary), ("plan", self.heading_plan), ("problem", self.heading_problem))


@cache
def part_words() -> PartWords:
    """The part vocabularies of `data/parts.txt`, compiled once."""
    return PartWords(**{name: re.compile("|".join(words)) for name, words in word_table("parts.txt").items()})
