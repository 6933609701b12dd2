"""Broad questions about a whole part of one report ("统计局今年做了哪些工作？", "林业局明年有什么打算？").

Such a question names a unit and a part and nothing else to look for, so no passage answers it better than
another: retrieval would quote whichever section happens to sit nearest. The report's author has already
summed the part up in its headings (（一）…（二）… under "一、2023年工作总结"), so those headings, each cited to
the section it opens, are the answer; the reader asks on about the one that interests them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.index.schema import SEP, ChunkRecord, under
from ingest.lexicon.grammar import ITEM, cn_number
from ingest.lexicon.normalize import restore_censored

SHOWN = 8
"""Headings listed at most; a longer part says how many there are."""
ROLL_SHOWN = 4
"""Headings listed at most for each report of a roll call."""
_ITEM_MAX = 30
_ENDS_AS_STOP = re.compile(r"[：:\n]")
"""Where an item may begin besides a sentence's end: after a lead-in's colon, or at a paragraph."""
_STOPS = "。：:；;，,"
_PART_NAMES = {"总结": "工作总结", "计划": "工作计划", "问题": "存在的问题"}


@dataclass(frozen=True)
class Heading:
    record: ChunkRecord
    """The first chunk under the heading."""
    offsets: tuple[int, ...]
    """Where, in that chunk's text, the first and the last stretch under the heading begin: a citation of
    both opens all of the heading's section the chunk holds."""
    text: str
    section: str
    """The heading's path: what its citation names."""


@dataclass(frozen=True)
class Outline:
    report: str
    root: str
    """The part's own heading ("一、2023年工作总结"), empty when its sections stand at the top of the report."""
    kind: str | None
    """The part outlined; None for the whole report, whose parts are its headings."""
    headings: list[Heading]

    def composed(self) -> tuple[str, list[Heading]]:
        """The answer text with a [n] after each heading, and the headings shown (source n is the n-th)."""
        shown = self.headings[:SHOWN]
        lines = [f"{_plain(h.text)}。[{n}]" for n, h in enumerate(shown, start=1)]
        opening = f"《{self.report}》{self.part}分{len(self.headings)}{self.unit}："
        if len(self.headings) > len(shown):
            lines.append(f"……（以上为前{len(shown)}{self.unit}）")
        return "\n".join([opening, *lines]), shown

    @property
    def part(self) -> str:
        if self.root:
            return f"的“{restore_censored(self.root)}”"
        return f"的{_PART_NAMES[self.kind]}" if self.kind in _PART_NAMES else ""

    @property
    def unit(self) -> str:
        return "个部分" if self.kind is None and not self.root else "个方面"


@dataclass(frozen=True)
class RollCall:
    """A broad question about every unit ("各单位明年都打算干什么？", "哪些单位存在问题？"): each report's part
    in one line of its headings, as each author summed it up, rather than one sentence that happened to match."""

    kind: str
    outlines: list[Outline]
    without: list[str]
    """Reports that have no such part."""
    unlisted: list[str]
    """Reports whose part has no headings to list: asked of one by one, they are quoted."""

    def composed(self) -> tuple[str, list[Heading]]:
        """One line per report with a [n] citing its part's first heading (source n is the n-th)."""
        lines = []
        for n, o in enumerate(self.outlines, start=1):
            shown = "；".join(_plain(h.text) for h in o.headings[:ROLL_SHOWN])
            more = f"等{len(o.headings)}{o.unit}" if len(o.headings) > ROLL_SHOWN else ""
            lines.append(f"《{o.report}》{o.part}：{shown}{more}。[{n}]")
        name = _PART_NAMES.get(self.kind, self.kind)
        if self.unlisted:
            lines.append(f"（{'、'.join(f'《{r}》' for r in self.unlisted)}的{name}没有分项，可单独询问。）")
        if self.without:
            lines.append(f"（{'、'.join(f'《{r}》' for r in self.without)}中没有这一部分。）")
        return "\n".join(lines), [o.headings[0] for o in self.outlines]


def roll_call(records: Sequence[ChunkRecord], report_ids: Sequence[str], kind: str) -> RollCall | None:
    """Each report's `kind` part outlined, or None when no report lists one. A part one chunk holds is listed
    too: in a roll call its headings are the shortest fair summary."""
    outlines: list[Outline] = []
    without: list[str] = []
    unlisted: list[str] = []
    wanted = set(report_ids)
    titles: dict[str, str] = {}
    parts: dict[str, list[ChunkRecord]] = {}
    for rec in records:  # one pass over the shelf, however many reports are called
        if rec.report_id in wanted:
            titles.setdefault(rec.report_id, rec.report)
            if rec.kind == kind:
                parts.setdefault(rec.report_id, []).append(rec)
    for report_id in report_ids:
        part = parts.get(report_id, [])
        if not part:
            without.append(titles.get(report_id, report_id))
        elif (outline := outline_of(part, [report_id], kind, chunks=1) or _items_of(part)) is not None:
            outlines.append(outline)
        else:
            unlisted.append(part[0].report)
    return RollCall(kind, outlines, without, unlisted) if outlines else None


def outline_of(
    records: Sequence[ChunkRecord],
    report_ids: Sequence[str],
    kind: str | None,
    within: str = "",
    chunks: int = 2,
) -> Outline | None:
    """The first of these reports whose `kind` part (None: the whole report; `within`: what stands under that
    heading) branches into two headings or more, listed at the level where its sections first part ways: under
    a part heading when all share one, else at the top. A part fewer than `chunks` chunks hold is no outline:
    the answer quotes it whole."""
    for report_id in report_ids:
        placed = [
            (rec.start + part.offset, rec, part.offset, part.section.split(SEP))
            for rec in records
            if rec.report_id == report_id and kind in (None, rec.kind)
            for part in (rec.parts or ())
            if part.section and under(part.section, within)
        ]
        if not placed:
            continue
        placed.sort(key=lambda p: p[0])
        paths = [path for *_, path in placed]
        depth = _shared_depth(paths)
        headings: list[Heading] = []
        seen: set[str] = set()
        for _, rec, offset, path in placed:
            if len(path) <= depth:
                continue
            if path[depth] not in seen:
                seen.add(path[depth])
                headings.append(Heading(rec, (offset,), path[depth], SEP.join(path[: depth + 1])))
            elif headings[-1].section == SEP.join(path[: depth + 1]) and headings[-1].record is rec:
                last = headings[-1]
                headings[-1] = Heading(rec, (last.offsets[0], offset), last.text, last.section)
        if len(headings) >= 2 and len({h.record.chunk_id for h in headings}) >= chunks:
            return Outline(placed[0][1].report, SEP.join(paths[0][:depth]), kind, headings)
    return None


def missing_part(records: Sequence[ChunkRecord], report_ids: Sequence[str], kind: str) -> str | None:
    """Why a question about a part none of these reports has ("存在什么问题？" of a report that lists none)
    cannot be answered, naming the parts the report does have; None when one of them has it."""
    tops: dict[str, list[str]] = {}
    for rec in records:
        if rec.report_id in report_ids:
            if rec.kind == kind:
                return None
            top = rec.section.split(SEP)[0]
            if top and top not in tops.setdefault(rec.report, []):
                tops[rec.report].append(top)
    if not tops:
        return None
    report, parts = next(iter(tops.items()))
    listed = f"报告的各部分：{'；'.join(restore_censored(p) for p in parts)}。" if parts else ""
    return f"《{report}》中没有“{_PART_NAMES.get(kind, kind)}”这一部分。{listed}"


def _items_of(part: Sequence[ChunkRecord]) -> Outline | None:
    """A part written as one paragraph of 一是…；二是… items (after a lead-in such as "…面临一些问题："), which
    the parser leaves as body text: the items' opening clauses, in order, are its headings."""
    items: list[Heading] = []
    for rec in sorted(part, key=lambda r: r.start):
        for match in ITEM.finditer(_ENDS_AS_STOP.sub("。", rec.text)):
            if cn_number(match.group(1)) == len(items) + 1:
                offset = match.start(1)
                text = _item_title(rec.text[offset:])
                items.append(Heading(rec, (offset,), text, rec.part_at(offset).section or rec.section))
    if len(items) < 2:
        return None
    return Outline(part[0].report, items[0].section, part[0].kind, items)


def _item_title(item: str) -> str:
    """An item's first sentence, or as many of its clauses as fit."""
    sentence = re.split(r"[。；;！？：:\n]", item, maxsplit=1)[0]
    if len(sentence) <= _ITEM_MAX:
        return sentence
    fitting = [m.start() for m in re.finditer("[，,]", sentence) if m.start() <= _ITEM_MAX]
    return sentence[: fitting[-1]] if fitting else sentence[:_ITEM_MAX] + "…"


def _plain(heading: str) -> str:
    return restore_censored(heading).rstrip(_STOPS)


def _shared_depth(paths: list[list[str]]) -> int:
    """How many headings every path starts with (a part's text before its first subsection shares them all)."""
    depth = 0
    while all(len(p) > depth and p[depth] == paths[0][depth] for p in paths):
        depth += 1
    return depth
