"""Soak: the real Telegram bot under many chats for minutes, with an admin /reindex in the middle.

50 private chats each ask 20 questions (1,000 in all), one after another with a think time, through the real
python-telegram-bot Application (long polling, AIORateLimiter, concurrent updates) against the loopback fake
Bot API of the test suite.  Half-way through (after 1/3 of the answers) the admin sends /reindex of a folder
holding the compilation and one extra report.  Figures: questions answered, answered with a valid citation,
errors, p50/p95 latency (the moment the update is pushed to the fake → the fake receiving the answer's
sendMessage), peak RSS of this process (bot + fake + embedded Chroma), re-index duration, and the busiest
chat's message rate.

    python -m bench.soak                # 50 chats x 20 questions, think 8 s → bench/results/soak.json
    python -m bench.soak --chats 10 --per-chat 5 --think 0.5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import CORPUS, EMBED_CACHE, log, machine, percentile, write_result
from bot.services import Services
from bot.settings import Settings
from bot.telegram.app import build_application
from ingest.pipeline import run_ingest
from tests.fakes.telegram_server import FakeTelegramServer
from tests.reliability.test_telegram_load import (
    QUESTIONS,
    TOKEN,
    busiest_second,
    chat_rates,
    load_settings,
    prepare_reports,
    run_load,
    valid_citation,
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def soak(chats: int, per_chat: int, think: float, embed_cache: Path, work: Path) -> dict[str, Any]:
    data_dir = work / "data"
    reports = prepare_reports(work / "reports", CORPUS)
    log("building the starting index (the compilation alone)")
    base = Settings(_env_file=None, data_dir=data_dir, embed_cache=embed_cache)  # type: ignore[call-arg]
    svc = Services(base)
    run_ingest([CORPUS], base, svc.store, svc.embeddings, show_progress=False)
    svc.close()
    rss_before = peak_rss_mb()
    with FakeTelegramServer(token=TOKEN) as tg:
        services = Services(load_settings(tg, data_dir, reports, embed_cache, chats))
        try:
            app = build_application(services)
            log(f"{chats} chats x {per_chat} questions, think {think}s, /reindex after {chats * per_chat // 3} answers")
            started = time.monotonic()
            result = asyncio.run(
                run_load(app, tg, chats, per_chat, reindex_after=chats * per_chat // 3, think=think, timeout=300)
            )
            wall = time.monotonic() - started
        finally:
            services.close()
        internal = tg.internal_errors
    asked = result.asked
    answered = [a for a in asked if a.answered is not None]
    answerable = [a for a in asked if a.expect is not None]
    cited = [a for a in answerable if a.answered is not None and valid_citation(a.answer, a.raw)]
    latencies = [a.latency for a in answered]
    rates = chat_rates(result.calls, {a.chat_id for a in asked})
    return {
        "benchmark": "soak",
        "chats": chats,
        "questions_per_chat": per_chat,
        "think_seconds": think,
        "questions": len(asked),
        "answered": len(answered),
        "answerable": len(answerable),
        "answered_with_valid_citation": len(cited),
        "errors": len(result.problems),
        "error_samples": result.problems[:20],
        "fake_internal_errors": len(internal),
        "latency_p50_s": round(percentile(latencies, 50), 3),
        "latency_p95_s": round(percentile(latencies, 95), 3),
        "latency_max_s": round(max(latencies, default=0.0), 3),
        "wall_seconds": round(wall, 1),
        "throughput_qps": round(len(answered) / wall, 2) if wall else 0.0,
        "reindex_seconds": round(result.reindex_seconds, 1) if result.reindex_seconds is not None else None,
        "reindex_summary": result.reindex_summary,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "peak_rss_mb_before_load": round(rss_before, 1),
        "max_chat_rate_per_s": round(max(rates.values(), default=0.0), 2),
        "busiest_second_messages": busiest_second(result.calls),
        "note": "peak RSS is this whole process: the bot, the fake Bot API (in a thread) and embedded Chroma",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--per-chat", type=int, default=20)
    parser.add_argument("--think", type=float, default=8.0, help="seconds a user waits between questions")
    parser.add_argument("--embed-cache", type=Path, default=EMBED_CACHE)
    parser.add_argument("--output", default="soak", help="name under bench/results (no .json)")
    args = parser.parse_args(argv)
    if not CORPUS.exists():
        print(f"soak: the shared corpus is absent ({CORPUS})", file=sys.stderr)
        return 2
    at_start = machine()
    with tempfile.TemporaryDirectory(prefix="reportbot-soak-") as tmp:
        figures = soak(args.chats, args.per_chat, args.think, args.embed_cache, Path(tmp))
    figures["machine"] = at_start
    figures["questions_used"] = [q for q, _ in QUESTIONS]
    path = write_result(args.output, figures)
    log(
        f"{figures['answered']}/{figures['questions']} answered, {figures['answered_with_valid_citation']}/"
        f"{figures['answerable']} cited, {figures['errors']} errors, p50 {figures['latency_p50_s']}s "
        f"p95 {figures['latency_p95_s']}s, peak RSS {figures['peak_rss_mb']} MB, reindex "
        f"{figures['reindex_seconds']}s → {path}"
    )
    return 0 if figures["errors"] == 0 and figures["answered"] == figures["questions"] else 1


if __name__ == "__main__":
    sys.exit(main())
