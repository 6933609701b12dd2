"""Writing one index generation: carry unchanged files over, embed and add the new ones, seal, publish."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ingest.index.embed import CachedEmbeddings
from ingest.index.errors import IngestFailed
from ingest.index.manifest import FileEntry, Manifest, ReportEntry
from ingest.index.pack import PackWriter
from ingest.index.reader import org_terms_of
from ingest.index.schema import ChunkRecord, ParsedReport
from ingest.index.store import IndexStore, ServerStore, new_generation_id, open_pack
from ingest.lexicon.terms import fingerprint

Progress = Callable[[str, int, int], None]
# One add per report cost ~0.1-0.7 s each in embedded Chroma: 13 min for the 1,100 reports of the 100x corpus.
_REPORT_BATCH = 64
_EMBED_BATCH = 64
# Chroma's add costs per call as much as per record: 86 chunks/s in adds of 64, 390/s in adds of 1,000.
_ADD_BATCH = 1024


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
    """The new generation, published; on any failure it is dropped and the live one stays as it was.

    Unchanged files are carried over by the store (a file-level copy of the sealed previous generation, or
    a reference to the server segment that holds them) and by the pack (their rows copied), so the cost of
    a re-ingest follows what changed, not the size of the shelf.
    """
    generation = new_generation_id()
    files = sorted({*kept, *parsed})
    replaced = set(current.files) - set(kept) if current else set()
    pack: PackWriter | None = None
    try:
        old_pack = open_pack(store, current, with_vectors=True) if current and kept else None
        # nothing kept (a rebuild, perhaps with another model): fresh collections, not a copy to empty
        chunks_col, reports_col = store.begin(generation, current if kept else None, files, replaced)
        pack = PackWriter(_pack_tmp(store, generation), embedder.dim)
        kept_reports = [r for r in current.reports if r.file in kept] if current else []
        new_reports, vectors = _write_new(chunks_col, reports_col, parsed, embedder, show_progress, progress)
        for file in files:
            if file in parsed:
                reports = parsed[file][1]
                pack.add_file(
                    file,
                    parsed[file][0].sha256,
                    [c for r in reports for c in r.chunks],
                    [(r.report_id, r.text) for r in reports],
                    vectors.get(file),
                )
            else:
                pack.add_kept(old_pack, file)  # type: ignore[arg-type]
        all_reports = sorted(kept_reports + new_reports, key=lambda r: r.file)
        segments = store.layout(generation) if isinstance(store, ServerStore) else None
        titles = {r.report_id: r.title for r in all_reports}
        pack.finish(generation, fingerprint(), sorted(org_terms_of(all_reports)), segments, titles)
        _place(pack.folder, store.pack_dir(generation))
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
            reports=all_reports,
        )
        store.publish(manifest)
    except Exception as exc:  # disk full, read-only dir, server gone: the live generation stays as it was
        if pack is not None:
            with contextlib.suppress(Exception):
                pack.abort()
        with contextlib.suppress(Exception):
            store.drop(generation)
        with contextlib.suppress(Exception):
            shutil.rmtree(store.pack_dir(generation), ignore_errors=True)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise IngestFailed(f"cannot write the index in {store.description}: {reason}") from None
    store.collect()
    return manifest


def _pack_tmp(store: IndexStore, generation: str) -> Path:
    """Beside its final place (same file system, so the rename is atomic)."""
    target = store.pack_dir(generation)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def _place(tmp: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


def _write_new(
    chunks_col: Any,
    reports_col: Any,
    parsed: dict[str, tuple[FileEntry, list[ParsedReport]]],
    embedder: CachedEmbeddings,
    show_progress: bool,
    progress: Progress | None,
) -> tuple[list[ReportEntry], dict[str, list[list[float]]]]:
    """Embed and add the files read; their vectors by file, in chunk order, for the pack."""
    entries: list[ReportEntry] = []
    vectors: dict[str, list[list[float]]] = {file: [] for file in parsed}
    work = [(report, chunk) for _, reports in parsed.values() for report in reports for chunk in report.chunks]
    bar = tqdm(total=len(work), desc="embedding", unit="chunk", disable=not show_progress, leave=False)
    pending: list[tuple[ChunkRecord, list[float]]] = []

    def flush() -> None:
        chunks_col.add(
            ids=[c.chunk_id for c, _ in pending],
            embeddings=[v for _, v in pending],
            documents=[c.text for c, _ in pending],
            metadatas=[c.metadata() for c, _ in pending],
        )
        pending.clear()

    for i in range(0, len(work), _EMBED_BATCH):
        part = [chunk for _, chunk in work[i : i + _EMBED_BATCH]]
        embedded = embedder.embed_documents([c.search_text for c in part])
        for chunk, vec in zip(part, embedded, strict=True):
            vectors[chunk.file].append(vec)
            pending.append((chunk, vec))
        if len(pending) >= _ADD_BATCH:
            flush()
        bar.update(len(part))
        if progress:
            progress("embedding", i + len(part), len(work))
    if pending:
        flush()
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
    return entries, vectors
