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
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])})


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
