"""`reportbot`: the command line. Each subcommand builds what it needs from settings and calls the library."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import BadInput, EmptyQuestion, ReportbotError

if TYPE_CHECKING:  # each command imports what it uses: `--help` needs none of it, `ask` no LangChain
    from bot.answer import Answerer
    from bot.services import Services

USAGE_HINT = '用法：reportbot ask "粮食局明年打算新建哪些粮库？"'


def _sources_count(text: str) -> int:
    k = int(text)
    if not 1 <= k <= 50:
        raise argparse.ArgumentTypeError("must be between 1 and 50")
    return k


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="reportbot", description="Cited answers from government work reports.")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="index report files or folders (.txt .md .docx .pdf)")
    ing.add_argument("paths", nargs="+", type=Path)
    ing.add_argument("--prune", action="store_true", help="drop reports whose files are gone")
    ing.add_argument("--rebuild", action="store_true", help="re-read every file (embeddings come from the cache)")
    ing.add_argument("--no-ocr", action="store_true", help="refuse scanned PDF pages instead of reading them with OCR")
    ing.add_argument("--json", action="store_true", help="print the summary as JSON")

    st = sub.add_parser("status", help="what is indexed")
    st.add_argument("--json", action="store_true")

    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question", nargs="*")
    ask.add_argument("--report", help="only this report (part of its title)")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("-k", type=_sources_count, default=None, help="sources to retrieve (default REPORTBOT_TOP_K, 5)")

    sub.add_parser("chat", help="interactive questions with follow-ups")

    src = sub.add_parser("source", help="print the whole section behind a citation")
    src.add_argument("ref")
    src.add_argument("--json", action="store_true")

    ev = sub.add_parser("eval", help="score retrieval on a JSONL question set")
    ev.add_argument("file", type=Path)
    ev.add_argument("--output", type=Path)
    ev.add_argument("-k", type=_sources_count, default=5, help="sources to retrieve (default 5)")
    ev.add_argument("--json", action="store_true")

    tg = sub.add_parser("telegram", help="run the Telegram bot")
    tg.add_argument("--webhook", metavar="URL", help="public URL; default is long polling")
    tg.add_argument("--listen", default="0.0.0.0")
    tg.add_argument("--port", type=int, default=8443)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # onnxruntime (OCR, Chroma) phones home on Linux unless told before it is first imported
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    from pydantic import ValidationError

    from bot.services import Services
    from bot.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"reportbot: error: bad setting {'.'.join(map(str, first['loc']))}: {first['msg']}", file=sys.stderr)
        return 1
    services = Services(settings, serving=args.command != "ingest")
    commands: dict[str, Callable[[argparse.Namespace, Services], int]] = {
        "ingest": cmd_ingest,
        "status": cmd_status,
        "ask": cmd_ask,
        "chat": cmd_chat,
        "source": cmd_source,
        "eval": cmd_eval,
        "telegram": cmd_telegram,
    }
    try:
        return commands[args.command](args, services)
    except EmptyQuestion:
        print(f"reportbot: error: the question is empty\n{USAGE_HINT}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `reportbot … | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ReportbotError as exc:
        if args.debug:
            raise
        print(f"reportbot: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"reportbot: unexpected error: {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr
        )
        return 1
    finally:
        services.close()


def cmd_ingest(args: argparse.Namespace, services: Services) -> int:
    from rich.console import Console

    from bot.cli import render
    from ingest.pipeline import run_ingest

    result = run_ingest(
        args.paths,
        services.settings,
        services.store,
        services.embeddings,
        prune=args.prune,
        rebuild=args.rebuild,
        show_progress=sys.stderr.isatty() and not args.json,
        ocr=not args.no_ocr,
    )
    for failed in result.failed:
        print(f"reportbot: failed: {failed.path}: {failed.error}", file=sys.stderr)
    for outcome in result.outcomes:
        for note in outcome.notes:
            print(f"reportbot: note: {outcome.path}: {note}", file=sys.stderr)
    gone = [f for f in (result.manifest.files if result.manifest else {}) if not Path(f).exists()]
    if gone:
        print(
            f"reportbot: note: {len(gone)} indexed file(s) no longer exist (e.g. {gone[0]}); "
            "`reportbot ingest --prune PATH...` drops their reports",
            file=sys.stderr,
        )
    if args.json:
        print(
            json.dumps(
                {
                    "files": [o.__dict__ for o in result.outcomes],
                    "embedded": result.embedded,
                    "published": result.published,
                    "missing": gone,
                    "seconds": round(result.seconds, 3),
                    "status": render.status_json(result.manifest, services.store.description),
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        render.ingest_table(Console(), result)
    return 1 if result.failed else 0


def cmd_status(args: argparse.Namespace, services: Services) -> int:
    from rich.console import Console

    from bot.cli import render

    data = render.status_json(services.store.read_manifest(), services.store.description)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        render.status_table(Console(), data)
    return 0


def cmd_ask(args: argparse.Namespace, services: Services) -> int:
    question = " ".join(args.question)
    if not question.strip():
        raise EmptyQuestion
    from bot.cli import render

    core = services.answerer()
    streamed = core.llm is not None and not args.json and sys.stdout.isatty()
    on_token = (lambda t: print(t, end="", flush=True)) if streamed else None
    answer = core.ask(question, report=args.report, on_token=on_token, k=args.k)
    if args.json:
        print(json.dumps(answer.record(), ensure_ascii=False, indent=1))
    else:
        if streamed:
            print()
        print(render.answer_text(answer, show_answer=not (streamed and answer.llm)))
    return 0


def cmd_chat(args: argparse.Namespace, services: Services) -> int:
    from bot.answer import Answer
    from bot.cli import render
    from bot.followup import Conversation

    core = services.answerer()
    conversation = Conversation(max_turns=services.settings.history_turns)
    print("输入问题，回车提问；/new 开始新话题，/source N 查看上一个回答第 N 个来源的原文，Ctrl-D 退出。")
    last: Answer | None = None
    while True:
        try:
            question = input("问> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            continue
        if question == "/new":
            conversation.clear()
            print("（已开始新话题）")
            continue
        if question.startswith("/source"):
            ref = question.removeprefix("/source").strip()
            numbered = {str(s.n): s.ref for s in last.sources} if last else {}
            _print_source(core, numbered.get(ref, ref), as_json=False)
            continue
        last = core.ask(question, conversation=conversation)
        print(render.answer_text(last) + "\n")


def cmd_source(args: argparse.Namespace, services: Services) -> int:
    return _print_source(services.answerer(), args.ref, args.json)


def _print_source(core: Answerer, ref: str, as_json: bool) -> int:
    section = core.source(ref)
    if section is None:
        print(
            f"reportbot: error: no source {ref!r} in the current index (refs are printed beside each source)",
            file=sys.stderr,
        )
        return 1
    if as_json:
        print(json.dumps(section.__dict__, ensure_ascii=False, indent=1))
    else:
        print(f"{section.report} › {section.section}\n({section.file})\n\n{section.text}")
    return 0


def cmd_eval(args: argparse.Namespace, services: Services) -> int:
    from bot.cli.evaluate import run_eval

    if not args.file.is_file():
        raise BadInput(f"{args.file}: no such file")
    started = time.perf_counter()
    report = run_eval(services.answerer(), args.file, args.k, args.output)
    summary = report.summary()
    summary["seconds"] = round(time.perf_counter() - started, 2)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        for key, value in summary.items():
            print(f"{key:22} {value}")
    return 0


def cmd_telegram(args: argparse.Namespace, services: Services) -> int:
    from bot.telegram.app import run_bot

    return run_bot(services, webhook_url=args.webhook, listen=args.listen, port=args.port)
