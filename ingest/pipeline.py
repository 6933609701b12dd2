"""The ingest job: files → a new complete generation, published only when whole; unchanged files cost nothing."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout
from tqdm import tqdm

from ingest.errors import FileRejected, IngestBusy
from ingest.index.build import Progress, build_generation
from ingest.index.embed import CachedEmbeddings
from ingest.index.errors import IngestFailed, WriterBusy
from ingest.index.manifest import FileEntry, Manifest
from ingest.index.schema import FORMAT, PARSER, ParsedReport
from ingest.index.store import IndexStore
from ingest.ocr import PageOcr
from ingest.read import SUPPORTED, check_file, iter_files, read_document
from ingest.report import parse_text
from ingest.settings import IngestSettings
from ingest.tokens import load_encoding

__all__ = ["SUPPORTED", "FileOutcome", "IngestBusy", "IngestFailed", "IngestResult", "run_ingest"]


STATUSES = ("new", "moved", "changed", "unchanged", "duplicate", "removed", "failed")


@dataclass
class FileOutcome:
    path: str
    status: str
    reports: int = 0
    chunks: int = 0
    error: str = ""
    notes: list[str] = field(default_factory=list)


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

    @property
    def counts(self) -> dict[str, int]:
        """Files by outcome, every status present (0 where none), for one-line summaries."""
        return {s: sum(1 for o in self.outcomes if o.status == s) for s in STATUSES}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    ocr: bool = True,
) -> IngestResult:
    """Take the writer lock (and the server's lease), recover from any earlier crash, then ingest; raise IngestBusy if
    another ingest holds either. `ocr=False` (`--no-ocr`) refuses scanned PDFs instead of reading them."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.data_dir / "ingest.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise IngestBusy("another ingest is running; try again when it has finished") from None
    pages = (
        PageOcr(
            settings.ocr_cache_path, max_pages=settings.max_ocr_pages, show_progress=None if show_progress else False
        )
        if ocr
        else None
    )
    try:
        with store.writer():
            store.collect()
            return _ingest(list(paths), settings, store, embedder, prune, rebuild, show_progress, progress, pages)
    except WriterBusy as exc:
        raise IngestBusy(f"{exc}; try again when it has finished") from None
    finally:
        if pages is not None:
            pages.close()
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
    pages: PageOcr | None,
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
    if current and (
        current.chunk_tokens != settings.chunk_tokens or current.format != FORMAT or current.parser != PARSER
    ):
        rebuild = True
    old_files = dict(current.files) if current else {}
    encoding = load_encoding()
    count = lambda s: len(encoding.encode(s, disallowed_special=()))  # noqa: E731
    max_bytes = int(settings.max_file_mb * 1_000_000)

    parsed: dict[str, tuple[FileEntry, list[ParsedReport]]] = {}
    dropped: set[str] = set()
    files = list(dict.fromkeys(iter_files(paths, skip=settings.data_dir)))
    named_keys = {_key(p) for p in files}
    seen = {e.sha256: k for k, e in old_files.items() if k not in named_keys and Path(k).is_file()}
    gone = {e.sha256: k for k, e in old_files.items() if k not in named_keys and not Path(k).exists()}
    moved: list[str] = []
    if rebuild:  # re-read everything indexed, not only the paths named, so no old chunk or vector is carried over
        files += [Path(k) for k in old_files if k not in named_keys and Path(k).is_file()]
    bar = tqdm(files, desc="reading", unit="file", disable=not show_progress, leave=False)
    for n, path in enumerate(bar):
        key = _key(path)
        if progress:
            progress("reading", n, len(files))
        try:
            check_file(path, max_bytes)
            sha = file_sha256(path)
            old = old_files.get(key)
            if (twin := seen.setdefault(sha, key)) != key:  # a report copied into two folders is indexed once
                dropped.add(key)
                result.outcomes.append(FileOutcome(key, "duplicate", notes=[f"same content as {twin}: indexed once"]))
                continue
            if old and old.sha256 == sha and not rebuild:
                result.outcomes.append(FileOutcome(key, "unchanged", len(old.reports), old.chunks))
                continue
            doc = read_document(path, max_bytes, settings.max_pdf_pages, ocr=pages)
            reports = parse_text(doc.text, Path(key), settings.chunk_tokens, count, headings=doc.headings)
            if not any(r.chunks for r in reports):
                raise FileRejected(path, "no report text found after cleaning")
            entry = FileEntry(sha, path.stat().st_size, [r.title for r in reports], sum(len(r.chunks) for r in reports))
            parsed[key] = (entry, reports)
            status, notes = "changed" if old else "new", list(doc.notes)
            if not old and (was := gone.pop(sha, None)):  # a folder renamed: the report at its old path is gone
                status, notes = "moved", [f"moved from {was}", *notes]
                moved.append(was)
            result.outcomes.append(FileOutcome(key, status, len(reports), entry.chunks, notes=notes))
        except FileRejected as exc:
            result.outcomes.append(FileOutcome(key, "failed", error=exc.reason))
        except (OSError, ValueError, RuntimeError, MemoryError) as exc:
            result.outcomes.append(FileOutcome(key, "failed", error=f"unexpected {type(exc).__name__}: {exc}"))
    model_changed = current is not None and current.embedding != embedder.name
    removed = [k for k in old_files if (prune or model_changed) and not Path(k).exists()]
    for key in removed:
        result.outcomes.append(FileOutcome(key, "removed", len(old_files[key].reports), old_files[key].chunks))
    removed += [k for k in (*dropped, *moved) if k in old_files and k not in removed]

    if not parsed and not removed and current is not None:
        result.manifest = current
        result.seconds = time.perf_counter() - started
        return result
    kept = {k: v for k, v in old_files.items() if k not in parsed and k not in removed}
    result.manifest = build_generation(
        store, current, kept, parsed, settings.chunk_tokens, embedder, show_progress, progress
    )
    result.published = True
    result.embedded = embedder.embedded - embedded_before
    result.seconds = time.perf_counter() - started
    return result


def _key(path: Path) -> str:
    """How the manifest names a file: its resolved path, or the path as given when it is gone."""
    return str(path.resolve()) if path.exists() else str(path)
