"""Report text → heading tree, as a list of contiguous segments each carrying its heading path.

A report ranks its own heading families: no table says 一、 is above 1. (a report may be numbered
第一部分 / 1. / 1.1 / （1）, or start at （一）). The first family to open a heading is the top level and each
family keeps the level it had when it first appeared: a heading of a family already open is a sibling that
closes everything below it, a family never seen nests under the deepest open heading, and a family seen
before at a deeper level pops back to that level. Only between families that never met on one path does the
usual order (`HEADING_FAMILIES`) decide: 1. learned under 第一部分, then （1） straight under 第二部分, puts
（1） below 1., not above it. Lead sentences and 一是/二是 items stay the lowest levels.

Word heading styles (`headings`: a line's text → its level, from `ingest.read`) are stronger than numbering:
a styled line is a heading at its level among the other styled levels, numbering inside styled sections nests
below them, and a numbering family first seen on a styled line keeps that styled level when a later line of
it was left unstyled. A short all-bold line is a family like any numbering; a numbered bold line is its number.

Numbering in real reports is sloppy (`五.` among unnumbered leads, a missing `二、`, `五.` twice), so a number
is taken as a heading of its family only when it continues its list or stands on a line of its own. A paragraph
that runs on into the next numbers of its own list (`（一）…。（二）…。`, `①…；②…`) is cut at them, and an 一是
list may go on in the next paragraph (`六是` after `五是`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ingest.lexicon.grammar import FAMILY_NAMES, ITEM, LEAD, Family, cn_number, match_heading, part_words
from ingest.read import BOLD_LEVEL, TABLE_LEVEL

__all__ = ["ITEM_RANK", "LEAD_RANK", "Segment", "cn_number", "heading_title", "segment_report"]

LEAD_RANK = 100
"""Ranks below this are the report's own heading levels, 1 for its top; leads and items come after them."""
ITEM_RANK = 101
_HEADING_MAX = 40
_STYLE = "style:"
_BOLD = "bold"
_PART = "part-line"
_PART_LINE = re.compile(r"[^。；;，,：:！？]{2,20}")
_STANDALONE_END = re.compile(r"[。；;]")
_CLAUSE_END = re.compile(r"[。；;！？]\s*")
_SIGNATURE = re.compile(r"[^。；;，,：:！？、\d]{4,30}")
"""A line of a name alone (the unit signing the report), just before its date."""


@dataclass(frozen=True)
class Segment:
    """A run of report text under one heading path; offsets index the report's cleaned text."""

    path: tuple[str, ...]
    ranks: tuple[int, ...]
    start: int
    end: int
    body: bool


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


@dataclass
class _Open:
    key: str  # a family name, `style:N`, `bold`; "" for a lead or an item
    title: str
    rank: int  # LEAD_RANK / ITEM_RANK for a lead or an item; a family's rank is its place in `_Tree.order`
    number: int = 0  # an item's: 六是 is 6


class _Tree:
    """The open heading stack while walking a report, and the order its families were learned in."""

    def __init__(self) -> None:
        self.stack: list[_Open] = []
        self.order: list[str] = []
        self.last_number: dict[str, tuple[str, int]] = {}
        self.styled_as: dict[str, str] = {}

    def rank(self, entry: _Open) -> int:
        return self.order.index(entry.key) + 1 if entry.key else entry.rank

    def deepest_family(self) -> int:
        """Index in `stack` of the deepest open family heading, -1 when none is open."""
        return next((i for i in range(len(self.stack) - 1, -1, -1) if self.stack[i].key), -1)

    def learn(self, key: str) -> None:
        """Give a family its level at first sight: below the deepest open heading; a style among the styles."""
        if key in self.order:
            return
        if key.startswith(_STYLE):
            level = int(key.removeprefix(_STYLE))
            styled = [(int(k.removeprefix(_STYLE)), i) for i, k in enumerate(self.order) if k.startswith(_STYLE)]
            above = [i for lv, i in styled if lv < level]
            below = [i for lv, i in styled if lv > level]
            if above:
                self.order.insert(max(above) + 1, key)
                return
            if below:
                self.order.insert(min(below), key)
                return
            # Word's level says how deep the line may be at most; the open headings say how deep it can be
            open_keys = [e.key for e in self.stack if e.key]
            depth = min(max(level - 1, 0), len(open_keys))
            self.order.insert(self.order.index(open_keys[depth - 1]) + 1 if depth else 0, key)
            return
        deepest = self.deepest_family()
        at = self.order.index(self.stack[deepest].key) + 1 if deepest >= 0 else 0
        # below the open heading, and below closed families that never met this one but usually stand above it
        mine = _usual_place(key)
        while at < len(self.order) and mine is not None and (usual := _usual_place(self.order[at])) is not None:
            if usual > mine:
                break
            at += 1
        self.order.insert(at, key)

    def push_family(self, key: str, title: str) -> None:
        self.learn(key)
        rank = self.order.index(key) + 1
        self._pop_to(rank)
        for deeper in [k for k in self.last_number if k in self.order and self.order.index(k) + 1 > rank]:
            del self.last_number[deeper]
        self.stack.append(_Open(key, title, 0))

    def push_top(self, key: str, title: str) -> None:
        """Open a heading of the family that stands above every other, learned or not (a report's parts)."""
        if key not in self.order:
            self.order.insert(0, key)
        self.push_family(key, title)

    def push(self, rank: int, title: str, number: int = 0) -> None:
        self._pop_to(rank)
        self.stack.append(_Open("", title, rank, number))

    def _pop_to(self, rank: int) -> None:
        while self.stack and self.rank(self.stack[-1]) >= rank:
            self.stack.pop()

    def path(self) -> tuple[tuple[str, ...], tuple[int, ...]]:
        return tuple(e.title for e in self.stack), tuple(self.rank(e) for e in self.stack)


def _usual_place(key: str) -> int | None:
    """Where a family stands when a report gives no clue: styles on top, then `HEADING_FAMILIES` order."""
    if key.startswith(_STYLE):
        return -1
    return FAMILY_NAMES.index(key) if key in FAMILY_NAMES else None


def segment_report(text: str, headings: Mapping[str, int] | None = None) -> list[Segment]:
    """Walk paragraphs, opening headings as they appear; every character of text lands in one segment.

    `headings` maps a line's stripped text to its Word level (`ingest.read.ReadText.headings`).
    """
    tree = _Tree()
    segments: list[Segment] = []
    cursor = 0
    marked = headings or {}

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
        pos = start + len(line) - len(line.lstrip())
        run = None
        if not _open_marked(tree, para, marked.get(para)):
            handled, run = _open_numbered(tree, para)
            if not handled and _names_a_part(para) and (tree.order[:1] in ([], [_PART]) or _ends_topics(tree, para)):
                tree.push_top(_PART, para)
            elif not handled:
                _open_lead(tree, para)
        cuts: list[tuple[int, re.Match[str] | None]] = [(0, None), *(_run_on(para, run) if run else [])]
        for n, (cut, number) in enumerate(cuts):
            stop = cuts[n + 1][0] if n + 1 < len(cuts) else len(para)
            piece = para[cut:stop]
            if run is not None and number is not None:
                tree.push_family(run.key, heading_title(piece, number.end())[0])
                tree.last_number[run.key] = _list_position(number.group(1))
            _emit_items(tree, piece, pos + cut, pos + stop if n + 1 < len(cuts) else end, emit)
    return _end_matter_apart(text, segments)


def _end_matter_apart(text: str, segments: list[Segment]) -> list[Segment]:
    """The report's end matter (a closing paragraph, a sign-off, the unit's name, a date) goes under no
    heading and makes no chunk: it is no part of the last item it follows, whose chunk it filled with words of
    every topic ("2026年，县水利局将持续…" cited as （五）队伍建设), and alone it answers nothing, though it
    names the unit and so sits near every question about it."""
    words = part_words()
    paragraphs = _paragraphs(text)
    start = len(text)
    for n in range(len(paragraphs) - 1, -1, -1):
        at, para = paragraphs[n]
        dated = n + 1 < len(paragraphs) and words.closing_line.search(paragraphs[n + 1][1]) is not None
        if words.closing_line.search(para) or (dated and _SIGNATURE.fullmatch(para)):
            start = at
            continue
        if words.closing_start.search(para) and not ITEM.match(para):
            start = at
        break
    if start >= len(text) or not segments or segments[-1].path == ():
        return segments
    out = []
    for seg in segments:
        if seg.end <= start:
            out.append(seg)
        elif seg.start < start:
            out.append(Segment(seg.path, seg.ranks, seg.start, start, seg.body))
    if not any(seg.body for seg in out if seg.path):
        return segments  # nothing but end matter under the headings: keep the report as it was read
    return [*out, Segment((), (), start, segments[-1].end, False)]


def _paragraphs(text: str) -> list[tuple[int, str]]:
    out, cursor = [], 0
    for line in text.split("\n"):
        if line.strip():
            out.append((cursor + len(line) - len(line.lstrip()), line.strip()))
        cursor += len(line) + 1
    return out


def _emit_items(tree: _Tree, piece: str, start: int, end: int, emit: Callable[[int, int], None]) -> None:
    """Text of one paragraph (or one heading's part of a run-on one), cut at its 一是/二是 items."""
    items = _items(tree, piece)
    if not items:
        emit(start, end)
        return
    emit(start, start + items[0].start(1))
    for n, match in enumerate(items):
        item_end = items[n + 1].start(1) if n + 1 < len(items) else len(piece)
        tree.push(ITEM_RANK, _item_title(piece[match.start(1) : item_end]), cn_number(match.group(1)))
        emit(start + match.start(1), start + item_end)


def _items(tree: _Tree, piece: str) -> list[re.Match[str]]:
    """一是, 二是 … in order: two or more, or the next ones of a list the paragraph before began (六是 after 五是)."""
    found = list(ITEM.finditer(piece))
    top = tree.stack[-1] if tree.stack else None
    follows = top.number if top is not None and top.rank == ITEM_RANK else 0
    items = _sequential(found, follows + 1) if follows else []
    if not items:
        items = _sequential(found, 1)
    return items if len(items) >= 2 or (items and follows) else []


def _run_on(para: str, run: _Run) -> list[tuple[int, re.Match[str]]]:
    """Where a paragraph that opened with a number runs on into the next ones: `（一）…。（二）…。（三）…`."""
    cuts: list[tuple[int, re.Match[str]]] = []
    expected = run.number + 1
    for end in _CLAUSE_END.finditer(para):
        match = run.family.pattern.match(para[end.end() :])
        if match and _list_position(match.group(1)) == (run.parent, expected):
            cuts.append((end.end(), match))
            expected += 1
    return cuts


def _open_marked(tree: _Tree, para: str, level: int | None) -> bool:
    """A line the file's format marks: a Word heading style, a table's caption, a short bold line."""
    if level is None or level > TABLE_LEVEL:
        return False
    found = match_heading(para)
    if level == TABLE_LEVEL:
        tree.push(LEAD_RANK, para.rstrip("。：: "))
        return True
    if level == BOLD_LEVEL:
        if found is not None:
            return False  # a bold number is its numbering family
        tree.push_family(_BOLD, para.rstrip("。：:；; "))
        return True
    key = f"{_STYLE}{level}"
    prefix = 0
    if found is not None:
        family, match = found
        tree.styled_as.setdefault(family.name, key)
        prefix = match.end()
    tree.push_family(key, heading_title(para, prefix)[0])
    if found is not None:
        tree.last_number[key] = _list_position(found[1].group(1))
    return True


@dataclass(frozen=True)
class _Run:
    """The numbered heading a paragraph opened with, to find the next numbers if the paragraph runs on."""

    key: str
    family: Family
    parent: str
    number: int


def _open_numbered(tree: _Tree, para: str) -> tuple[bool, _Run | None]:
    """Whether the paragraph opens with a number (a heading, or a lead when the number is out of place)."""
    found = match_heading(para)
    if found is None:
        return False, None
    family, match = found
    key = tree.styled_as.get(family.name, family.name)
    title, _ = heading_title(para, match.end())
    parent, number = _list_position(match.group(1))
    last_parent, last = tree.last_number.get(key, ("", 0))
    if last_parent != parent:
        last = 0
    standalone = len(para) <= _HEADING_MAX and not _STANDALONE_END.search(para.rstrip("。"))
    # a number repeated on a line of its own is a slip for the next one (`五.` twice), not a lead
    if number == last + 1 or (number >= last and standalone):
        tree.push_family(key, title)
        tree.last_number[key] = (parent, number)
        return True, _Run(key, family, parent, number)
    tree.push(LEAD_RANK, title)
    return True, None


def _list_position(token: str) -> tuple[str, int]:
    """Which list a number belongs to and its place in it: `2.3` is third in the list under 2."""
    parent, _, _ = re.sub(r"[.．]", ".", token.strip()).rpartition(".")
    return parent, cn_number(token)


def _names_a_part(para: str) -> bool:
    """A short unnumbered line of its own that names a part of the report (2024年工作开展情况, 存在的不足,
    2025年工作计划): the top heading family of a report that numbers only below its parts, or not at all.
    Only as the top: under numbered headings such a line is a table's caption or a sentence."""
    if not _PART_LINE.fullmatch(para) or ITEM.match(para):
        return False
    return any(p.search(para) for _, p in part_words().headings)


def _ends_topics(tree: _Tree, para: str) -> bool:
    """A part line (存在的问题, 下一步工作思路) after numbered headings that each name a topic (一、…十、气象服务…),
    none a part: the report numbered its summary's topics at the top, and this line opens its next part."""
    parts = [p for _, p in part_words().headings]
    return (
        bool(tree.stack)
        and any(p.search(para) for p in parts[1:])
        and not any(p.search(e.title) for e in tree.stack for p in parts)
    )


def _open_lead(tree: _Tree, para: str) -> None:
    match = LEAD.match(para)
    short_line = len(para) <= 20 and not ITEM.match(para)
    if match and not ITEM.match(para) and (len(para) > match.end() or short_line):
        tree.push(LEAD_RANK, match.group(1))
    elif short_line and para.endswith(("。", "：", ":")) and "，" not in para:
        tree.push(LEAD_RANK, para.rstrip("。：:"))


def _sequential(items: list[re.Match[str]], first: int) -> list[re.Match[str]]:
    """Keep 一是, 二是, 三是 … in order from `first`; stray `是` words after a numeral are not items."""
    kept: list[re.Match[str]] = []
    for match in items:
        if cn_number(match.group(1)) == first + len(kept):
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
