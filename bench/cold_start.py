"""Cold start: `reportbot --help`, a first `reportbot ask`, and the Telegram bot's first answer, each against
the bare process that loads the bundled model and embeds one question, in the same run.

    python -m bench.cold_start [--runs 7]        # → bench/results/cold_start.json

Runs alternate command and bare process (A B A B …), so a machine whose speed drifts affects both alike;
each figure is the median of the runs, each ratio the median of the pairwise ratios. `ask` reads the 1×
index of bench/scale.py (bench/.cache/scale/index-embedded-1x; built on first use). Telegram: the real
`reportbot telegram` process (long polling) against the loopback fake Bot API of the test suite, with a
question already waiting; the time runs from starting the process to the fake receiving the answer.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import BENCH, log, machine, median, write_result
from bench.scale import BARE, QUESTION, corpus, settings_for

TOKEN = "123456:BENCH"
USER = 4242


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPORTBOT_", "CHROMA_", "TELEGRAM_", "OPENAI_"))}
    env.update(REPORTBOT_DATA_DIR=str(data_dir), OMP_WAIT_POLICY="PASSIVE", ANONYMIZED_TELEMETRY="False", **extra)
    return env


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=BENCH.parent)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def paired(
    name: str, run: Callable[[], tuple[float, float]], bare: Callable[[], tuple[float, float]], runs: int
) -> dict[str, Any]:
    run()  # warm-up of both: page cache, the segmenter's dictionary file, pyc files
    bare()
    a, b = [], []
    for _ in range(runs):
        a.append(run())
        b.append(bare())
    row = {
        "what": name,
        "runs": runs,
        "wall_s": round(median([x[0] for x in a]), 3),
        "cpu_s": round(median([x[1] for x in a]), 3),
        "bare_wall_s": round(median([x[0] for x in b]), 3),
        "bare_cpu_s": round(median([x[1] for x in b]), 3),
        "ratio_wall": round(median([x[0] / y[0] for x, y in zip(a, b, strict=True)]), 2),
        "ratio_cpu": round(median([x[1] / y[1] for x, y in zip(a, b, strict=True)]), 2),
    }
    log(str(row))
    return row


def telegram_first_answer(data_dir: Path) -> tuple[float, float]:
    sys.path.insert(0, str(BENCH.parent))
    from tests.fakes.telegram_server import FakeTelegramServer

    with FakeTelegramServer(token=TOKEN) as tg:
        tg.push_message(USER, QUESTION)
        env = _env(
            data_dir,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_BASE_URL=tg.base_url,
            TELEGRAM_BASE_FILE_URL=tg.base_file_url,
            REPORTBOT_ALLOWED_USER_IDS=str(USER),
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "reportbot"), "telegram"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=BENCH.parent,
        )
        try:
            tg.wait_for(lambda calls: any(c.method == "sendMessage" for c in calls), timeout=60, interval=0.005)
            wall = time.perf_counter() - started
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=7)
    args = p.parse_args()
    corpus(1)
    data_dir = settings_for(1, "embedded").data_dir
    if not (data_dir / "current.json").exists():
        raise SystemExit("build the 1x index first: python -m bench.scale build 1")
    exe = str(Path(sys.executable).parent / "reportbot")
    env = _env(data_dir)
    bare = lambda: _run([sys.executable, "-c", BARE], env)  # noqa: E731
    rows = [
        paired("reportbot --help", lambda: _run([exe, "--help"], env), bare, args.runs),
        paired("reportbot ask (1x, embedded)", lambda: _run([exe, "ask", QUESTION], env), bare, args.runs),
        paired("reportbot telegram: first answer (1x)", lambda: telegram_first_answer(data_dir), bare, args.runs),
    ]
    write_result("cold_start", {"machine": machine(), "rows": rows})


if __name__ == "__main__":
    main()
