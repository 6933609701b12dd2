"""Peak memory of a bot-like process: Services + Answerer loaded, answering the dev questions.

    python -m bench.memory [--scales 1 100] [--stores embedded server] [--rounds 2] [--repeats 3]
    # → bench/results/memory.json

Each measurement is a fresh child process (`python -m bench.memory --child …`) that builds Services and the
Answerer over the cached index of that scale (see bench.latency; built with `run_ingest` if needed, vectors
from bench/.cache/embed-cache.sqlite), answers the 20 dev questions --rounds times, and reports its own
peak RSS (VmHWM from /proc/self/status; not ru_maxrss, which a child inherits from its parent at exec) and
its RSS (psutil) after imports, after the index is loaded and at the end. The parent also samples the child's RSS with psutil every 20 ms, as a cross-check.
In server mode the Chroma server's RSS (psutil, after the questions) is reported beside the bot's: in that
mode the vectors live there, while each bot process still keeps every chunk's text and terms (BM25).
Each configuration runs --repeats times in fresh processes; the table has the medians, and every run's peak.
A scale whose chunks are not all in the embedding cache is skipped (prebuild: python -m bench.build_indexes).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.common import (
    CACHE,
    DEV,
    ROOT,
    bench_settings,
    chroma_server,
    ensure_index,
    log,
    median,
    uncached_chunks,
    write_result,
)

MIB = 1024 * 1024


def child(scale: int, store: str, port: int | None, rounds: int) -> dict[str, Any]:
    import psutil

    me = psutil.Process()
    rss_start = me.memory_info().rss
    from bot.cli.evaluate import read_questions
    from bot.services import Services

    rss_imported = me.memory_info().rss
    services = Services(bench_settings(scale, store, port))
    answerer = services.answerer()
    index = answerer.reader.current()
    rss_loaded = me.memory_info().rss
    questions = [q["question"] for q in read_questions(DEV)]
    found = 0
    for _ in range(rounds):
        for q in questions:
            found += answerer.ask(q).found
    rss_end = me.memory_info().rss
    peak_kib = _own_peak_kib()
    out = {
        "chunks": len(index.records),
        "asks": rounds * len(questions),
        "found": found,
        "rss_start_mib": round(rss_start / MIB, 1),
        "rss_after_imports_mib": round(rss_imported / MIB, 1),
        "rss_after_index_load_mib": round(rss_loaded / MIB, 1),
        "rss_end_mib": round(rss_end / MIB, 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
    }
    services.close()
    return out


def _own_peak_kib() -> int:
    """This process image's peak RSS. Not ru_maxrss: on Linux a child inherits its parent's peak at exec, so a
    parent that has just built the 100x index would stamp its own peak on every child it starts."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(scale: int, store: str, port: int | None, rounds: int, server_pid: int | None) -> dict[str, Any]:
    import psutil

    cmd = [sys.executable, "-m", "bench.memory", "--rounds", str(rounds), "--child", str(scale), store, str(port or 0)]
    proc = psutil.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampled = 0
    while proc.poll() is None:
        try:
            sampled = max(sampled, proc.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.02)
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"memory child failed: {stderr[-3000:]}")
    got = json.loads(stdout.strip().splitlines()[-1])
    got.update(scale=scale, store=store, sampled_peak_rss_mib=round(sampled / MIB, 1))
    if server_pid:
        got["chroma_server_rss_mib"] = round(psutil.Process(server_pid).memory_info().rss / MIB, 1)
    return got


def repeated(times: int, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over fresh processes, with every run's peak kept beside it."""
    runs = [run() for _ in range(max(times, 1))]
    row = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, float):
            row[key] = round(median([r[key] for r in runs]), 1)
    row["peak_rss_mib_runs"] = [r["peak_rss_mib"] for r in runs]
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scales", nargs="+", type=int, default=[1, 100])
    p.add_argument("--stores", nargs="+", choices=["embedded", "server"], default=["embedded", "server"])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3, help="fresh processes per configuration; the table has medians")
    p.add_argument("--child", nargs=3, metavar=("SCALE", "STORE", "PORT"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        scale, store, port = int(args.child[0]), args.child[1], int(args.child[2]) or None
        print(json.dumps(child(scale, store, port, args.rounds)))
        return

    scales, skipped = [], {}
    for scale in args.scales:
        missing = uncached_chunks(scale)
        if missing:
            skipped[str(scale)] = f"{missing} chunks not in the embedding cache yet"
            log(f"skipping {scale}x: {skipped[str(scale)]} (run python -m bench.build_indexes {scale})")
        else:
            scales.append(scale)
    rows: list[dict[str, Any]] = []
    if "embedded" in args.stores:
        for scale in scales:
            ensure_index(scale, "embedded")
            rows.append(repeated(args.repeats, partial(measure, scale, "embedded", None, args.rounds, None)))
            log(json.dumps(rows[-1]))
    if "server" in args.stores and scales:
        with chroma_server(CACHE / "chroma-server") as (port, pid):
            for scale in scales:
                ensure_index(scale, "server", port)
                rows.append(repeated(args.repeats, partial(measure, scale, "server", port, args.rounds, pid)))
                log(json.dumps(rows[-1]))
    table = [
        {
            k: r.get(k)
            for k in (
                "scale",
                "store",
                "chunks",
                "peak_rss_mib",
                "sampled_peak_rss_mib",
                "rss_after_imports_mib",
                "rss_after_index_load_mib",
                "chroma_server_rss_mib",
                "peak_rss_mib_runs",
            )
        }
        for r in rows
    ]
    path = write_result(
        "memory",
        {"benchmark": "memory", "rounds": args.rounds, "skipped_scales": skipped, "table": table, "rows": rows},
    )
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
