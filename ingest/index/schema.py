"""The index contract: what the writer stores for each chunk and report, and what every reader loads back.

One definition serves the chunker (which fills the position and section fields), the ingest (which adds
the report's title, the file and the terms) and the reader (which rebuilds records from Chroma's
metadata), so a field can't be written under one name and read under another.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ingest.lexicon.normalize import normalize_for_match

SEP = " › "


def under(section: str, heading: str) -> bool:
    """The section is the heading's own or stands below it (every section stands under no heading)."""
    return not heading or section == heading or section.startswith(heading + SEP)


FORMAT = 2
"""Bumped when a field changes meaning: an index of another format is refused with `ingest --rebuild`."""
PARSER = 6
"""Bumped when reading a file gives other reports, sections or chunks: the next ingest re-reads every indexed
file (vectors of unchanged chunks come from the embedding cache), and readers answer from the index as it is
until then."""


class Part(NamedTuple):
    """A stretch of a chunk under one heading path: where it starts in the chunk's text, its path, and the
    block `source` opens for it (the first `block_depth` headings of the path; offsets into the report)."""

    offset: int
    section: str
    block_depth: int
    block_start: int
    block_end: int

    @property
    def block(self) -> str:
        return SEP.join(self.section.split(SEP)[: self.block_depth]) if self.section else ""


@dataclass(frozen=True)
class ChunkRecord:
    """A retrievable, citable piece of a report, with exact offsets into the report's cleaned text.

    `terms` are the jieba terms of `search_text` (for BM25); `sentence_terms` those of each of the chunk's
    sentences (`grammar.sentences`), so answers score sentences without segmenting them again. `parts` say
    under which heading each stretch of a chunk stands, so a chunk that holds a whole section with its
    subsections still cites a sentence by its own subsection (empty for an index written before parts).
    """

    chunk_id: str
    report_id: str
    ordinal: int
    section: str
    block: str
    start: int
    end: int
    block_start: int
    block_end: int
    text: str
    kind: str
    year: int | None
    report: str = ""
    file: str = ""
    terms: tuple[str, ...] = ()
    sentence_terms: tuple[tuple[str, ...], ...] = field(default=(), repr=False)
    parts: tuple[Part, ...] = field(default=(), repr=False)

    def part_at(self, offset: int) -> Part:
        """The part a chunk-relative offset falls in; the chunk itself where no parts were stored."""
        depth = len(self.block.split(SEP)) if self.block else 0
        found = Part(0, self.section, depth, self.block_start, self.block_end)
        for part in self.parts:
            if part.offset > offset:
                break
            found = part
        return found

    @property
    def search_text(self) -> str:
        """What the model and BM25 see: the chunk with its report title and heading path, normalised."""
        return normalize_for_match(f"{self.report} {self.section}\n{self.text}")

    def metadata(self) -> dict[str, str | int]:
        return {
            "report_id": self.report_id,
            "report": self.report,
            "file": self.file,
            "section": self.section,
            "block": self.block,
            "start": self.start,
            "end": self.end,
            "block_start": self.block_start,
            "block_end": self.block_end,
            "ordinal": self.ordinal,
            "kind": self.kind,
            "year": self.year or 0,
            "terms": " ".join(self.terms),
            "sentence_terms": "\n".join(" ".join(ts) for ts in self.sentence_terms),
            "parts": json.dumps([list(p) for p in self.parts], ensure_ascii=False),
        }

    @classmethod
    def from_stored(
        cls, chunk_id: str, document: str, meta: Mapping[str, Any], intern: Callable[[str], str] = sys.intern
    ) -> ChunkRecord:
        """Rebuild a record from Chroma; strings that repeat across chunks are interned (see `load_index`)."""
        return cls(
            chunk_id=chunk_id,
            report_id=intern(meta["report_id"]),
            ordinal=int(meta["ordinal"]),
            section=intern(meta["section"]),
            block=intern(meta["block"]),
            start=int(meta["start"]),
            end=int(meta["end"]),
            block_start=int(meta["block_start"]),
            block_end=int(meta["block_end"]),
            text=document,
            kind=intern(meta["kind"]),
            year=int(meta["year"]) or None,
            report=intern(meta["report"]),
            file=intern(meta["file"]),
            terms=tuple(map(intern, str(meta["terms"]).split())),
            sentence_terms=tuple(tuple(map(intern, line.split())) for line in str(meta["sentence_terms"]).split("\n")),
            parts=tuple(
                Part(int(o), intern(sec), int(depth), int(lo), int(hi))
                for o, sec, depth, lo, hi in json.loads(str(meta.get("parts") or "[]"))
            ),
        )


@dataclass(frozen=True)
class TitleFacts:
    """What a title says about its report: who wrote it, for which year, and what it contains."""

    org: str
    year: int | None
    plan_year: int | None
    kinds: tuple[str, ...]

    @property
    def kind(self) -> str:
        return "+".join(self.kinds)


@dataclass
class ParsedReport:
    """One report of a file, ready to index: what `ingest` hands to `index.build`."""

    report_id: str
    title: str
    file: str
    facts: TitleFacts
    text: str
    sections: int
    chunks: list[ChunkRecord] = field(default_factory=list)
