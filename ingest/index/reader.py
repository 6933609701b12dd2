"""The live index as a reader sees it: the published generation's pack, memory-mapped, hot-swapped.

A reader checks the pointer before each question and opens a newer generation completely before it swaps,
so questions are answered from the last complete index while an ingest runs. Opening is mapping the
generation's pack (`ingest.index.pack`): its start does not grow with the corpus. Where a generation has
no pack yet (server mode on a new machine, an index from before packs), the reader builds one from the
store once, into its cache, keyed by the generation id.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ingest.index.errors import IndexMismatch, NoIndex, StoreUnavailable
from ingest.index.lexical import BM25
from ingest.index.manifest import Manifest, ReportEntry
from ingest.index.pack import ExactVectors, Pack, ReportTerms
from ingest.index.schema import ChunkRecord
from ingest.index.shelf import Shelf
from ingest.index.store import IndexStore, open_pack
from ingest.lexicon.aliases import org_aliases
from ingest.lexicon.terms import fingerprint, terms

_PAGE = 1000  # peak RSS at 100x: 554 MiB with pages of 5,000, 342 MiB with 1,000 (and 0.9 s faster)


def org_terms_of(reports: Sequence[ReportEntry]) -> set[str]:
    """Words of the bureaus' names: they select reports, so they say nothing about which sentence answers."""
    out: set[str] = set()
    for org in {r.org for r in reports}:
        for alias in org_aliases(org):
            out.update(terms(alias))
    return out


@dataclass
class LoadedIndex:
    """One generation, ready to answer from: records, BM25, a dense search and the report texts."""

    manifest: Manifest
    chunks: Any  # `.query(query_embeddings=, n_results=, where=, include=)`: the pack's vectors or Chroma's
    records: Sequence[ChunkRecord]
    bm25: BM25
    reports: dict[str, ReportEntry]
    pack: Pack | None = None
    reports_col: Any = field(default=None, repr=False)

    @cached_property
    def positions(self) -> Mapping[str, int]:
        if self.pack is not None:
            return self.pack.positions
        return {r.chunk_id: i for i, r in enumerate(self.records)}

    def report_mask(self, report_ids: Sequence[str]) -> np.ndarray:
        """Which records belong to these reports."""
        if self.pack is not None:
            return self.pack.report_mask(report_ids)
        wanted = set(report_ids)
        return np.fromiter((r.report_id in wanted for r in self.records), dtype=bool, count=len(self.records))

    @cached_property
    def shelf(self) -> Shelf:
        return Shelf.of(self.manifest.reports)

    @cached_property
    def untitled_terms(self) -> Mapping[str, Counter[str]]:
        """Term counts of reports whose title names no bureau, for guessing who wrote them."""
        anonymous = [rid for rid, r in self.reports.items() if not r.org]
        if self.pack is not None:
            return ReportTerms(self.pack, anonymous)
        counts: dict[str, Counter[str]] = {rid: Counter() for rid in anonymous}
        for rec in self.records:
            if rec.report_id in counts:
                counts[rec.report_id].update(rec.terms)
        return counts

    @cached_property
    def org_terms(self) -> set[str]:
        """Words of the bureaus' names (computed by the ingest where the pack has them)."""
        stored = self.pack.meta.get("org_terms") if self.pack is not None else None
        return set(stored) if stored is not None else org_terms_of(self.manifest.reports)

    @cached_property
    def title_terms(self) -> Mapping[str, Sequence[str]]:
        """Each report's title terms (the pack's, computed by the ingest; else segmented now)."""
        stored = self.pack.title_terms if self.pack is not None else {}
        missing = [r for r in self.manifest.reports if r.report_id not in stored]
        return {**stored, **{r.report_id: terms(r.title) for r in missing}}

    @cached_property
    def title_words(self) -> frozenset[str]:
        """Words of all the reports' titles (places, units the unit matcher does not know)."""
        return frozenset(t for words in self.title_terms.values() for t in words)

    def report_text(self, report_id: str) -> str:
        if self.pack is not None and report_id in self.pack.report_index:
            return self.pack.report_text(report_id)
        if self.reports_col is None:
            return ""
        got = self.reports_col.get(ids=[report_id], include=["documents"])
        docs = got.get("documents") or []
        return docs[0] if docs else ""


def load_index(store: IndexStore, manifest: Manifest) -> LoadedIndex:
    """The generation's pack, opened (built first where this machine has none); dense search on the pack's
    vectors (the server's search only for a pack that has none)."""
    pack = open_pack(store, manifest)
    if pack.segmenter != fingerprint():
        raise IndexMismatch(
            f"the index's search terms were made by another segmenter ({pack.segmenter}, this one is "
            f"{fingerprint()}): run `reportbot ingest --rebuild PATH...`"
        )
    return LoadedIndex(
        manifest=manifest,
        chunks=ExactVectors(pack) if pack.vectors is not None else store.dense(manifest.generation),
        records=pack.records,
        bm25=pack.bm25,
        reports={r.report_id: r for r in manifest.reports},
        pack=pack,
    )


def load_index_in_memory(store: IndexStore, manifest: Manifest) -> LoadedIndex:
    """Every chunk read from Chroma and BM25 rebuilt from their terms, as readers did before packs: the
    reference the packed index is tested against, and what `dense` defaults to (Chroma's own search)."""
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
        chunks=store.dense(manifest.generation) or chunks,
        records=records,
        bm25=BM25.from_docs([list(r.terms) for r in records]),
        reports={r.report_id: r for r in manifest.reports},
        reports_col=reports_col,
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
            manifest.check_readable()
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
