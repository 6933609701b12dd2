"""Building and running the Telegram application: polling by default, webhooks behind a load balancer."""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import sys
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.errors import BadSetting, ReportbotError
from bot.services import Services
from bot.telegram import handlers as h
from bot.telegram.access import Access, RateLimiter
from bot.telegram.ratelimit import ChatPacedRateLimiter
from bot.telegram.reindex import Reindexer
from bot.telegram.state import BotState

log = logging.getLogger(__name__)

PUBLIC_COMMANDS = [
    BotCommand("start", "开始"),
    BotCommand("help", "能问什么"),
    BotCommand("ask", "提问（群聊中使用）"),
    BotCommand("reports", "已导入的报告"),
    BotCommand("source", "查看第 n 个来源的原文"),
    BotCommand("new", "开始新话题"),
]
ADMIN_COMMANDS = [BotCommand("reindex", "重建索引"), BotCommand("status", "索引状态")]


class RedactSecrets(logging.Filter):
    """Keep the bot token out of every log line, whoever logs it (httpx prints request URLs)."""

    def __init__(self, *secrets_: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets_ if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for s in self.secrets:
                message = message.replace(s, "<redacted>")
            record.msg, record.args = message, None
        return True


def install_redaction(token: str) -> None:
    redactor = RedactSecrets(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def file_url_for(base_url: str) -> str:
    """`…/bot` → `…/file/bot`, the Bot API's layout for downloads."""
    return base_url[: -len("/bot")] + "/file/bot" if base_url.endswith("/bot") else base_url.rstrip("/") + "/file/bot"


def build_application(services: Services) -> Application:
    """The whole bot, built from settings; tests point TELEGRAM_BASE_URL at a loopback Bot API."""
    settings = services.settings
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        raise BadSetting("TELEGRAM_BOT_TOKEN is not set")
    token = settings.telegram_bot_token.get_secret_value()
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url or file_url_for(settings.telegram_base_url))
        .rate_limiter(ChatPacedRateLimiter(max_retries=3))
        .concurrent_updates(32)
        .post_init(_post_init)
        .build()
    )
    access = Access(settings.allowed_user_ids, settings.allowed_chat_ids, settings.admin_ids)
    app.bot_data["state"] = BotState(
        services=services,
        answerer=services.answerer(),
        access=access,
        limiter=RateLimiter(settings.rate_limit_per_minute),
        history_turns=settings.history_turns,
    )
    app.bot_data["reindexer"] = Reindexer(services)
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    app.add_handler(CommandHandler(["start", "help"], h.start))
    app.add_handler(CommandHandler("ask", h.ask_cmd))
    app.add_handler(CommandHandler("reports", h.reports_cmd))
    app.add_handler(CommandHandler("source", h.source_cmd))
    app.add_handler(CommandHandler("new", h.new_cmd))
    app.add_handler(CommandHandler("reindex", h.reindex_cmd))
    app.add_handler(CommandHandler("status", h.status_cmd))
    app.add_handler(CallbackQueryHandler(h.source_button, pattern=r"^src:"))
    app.add_handler(CallbackQueryHandler(h.source_button))
    app.add_handler(MessageHandler(filters.Document.ALL & private, h.document))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & private, h.private_text))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & groups, h.group_text))
    app.add_error_handler(h.on_error)
    return app


async def _post_init(app: Application) -> None:
    state: BotState = app.bot_data["state"]
    await app.bot.set_my_commands(PUBLIC_COMMANDS)
    for admin in state.access.admins:
        if isinstance(admin, int):
            try:
                await app.bot.set_my_commands(PUBLIC_COMMANDS + ADMIN_COMMANDS, scope=BotCommandScopeChat(admin))
            except TelegramError as exc:
                log.info("admin commands not set for %s (%s); they still work", admin, exc)
    if state.access.nobody:
        log.warning(
            "no allow-list is set, so nobody will be answered: set REPORTBOT_ALLOWED_USER_IDS or "
            "REPORTBOT_ALLOWED_CHAT_IDS to numeric ids (or '*' for everyone) and REPORTBOT_ADMIN_IDS"
        )
    try:
        await asyncio.to_thread(state.answerer.reader.current)
    except ReportbotError as exc:
        log.warning("%s", exc)


def run_bot(services: Services, webhook_url: str | None = None, listen: str = "0.0.0.0", port: int = 8443) -> int:
    """Run until interrupted; exit 1 with one clear line when another poller holds the token."""
    bot_token = services.settings.telegram_bot_token
    # before building: the Bot logs its API URLs, token included, at DEBUG as soon as it is constructed
    install_redaction(bot_token.get_secret_value() if bot_token else "")
    app = build_application(services)
    logging.getLogger().setLevel(logging.INFO)
    try:
        if webhook_url:
            secret = services.settings.webhook_secret
            token = secret.get_secret_value() if secret else secrets.token_urlsafe(32)
            return asyncio.run(serve_webhook(app, webhook_url, listen, port, token))
        return asyncio.run(poll(app))
    except InvalidToken:
        print("reportbot: error: Telegram rejected TELEGRAM_BOT_TOKEN", file=sys.stderr)
        return 1
    except TelegramError as exc:
        print(f"reportbot: error: Telegram refused: {exc}", file=sys.stderr)
        return 1


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (RuntimeError, ValueError):  # not the main thread (tests): the caller stops us
            return


async def _stop(app: Application) -> None:
    """Stop what started, also when starting failed: leaving `async with app` while it runs hides the error."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    await app.stop()


async def serve_webhook(
    app: Application, url: str, listen: str, port: int, secret: str, stop: asyncio.Event | None = None
) -> int:
    """Behind a load balancer: every replica serves the same URL; requests without the secret get 403."""
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    path = urlsplit(url).path.strip("/") or "telegram"
    async with app:
        if app.post_init is not None:  # as in poll(): set the command menus, warn when nobody is allowed
            await app.post_init(app)
        await app.start()
        try:
            await app.updater.start_webhook(  # type: ignore[union-attr]
                listen=listen,
                port=port,
                url_path=path,
                webhook_url=url,
                secret_token=secret,
                allowed_updates=Update.ALL_TYPES,
            )
            log.info("reportbot is serving webhooks on %s:%s/%s", listen, port, path)
            await stop.wait()
        finally:
            await _stop(app)
    return 0


async def poll(app: Application, stop: asyncio.Event | None = None) -> int:
    """Long polling; a 409 Conflict (another poller on this token) ends it with exit code 1."""
    stop = stop or asyncio.Event()
    conflict: list[Conflict] = []

    def on_error(exc: TelegramError) -> None:
        if isinstance(exc, Conflict):
            conflict.append(exc)
            stop.set()
        else:
            log.warning("polling error: %s", exc)

    _stop_on_signals(stop)
    async with app:
        if app.post_init is not None:  # Application.initialize() does not run it; only run_polling/run_webhook do
            await app.post_init(app)
        await app.start()
        try:
            await app.updater.start_polling(error_callback=on_error, allowed_updates=Update.ALL_TYPES)  # type: ignore[union-attr]
            log.info("reportbot is polling; Ctrl-C to stop")
            await stop.wait()
        finally:
            await _stop(app)
    if conflict:
        print(
            "reportbot: error: another process is already polling with this bot token (409 Conflict); "
            "run a single poller, or use --webhook behind a load balancer for several replicas",
            file=sys.stderr,
        )
        return 1
    return 0
