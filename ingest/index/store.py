"""Where index generations live: embedded Chroma (a directory each) or a Chroma server (collections each).

Each generation is written by one ingest and never changed after its manifest is published, so a reader
never sees a half-ingested file and two processes never write one embedded database (chroma#961, #7040).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.index.errors import StoreUnavailable, WriterBusy
from ingest.index.manifest import Manifest
from ingest.index.pack import Pack, PackDamaged, PackWriter

if TYPE_CHECKING:  # Chroma takes ~1 s to import; a reader of an embedded index never needs it
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from chromadb.config import Settings as ChromaSettings

    from ingest.settings import IngestSettings

CHUNKS = "chunks"
REPORTS = "reports"
_WRITER = "writer"
_HNSW = {"hnsw": {"space": "cosine", "ef_construction": 200, "ef_search": 200}}


def chroma_settings() -> ChromaSettings:
    from chromadb.config import Settings as ChromaSettings

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

    cache_root: Path
    """Packs this machine built for itself (server mode, or an index from before packs): `DATA_DIR/packs`."""

    def pack_dir(self, generation: str) -> Path:
        """Where the generation's pack is written by the ingest and looked for first by readers."""
        return self.cache_root / generation

    @abstractmethod
    def begin(
        self, generation: str, current: Manifest | None, files: list[str], replaced: set[str]
    ) -> tuple[Collection, Collection]:
        """Start a generation holding `files`: those of `current` not in `replaced` are carried over, the
        collections returned take the rest."""

    def file_collections(self, generation: str, file: str) -> tuple[Collection, Collection]:
        """The collections that hold a file's chunks and report texts in a generation."""
        return self.collections(generation)

    def dense(self, generation: str) -> Any | None:
        """What answers the retriever's dense query, or None: the pack's own vectors."""
        return None

    def collect(self, keep: int = 2) -> list[str]:
        """Drop unpublished and superseded generations, keeping the live one and its predecessor for readers."""
        manifest = self.read_manifest()
        live = manifest.generation if manifest else None
        gens = sorted(self.generations())
        keepers = {live} if live else set()
        if live:
            keepers.update([g for g in gens if g < live][-(keep - 1) :] if keep > 1 else [])
        keepers |= self.needed_by(keepers)
        dropped = [g for g in gens if g not in keepers]
        for generation in dropped:
            self.drop(generation)
        self._collect_packs(keepers)
        return dropped

    def needed_by(self, generations: set[str]) -> set[str]:
        """Other generations whose data these read (server segments)."""
        return set()

    def _collect_packs(self, keepers: set[str]) -> None:
        if not self.cache_root.is_dir():
            return
        for path in self.cache_root.iterdir():
            if path.name.startswith(".") or self._pack_generation(path.name) not in keepers:
                shutil.rmtree(path, ignore_errors=True)

    def _pack_generation(self, name: str) -> str:
        return name


_WAL = "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], timeout=60)\nc.execute('PRAGMA journal_mode=WAL')\nc.close()\n"
_BACKUP = (
    "import sqlite3, sys\n"
    "s = sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True, timeout=60)\n"
    "d = sqlite3.connect(sys.argv[2], timeout=60)\n"
    "s.backup(d)\nd.close()\ns.close()\n"
)


def _sqlite_apart(script: str, *args: str) -> None:
    """Run SQLite on a Chroma database in a child process, never in ours.

    Chroma's Rust side links its own SQLite; two SQLite copies in one process do not see each other's POSIX
    locks (sqlite.org/howtocorrupt.html §2.2), so ours could reset the -shm file Chroma still maps, and the
    process dies of SIGBUS (seen in the /reindex-after-SIGKILL test). In a child, locking works as between
    any two processes.
    """
    done = subprocess.run([sys.executable, "-I", "-c", script, *args], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        lines = (done.stderr or "").strip().splitlines()
        raise OSError(f"SQLite on {args[0]} failed: {lines[-1] if lines else done.returncode}")


class EmbeddedStore(IndexStore):
    """`data_dir/generations/<id>/` each a PersistentClient; `data_dir/current.json` the pointer."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.root = data_dir / "generations"
        self.pointer = data_dir / "current.json"
        self.cache_root = data_dir / "packs"
        self.description = f"embedded:{data_dir}"
        self._clients: dict[str, ClientAPI] = {}

    def pack_dir(self, generation: str) -> Path:
        return self.root / generation / "pack"

    def begin(
        self, generation: str, current: Manifest | None, files: list[str], replaced: set[str]
    ) -> tuple[Collection, Collection]:
        """Copy the sealed previous generation's directory file by file, then delete what changed.

        Copying 200,000 chunks through Chroma (read, re-add, re-index) took longer than the two minutes a
        re-ingest may; the files of a sealed generation are never written again, so a byte copy is a
        consistent snapshot, and the copy is as unpublished as a fresh directory until `publish`.
        """
        source = self.root / current.generation if current else None
        if source is None or not (source / "chroma.sqlite3").exists():
            return self.collections(generation, create=True)
        self.release(current.generation)  # type: ignore[union-attr]
        target = self.root / generation
        shutil.rmtree(target, ignore_errors=True)
        # the vector segments by file; the database through SQLite's backup, which reads a consistent
        # snapshot even while a reader's connection comes and goes with its -wal file
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("pack", "chroma.sqlite3*", "*.tmp"))
        _sqlite_apart(_BACKUP, str(source / "chroma.sqlite3"), str(target / "chroma.sqlite3"))
        chunks, reports = self.collections(generation)
        gone = sorted(replaced)
        for i in range(0, len(gone), 100):
            where: Any = {"file": {"$in": gone[i : i + 100]}}
            chunks.delete(where=where)
            reports.delete(where=where)
        return chunks, reports

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
            import chromadb

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
        _sqlite_apart(_WAL, str(self.root / generation / "chroma.sqlite3"))
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
    max_segments = 6
    """Segments a generation may read from before an ingest folds the smallest into its own."""

    def __init__(self, client: ClientAPI, prefix: str, description: str, cache_root: Path | None = None) -> None:
        self.client = client
        self.prefix = prefix
        self.description = description
        self.cache_root = cache_root or Path(tempfile.gettempdir()) / f"reportbot-packs-{os.getuid()}"
        self._meta_col: Collection | None = None

    # A generation's chunks live in segments: the collections of the generation that wrote each file. An
    # ingest writes only the files it read into its own segment and points at earlier segments for the
    # rest (Chroma's collection fork is Chroma Cloud's only: the local `_fork` raises NotImplementedError),
    # so a re-ingest of one file costs that file, not the shelf. The layout record says which segment
    # serves each file; a segment whose file was replaced later is queried with that file filtered out.

    def pack_dir(self, generation: str) -> Path:
        return self.cache_root / f"{self.prefix}-{generation}"

    def _pack_generation(self, name: str) -> str:
        return name.removeprefix(f"{self.prefix}-")

    def _record(self, key: str) -> Any:
        got = self._call(lambda: self._meta().get(ids=[key], include=["documents"]))
        docs = got.get("documents") or []
        return json.loads(docs[0]) if docs and docs[0] else None

    def _put(self, key: str, value: Any) -> None:
        self._call(
            lambda: self._meta().upsert(
                ids=[key],
                embeddings=[[0.0]],  # type: ignore[arg-type]
                documents=[json.dumps(value, ensure_ascii=False)],
                metadatas=[{"kind": key.split("-", 1)[0]}],
            )
        )

    def layout(self, generation: str, manifest: Manifest | None = None) -> dict[str, str]:
        """file → the segment holding its chunks; a generation from before segments holds all its own."""
        stored = self._record(f"layout-{generation}")
        if stored is not None:
            return dict(stored)
        files = manifest.files if manifest is not None and manifest.generation == generation else {}
        return dict.fromkeys(files, generation)

    def _segment_files(self, segment: str) -> set[str] | None:
        stored = self._record(f"segment-{segment}")
        return set(stored) if stored is not None else None

    def begin(
        self, generation: str, current: Manifest | None, files: list[str], replaced: set[str]
    ) -> tuple[Collection, Collection]:
        chunks, reports = self.collections(generation, create=True)
        old = self.layout(current.generation, current) if current else {}
        kept = {f: seg for f, seg in old.items() if f in files and f not in replaced}
        sizes: dict[str, int] = {}
        for f, seg in kept.items():
            sizes[seg] = sizes.get(seg, 0) + (current.files[f].chunks if current and f in current.files else 0)
        folded = sorted(sizes, key=lambda g: sizes[g])[: max(len(sizes) + 1 - self.max_segments, 0)]
        for f, seg in sorted(kept.items()):
            if seg in folded:
                self._copy_file(seg, generation, f)
                kept[f] = generation
        layout = {f: kept.get(f, generation) for f in files}
        self._put(f"segment-{generation}", sorted(f for f, seg in layout.items() if seg == generation))
        self._put(f"layout-{generation}", layout)
        return chunks, reports

    def _copy_file(self, source: str, target: str, file: str) -> None:
        src = self.collections(source)
        dst = self.collections(target)
        for a, b in zip(src, dst, strict=True):
            offset = 0
            while True:
                got = self._call(
                    lambda a=a, offset=offset: a.get(
                        where={"file": file},
                        include=["embeddings", "documents", "metadatas"],
                        limit=1000,
                        offset=offset,
                    )
                )
                if not got["ids"]:
                    break
                self._call(
                    lambda b=b, got=got: b.add(
                        ids=got["ids"],
                        embeddings=got["embeddings"],
                        documents=got["documents"],
                        metadatas=got["metadatas"],
                    )
                )
                offset += len(got["ids"])

    def file_collections(self, generation: str, file: str) -> tuple[Collection, Collection]:
        return self.collections(self.layout(generation).get(file, generation))

    def dense(self, generation: str) -> Any:
        """The server's own search across the generation's segments, for a pack without vectors. Readers
        search their pack's vectors instead: `chroma run` took 0.4-1 s a question at 205,000 chunks (a
        filter of 1,000 reports, or none), the exact search in the reader tens of milliseconds."""
        layout = self.layout(generation, self.read_manifest())
        by_segment: dict[str, set[str]] = {}
        for f, seg in layout.items():
            by_segment.setdefault(seg, set()).add(f)
        parts: list[tuple[Any, list[str]]] = []
        for seg, live in sorted(by_segment.items()):
            held = self._segment_files(seg)
            parts.append((self.collections(seg)[0], sorted(held - live) if held else []))
        return SegmentedChunks(parts, self._call)

    def needed_by(self, generations: set[str]) -> set[str]:
        out: set[str] = set()
        for g in generations:
            out.update(self.layout(g).values())
        return out

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
        """Fetched once: readers check the pointer before every question, and fetching the handle was half
        the cost of that check (one of two HTTP calls)."""
        if self._meta_col is None:
            self._meta_col = self.client.get_or_create_collection(f"{self.prefix}-meta", embedding_function=None)
        return self._meta_col

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
        with contextlib.suppress(Exception):
            self._meta().delete(ids=[f"layout-{generation}", f"segment-{generation}"])

    def close(self) -> None:
        return None

    def _call(self, fn: Any, retry: bool = True) -> Any:
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
            if retry and self._meta_col is not None and type(exc).__name__ == "NotFoundError":
                self._meta_col = None  # the server may have been reset under us: fetch the handle again, once
                return self._call(fn, retry=False)
            raise


class SegmentedChunks:
    """A generation's chunks across its segments, queried as one collection: each segment's best, merged
    by distance (one cosine space, so distances compare), replaced files filtered out."""

    def __init__(self, parts: list[tuple[Any, list[str]]], call: Any) -> None:
        self.parts = parts
        self._call = call

    def query(
        self, query_embeddings: Any, n_results: int, where: dict[str, Any] | None = None, include: Any = ("distances",)
    ) -> dict[str, Any]:
        merged: list[list[tuple[float, int, str]]] = [[] for _ in query_embeddings]
        for n, (collection, replaced) in enumerate(self.parts):
            clauses = [c for c in (where, {"file": {"$nin": replaced}} if replaced else None) if c]
            filt = clauses[0] if len(clauses) == 1 else {"$and": clauses} if clauses else None
            got = self._call(
                lambda c=collection, f=filt: c.query(
                    query_embeddings=query_embeddings, n_results=n_results, where=f, include=["distances"]
                )
            )
            for q, (ids, dists) in enumerate(zip(got["ids"], got["distances"], strict=True)):
                merged[q].extend((float(d), n, cid) for cid, d in zip(ids, dists, strict=True))
        best = [sorted(m)[:n_results] for m in merged]
        return {"ids": [[c for _, _, c in b] for b in best], "distances": [[d for d, _, _ in b] for b in best]}


def open_pack(store: IndexStore, manifest: Manifest, with_vectors: bool = False) -> Pack:
    """The generation's pack: the ingest's, else this machine's cached one, else built from the store now.

    In server mode a cached pack of an earlier generation lends the files whose chunks still come from the
    same segment, so a reader catches up with a one-file re-ingest by fetching that file only. A pack
    without vectors (written before server packs held them) is rebuilt when `with_vectors` asks for them.
    """
    for folder in (store.pack_dir(manifest.generation), store.cache_root / manifest.generation):
        with contextlib.suppress(PackDamaged):
            pack = Pack(folder)
            if pack.vectors is not None or not with_vectors:
                return pack
    if isinstance(store, ServerStore):
        return build_pack(store, manifest, store.pack_dir(manifest.generation), True, _cached_base(store))
    return build_pack(store, manifest, store.cache_root / manifest.generation, True)


def _cached_base(store: ServerStore) -> Pack | None:
    """The newest complete pack of this store on this machine."""
    if not store.cache_root.is_dir():
        return None
    for folder in sorted(store.cache_root.glob(f"{store.prefix}-g*"), reverse=True):
        with contextlib.suppress(PackDamaged):
            return Pack(folder)
    return None


def build_pack(
    store: IndexStore, manifest: Manifest, folder: Path, with_vectors: bool, base: Pack | None = None
) -> Pack:
    """Read a generation's chunks from Chroma into a pack (written beside, renamed into place when whole)."""
    from ingest.index.schema import ChunkRecord
    from ingest.lexicon.terms import fingerprint

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    writer = PackWriter(tmp, manifest.dim if with_vectors else None)
    segments = store.layout(manifest.generation, manifest) if isinstance(store, ServerStore) else None
    lent = base.meta.get("segments") or {} if base is not None else {}
    try:
        for file in sorted(manifest.files):
            sha = manifest.files[file].sha256
            if (
                base is not None
                and segments
                and file in base.files
                and lent.get(file) == segments.get(file)
                and (base.vectors is not None or not with_vectors)
            ):
                writer.add_kept(base, file)
                continue
            chunks, reports = store.file_collections(manifest.generation, file)
            include = ["documents", "metadatas", *(["embeddings"] if with_vectors else [])]
            records: list[ChunkRecord] = []
            vectors: list[Any] = []
            offset = 0
            while True:
                got = chunks.get(where={"file": file}, include=include, limit=1000, offset=offset)  # type: ignore[arg-type]
                if not got["ids"]:
                    break
                for cid, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
                    records.append(ChunkRecord.from_stored(cid, doc, meta))
                if with_vectors:
                    vectors.extend(got["embeddings"])  # type: ignore[arg-type]
                offset += len(got["ids"])
            texts = reports.get(where={"file": file}, include=["documents"])
            writer.add_file(
                file,
                sha,
                records,
                list(zip(texts["ids"], texts["documents"] or [], strict=True)),
                vectors if with_vectors else None,
            )
        titles = {r.report_id: r.title for r in manifest.reports}
        writer.finish(manifest.generation, fingerprint(), None, segments, titles)
    except BaseException:
        writer.abort()
        raise
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    return Pack(folder)


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
        import chromadb

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
        return ServerStore(client, settings.collection_prefix, description, settings.data_dir / "packs")
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
