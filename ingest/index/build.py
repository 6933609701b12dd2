"""Writing one index generation: carry unchanged files over, embed and add the new ones, seal, publish."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from tqdm import tqdm

from ingest.index.embed import CachedEmbeddings
from ingest.index.errors import IngestFailed
from ingest.index.manifest import FileEntry, Manifest, ReportEntry
from ingest.index.schema import ParsedReport
from ingest.index.store import IndexStore, new_generation_id

Progress = Callable[[str, int, int], None]
_COPY_BATCH = 1000
# One add per report cost ~0.1-0.7 s each in embedded Chroma: 13 min for the 1,100 reports of the 100x corpus.
_REPORT_BATCH = 64
_EMBED_BATCH = 64


def build_generation(
    store: IndexStore,
    current: Manifest | None,
    kept: dict[str, FileEntry],
    parsed: dict[str, tuple[FileEntry, list[ParsedReport]]],
    chunk_tokens: int,
    embedder: CachedEmbeddings,
    show_progress: bool,
    progress: Progress | None,
) -> Manifest:
    """The new generation, published; on any failure it is dropped and the live one stays as it was."""
    generation = new_generation_id()
    try:
        chunks_col, reports_col = store.collections(generation, create=True)
        kept_reports: list[ReportEntry] = []
        if current and kept:
            old_chunks, old_reports = store.collections(current.generation)
            for key in kept:
                _copy(old_chunks, chunks_col, key)
                _copy(old_reports, reports_col, key)
            kept_reports = [r for r in current.reports if r.file in kept]
        new_reports = _write_new(chunks_col, reports_col, parsed, embedder, show_progress, progress)
        store.seal(generation)
        latest = store.read_manifest()
        if (latest.generation if latest else None) != (current.generation if current else None):
            raise RuntimeError("another ingest published a new index while this one ran; run this one again")
        manifest = Manifest(
            generation=generation,
            embedding=embedder.name,
            dim=embedder.dim,
            chunk_tokens=chunk_tokens,
            created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            files={**kept, **{k: v[0] for k, v in parsed.items()}},
            reports=sorted(kept_reports + new_reports, key=lambda r: r.file),
        )
        store.publish(manifest)
    except Exception as exc:  # disk full, read-only dir, server gone: the live generation stays as it was
        with contextlib.suppress(Exception):
            store.drop(generation)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise IngestFailed(f"cannot write the index in {store.description}: {reason}") from None
    store.collect()
    return manifest


def _copy(source: Any, target: Any, file: str) -> None:
    """Carry an unchanged file's records into the new generation without re-embedding."""
    offset = 0
    while True:
        got = source.get(
            where={"file": file},
            include=["embeddings", "documents", "metadatas"],
            limit=_COPY_BATCH,
            offset=offset,
        )
        if not got["ids"]:
            return
        target.add(ids=got["ids"], embeddings=got["embeddings"], documents=got["documents"], metadatas=got["metadatas"])
        offset += len(got["ids"])


def _write_new(
    chunks_col: Any,
    reports_col: Any,
    parsed: dict[str, tuple[FileEntry, list[ParsedReport]]],
    embedder: CachedEmbeddings,
    show_progress: bool,
    progress: Progress | None,
) -> list[ReportEntry]:
    entries: list[ReportEntry] = []
    work = [(report, chunk) for _, reports in parsed.values() for report in reports for chunk in report.chunks]
    bar = tqdm(total=len(work), desc="embedding", unit="chunk", disable=not show_progress, leave=False)
    for i in range(0, len(work), _EMBED_BATCH):
        part = [chunk for _, chunk in work[i : i + _EMBED_BATCH]]
        chunks_col.add(
            ids=[c.chunk_id for c in part],
            embeddings=embedder.embed_documents([c.search_text for c in part]),
            documents=[c.text for c in part],
            metadatas=[c.metadata() for c in part],
        )
        bar.update(len(part))
        if progress:
            progress("embedding", i + len(part), len(work))
    bar.close()
    reports = [report for _, file_reports in parsed.values() for report in file_reports]
    for i in range(0, len(reports), _REPORT_BATCH):
        some = reports[i : i + _REPORT_BATCH]
        reports_col.add(
            ids=[r.report_id for r in some],
            embeddings=[[0.0]] * len(some),
            documents=[r.text for r in some],
            metadatas=[{"file": r.file, "title": r.title} for r in some],
        )
        entries.extend(
            ReportEntry(
                report_id=r.report_id,
                title=r.title,
                file=r.file,
                org=r.facts.org,
                sections=r.sections,
                chunks=len(r.chunks),
                year=r.facts.year,
                plan_year=r.facts.plan_year,
                kind=r.facts.kind,
            )
            for r in some
        )
    return entries
