"""Cleaned text → reports: a compilation (材料汇编) holds many, each opened by a title line."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TITLE_WORDS = re.compile(
    r"(?:工作总结|工作计划|工作思路|工作安排|工作打算|工作谋划|工作要点|工作报告|述职报告|年度总结|年终总结)"
)
_NOT_TITLE = re.compile(r"(?:汇编|目录|合集|\d+篇)")
_NUMBERED = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d+[.．、])")
_MIN_BODY = 200


@dataclass(frozen=True)
class RawReport:
    title: str
    text: str
    offset: int


def is_title_line(line: str) -> bool:
    """A short standalone line naming a work report, not a numbered heading and not a cover."""
    line = line.strip()
    return (
        4 <= len(line) <= 60
        and bool(_TITLE_WORDS.search(line))
        and not _NUMBERED.match(line)
        and not _NOT_TITLE.search(line)
        and "。" not in line.rstrip("。")
        and not line.endswith(("：", ":", "，"))
    )


def split_reports(text: str, fallback_title: str) -> list[RawReport]:
    """Cut at title lines that stand after a blank line; text before the first title is a cover or preface.

    A file with no title line is one report named after the file.
    """
    lines = text.split("\n")
    starts: list[int] = []
    for i, line in enumerate(lines):
        if is_title_line(line) and (i == 0 or not lines[i - 1].strip() or _only_cover_above(lines[:i])):
            starts.append(i)
    offsets = _line_offsets(lines)
    if not starts:
        return [RawReport(fallback_title, text.strip("\n"), 0)] if text.strip() else []
    reports: list[RawReport] = []
    preface = "\n".join(lines[: starts[0]]).strip()
    if len(preface) >= _MIN_BODY and not _NOT_TITLE.search(preface.split("\n")[0]):
        reports.append(RawReport(fallback_title, preface, 0))
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        raw_body = "\n".join(lines[start + 1 : end])
        body = raw_body.strip("\n")
        if body.strip():
            body_offset = offsets[start + 1] + len(raw_body) - len(raw_body.lstrip("\n"))
            reports.append(RawReport(lines[start].strip().rstrip("。"), body, body_offset))
    return reports


def _only_cover_above(above: list[str]) -> bool:
    return all(not line.strip() or _NOT_TITLE.search(line) for line in above)


def _line_offsets(lines: list[str]) -> list[int]:
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    return offsets
