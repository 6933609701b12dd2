"""The ingest job: files → a new complete generation, published only when whole; unchanged files cost nothing."""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from tqdm import tqdm

from ingest.embed import CachedEmbeddings
from ingest.errors import FileRejected
from ingest.manifest import FileEntry, Manifest, ReportEntry
from ingest.normalize import normalize_for_match
from ingest.read import check_file, iter_files, read_text
from ingest.report import ParsedReport, parse_text
from ingest.settings import IngestSettings
from ingest.store import IndexStore, WriterBusy, new_generation_id
from ingest.terms import terms
from ingest.tokens import load_encoding

Progress = Callable[[str, int, int], None]
_COPY_BATCH = 1000
# One add per report cost ~0.1-0.7 s each in embedded Chroma: 13 min for the 1,100 reports of the 100x corpus.
_REPORT_BATCH = 64


class IngestBusy(RuntimeError):
    """Another ingest holds the writer lock."""


class IngestFailed(RuntimeError):
    """The new generation could not be written; the previous one still answers."""


@dataclass
class FileOutcome:
    path: str
    status: str
    reports: int = 0
    chunks: int = 0
    error: str = ""


@dataclass
class IngestResult:
    outcomes: list[FileOutcome] = field(default_factory=list)
    manifest: Manifest | None = None
    published: bool = False
    embedded: int = 0
    seconds: float = 0.0

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def embedding_text(report: ParsedReport, section: str, text: str) -> str:
    """What the model and BM25 see: the chunk with its report title and heading path, normalised."""
    return normalize_for_match(f"{report.title} {section}\n{text}")


def run_ingest(
    paths: Iterable[Path],
    settings: IngestSettings,
    store: IndexStore,
    embedder: CachedEmbeddings,
    *,
    prune: bool = False,
    rebuild: bool = False,
    show_progress: bool = True,
    progress: Progress | None = None,
) -> IngestResult:
    """Take the writer lock (and the server's lease), recover from any earlier crash, then ingest; raise IngestBusy if
    another ingest holds either."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.data_dir / "ingest.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise IngestBusy("another ingest is running; try again when it has finished") from None
    try:
        with store.writer():
            store.collect()
            return _ingest(list(paths), settings, store, embedder, prune, rebuild, show_progress, progress)
    except WriterBusy as exc:
        raise IngestBusy(f"{exc}; try again when it has finished") from None
    finally:
        lock.release()


def _ingest(
    paths: list[Path],
    settings: IngestSettings,
    store: IndexStore,
    embedder: CachedEmbeddings,
    prune: bool,
    rebuild: bool,
    show_progress: bool,
    progress: Progress | None,
) -> IngestResult:
    started = time.perf_counter()
    embedded_before = embedder.embedded
    result = IngestResult()
    current = store.read_manifest()
    if current and current.embedding != embedder.name and not rebuild:
        raise IngestFailed(
            f"the index was built with {current.embedding}, settings now say {embedder.name}: "
            "run `reportbot ingest --rebuild PATH...`"
        )
    if current and current.chunk_tokens != settings.chunk_tokens:
        rebuild = True
    old_files = dict(current.files) if current else {}
    encoding = load_encoding()
    count = lambda s: len(encoding.encode(s, disallowed_special=()))  # noqa: E731
    max_bytes = int(settings.max_file_mb * 1_000_000)

    parsed: dict[str, tuple[FileEntry, list[ParsedReport]]] = {}
    files = list(dict.fromkeys(iter_files(paths)))
    if rebuild:  # re-read everything indexed, not only the paths named, so no old chunk or vector is carried over
        named = {str(p.resolve()) for p in files if p.exists()}
        files += [Path(k) for k in old_files if k not in named and Path(k).is_file()]
    bar = tqdm(files, desc="reading", unit="file", disable=not show_progress, leave=False)
    for n, path in enumerate(bar):
        key = str(path.resolve()) if path.exists() else str(path)
        if progress:
            progress("reading", n, len(files))
        try:
            check_file(path, max_bytes)
            sha = file_sha256(path)
            old = old_files.get(key)
            if old and old.sha256 == sha and not rebuild:
                result.outcomes.append(FileOutcome(key, "unchanged", len(old.reports), old.chunks))
                continue
            reports = parse_text(
                read_text(path, max_bytes, settings.max_pdf_pages), Path(key), settings.chunk_tokens, count
            )
            if not any(r.chunks for r in reports):
                raise FileRejected(path, "no report text found after cleaning")
            entry = FileEntry(sha, path.stat().st_size, [r.title for r in reports], sum(len(r.chunks) for r in reports))
            parsed[key] = (entry, reports)
            result.outcomes.append(FileOutcome(key, "changed" if old else "new", len(reports), entry.chunks))
        except FileRejected as exc:
            result.outcomes.append(FileOutcome(key, "failed", error=exc.reason))
        except (OSError, ValueError, RuntimeError, MemoryError) as exc:
            result.outcomes.append(FileOutcome(key, "failed", error=f"unexpected {type(exc).__name__}: {exc}"))
    model_changed = current is not None and current.embedding != embedder.name
    removed = [k for k in old_files if (prune or model_changed) and not Path(k).exists()]
    for key in removed:
        result.outcomes.append(FileOutcome(key, "removed", len(old_files[key].reports), old_files[key].chunks))

    if not parsed and not removed and current is not None:
        result.manifest = current
        result.seconds = time.perf_counter() - started
        return result
    kept = {k: v for k, v in old_files.items() if k not in parsed and k not in removed}
    result.manifest = _build_generation(store, current, kept, parsed, settings, embedder, show_progress, progress)
    result.published = True
    result.embedded = embedder.embedded - embedded_before
    result.seconds = time.perf_counter() - started
    return result


def _build_generation(
    store: IndexStore,
    current: Manifest | None,
    kept: dict[str, FileEntry],
    parsed: dict[str, tuple[FileEntry, list[ParsedReport]]],
    settings: IngestSettings,
    embedder: CachedEmbeddings,
    show_progress: bool,
    progress: Progress | None,
) -> Manifest:
    generation = new_generation_id()
    try:
        chunks_col, reports_col = store.collections(generation, create=True)
        kept_reports: list[ReportEntry] = []
        if current and kept:
            old_chunks, old_reports = store.collections(current.generation)
            for key in kept:
                _copy(old_chunks, chunks_col, key, with_embeddings=True)
                _copy(old_reports, reports_col, key, with_embeddings=True)
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
            chunk_tokens=settings.chunk_tokens,
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


def _copy(source: Any, target: Any, file: str, with_embeddings: bool) -> None:
    """Carry an unchanged file's records into the new generation without re-embedding."""
    offset = 0
    while True:
        got = source.get(
            where={"file": file},
            include=["embeddings", "documents", "metadatas"] if with_embeddings else ["documents", "metadatas"],
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
    batch = 64
    bar = tqdm(total=len(work), desc="embedding", unit="chunk", disable=not show_progress, leave=False)
    for i in range(0, len(work), batch):
        part = work[i : i + batch]
        texts = [embedding_text(r, c.section, c.text) for r, c in part]
        vectors = embedder.embed_documents(texts)
        chunks_col.add(
            ids=[c.chunk_id for _, c in part],
            embeddings=vectors,
            documents=[c.text for _, c in part],
            metadatas=[_chunk_meta(r, c, text) for (r, c), text in zip(part, texts, strict=True)],
        )
        bar.update(len(part))
        if progress:
            progress("embedding", i + len(part), len(work))
    bar.close()
    reports = [report for _, file_reports in parsed.values() for report in file_reports]
    for i in range(0, len(reports), _REPORT_BATCH):
        part = reports[i : i + _REPORT_BATCH]
        reports_col.add(
            ids=[r.report_id for r in part],
            embeddings=[[0.0]] * len(part),
            documents=[r.text for r in part],
            metadatas=[{"file": r.file, "title": r.title} for r in part],
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
            for r in part
        )
    return entries


def _chunk_meta(report: ParsedReport, chunk: Any, text: str) -> dict[str, Any]:
    return {
        "report_id": report.report_id,
        "report": report.title,
        "org": report.facts.org,
        "file": report.file,
        "section": chunk.section,
        "block": chunk.block,
        "start": chunk.start,
        "end": chunk.end,
        "block_start": chunk.block_start,
        "block_end": chunk.block_end,
        "ordinal": chunk.ordinal,
        "kind": chunk.kind,
        "year": chunk.year or 0,
        "terms": " ".join(terms(text)),
    }
