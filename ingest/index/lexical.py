"""BM25 over the jieba terms stored with each chunk: in process, built in well under a second per 10k chunks."""

from __future__ import annotations

from collections import Counter

import numpy as np


class BM25:
    """Okapi BM25 with per-posting weights precomputed, so a query is a few array gathers."""

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.n = len(docs)
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        avg = float(lengths.mean()) if self.n else 1.0
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for doc_id, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                ids, tfs = postings.setdefault(term, ([], []))
                ids.append(doc_id)
                tfs.append(tf)
        self.idf: dict[str, float] = {}
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        norm = k1 * (1 - b + b * lengths / max(avg, 1e-6))
        for term, (ids, tfs) in postings.items():
            idx = np.asarray(ids, dtype=np.int32)
            freq = np.asarray(tfs, dtype=np.float32)
            idf = float(np.log(1 + (self.n - len(ids) + 0.5) / (len(ids) + 0.5)))
            self.idf[term] = idf
            self._postings[term] = (idx, (idf * freq * (k1 + 1) / (freq + norm[idx])).astype(np.float32))

    def scores(self, terms: list[str]) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.float32)
        for term in set(terms):
            hit = self._postings.get(term)
            if hit is not None:
                out[hit[0]] += hit[1]
        return out

    def weight(self, term: str) -> float:
        """How telling a term is; unknown terms tell nothing about this corpus."""
        return self.idf.get(term, 0.0)
