"""BM25 as flat arrays: the same scores, bit for bit, as the per-term postings readers built in memory before."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from ingest.index.lexical import BM25, DocTerms


class ReferenceBM25:
    """The in-process BM25 of before packs, kept verbatim as the oracle."""

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
        for term in dict.fromkeys(terms):  # the order ours sums in
            hit = self._postings.get(term)
            if hit is not None:
                out[hit[0]] += hit[1]
        return out


def _docs(seed: int, n: int = 400, vocab: int = 250) -> tuple[list[list[str]], list[str]]:
    rng = random.Random(seed)
    words = [f"词{i}" for i in range(vocab)]
    # Zipf-ish: a few terms in most documents, many in one or two; some documents empty
    docs = [
        [words[min(int(rng.paretovariate(1.1)) - 1, vocab - 1)] for _ in range(rng.randint(0, 90))] for _ in range(n)
    ]
    return docs, words


def _assert_same(ref: ReferenceBM25, bm25: BM25, queries: list[list[str]]) -> None:
    assert dict(bm25.idf) == ref.idf
    for q in queries:
        assert np.array_equal(bm25.scores(q), ref.scores(q)), q


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scores_equal_the_reference_bit_for_bit(seed):
    docs, words = _docs(seed)
    rng = random.Random(seed)
    queries = [[*rng.sample(words, rng.randint(1, 8)), "不在词表"] for _ in range(200)]
    _assert_same(ReferenceBM25(docs), BM25.from_docs(docs), queries)


def test_scores_of_the_real_corpus_terms(indexed):
    _manifest, got, _texts, _meta = indexed
    docs = [str(m["terms"]).split() for m in got["metadatas"]]
    ref, bm25 = ReferenceBM25(docs), BM25.from_docs(docs)
    vocab = sorted(ref.idf)
    rng = random.Random(7)
    _assert_same(ref, bm25, [rng.sample(vocab, 6) for _ in range(300)])


def test_saved_and_mapped_scores_equal_the_built_ones(tmp_path):
    docs, words = _docs(4)
    built = BM25.from_docs(docs)
    built.save(tmp_path)
    mapped = BM25.load(tmp_path)
    assert isinstance(mapped._weights, np.memmap)  # mapped, not read into memory
    _assert_same(ReferenceBM25(docs), mapped, [[w] for w in words] + [words[:20]])
    assert mapped.weight("不在词表") == 0.0


def test_documents_carried_over_from_parts_score_as_if_built_at_once():
    docs, words = _docs(5)
    whole = DocTerms.from_docs(docs)
    parts = DocTerms.concat([whole.rows(0, 120), DocTerms.from_docs(docs[120:300]), whole.rows(300, len(docs))])
    _assert_same(ReferenceBM25(docs), BM25.from_doc_terms(parts), [[w] for w in words])


def test_terms_no_document_uses_any_more_are_dropped():
    """A term left behind by a replaced file would get the highest idf of all and skew every coverage check."""
    docs = [["粮库", "建设"], ["公路", "建设"], ["独有词"]]
    kept = DocTerms.concat([DocTerms.from_docs(docs).rows(0, 2)])
    bm25 = BM25.from_doc_terms(kept)
    assert "独有词" not in bm25.idf
    _assert_same(ReferenceBM25(docs[:2]), bm25, [["建设", "粮库"], ["独有词"]])


def test_term_counts_of_a_range_of_documents():
    docs = [["a", "b", "a"], ["b", "c"], ["a"]]
    dt = DocTerms.from_docs(docs)
    assert dt.counts(0, 2) == Counter({"a": 2, "b": 2, "c": 1})
    assert dt.counts(2, 3) == Counter({"a": 1})


def test_an_empty_index_scores_nothing(tmp_path):
    empty = BM25.from_docs([])
    empty.save(tmp_path)
    assert BM25.load(tmp_path).scores(["粮库"]).shape == (0,)
