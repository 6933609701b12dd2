"""Segments → token-bounded chunks that never cross a section boundary and keep exact offsets."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ingest.index.schema import SEP, ChunkRecord, Part
from ingest.lexicon.grammar import SENTENCE
from ingest.structure import LEAD_RANK, Segment


def split_span(text: str, start: int, end: int, max_tokens: int, count: Callable[[str], int]) -> list[tuple[int, int]]:
    """Sentence-packed spans of at most max_tokens; one over-long sentence is cut by characters."""
    if count(text[start:end]) <= max_tokens:
        return [(start, end)]
    spans: list[tuple[int, int]] = []
    cur_start, cur_tokens = start, 0
    last: tuple[int, int, int] | None = None
    for match in SENTENCE.finditer(text, start, end):
        if match.start() == match.end():
            continue
        s, e = match.span()
        n = count(text[s:e])
        if cur_tokens and cur_tokens + n > max_tokens:
            if last and last[0] > cur_start and last[2] + n <= max_tokens and _opens_paragraph(text, *last[:2]):
                spans.append((cur_start, last[0]))  # a paragraph's title goes with its paragraph
                cur_start, cur_tokens = last[0], last[2]
            else:
                spans.append((cur_start, s))
                cur_start, cur_tokens = s, 0
        if n > max_tokens:
            spans.extend(_cut_sentence(text, s, e, max_tokens, count))
            cur_start, cur_tokens = e, 0
            continue
        cur_tokens += n
        if text[s:e].strip():
            last = (s, e, n)
    if cur_start < end and text[cur_start:end].strip():
        spans.append((cur_start, end))
    return [(s, e) for s, e in spans if text[s:e].strip()]


TITLE_CHARS = 30
"""A paragraph's first sentence this short ("优化服务，提升办事效率。", on a line of its own or run in) titles
what follows it."""


def _opens_paragraph(text: str, s: int, e: int) -> bool:
    """The sentence s:e starts a line and is short enough to be the title of what follows."""
    return 0 < len(text[s:e].strip()) <= TITLE_CHARS and (s == 0 or text[s - 1] == "\n")


def _cut_sentence(text: str, s: int, e: int, max_tokens: int, count: Callable[[str], int]) -> list[tuple[int, int]]:
    """Cut one over-long sentence by characters, each piece the longest that fits (token density varies)."""
    spans: list[tuple[int, int]] = []
    while s < e:
        lo, hi = s + 1, e
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count(text[s:mid]) <= max_tokens:
                lo = mid
            else:
                hi = mid - 1
        spans.append((s, lo))
        s = lo
    return spans


def block_of(segment: Segment) -> int:
    """How much of the path a `source` lookup shows: down to the deepest numbered heading."""
    numbered = [i for i, rank in enumerate(segment.ranks) if rank < LEAD_RANK]
    return numbered[-1] + 1 if numbered else min(1, len(segment.path))


def chunk_report(
    report_id: str,
    text: str,
    segments: list[Segment],
    max_tokens: int,
    count: Callable[[str], int],
    classify: Callable[[tuple[str, ...]], tuple[str, int | None]],
    salt: str,
) -> list[ChunkRecord]:
    """Chunks in report order: a whole section (with its subsections) when it fits, else its parts.

    A section that fits in max_tokens stays one chunk, so a list of 一是/二是 items is retrieved together;
    a larger one gives its own lead-in text and then recurses into its subsections. Each chunk keeps the
    parts it holds (`ChunkRecord.parts`), so a sentence is cited by its own subsection. Ids hash the file,
    path and text, so they survive re-ingests that leave the section alone.
    """
    blocks: dict[tuple[str, ...], tuple[int, int]] = {}
    spans: dict[tuple[str, ...], tuple[int, int]] = {}
    for seg in segments:
        key = seg.path[: block_of(seg)]
        lo, hi = blocks.get(key, (seg.start, seg.end))
        blocks[key] = (min(lo, seg.start), max(hi, seg.end))
        for depth in range(1, len(seg.path) + 1):
            lo, hi = spans.get(seg.path[:depth], (seg.start, seg.end))
            spans[seg.path[:depth]] = (min(lo, seg.start), max(hi, seg.end))
    parents = {seg.path[:d] for seg in segments for d in range(1, len(seg.path))}
    pieces: list[tuple[tuple[str, ...], Segment, int, int]] = []
    done_upto = -1
    for seg in segments:
        if seg.start < done_upto:
            continue
        whole = next(
            (
                seg.path[:d]
                for d in range(1, len(seg.path) + 1)
                if spans[seg.path[:d]][0] == seg.start and count(text[slice(*spans[seg.path[:d]])]) <= max_tokens
            ),
            None,
        )
        if whole is not None:
            lo, hi = spans[whole]
            pieces.append((whole, seg, lo, hi))
            done_upto = hi
        elif seg.path == () and not seg.body:
            continue  # end matter (a sign-off, a date): nothing to retrieve or cite
        elif seg.body or seg.path not in parents:  # a heading with nothing under it is its own text
            pieces.extend((seg.path, seg, s, e) for s, e in split_span(text, seg.start, seg.end, max_tokens, count))
    chunks: list[ChunkRecord] = []
    seen: dict[tuple[str, str], int] = {}
    for path, seg, s, e in pieces:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s >= e:
            continue
        key = seg.path[: block_of(seg)]
        if len(path) < len(key):
            key = path
        kind, year = classify(path)
        section = SEP.join(path)
        body = text[s:e]
        repeat = seen[(section, body)] = seen.get((section, body), 0) + 1  # not the ordinal: edits elsewhere shift it
        digest = hashlib.sha1(f"{salt}\x1f{section}\x1f{repeat}\x1f{body}".encode()).hexdigest()[:20]
        block_lo, block_hi = blocks.get(key, spans.get(key, (s, e)))
        chunks.append(
            ChunkRecord(
                chunk_id=digest,
                report_id=report_id,
                ordinal=len(chunks),
                section=section,
                block=SEP.join(key),
                start=s,
                end=e,
                block_start=min(block_lo, s),
                block_end=max(block_hi, e),
                text=body,
                kind=kind,
                year=year,
                parts=_parts(text, segments, spans, s, e),
            )
        )
    return chunks


def _parts(
    text: str, segments: list[Segment], spans: dict[tuple[str, ...], tuple[int, int]], start: int, end: int
) -> tuple[Part, ...]:
    """The segments a chunk's text overlaps, as offsets into the chunk, each with its block: the whole section
    of its deepest numbered heading, subsections included, which is what `source` shows for it."""
    out: list[Part] = []
    for seg in segments:
        lo, hi = max(seg.start, start), min(seg.end, end)
        stretch = text[lo:hi]
        section = SEP.join(seg.path)
        if not stretch.strip() or (out and out[-1].section == section):
            continue
        depth = block_of(seg)
        block_lo, block_hi = spans.get(seg.path[:depth], (seg.start, seg.end))
        offset = lo + len(stretch) - len(stretch.lstrip()) - start
        out.append(Part(offset, section, depth, block_lo, block_hi))
    return tuple(out)
