"""Report text → heading tree, as a list of contiguous segments each carrying its heading path.

Ranks: 一、(1) （一）(2) 1.(3) （1）(4), then a paragraph's short lead sentence (5) and 一是/二是 items (6).
Numbering in real reports is sloppy (`五.` among unnumbered leads, a missing `二、`), so a number is taken
as a heading of its rank only when it continues its list or stands on a line of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九", start=0)}
_NUMBERED = (
    (1, re.compile(r"^([一二三四五六七八九十]{1,3})\s*[、.．]\s*")),
    (2, re.compile(r"^[（(]\s*([一二三四五六七八九十]{1,3})\s*[）)]\s*")),
    (3, re.compile(r"^(\d{1,2})\s*[.．、](?!\d)\s*")),
    (4, re.compile(r"^[（(]\s*(\d{1,2})\s*[）)]\s*")),
)
LEAD_RANK = 5
ITEM_RANK = 6
_LEAD = re.compile(r"^([^，,。；;：:！？\d]{3,16})[。！]")
_ITEM = re.compile(r"(?:(?<=^)|(?<=[。；;！？]))\s*([一二三四五六七八九十]{1,2})是")
_HEADING_MAX = 40


@dataclass(frozen=True)
class Segment:
    """A run of report text under one heading path; offsets index the report's cleaned text."""

    path: tuple[str, ...]
    ranks: tuple[int, ...]
    start: int
    end: int
    body: bool


def cn_number(token: str) -> int:
    """Value of a Chinese or Arabic numeral up to 99 (十一 → 11)."""
    if token.isdigit():
        return int(token)
    if token.startswith("十"):
        return 10 + (cn_number(token[1:]) if len(token) > 1 else 0)
    if "十" in token:
        tens, _, ones = token.partition("十")
        return _CN_DIGITS.get(tens, 0) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(token, 0)


def heading_title(paragraph: str, prefix_len: int) -> tuple[str, bool]:
    """The heading text of a numbered paragraph, and whether body text follows it on the same line."""
    rest = paragraph[prefix_len:]
    match = re.search(r"[。：:；;！？]", rest)
    if match is None or match.end() == len(rest.rstrip()):
        title = paragraph.rstrip("。：:；; ")
        return (title if len(title) <= _HEADING_MAX * 2 else title[:_HEADING_MAX] + "…"), False
    cut = prefix_len + match.start()
    title = paragraph[:cut]
    if len(title) > _HEADING_MAX:
        comma = paragraph.find("，", prefix_len)
        title = paragraph[: comma if 0 < comma <= _HEADING_MAX else _HEADING_MAX] + "…"
    return title, True


class _Tree:
    """The open heading stack while walking a report."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, str]] = []
        self.last_number: dict[int, int] = {}

    def push(self, rank: int, title: str) -> None:
        while self.stack and self.stack[-1][0] >= rank:
            self.stack.pop()
        for deeper in [r for r in self.last_number if r > rank]:
            del self.last_number[deeper]
        self.stack.append((rank, title))

    def path(self) -> tuple[tuple[str, ...], tuple[int, ...]]:
        return tuple(t for _, t in self.stack), tuple(r for r, _ in self.stack)


def segment_report(text: str) -> list[Segment]:
    """Walk paragraphs, opening headings as they appear; every character of text lands in one segment."""
    tree = _Tree()
    segments: list[Segment] = []
    cursor = 0

    def emit(start: int, end: int) -> None:
        if end <= start or not text[start:end].strip():
            return
        path, ranks = tree.path()
        if segments and segments[-1].path == path and segments[-1].end >= start - 1:
            last = segments[-1]
            segments[-1] = Segment(path, ranks, last.start, end, last.body or _has_body(text, start, end, path))
        else:
            segments.append(Segment(path, ranks, start, end, _has_body(text, start, end, path)))

    for line in text.split("\n"):
        start, end = cursor, cursor + len(line)
        cursor = end + 1
        para = line.strip()
        if not para:
            continue
        lead = len(line) - len(line.lstrip())
        pos = start + lead
        opened = _open_numbered(tree, para, pos, emit)
        if not opened:
            _open_lead(tree, para)
        items = [m for m in _ITEM.finditer(para)]
        items = _sequential(items)
        if len(items) >= 2 or (items and tree.stack and tree.stack[-1][0] == ITEM_RANK):
            first = items[0].start(1)
            emit(pos, pos + first)
            for n, match in enumerate(items):
                item_end = items[n + 1].start(1) if n + 1 < len(items) else len(para)
                title = _item_title(para[match.start(1) : item_end])
                tree.push(ITEM_RANK, title)
                emit(pos + match.start(1), pos + item_end)
        else:
            emit(pos, end)
    return segments


def _open_numbered(tree: _Tree, para: str, pos: int, emit: object) -> bool:
    for rank, pattern in _NUMBERED:
        match = pattern.match(para)
        if not match:
            continue
        number = cn_number(match.group(1))
        last = tree.last_number.get(rank, 0)
        standalone = len(para) <= _HEADING_MAX and not re.search(r"[。；;]", para.rstrip("。"))
        if number == last + 1 or (number > last and standalone) or (number == 1 and rank not in tree.last_number):
            title, _ = heading_title(para, match.end())
            tree.push(rank, title)
            tree.last_number[rank] = number
            return True
        title, _ = heading_title(para, match.end())
        tree.push(LEAD_RANK, title)
        return True
    return False


def _open_lead(tree: _Tree, para: str) -> None:
    match = _LEAD.match(para)
    short_line = len(para) <= 20 and not _ITEM.match(para)
    if match and not _ITEM.match(para) and (len(para) > match.end() or short_line):
        tree.push(LEAD_RANK, match.group(1))
    elif short_line and para.endswith(("。", "：", ":")) and "，" not in para:
        tree.push(LEAD_RANK, para.rstrip("。：:"))


def _sequential(items: list[re.Match[str]]) -> list[re.Match[str]]:
    """Keep 一是, 二是, 三是 … in order; stray `是` words after a numeral are not items."""
    kept: list[re.Match[str]] = []
    for match in items:
        if cn_number(match.group(1)) == len(kept) + 1:
            kept.append(match)
    return kept


def _item_title(item: str) -> str:
    match = re.search(r"[。；;！？]", item)
    title = item[: match.start()] if match else item
    if len(title) > _HEADING_MAX:
        comma = title.find("，")
        title = title[:comma] if 0 < comma <= _HEADING_MAX else title[:_HEADING_MAX] + "…"
    return title


def _has_body(text: str, start: int, end: int, path: tuple[str, ...]) -> bool:
    """A segment that is only its own heading line carries nothing to retrieve."""
    span = text[start:end].strip().rstrip("。：:")
    return not path or span != path[-1].rstrip("…")
