"""Cleaned text → reports: a compilation (材料汇编) holds many, each opened by a title line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ingest.lexicon.grammar import HEADING_START, part_words
from ingest.read import TITLE_LEVEL

_MIN_BODY = 200


@dataclass(frozen=True)
class RawReport:
    title: str
    text: str
    offset: int


def is_title_line(line: str) -> bool:
    """A short standalone line naming a work report, not a numbered heading and not a cover."""
    line = line.strip()
    words = part_words()
    return (
        4 <= len(line) <= 60
        and bool(words.title.search(line))
        and not HEADING_START.match(line)
        and not words.not_title.search(line)
        and "。" not in line.rstrip("。")
        and not line.endswith(("：", ":", "，"))
    )


def split_reports(text: str, fallback_title: str, headings: Mapping[str, int] | None = None) -> list[RawReport]:
    """Cut at title lines that stand after a blank line; text before the first title is a cover or preface.

    A file with no title line is one report named after the file. Lines set in Word's Title style
    (`headings`, from `ingest.read`) are title lines too, wherever they stand, when the file holds several,
    or when its one Title line opens the file (below a cover at most).
    """
    lines = text.split("\n")
    titled = _title_styled(lines, headings or {})
    starts: list[int] = []
    for i, line in enumerate(lines):
        if i in titled or (
            is_title_line(line)
            and (i == 0 or not lines[i - 1].strip() or _only_cover_above(lines[:i]))
            and not (starts and _names_a_part_of(line, lines[starts[-1]]))
        ):
            starts.append(i)
    offsets = _line_offsets(lines)
    if not starts:
        return [RawReport(fallback_title, text.strip("\n"), 0)] if text.strip() else []
    reports: list[RawReport] = []
    preface = "\n".join(lines[: starts[0]]).strip()
    if len(preface) >= _MIN_BODY and not part_words().not_title.search(preface.split("\n")[0]):
        reports.append(RawReport(fallback_title, preface, 0))
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        taken = _title_lines(lines, start)
        raw_body = "\n".join(lines[start + taken : end])
        body = raw_body.strip("\n")
        if body.strip():
            body_offset = offsets[start + taken] + len(raw_body) - len(raw_body.lstrip("\n"))
            title = "".join(line.strip() for line in lines[start : start + taken])
            reports.append(RawReport(title.rstrip("。"), body, body_offset))
    return reports


_CONNECTIVE_END = ("及", "和", "与", "暨")


def _title_lines(lines: list[str], start: int) -> int:
    """Lines a title takes: one, or two where a long title wraps after a connective, as PDFs set it
    (…2025年工作总结及 / 2026年工作思路)."""
    after = lines[start + 1].strip() if start + 1 < len(lines) else ""
    wrapped = (
        lines[start].strip().endswith(_CONNECTIVE_END)
        and 0 < len(after) <= 30
        and "。" not in after
        and not HEADING_START.match(after)
        and bool(part_words().title.search(after))
    )
    return 2 if wrapped else 1


def _names_a_part_of(line: str, title: str) -> bool:
    """A line "2025年工作计划" standing alone under 《…2024年工作总结和2025年工作计划》 heads that report's plan part,
    and so does "下一步工作打算" or "3.2025年工作思路": a line that names one part and nothing else, of a kind the
    title names. The next report of a compilation has a title of its own (a unit's name, or two parts)."""
    part = line.strip().rstrip("。")
    if part == title.strip().rstrip("。"):
        return False
    if part in title:
        return True
    kinds = _kinds(part)
    return len(kinds) == 1 and kinds <= _kinds(title) and not _PART_LINE_REST.sub("", _strip_parts(part))


_PART_LINE_REST = re.compile(r"^[\d一二三四五六七八九十]+[.．、]\s*|\d{4}年度?|工作|主要|重点|的|\s")


def _kinds(text: str) -> set[str]:
    return {kind for kind, pattern in part_words().headings if pattern.search(text)}


def _strip_parts(text: str) -> str:
    for _, pattern in part_words().headings:
        text = pattern.sub("", text)
    return text


def _title_styled(lines: list[str], headings: Mapping[str, int]) -> set[int]:
    """Lines in Word's Title style that name a report: not a compilation's cover (`汇编`, `目录`)."""
    not_title = part_words().not_title
    found = [
        i
        for i, line in enumerate(lines)
        if line.strip() and headings.get(line.strip()) == TITLE_LEVEL and not not_title.search(line)
    ]
    if len(found) == 1 and not _only_cover_above(lines[: found[0]]):
        return set()
    return set(found)


def _only_cover_above(above: list[str]) -> bool:
    not_title = part_words().not_title
    return all(not line.strip() or not_title.search(line) for line in above)


def _line_offsets(lines: list[str]) -> list[int]:
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    return offsets
