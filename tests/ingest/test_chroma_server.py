"""Server mode: the same ingest and answers against a real `chroma run`, across restarts and re-ingests."""

from __future__ import annotations

import pytest

from bot.services import Services
from ingest.pipeline import run_ingest
from ingest.store import ServerStore, StoreUnavailable

pytestmark = pytest.mark.server


def renamed_copy(compilation, tmp_path, county: str):
    """The compilation with every bureau renamed, so its chunks are new text (and new vectors)."""
    text = compilation.read_text(encoding="utf-8")
    for org in ("管理区", "招商中心", "粮食局", "统计局", "民族事务委员会", "财政局", "林业局", "工业园区", "经济开发区", "商务局"):
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
