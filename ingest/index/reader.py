"""The live index as a reader sees it: the published generation, its chunks in memory for BM25, hot-swapped.

A reader checks the pointer before each question and loads a newer generation completely before it swaps,
so questions are answered from the last complete index while an ingest runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
import time
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ingest.index.errors import IndexMismatch, NoIndex, StoreUnavailable
from ingest.index.lexical import BM25
from ingest.index.manifest import Manifest, ReportEntry
from ingest.index.schema import ChunkRecord
from ingest.index.store import IndexStore
from ingest.lexicon.aliases import org_aliases
from ingest.lexicon.terms import terms

_PAGE = 1000  # peak RSS at 100x: 554 MiB with pages of 5,000, 342 MiB with 1,000 (and 0.9 s faster)


@dataclass
class LoadedIndex:
    manifest: Manifest
    chunks: Any
    reports_col: Any
    records: list[ChunkRecord]
    positions: dict[str, int]
    bm25: BM25
    reports: dict[str, ReportEntry]

    @cached_property
    def untitled_terms(self) -> dict[str, Counter[str]]:
        """Term counts of reports whose title names no bureau, for guessing who wrote them."""
        anonymous = {rid for rid, r in self.reports.items() if not r.org}
        counts: dict[str, Counter[str]] = {rid: Counter() for rid in anonymous}
        for rec in self.records:
            if rec.report_id in counts:
                counts[rec.report_id].update(rec.terms)
        return counts

    @cached_property
    def org_terms(self) -> set[str]:
        """Words of the bureaus' names: they select reports, so they say nothing about which sentence answers."""
        out: set[str] = set()
        for report in self.manifest.reports:
            for alias in org_aliases(report.org):
                out.update(terms(alias))
        return out

    def report_text(self, report_id: str) -> str:
        got = self.reports_col.get(ids=[report_id], include=["documents"])
        docs = got.get("documents") or []
        return docs[0] if docs else ""


def load_index(store: IndexStore, manifest: Manifest) -> LoadedIndex:
    """Every chunk in memory, with its terms and labels interned.

    A 100x corpus holds 2.1 million term occurrences of under 5,000 distinct terms, and every chunk of a
    report repeats its title, file and section: shared strings keep the records at tens of MiB, not hundreds.
    """
    chunks, reports_col = store.collections(manifest.generation)
    records: list[ChunkRecord] = []
    offset = 0
    while True:
        got = chunks.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
        if not got["ids"]:
            break
        for cid, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
            records.append(ChunkRecord.from_stored(cid, doc, meta))
        offset += len(got["ids"])
    records.sort(key=lambda r: (r.file, r.report_id, r.start))
    return LoadedIndex(
        manifest=manifest,
        chunks=chunks,
        reports_col=reports_col,
        records=records,
        positions={r.chunk_id: i for i, r in enumerate(records)},
        bm25=BM25([list(r.terms) for r in records]),
        reports={r.report_id: r for r in manifest.reports},
    )


def release_freed_memory() -> None:
    """Hand the heap freed by a load back to the OS.

    Reading 20,000 chunks from Chroma leaves ~300 MiB of freed pages that glibc keeps for reuse; a long-lived
    bot would carry them forever. Not glibc (macOS, musl): nothing to do.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class IndexReader:
    """Hands out the current LoadedIndex, switching to a newer generation once it is fully loaded."""

    def __init__(self, store: IndexStore, embedding_name: str, check_every: float = 0.0) -> None:
        self.store = store
        self.embedding_name = embedding_name
        self.check_every = check_every
        self._loaded: LoadedIndex | None = None
        self._retired: LoadedIndex | None = None
        self._token: Any = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def current(self) -> LoadedIndex:
        now = time.monotonic()
        if self._loaded is not None and now - self._checked < self.check_every:
            return self._loaded
        with self._lock:
            self._checked = now
            token = self.store.pointer_token()
            if self._loaded is not None and token == self._token:
                return self._loaded
            manifest = self.store.read_manifest()
            if manifest is None:
                raise NoIndex("no reports are indexed yet: run `reportbot ingest PATH...`")
            if manifest.embedding != self.embedding_name:
                raise IndexMismatch(
                    f"the index was built with {manifest.embedding} but {self.embedding_name} is configured: "
                    "run `reportbot ingest --rebuild PATH...` or change REPORTBOT_EMBEDDING"
                )
            if self._loaded is None or manifest.generation != self._loaded.manifest.generation:
                previous = self._loaded
                try:
                    self._loaded = load_index(self.store, manifest)
                    release_freed_memory()
                except StoreUnavailable:
                    if previous is None:
                        raise
                    return previous
                if self._retired is not None and hasattr(self.store, "release"):
                    self.store.release(self._retired.manifest.generation)
                self._retired = previous
            self._token = token
            return self._loaded
