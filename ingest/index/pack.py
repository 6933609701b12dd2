"""A generation's read pack: every chunk record, report text, vector and the BM25 arrays, memory-mapped.

Written once per generation by the ingest (embedded: inside the generation's directory, so it is sealed and
dropped with it; server mode: in the writer's and each reader's local cache, keyed by the generation id).
A reader opens it in milliseconds whatever the corpus size and decodes a record only when a question
touches it, so its start and memory do not grow with the shelf. Records go through `ChunkRecord.metadata()`
and `from_stored`, the one place that knows their fields.

A new pack carries unchanged files over by copying their rows (record bytes, vectors, term ids) from the
previous pack, so a re-ingest costs what changed plus one pass over the term arrays.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, overload

import numpy as np

from ingest.index.lexical import BM25, DocTerms
from ingest.index.schema import ChunkRecord

VERSION = 1
META = "meta.json"
_RECORD_CACHE = 4096


class PackDamaged(Exception):
    """A pack that cannot be read as written: the caller rebuilds it from the store."""


def _floats(vectors: Any, dim: int) -> np.ndarray:
    """Unit vectors, so a cosine is one dot product (Chroma's cosine space normalises the same way)."""
    arr = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return arr / np.where(norms > 0, norms, 1.0)


class PackWriter:
    """Files are added in path order: new ones with their records, unchanged ones copied from an old pack."""

    def __init__(self, folder: Path, dim: int | None) -> None:
        self.folder = folder
        self.dim = dim
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self._records = open(folder / "records.bin", "wb")
        self._reports = open(folder / "reports.bin", "wb")
        self._vectors = open(folder / "vectors.f32", "wb") if dim else None
        self._record_ends: list[int] = []
        self._report_ends: list[int] = []
        self._written = 0
        self._report_written = 0
        self.ids: list[str] = []
        self.report_ids: list[str] = []
        self.report_rows: list[tuple[int, int]] = []
        self.files: dict[str, list[int]] = {}
        self.shas: dict[str, str] = {}
        self.title_terms: dict[str, list[str]] = {}
        self._terms: list[DocTerms] = []

    @property
    def count(self) -> int:
        return len(self.ids)

    def add_file(
        self,
        file: str,
        sha256: str,
        records: Sequence[ChunkRecord],
        reports: Sequence[tuple[str, str]],
        vectors: Any = None,
    ) -> None:
        """A file read by this ingest: its records (any order), report texts and the records' vectors."""
        order = sorted(range(len(records)), key=lambda i: (records[i].report_id, records[i].start))
        recs = [records[i] for i in order]
        row0, rep0 = self.count, len(self.report_ids)
        for rec in recs:
            self._write_record(json.dumps([rec.chunk_id, rec.text, rec.metadata()], ensure_ascii=False).encode())
            self.ids.append(rec.chunk_id)
        if self._vectors is not None:
            if vectors is None or len(vectors) != len(records):
                raise ValueError(f"{file}: {len(records)} records but no vectors for them")
            self._vectors.write(_floats(vectors, self.dim or 0)[order].tobytes())
        texts = dict(reports)
        for rid in sorted(texts):
            rows = [i for i, r in enumerate(recs) if r.report_id == rid]
            self._write_report(texts[rid].encode())
            self.report_ids.append(rid)
            self.report_rows.append((row0 + rows[0], row0 + rows[-1] + 1) if rows else (row0, row0))
        self._terms.append(DocTerms.from_docs([r.terms for r in recs]))
        self.files[file] = [row0, self.count, rep0, len(self.report_ids)]
        self.shas[file] = sha256

    def add_kept(self, old: Pack, file: str) -> None:
        """An unchanged file: its rows copied byte for byte from the previous generation's pack."""
        r0, r1, p0, p1 = old.files[file]
        row0, rep0 = self.count, len(self.report_ids)
        offs = old.record_offsets
        self._records.write(bytes(old.records_blob[int(offs[r0]) : int(offs[r1])]))
        for i in range(r0, r1):
            self._written += int(offs[i + 1] - offs[i])
            self._record_ends.append(self._written)
        self.ids.extend(old.ids[r0:r1])
        if self._vectors is not None:
            if old.vectors is None:
                raise PackDamaged(f"the previous pack has no vectors for {file}")
            self._vectors.write(np.asarray(old.vectors[r0:r1]).tobytes())
        roffs = old.report_offsets
        for j in range(p0, p1):
            self._write_report(bytes(old.reports_blob[int(roffs[j]) : int(roffs[j + 1])]))
            self.report_ids.append(old.report_ids[j])
            if old.report_ids[j] in old.title_terms:
                self.title_terms[old.report_ids[j]] = list(old.title_terms[old.report_ids[j]])
            a, b = old.report_rows[j]
            self.report_rows.append((a - r0 + row0, b - r0 + row0))
        self._terms.append(old.doc_terms.rows(r0, r1))
        self.files[file] = [row0, self.count, rep0, len(self.report_ids)]
        self.shas[file] = old.shas.get(file, "")

    def finish(
        self,
        generation: str,
        segmenter: str,
        org_terms: list[str] | None,
        segments: Mapping[str, str] | None = None,
        titles: Mapping[str, str] | None = None,
    ) -> None:
        """BM25 over every document, then the meta file last: a pack without it is incomplete.

        `titles` (report id → title) adds each report's title terms, which answering needs for every
        report on its first question (11,000 titles at 1,000×: 5 s of jieba, once per generation here)."""
        if titles is not None:
            from ingest.lexicon.terms import terms as segment_terms

            for rid in self.report_ids:
                if rid not in self.title_terms and rid in titles:
                    self.title_terms[rid] = segment_terms(titles[rid])
        for fh in (self._records, self._reports, self._vectors):
            if fh is not None:
                fh.flush()
                os.fsync(fh.fileno())
                fh.close()
        np.save(self.folder / "records_off.npy", np.array([0, *self._record_ends], dtype=np.int64))
        np.save(self.folder / "reports_off.npy", np.array([0, *self._report_ends], dtype=np.int64))
        (self.folder / "ids.txt").write_text("\n".join(self.ids), encoding="utf-8")
        report_of = np.zeros(self.count, dtype=np.int32)
        for j, (a, b) in enumerate(self.report_rows):
            report_of[a:b] = j
        np.save(self.folder / "report_of.npy", report_of)
        terms = DocTerms.concat(self._terms)
        terms.save(self.folder)
        BM25.from_doc_terms(terms).save(self.folder)
        meta = {
            "version": VERSION,
            "generation": generation,
            "segmenter": segmenter,
            "count": self.count,
            "dim": self.dim if self._vectors is not None else None,
            "reports": self.report_ids,
            "report_rows": self.report_rows,
            "files": self.files,
            "shas": self.shas,
            "org_terms": org_terms,
            "segments": dict(segments) if segments else None,
            "title_terms": self.title_terms if titles is not None else None,
        }
        tmp = self.folder / f".{META}.tmp"
        tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.folder / META)

    def abort(self) -> None:
        for fh in (self._records, self._reports, self._vectors):
            if fh is not None:
                with contextlib.suppress(OSError):
                    fh.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _write_record(self, data: bytes) -> None:
        self._records.write(data)
        self._written += len(data)
        self._record_ends.append(self._written)

    def _write_report(self, data: bytes) -> None:
        self._reports.write(data)
        self._report_written += len(data)
        self._report_ends.append(self._report_written)


class Records(Sequence[ChunkRecord]):
    """The pack's records in index order, decoded on first use and kept in a bounded cache."""

    def __init__(self, pack: Pack) -> None:
        self._pack = pack
        self._cache: OrderedDict[int, ChunkRecord] = OrderedDict()

    def __len__(self) -> int:
        return self._pack.count

    @overload
    def __getitem__(self, i: int) -> ChunkRecord: ...
    @overload
    def __getitem__(self, i: slice) -> list[ChunkRecord]: ...
    def __getitem__(self, i: int | slice) -> ChunkRecord | list[ChunkRecord]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        rec = self._cache.get(i)
        if rec is None:
            rec = self._pack.decode(i)
            self._cache[i] = rec
            if len(self._cache) > _RECORD_CACHE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(i)
        return rec

    def __iter__(self) -> Iterator[ChunkRecord]:
        for i in range(len(self)):
            yield self[i]


class Pack:
    """An opened pack; everything is mapped or decoded lazily."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            self.meta: dict[str, Any] = json.loads((folder / META).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PackDamaged(f"no complete pack in {folder}") from exc
        if self.meta.get("version") != VERSION:
            raise PackDamaged(f"pack version {self.meta.get('version')} in {folder} is not {VERSION}")
        self.count: int = self.meta["count"]
        self.report_ids: list[str] = self.meta["reports"]
        self.report_rows: list[tuple[int, int]] = [(int(a), int(b)) for a, b in self.meta["report_rows"]]
        self.files: dict[str, list[int]] = self.meta["files"]
        self.shas: dict[str, str] = self.meta.get("shas", {})
        self.title_terms: dict[str, list[str]] = self.meta.get("title_terms") or {}
        self.records = Records(self)

    @property
    def generation(self) -> str:
        return str(self.meta["generation"])

    @property
    def segmenter(self) -> str:
        return str(self.meta["segmenter"])

    @cached_property
    def record_offsets(self) -> np.ndarray:
        return np.load(self.folder / "records_off.npy", mmap_mode="r")

    @cached_property
    def report_offsets(self) -> np.ndarray:
        return np.load(self.folder / "reports_off.npy", mmap_mode="r")

    @cached_property
    def records_blob(self) -> np.memmap:
        return np.memmap(self.folder / "records.bin", dtype=np.uint8, mode="r") if self._size("records.bin") else b""  # type: ignore[return-value]

    @cached_property
    def reports_blob(self) -> np.memmap:
        return np.memmap(self.folder / "reports.bin", dtype=np.uint8, mode="r") if self._size("reports.bin") else b""  # type: ignore[return-value]

    def _size(self, name: str) -> int:
        return (self.folder / name).stat().st_size

    @cached_property
    def ids(self) -> list[str]:
        text = (self.folder / "ids.txt").read_text(encoding="utf-8")
        return text.split("\n") if text else []

    @cached_property
    def positions(self) -> Positions:
        return Positions(self)

    @cached_property
    def report_of(self) -> np.ndarray:
        return np.load(self.folder / "report_of.npy", mmap_mode="r")

    @cached_property
    def report_index(self) -> dict[str, int]:
        return {rid: j for j, rid in enumerate(self.report_ids)}

    @cached_property
    def vectors(self) -> np.ndarray | None:
        dim = self.meta.get("dim")
        if not dim:
            return None
        if not self.count:
            return np.zeros((0, dim), dtype=np.float32)
        return np.memmap(self.folder / "vectors.f32", dtype=np.float32, mode="r", shape=(self.count, dim))

    @cached_property
    def bm25(self) -> BM25:
        return BM25.load(self.folder)

    @cached_property
    def doc_terms(self) -> DocTerms:
        return DocTerms.load(self.folder)

    def decode(self, i: int) -> ChunkRecord:
        offs = self.record_offsets
        raw = bytes(self.records_blob[int(offs[i]) : int(offs[i + 1])])
        chunk_id, document, meta = json.loads(raw)
        return ChunkRecord.from_stored(chunk_id, document, meta)

    def report_text(self, report_id: str) -> str:
        j = self.report_index.get(report_id)
        if j is None:
            return ""
        offs = self.report_offsets
        return bytes(self.reports_blob[int(offs[j]) : int(offs[j + 1])]).decode()

    def report_mask(self, report_ids: Sequence[str]) -> np.ndarray:
        """Which records belong to these reports (one vector comparison, not a pass over records)."""
        wanted = [self.report_index[r] for r in report_ids if r in self.report_index]
        return np.isin(self.report_of, np.asarray(wanted, dtype=np.int32))

    def report_terms(self, report_id: str) -> Counter[str]:
        j = self.report_index.get(report_id)
        if j is None:
            return Counter()
        a, b = self.report_rows[j]
        return self.doc_terms.counts(a, b)


class Positions(Mapping[str, int]):
    """chunk id → row. Rows the pack's own search returned are known at once; any other id builds the whole
    map (205,000 ids: 0.1 s) the first time."""

    def __init__(self, pack: Pack) -> None:
        self._pack = pack
        self.seen: dict[str, int] = {}

    @cached_property
    def _all(self) -> dict[str, int]:
        return {cid: i for i, cid in enumerate(self._pack.ids)}

    def __getitem__(self, chunk_id: str) -> int:
        found = self.seen.get(chunk_id)
        return found if found is not None else self._all[chunk_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all)

    def __len__(self) -> int:
        return self._pack.count


class ReportTerms(Mapping[str, Counter[str]]):
    """Term counts of some reports, counted from the pack's term ids when first asked for."""

    def __init__(self, pack: Pack, report_ids: list[str]) -> None:
        self._pack = pack
        self._ids = report_ids
        self._done: dict[str, Counter[str]] = {}

    def __getitem__(self, report_id: str) -> Counter[str]:
        if report_id not in self._ids:
            raise KeyError(report_id)
        if report_id not in self._done:
            self._done[report_id] = self._pack.report_terms(report_id)
        return self._done[report_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


class ExactVectors:
    """Cosine search over the pack's vectors: exact, with no database to open.

    Answers the call the retriever makes of a Chroma collection (`query` with query_embeddings, n_results,
    a `report_id $in` filter; distances, documents, metadatas), so either can serve it.
    """

    def __init__(self, pack: Pack) -> None:
        self._pack = pack

    def query(
        self,
        query_embeddings: Sequence[Sequence[float]],
        n_results: int,
        where: Mapping[str, Any] | None = None,
        include: Sequence[str] = ("distances",),
    ) -> dict[str, Any]:
        vectors = self._pack.vectors
        if vectors is None:
            raise PackDamaged("this pack holds no vectors")
        rows: np.ndarray | None = None
        if where:
            wanted = where.get("report_id", {}).get("$in")
            if wanted is None or len(where) != 1:
                raise ValueError(f"unsupported filter {where!r}")
            rows = np.flatnonzero(self._pack.report_mask(list(wanted)))
        out_ids: list[list[str]] = []
        out_dist: list[list[float]] = []
        out_docs: list[list[str]] = []
        out_meta: list[list[dict[str, Any]]] = []
        for q in query_embeddings:
            vec = _floats(q, vectors.shape[1])[0]
            sims = (vectors[rows] if rows is not None else vectors) @ vec
            k = min(n_results, len(sims))
            top = np.argpartition(-sims, k - 1)[:k] if 0 < k < len(sims) else np.arange(len(sims))
            top = top[np.lexsort((top, -sims[top]))]
            found = rows[top] if rows is not None else top
            ids = [self._pack.ids[int(i)] for i in found]
            self._pack.positions.seen.update(zip(ids, (int(i) for i in found), strict=True))
            out_ids.append(ids)
            out_dist.append([float(1.0 - s) for s in sims[top]])
            records = [self._pack.records[int(i)] for i in found] if {"documents", "metadatas"} & set(include) else []
            out_docs.append([r.text for r in records])
            out_meta.append([dict(r.metadata()) for r in records])
        got: dict[str, Any] = {"ids": out_ids, "distances": out_dist}
        if "documents" in include:
            got["documents"] = out_docs
        if "metadatas" in include:
            got["metadatas"] = out_meta
        return got
