"""Where index generations live: embedded Chroma (a directory each) or a Chroma server (collections each).

Each generation is written by one ingest and never changed after its manifest is published, so a reader
never sees a half-ingested file and two processes never write one embedded database (chroma#961, #7040).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from ingest.index.errors import StoreUnavailable, WriterBusy
from ingest.index.manifest import Manifest
from ingest.settings import IngestSettings

CHUNKS = "chunks"
REPORTS = "reports"
_WRITER = "writer"
_HNSW = {"hnsw": {"space": "cosine", "ef_construction": 200, "ef_search": 200}}


def chroma_settings() -> ChromaSettings:
    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def new_generation_id() -> str:
    """Sortable by creation time (to the microsecond: `collect` keeps the live one's predecessor by order);
    random tail so two machines never collide."""
    now = time.time_ns()
    stamp = time.strftime("g%Y%m%dt%H%M%S", time.gmtime(now // 10**9)) + f"{now // 1000 % 10**6:06d}"
    return f"{stamp}-{secrets.token_hex(3)}"


class IndexStore(ABC):
    """Generations of (chunks, reports) collections plus the pointer that names the live one."""

    description: str

    @abstractmethod
    def read_manifest(self) -> Manifest | None: ...

    @abstractmethod
    def pointer_token(self) -> Any:
        """Something cheap that changes whenever a new generation is published."""

    @abstractmethod
    def collections(self, generation: str, create: bool = False) -> tuple[Collection, Collection]: ...

    @abstractmethod
    def seal(self, generation: str) -> None:
        """Make a finished generation durable and ready for readers in other processes."""

    @abstractmethod
    def publish(self, manifest: Manifest) -> None: ...

    @abstractmethod
    def generations(self) -> list[str]: ...

    @abstractmethod
    def drop(self, generation: str) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @contextlib.contextmanager
    def writer(self) -> Iterator[None]:
        """Exclusive writing among processes on other machines; on one machine the ingest's file lock does it."""
        yield

    def collect(self, keep: int = 2) -> list[str]:
        """Drop unpublished and superseded generations, keeping the live one and its predecessor for readers."""
        manifest = self.read_manifest()
        live = manifest.generation if manifest else None
        gens = sorted(self.generations())
        keepers = {live} if live else set()
        if live:
            keepers.update([g for g in gens if g < live][-(keep - 1) :] if keep > 1 else [])
        dropped = [g for g in gens if g not in keepers]
        for generation in dropped:
            self.drop(generation)
        return dropped


class EmbeddedStore(IndexStore):
    """`data_dir/generations/<id>/` each a PersistentClient; `data_dir/current.json` the pointer."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.root = data_dir / "generations"
        self.pointer = data_dir / "current.json"
        self.description = f"embedded:{data_dir}"
        self._clients: dict[str, ClientAPI] = {}

    def read_manifest(self) -> Manifest | None:
        try:
            return Manifest.from_json(self.pointer.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def pointer_token(self) -> Any:
        try:
            st = self.pointer.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _client(self, generation: str, create: bool) -> ClientAPI:
        if generation not in self._clients:
            path = self.root / generation
            if not create and not (path / "chroma.sqlite3").exists():
                raise StoreUnavailable(f"index generation {generation} is missing from {self.root}")
            path.mkdir(parents=True, exist_ok=True)
            self._clients[generation] = chromadb.PersistentClient(path=str(path), settings=chroma_settings())
        return self._clients[generation]

    def collections(self, generation: str, create: bool = False) -> tuple[Collection, Collection]:
        client = self._client(generation, create)
        if create:
            return (
                client.create_collection(CHUNKS, embedding_function=None, configuration=_HNSW),  # type: ignore[arg-type]
                client.create_collection(REPORTS, embedding_function=None),
            )
        return (
            client.get_collection(CHUNKS, embedding_function=None),
            client.get_collection(REPORTS, embedding_function=None),
        )

    def seal(self, generation: str) -> None:
        client = self._clients.pop(generation, None)
        if client is not None:
            client.close()  # type: ignore[attr-defined]
        db = self.root / generation / "chroma.sqlite3"
        with contextlib.closing(sqlite3.connect(str(db))) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
        _fsync_tree(self.root / generation)

    def publish(self, manifest: Manifest) -> None:
        tmp = self.pointer.with_name(f".current.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(manifest.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.pointer)
        _fsync_dir(self.data_dir)

    def generations(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.exists() else []

    def drop(self, generation: str) -> None:
        client = self._clients.pop(generation, None)
        if client is not None:
            client.close()  # type: ignore[attr-defined]
        shutil.rmtree(self.root / generation, ignore_errors=True)

    def release(self, generation: str) -> None:
        """Close a reader's client on a generation it no longer uses."""
        client = self._clients.pop(generation, None)
        if client is not None:
            client.close()  # type: ignore[attr-defined]

    def close(self) -> None:
        for generation in list(self._clients):
            self.release(generation)


class ServerStore(IndexStore):
    """Collections `<prefix>-<gen>-chunks|reports` on a Chroma server; the pointer is a record in `<prefix>-meta`."""

    lease_seconds = 120.0

    def __init__(self, client: ClientAPI, prefix: str, description: str) -> None:
        self.client = client
        self.prefix = prefix
        self.description = description

    def _holder(self) -> dict[str, Any] | None:
        got = self._call(lambda: self._meta().get(ids=[_WRITER], include=["metadatas"]))
        metas = got.get("metadatas") or []
        return dict(metas[0]) if metas and metas[0] else None

    def _claim(self, me: str, since: str) -> None:
        self._call(
            lambda: self._meta().upsert(
                ids=[_WRITER],
                embeddings=[[0.0]],  # type: ignore[arg-type]
                documents=[""],
                metadatas=[{"holder": me, "since": since, "expires": time.time() + self.lease_seconds}],
            )
        )

    @contextlib.contextmanager
    def writer(self) -> Iterator[None]:
        """A lease record in `<prefix>-meta`, renewed while the ingest runs.

        Bots on several machines (a /reindex reaching any webhook replica) and the CLI share one server, so
        a local file lock can't keep them apart. Chroma has no compare-and-set: a claim is read back after
        a pause, and the ingest checks the live generation again before it publishes.
        """
        me = f"{socket.gethostname()} pid {os.getpid()} ({secrets.token_hex(3)})"
        held = self._holder()
        if held and held.get("holder") != me and float(held.get("expires", 0)) > time.time():
            raise WriterBusy(f"another ingest ({held.get('holder')}, since {held.get('since')}) is writing this index")
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        self._claim(me, since)
        time.sleep(0.2)
        held = self._holder()
        if not held or held.get("holder") != me:
            raise WriterBusy(f"another ingest ({held.get('holder') if held else 'unknown'}) claimed this index first")
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(max(self.lease_seconds / 4, 0.5)):
                with contextlib.suppress(Exception):
                    current = self._holder()
                    if current and current.get("holder") == me:
                        self._claim(me, since)

        thread = threading.Thread(target=renew, name="reportbot-writer-lease", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            with contextlib.suppress(Exception):
                if (self._holder() or {}).get("holder") == me:
                    self._call(lambda: self._meta().delete(ids=[_WRITER]))

    def _meta(self) -> Collection:
        return self.client.get_or_create_collection(f"{self.prefix}-meta", embedding_function=None)

    def read_manifest(self) -> Manifest | None:
        got = self._call(lambda: self._meta().get(ids=["current"], include=["documents"]))
        docs = got.get("documents") or []
        return Manifest.from_json(docs[0]) if docs and docs[0] else None

    def pointer_token(self) -> Any:
        got = self._call(lambda: self._meta().get(ids=["current"], include=["metadatas"]))
        metas = got.get("metadatas") or []
        return metas[0].get("generation") if metas and metas[0] else None

    def _name(self, generation: str, kind: str) -> str:
        return f"{self.prefix}-{generation}-{kind}"

    def collections(self, generation: str, create: bool = False) -> tuple[Collection, Collection]:
        if create:
            return self._call(
                lambda: (
                    self.client.create_collection(
                        self._name(generation, CHUNKS),
                        embedding_function=None,
                        configuration=_HNSW,  # type: ignore[arg-type]
                    ),
                    self.client.create_collection(self._name(generation, REPORTS), embedding_function=None),
                )
            )
        return self._call(
            lambda: (
                self.client.get_collection(self._name(generation, CHUNKS), embedding_function=None),
                self.client.get_collection(self._name(generation, REPORTS), embedding_function=None),
            )
        )

    def seal(self, generation: str) -> None:
        return None

    def publish(self, manifest: Manifest) -> None:
        self._call(
            lambda: self._meta().upsert(
                ids=["current"],
                embeddings=[[0.0]],  # type: ignore[arg-type]
                documents=[manifest.to_json()],
                metadatas=[{"generation": manifest.generation}],
            )
        )

    def generations(self) -> list[str]:
        names = self._call(lambda: [c if isinstance(c, str) else c.name for c in self.client.list_collections()])
        head = f"{self.prefix}-g"
        return sorted({n[len(self.prefix) + 1 :].rsplit("-", 1)[0] for n in names if n.startswith(head)})

    def drop(self, generation: str) -> None:
        for kind in (CHUNKS, REPORTS):
            with contextlib.suppress(Exception):
                self.client.delete_collection(self._name(generation, kind))

    def close(self) -> None:
        return None

    def _call(self, fn: Any) -> Any:
        try:
            return fn()
        except (ConnectionError, OSError) as exc:
            raise StoreUnavailable(f"Chroma server {self.description} is unreachable: {exc}") from None
        except Exception as exc:
            if "connect" in str(exc).lower() or type(exc).__name__ in {
                "ConnectError",
                "ReadTimeout",
                "RemoteProtocolError",
            }:
                raise StoreUnavailable(f"Chroma server {self.description} is unreachable") from None
            raise


def open_store(settings: IngestSettings) -> IndexStore:
    """The one place a Chroma client is built from settings."""
    if settings.server_mode:
        headers = {}
        if settings.chroma_auth_token is not None:
            token = settings.chroma_auth_token.get_secret_value()
            headers[settings.chroma_auth_header] = (
                f"Bearer {token}" if settings.chroma_auth_header.lower() == "authorization" else token
            )
        scheme = "https" if settings.chroma_ssl else "http"
        description = f"{scheme}://{settings.chroma_host}:{settings.chroma_port}"
        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host or "localhost",
                port=settings.chroma_port,
                ssl=settings.chroma_ssl,
                headers=headers,
                settings=chroma_settings(),
            )
        except Exception as exc:
            raise StoreUnavailable(f"Chroma server {description} is unreachable: {exc}") from None
        return ServerStore(client, settings.collection_prefix, description)
    return EmbeddedStore(settings.data_dir)


def _fsync_dir(path: Path) -> None:
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                fd = os.open(os.path.join(root, name), os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        _fsync_dir(Path(root))
