"""Server mode: the same ingest and answers against a real `chroma run`, across restarts and re-ingests."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.services import Services
from ingest.index.store import ServerStore, StoreUnavailable, new_generation_id
from ingest.pipeline import IngestBusy, IngestFailed, run_ingest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.server


def renamed_copy(compilation, tmp_path, county: str):
    """The compilation with every bureau renamed, so its chunks are new text (and new vectors)."""
    text = compilation.read_text(encoding="utf-8")
    for org in (
        "管理区",
        "招商中心",
        "粮食局",
        "统计局",
        "民族事务委员会",
        "财政局",
        "林业局",
        "工业园区",
        "经济开发区",
        "商务局",
    ):
        text = text.replace(org, county + org)
    path = tmp_path / f"{county}材料汇编.txt"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.timeout(900)  # embeds two copies of the compilation (~1,100 chunks) on 2 cores
def test_ingest_ask_restart_reingest(chroma_server, make_settings, compilation, tmp_path):
    settings = make_settings(chroma_host="127.0.0.1", chroma_port=chroma_server.port, chunk_tokens=128)
    services = Services(settings)
    assert isinstance(services.store, ServerStore)
    copy = renamed_copy(compilation, tmp_path, "东湖县")
    result = run_ingest([compilation, copy], settings, services.store, services.embeddings, show_progress=False)
    assert not result.failed
    assert result.manifest.chunks > 1000  # past the size where chroma#7090 lost HNSW data on restart

    answer = services.answerer().ask("东湖县粮食局明年粮食流通执法要开展哪些检查？")
    assert answer.found and answer.sources[0].report.startswith("东湖县粮食局")

    chroma_server.stop()
    with pytest.raises(StoreUnavailable):
        services.answerer().ask("粮食局明年打算新建哪些粮库？")
    chroma_server.start()

    fresh = Services(settings)
    manifest = fresh.store.read_manifest()
    chunks, _ = fresh.store.collections(manifest.generation)
    assert chunks.count() == manifest.chunks
    answer = fresh.answerer().ask("粮食局的连城中心粮库“退城进郊”项目建多少座仓库？")
    assert answer.found and "退城进郊" in answer.sources[0].text

    other_reader = Services(settings).answerer()  # a second bot process's view of the same server
    assert other_reader.ask("东湖县粮食局明年打算做什么？").found

    copy.write_text(copy.read_text(encoding="utf-8").replace("东湖县", "西山县"), encoding="utf-8")
    again = run_ingest([compilation, copy], settings, fresh.store, fresh.embeddings, show_progress=False)
    assert [o.status for o in again.outcomes] == ["unchanged", "changed"]
    assert again.manifest.generation != manifest.generation
    assert len(fresh.store.generations()) <= 2
    answer = fresh.answerer().ask("西山县粮食局明年粮食流通执法要开展哪些检查？")
    assert answer.found and answer.sources[0].report.startswith("西山县粮食局")
    assert not any(s.report.startswith("东湖县") for s in answer.sources)
    switched = other_reader.ask("西山县粮食局明年粮食流通执法要开展哪些检查？")
    assert switched.found and switched.sources[0].report.startswith("西山县粮食局")


def _hold_lease_and_die(port: int, lease_seconds: float) -> None:
    """Another machine's ingest that takes the server's writer lease and crashes without releasing it."""
    code = (
        "import os\n"
        "from ingest.settings import IngestSettings\n"
        "from ingest.index.store import open_store\n"
        f"store = open_store(IngestSettings(_env_file=None, chroma_host='127.0.0.1', chroma_port={port}))\n"
        f"store.lease_seconds = {lease_seconds}\n"
        "with store.writer():\n"
        "    os._exit(0)\n"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
    )


def test_writers_on_two_machines_take_turns_on_one_server(chroma_server, make_settings, compilation, tmp_path):
    # separate data dirs: the local file lock can't see the other writer, only the server's lease can
    settings = make_settings(chroma_host="127.0.0.1", chroma_port=chroma_server.port, data_dir=tmp_path / "b")
    services = Services(settings)
    _hold_lease_and_die(chroma_server.port, lease_seconds=3)
    with pytest.raises(IngestBusy, match=r"another ingest \(.+ pid \d+ .+, since .+\) is writing this index"):
        run_ingest([compilation], settings, services.store, services.embeddings, show_progress=False)
    assert services.store.read_manifest() is None and services.store.generations() == []

    time.sleep(3.5)  # the crashed holder's lease runs out
    result = run_ingest([compilation], settings, services.store, services.embeddings, show_progress=False)
    assert result.published and not result.failed
    meta = services.store.client.get_collection(f"{settings.collection_prefix}-meta")
    assert meta.get(ids=["writer"])["ids"] == []  # released, so the next writer needn't wait


def test_ingest_that_was_overtaken_publishes_nothing(chroma_server, make_settings, compilation, tmp_path):
    settings = make_settings(chroma_host="127.0.0.1", chroma_port=chroma_server.port)
    services = Services(settings)
    store = services.store
    first = run_ingest([compilation], settings, store, services.embeddings, show_progress=False).manifest
    extra = tmp_path / "水务局.txt"
    extra.write_text(
        "水务局2023年工作总结\n一、2023年工作总结\n（一）供水保障\n新建水厂一座，改造管网xx公里。\n", encoding="utf-8"
    )
    overtaking = new_generation_id()

    def other_writer_publishes(stage: str, done: int, total: int) -> None:
        if stage == "embedding" and store.read_manifest().generation == first.generation:
            store.collections(overtaking, create=True)
            store.publish(dataclasses.replace(first, generation=overtaking))

    with pytest.raises(IngestFailed, match="another ingest published a new index while this one ran"):
        run_ingest(
            [compilation, extra],
            settings,
            store,
            services.embeddings,
            show_progress=False,
            progress=other_writer_publishes,
        )
    assert store.read_manifest().generation == overtaking
    assert sorted(store.generations()) == sorted([first.generation, overtaking])


def _report(folder: Path, name: str, org: str, work: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"{org}2023年工作总结及2024年工作计划\n一、2023年工作总结\n（一）重点工作\n{work}\n"
        f"二、2024年工作计划\n（一）继续推进\n明年继续做好{work[:6]}相关工作。\n",
        encoding="utf-8",
    )
    return path


def test_reingest_writes_only_the_changed_file_and_a_remote_reader_catches_up(chroma_server, make_settings, tmp_path):
    """Segments: the new generation's collections hold the changed file alone; the others are read where they
    are. A reader on another machine builds its pack from the server, then only fetches what changed."""
    from ingest.index.pack import Pack

    port = chroma_server.port
    writer = Services(make_settings(chroma_host="127.0.0.1", chroma_port=port, data_dir=tmp_path / "writer"))
    folder = tmp_path / "reports"
    files = [
        _report(folder, "a.txt", "水务局", "新建水厂一座，改造供水管网三十公里。"),
        _report(folder, "b.txt", "气象局", "新建自动气象站十二个，发布预警信息两百条。"),
        _report(folder, "c.txt", "档案局", "完成馆藏档案数字化八万卷。"),
    ]
    first = run_ingest(files, writer.settings, writer.store, writer.embeddings, show_progress=False).manifest
    elsewhere = Services(make_settings(chroma_host="127.0.0.1", chroma_port=port, data_dir=tmp_path / "reader"))
    reader = elsewhere.answerer()
    assert reader.ask("气象局今年新建了多少个自动气象站？").sources[0].report.startswith("气象局")
    remote = elsewhere.store.pack_dir(first.generation)
    assert Pack(remote).count == first.chunks  # built from the server into the reader's own cache
    assert Pack(remote).vectors is not None  # so the reader searches locally, asking the server only for the pointer

    _report(folder, "b.txt", "气象局", "建成雷达站一座，新建自动气象站二十个。")
    second = run_ingest(files, writer.settings, writer.store, writer.embeddings, show_progress=False).manifest
    store = writer.store
    assert isinstance(store, ServerStore)
    layout = store.layout(second.generation)
    b = str(files[1].resolve())
    assert layout == {**dict.fromkeys(first.files, first.generation), b: second.generation}
    own, _ = store.collections(second.generation)
    assert own.count() == second.files[b].chunks  # nothing else was copied

    answer = reader.ask("气象局今年新建了多少个自动气象站？")
    assert "二十个" in answer.sources[0].text
    assert not any("十二个" in s.text for s in answer.sources)  # the replaced chunks are filtered out
    segmented = store.dense(second.generation)  # the server's own search, for packs without vectors
    vector = writer.embeddings.embed_query("气象局今年新建了多少个自动气象站？")
    got = segmented.query(query_embeddings=[vector], n_results=50, include=["distances"])
    texts = {r.chunk_id: r.text for r in Pack(store.pack_dir(second.generation)).records}
    assert got["ids"][0] and set(got["ids"][0]) <= set(texts)  # the replaced chunks are not found
    assert got["distances"][0] == sorted(got["distances"][0])
    new_pack = Pack(elsewhere.store.pack_dir(second.generation))
    old_pack = Pack(remote)
    a = str(files[0].resolve())
    assert new_pack.files[a][:2] == old_pack.files[a][:2] and new_pack.meta["segments"] == layout
    assert sorted(store.generations()) == sorted([first.generation, second.generation])


def test_a_reader_refetches_the_meta_collection_after_the_server_lost_it(chroma_server, make_settings, tmp_path):
    """The meta collection's handle is kept between questions; a server reset under a running reader costs
    one retry, not an error on every question."""
    import chromadb

    reader = Services(make_settings(chroma_host="127.0.0.1", chroma_port=chroma_server.port, data_dir=tmp_path))
    store = reader.store
    assert isinstance(store, ServerStore)
    assert store.pointer_token() is None
    chromadb.HttpClient(host="127.0.0.1", port=chroma_server.port).delete_collection(f"{store.prefix}-meta")
    assert store.pointer_token() is None
    assert store.read_manifest() is None
