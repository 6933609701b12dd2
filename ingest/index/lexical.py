"""BM25 over the jieba terms stored with each chunk, as flat arrays that are built once and memory-mapped.

The arrays are what the in-process index always computed (per-term postings with precomputed weights);
kept flat, a reader maps them from disk in microseconds instead of rebuilding them from every chunk's
metadata, and an ingest rebuilds them from per-document term ids without re-reading any text. Either way
the weights come from the same float32 operations in the same order, so scores are identical.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

K1 = 1.2
B = 0.75


@dataclass
class DocTerms:
    """Each document's distinct terms (ids into `vocab`) with their counts, in first-occurrence order."""

    vocab: list[str]
    ptr: np.ndarray  # int64, n + 1
    term: np.ndarray  # int32, one per (document, distinct term)
    tf: np.ndarray  # float32, alongside `term`
    lengths: np.ndarray  # float32, terms per document with repeats

    @property
    def n(self) -> int:
        return len(self.lengths)

    @classmethod
    def from_docs(cls, docs: Iterable[Sequence[str]]) -> DocTerms:
        counted = [Counter(d) for d in docs]
        vocab = sorted({t for c in counted for t in c})
        ids = {t: i for i, t in enumerate(vocab)}
        sizes = np.fromiter((len(c) for c in counted), dtype=np.int64, count=len(counted))
        ptr = np.zeros(len(counted) + 1, dtype=np.int64)
        np.cumsum(sizes, out=ptr[1:])
        term = np.fromiter((ids[t] for c in counted for t in c), dtype=np.int32, count=int(ptr[-1]))
        tf = np.fromiter((f for c in counted for f in c.values()), dtype=np.float32, count=int(ptr[-1]))
        lengths = np.array([sum(c.values()) for c in counted], dtype=np.float32)
        return cls(vocab, ptr, term, tf, lengths)

    @classmethod
    def concat(cls, parts: Sequence[DocTerms]) -> DocTerms:
        """Documents of several parts in order, over the terms they use (a term no document uses is dropped:
        it would get an idf, and the most telling one at that)."""
        vocab = sorted({t for p in parts for t in p.vocab})
        ids = {t: i for i, t in enumerate(vocab)}
        maps: dict[int, np.ndarray] = {}  # parts cut from one pack share its vocabulary: map it once
        for p in parts:
            if id(p.vocab) not in maps:
                maps[id(p.vocab)] = np.array([ids[t] for t in p.vocab], dtype=np.int32)
        remapped = [maps[id(p.vocab)][np.asarray(p.term)] for p in parts]
        term = np.concatenate(remapped) if parts else np.zeros(0, np.int32)
        used = np.zeros(len(vocab), dtype=bool)
        used[term] = True
        if not used.all():
            new_id = np.cumsum(used, dtype=np.int64) - 1
            term = new_id[term].astype(np.int32)
            vocab = [t for t, u in zip(vocab, used.tolist(), strict=True) if u]
        sizes = np.concatenate([np.diff(p.ptr) for p in parts]) if parts else np.zeros(0, np.int64)
        ptr = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=ptr[1:])
        return cls(
            vocab,
            ptr,
            term.astype(np.int32, copy=False),
            np.concatenate([p.tf for p in parts]) if parts else np.zeros(0, np.float32),
            np.concatenate([p.lengths for p in parts]) if parts else np.zeros(0, np.float32),
        )

    def rows(self, start: int, end: int) -> DocTerms:
        """Documents start..end, over the same vocabulary (concat drops what they do not use)."""
        a, b = int(self.ptr[start]), int(self.ptr[end])
        return DocTerms(
            self.vocab,
            np.asarray(self.ptr[start : end + 1]) - a,
            np.asarray(self.term[a:b]),
            np.asarray(self.tf[a:b]),
            np.asarray(self.lengths[start:end]),
        )

    def counts(self, start: int, end: int) -> Counter[str]:
        """Term occurrences over documents start..end."""
        a, b = int(self.ptr[start]), int(self.ptr[end])
        totals = np.bincount(np.asarray(self.term[a:b]), weights=np.asarray(self.tf[a:b]), minlength=0)
        hit = np.flatnonzero(totals)
        return Counter({self.vocab[i]: int(totals[i]) for i in hit.tolist()})

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "vocab.txt").write_text("\n".join(self.vocab), encoding="utf-8")
        np.save(folder / "doc_ptr.npy", self.ptr)
        np.save(folder / "doc_term.npy", self.term)
        np.save(folder / "doc_tf.npy", self.tf)
        np.save(folder / "doc_len.npy", self.lengths)

    @classmethod
    def load(cls, folder: Path) -> DocTerms:
        text = (folder / "vocab.txt").read_text(encoding="utf-8")
        return cls(
            text.split("\n") if text else [],
            np.load(folder / "doc_ptr.npy", mmap_mode="r"),
            np.load(folder / "doc_term.npy", mmap_mode="r"),
            np.load(folder / "doc_tf.npy", mmap_mode="r"),
            np.load(folder / "doc_len.npy", mmap_mode="r"),
        )


class BM25:
    """Okapi BM25 with per-posting weights precomputed, so a query is a few array gathers."""

    def __init__(
        self, vocab: list[str], idf: np.ndarray, ptr: np.ndarray, docs: np.ndarray, weights: np.ndarray, n: int
    ) -> None:
        self.n = n
        self.vocab = vocab
        self._idf = idf
        self._ptr = ptr
        self._docs = docs
        self._weights = weights

    @classmethod
    def from_docs(cls, docs: list[list[str]], k1: float = K1, b: float = B) -> BM25:
        """Built in memory from each document's terms."""
        return cls.from_doc_terms(DocTerms.from_docs(docs), k1, b)

    @classmethod
    def from_doc_terms(cls, dt: DocTerms, k1: float = K1, b: float = B) -> BM25:
        n = dt.n
        lengths = np.asarray(dt.lengths, dtype=np.float32)
        avg = float(lengths.mean()) if n else 1.0
        norm = k1 * (1 - b + b * lengths / max(avg, 1e-6))
        term = np.asarray(dt.term)
        doc = np.repeat(np.arange(n, dtype=np.int32), np.diff(np.asarray(dt.ptr)))
        order = np.argsort(term, kind="stable")  # by term, each term's documents ascending
        docs = doc[order]
        freq = np.asarray(dt.tf)[order]
        df = np.bincount(term, minlength=len(dt.vocab))
        ptr = np.zeros(len(dt.vocab) + 1, dtype=np.int64)
        np.cumsum(df, out=ptr[1:])
        # per term as the scalar np.log always was: an array log may round differently in the last place
        idf = np.array([np.log(1 + (n - d + 0.5) / (d + 0.5)) for d in df.tolist()], dtype=np.float64)
        idf32 = np.repeat(idf.astype(np.float32), df)
        weights = (idf32 * freq * np.float32(k1 + 1) / (freq + norm[docs])).astype(np.float32)
        return cls(list(dt.vocab), idf, ptr, docs.astype(np.int32), weights, n)

    def scores(self, terms: list[str]) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.float32)
        index = self._index
        for term in dict.fromkeys(terms):  # in the question's order: float sums that tie stay tied in every process
            i = index.get(term)
            if i is not None:
                a, b = int(self._ptr[i]), int(self._ptr[i + 1])
                out[self._docs[a:b]] += self._weights[a:b]
        return out

    @cached_property
    def _index(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.vocab)}

    @cached_property
    def idf(self) -> Mapping[str, float]:
        return dict(zip(self.vocab, self._idf.tolist(), strict=True))

    def weight(self, term: str) -> float:
        """How telling a term is; unknown terms tell nothing about this corpus."""
        return self.idf.get(term, 0.0)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "bm25.json").write_text(json.dumps({"n": self.n, "terms": len(self.vocab)}), encoding="utf-8")
        (folder / "bm25_vocab.txt").write_text("\n".join(self.vocab), encoding="utf-8")
        np.save(folder / "bm25_idf.npy", self._idf)
        np.save(folder / "bm25_ptr.npy", self._ptr)
        np.save(folder / "bm25_docs.npy", self._docs)
        np.save(folder / "bm25_weights.npy", self._weights)

    @classmethod
    def load(cls, folder: Path) -> BM25:
        """Mapped, not read: a query touches only its terms' postings."""
        meta = json.loads((folder / "bm25.json").read_text(encoding="utf-8"))
        text = (folder / "bm25_vocab.txt").read_text(encoding="utf-8")
        vocab = text.split("\n") if text else []
        if len(vocab) != meta["terms"]:
            raise ValueError(f"BM25 vocabulary in {folder} is damaged")
        return cls(
            vocab,
            np.load(folder / "bm25_idf.npy", mmap_mode="r"),
            np.load(folder / "bm25_ptr.npy", mmap_mode="r"),
            np.load(folder / "bm25_docs.npy", mmap_mode="r"),
            np.load(folder / "bm25_weights.npy", mmap_mode="r"),
            int(meta["n"]),
        )
