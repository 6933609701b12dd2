"""SIGKILL an ingest at random moments, again and again: the last complete index always answers."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

from bot.services import Services
from bot.settings import Settings

KILLS = 6


def cli(env, cwd, *args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def test_repeated_sigkill_then_recovery(tmp_path, compilation, embed_cache):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPORTBOT_", "CHROMA_", "OPENAI_"))}
    env.update(REPORTBOT_DATA_DIR=str(tmp_path / "data"), REPORTBOT_EMBED_CACHE=str(embed_cache))
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "compilation.txt").write_text(compilation.read_text(encoding="utf-8"), encoding="utf-8")
    first = cli(env, tmp_path, "ingest", str(reports))
    assert first.returncode == 0, first.stderr
    baseline = json.loads(cli(env, tmp_path, "status", "--json").stdout)

    rng = random.Random(7)
    extra = reports / "水利局2023年工作总结及2024年工作计划.txt"
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", embed_cache=embed_cache)
    for round_no in range(KILLS):
        extra.write_text(
            f"水利局2023年工作总结及2024年工作计划\n\n一、2023年工作总结\n（一）水库除险加固\n第{round_no}轮：完成x座水库除险加固，新建堤防xx公里。"
            + "各项工作有序推进。" * rng.randint(50, 400),
            encoding="utf-8",
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "ingest", str(reports)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.5, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        services = Services(settings)
        try:
            manifest = services.store.read_manifest()
            assert manifest is not None, f"round {round_no}: no live index after SIGKILL"
            answer = services.answerer().ask("粮食局明年粮食流通执法要开展哪些检查？")
            assert answer.found and answer.sources[0].report.startswith("粮食局"), f"round {round_no}"
            chunks, _ = services.store.collections(manifest.generation)
            assert chunks.count() == manifest.chunks, f"round {round_no}: live generation is incomplete"
        finally:
            services.close()

    final = cli(env, tmp_path, "ingest", str(reports))
    assert final.returncode == 0, final.stderr
    status = json.loads(cli(env, tmp_path, "status", "--json").stdout)
    titles = {r["title"] for r in status["reports"]}
    assert titles == {r["title"] for r in baseline["reports"]} | {"水利局2023年工作总结及2024年工作计划"}
    generations = sorted(p.name for p in (tmp_path / "data" / "generations").iterdir())
    assert len(generations) <= 2, f"unfinished generations left behind: {generations}"

    clean_dir = tmp_path / "clean"
    clean_env = dict(env, REPORTBOT_DATA_DIR=str(clean_dir))
    assert cli(clean_env, tmp_path, "ingest", str(reports)).returncode == 0
    clean = json.loads(cli(clean_env, tmp_path, "status", "--json").stdout)
    strip = lambda s: sorted((r["title"], r["sections"], r["chunks"]) for r in s["reports"])  # noqa: E731
    assert strip(status) == strip(clean) and status["chunks"] == clean["chunks"]
