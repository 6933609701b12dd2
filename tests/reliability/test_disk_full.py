"""A disk that fills up mid-ingest: a clear error, and the previous index still answers."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from typing import Any


def _small_disk() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))


def test_disk_full_during_ingest_keeps_the_previous_index(tmp_path, shared_dir, compilation, embed_cache):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPORTBOT_", "CHROMA_", "OPENAI_"))}
    env.update(REPORTBOT_DATA_DIR=str(tmp_path / "data"), REPORTBOT_EMBED_CACHE=str(embed_cache))

    def run(*a: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *a], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, **kw
        )

    assert run("ingest", str(shared_dir / "corpus" / "extra")).returncode == 0
    before = json.loads(run("status", "--json").stdout)

    full = run("ingest", str(compilation), preexec_fn=_small_disk)
    assert full.returncode == 1
    assert "cannot write the index" in full.stderr and "Traceback" not in full.stderr

    after = json.loads(run("status", "--json").stdout)
    assert after == before
    answer = json.loads(run("ask", "--json", "水利局明年有什么计划？").stdout)
    assert answer["found"] and answer["sources"][0]["report"].startswith("水利局")
    assert len(list((tmp_path / "data" / "generations").iterdir())) == 1
