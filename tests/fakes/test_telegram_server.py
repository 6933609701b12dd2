"""Prove FakeTelegramServer is good enough to run the real python-telegram-bot stack against.

Why: the bot's own tests rely on this fake; if it disagreed with PTB's HTTP usage (multipart vs
form bodies, long polling, error mapping, file URLs) they would pass or fail for the wrong reasons.
Every test drives a real `Application` (or `Bot`) over loopback HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, EndPointNotFound, InvalidToken, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram_server import BOT_USER_ID, Call, FakeTelegramServer, HtmlParseError, parse_html

TOKEN = "123:ABC"
WAIT = 4.0


@pytest.fixture
def tg() -> Iterator[FakeTelegramServer]:
    """A fresh fake per test; also fails the test if the fake itself hit a bug."""
    with FakeTelegramServer(token=TOKEN) as server:
        yield server
    assert not server.internal_errors, "\n".join(server.internal_errors)


def build_app(tg: FakeTelegramServer, rate_limiter: BaseRateLimiter | None = None) -> Application:
    """Build the Application exactly as production does, only pointed at the fake."""
    builder = ApplicationBuilder().token(TOKEN).base_url(tg.base_url).base_file_url(tg.base_file_url)
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    return builder.build()


def make_bot(tg: FakeTelegramServer, token: str = TOKEN) -> Bot:
    """A bare Bot for checks that need no polling loop."""
    return Bot(token, base_url=tg.base_url, base_file_url=tg.base_file_url)


@contextlib.asynccontextmanager
async def running(app: Application) -> AsyncIterator[Application]:
    """Run initialize/start/polling and always tear down, so a failing test cannot leak tasks."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=dtm.timedelta(seconds=1))
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def methods(calls: list[Call]) -> list[str]:
    """Method names in call order (why: compact assertions on the HTTP conversation)."""
    return [call.method for call in calls]


def test_echo_handler_answers_a_pushed_private_message(tg: FakeTelegramServer) -> None:
    """The basic loop (getMe, deleteWebhook, long poll, sendMessage) must work end to end."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    async def scenario() -> None:
        app = build_app(tg)
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
        async with running(app):
            assert app.bot.username == "reportbot_test_bot"
            assert app.bot.id == BOT_USER_ID
            tg.push_message(42, "hello 世界 👋")
            await tg.wait_for_async(lambda calls: tg.sent_messages(42), timeout=WAIT)

    started = time.monotonic()
    asyncio.run(scenario())
    assert time.monotonic() - started < 5

    [sent] = tg.sent_messages(42)
    assert sent.text == "echo: hello 世界 👋"
    assert sent.chat_id == 42
    assert methods(tg.calls)[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    # PTB's shutdown getUpdates confirmed the update, as it would with Telegram.
    assert tg.pending_update_count == 0
    # Non-file calls arrive form-encoded with JSON-dumped non-string values; the fake types them back.
    assert tg.calls_of("sendMessage")[0].params["chat_id"] == 42


def test_injected_429_is_retried_by_aioratelimiter(tg: FakeTelegramServer) -> None:
    """Flood control must reach PTB as RetryAfter so AIORateLimiter waits and retries."""

    tg.fail_next("sendMessage", times=1, retry_after=1)

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "still delivered")

    async def scenario() -> None:
        app = build_app(tg, rate_limiter=AIORateLimiter(max_retries=2))
        app.add_handler(MessageHandler(filters.TEXT, answer))
        async with running(app):
            tg.push_message(7, "ping")
            await tg.wait_for_async(lambda calls: tg.sent_messages(7), timeout=WAIT)

    asyncio.run(scenario())

    attempts = tg.calls_of("sendMessage")
    assert [call.status for call in attempts] == [429, 200]
    assert attempts[0].response["parameters"] == {"retry_after": 1}
    assert attempts[1].time - attempts[0].time >= 1.0  # the limiter honoured retry_after
    assert [m.text for m in tg.sent_messages(7)] == ["still delivered"]


def test_without_rate_limiter_429_surfaces_as_retry_after(tg: FakeTelegramServer) -> None:
    """Without a limiter the bot sees the 429 itself; the injection is consumed after one call."""

    tg.fail_next("sendMessage", retry_after=3)

    async def scenario() -> None:
        async with make_bot(tg) as bot:
            with pytest.raises(RetryAfter) as raised:
                await bot.send_message(7, "x")
            assert "Flood control exceeded" in raised.value.message
            await bot.send_message(7, "second try works")

    asyncio.run(scenario())
    assert [m.text for m in tg.sent_messages()] == ["second try works"]
    assert tg.calls_of("sendMessage")[0].response["parameters"] == {"retry_after": 3}


def test_invalid_html_gets_the_telegram_400(tg: FakeTelegramServer) -> None:
    """HTML Telegram would refuse must fail in tests too, with Telegram's wording."""

    errors: list[str] = []

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        chat_id = update.effective_chat.id
        for bad in ("<b>unclosed", "<br>", "A & B", "<b><i>x</b></i>", "x" * 4097):
            try:
                await context.bot.send_message(chat_id, bad, parse_mode=ParseMode.HTML)
            except BadRequest as exc:
                errors.append(exc.message)
        # Markup does not count towards the 4096 limit: 4096 visible characters are fine.
        await context.bot.send_message(chat_id, "<b>" + "y" * 4096 + "</b>", parse_mode=ParseMode.HTML)
        await context.bot.send_message(chat_id, "<b>ok</b> &lt;3 &amp; <tg-spoiler>s</tg-spoiler>", parse_mode="HTML")

    async def scenario() -> None:
        app = build_app(tg)
        app.add_handler(MessageHandler(filters.TEXT, answer))
        async with running(app):
            tg.push_message(9, "go")
            await tg.wait_for_async(lambda calls: len(tg.sent_messages(9)) == 2, timeout=WAIT)

    asyncio.run(scenario())

    assert errors[:4] == [
        "Can't parse entities: can't find end tag corresponding to start tag \"b\"",
        'Can\'t parse entities: unsupported start tag "br" at byte offset 0',
        'Can\'t parse entities: unsupported html entity at byte offset 2: escape a literal "&" as "&amp;"',
        'Can\'t parse entities: unmatched end tag at byte offset 7, expected "</i>", found "</b>"',
    ]
    assert errors[4] == "Message is too long"
    refused = [call for call in tg.calls_of("sendMessage") if call.status == 400]
    assert len(refused) == 5
    assert refused[0].response == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
    }
    long_one, fine = tg.sent_messages(9)
    assert len(long_one.text) == 4096
    assert fine.text == "ok <3 & s"
    assert fine.entities == [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "spoiler", "offset": 8, "length": 1},
    ]


@pytest.mark.parametrize(
    "html",
    ["<b>x", "</b>", "<foo>x</foo>", '<span class="x">s</span>', "<a href='x'>y", "&nbsp;", "&#xD800;", "<b x"],
)
def test_parse_html_rejects_what_telegram_rejects(html: str) -> None:
    """Each malformed HTML shape is refused by the parser behind the 400."""

    with pytest.raises(HtmlParseError):
        parse_html(html)


def test_parse_html_entities_use_utf16_offsets() -> None:
    """Entity offsets are UTF-16 units (emoji count twice), as PTB expects when slicing text."""

    text, entities = parse_html(
        '👋 <a href="https://e.x/?a=1&amp;b=2">链接</a> <pre><code class="language-py">1</code></pre>'
    )
    assert text == "👋 链接 1"
    assert entities == [
        {"type": "text_link", "offset": 3, "length": 2, "url": "https://e.x/?a=1&b=2"},
        {"type": "pre", "offset": 6, "length": 1, "language": "py"},
    ]
    assert parse_html("A & B", strict_entities=False) == ("A & B", [])


def test_document_download_returns_the_bytes(tg: FakeTelegramServer) -> None:
    """getFile plus the file URL must round-trip bytes, including a non-ASCII file name; uploads are multipart."""

    content = "第一部分 工作总结\n".encode() + bytes(range(256))
    received: list[bytes] = []

    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.document is not None
        tg_file = await context.bot.get_file(message.document.file_id)
        data = await tg_file.download_as_bytearray()
        received.append(bytes(data))
        await message.reply_document(
            bytes(data[::-1]), filename="reversed.bin", caption=f"<b>{len(data)}</b> bytes", parse_mode=ParseMode.HTML
        )

    async def scenario() -> None:
        app = build_app(tg)
        app.add_handler(MessageHandler(filters.Document.ALL, on_document))
        async with running(app):
            tg.push_document(5, None, "2023年工作总结.txt", content, caption="please index")
            await tg.wait_for_async(lambda calls: tg.sent_documents(5), timeout=WAIT)

    asyncio.run(scenario())

    assert received == [content]
    [download] = tg.calls_of("downloadFile")
    assert download.params == {"file_path": "documents/2023年工作总结.txt"}
    [sent] = tg.sent_documents(5)
    assert sent.content == content[::-1]
    assert sent.file_name == "reversed.bin"
    assert sent.caption == f"{len(content)} bytes"
    upload = tg.calls_of("sendDocument")[0].params["document"]
    assert upload.filename == "reversed.bin"  # arrived as a multipart file part


def test_group_command_callback_edit_and_delete(tg: FakeTelegramServer) -> None:
    """Group commands, mentions, replies, buttons, edits and deletes behave as in Telegram."""

    seen: dict[str, object] = {}

    async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        seen["args"] = context.args
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("more", callback_data="more:1")]])
        await update.effective_message.reply_text("<i>working</i>", parse_mode=ParseMode.HTML, reply_markup=keyboard)

    async def on_mention(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        seen["mention_reply_to_bot"] = bool(
            message.reply_to_message and message.reply_to_message.from_user.id == BOT_USER_ID  # type: ignore[union-attr]
        )
        await message.reply_text("noted", reply_markup=ReplyKeyboardMarkup([["a", "b"]]))

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer()
        with pytest.raises(BadRequest, match="Query is too old"):
            await query.answer()
        await query.edit_message_text(f"done: {query.data}")
        with pytest.raises(BadRequest, match="Message is not modified"):
            await query.edit_message_text(f"done: {query.data}")
        await context.bot.send_chat_action(query.message.chat.id, ChatAction.TYPING)
        note = await context.bot.send_message(query.message.chat.id, "temporary")
        await note.delete()
        await context.bot.set_my_commands([("report", "Ask the reports")])
        seen["commands"] = [c.command for c in await context.bot.get_my_commands()]
        seen["done"] = True

    async def scenario() -> None:
        app = build_app(tg)
        app.add_handler(CommandHandler("report", report))
        app.add_handler(MessageHandler(filters.Entity("mention"), on_mention))
        app.add_handler(CallbackQueryHandler(on_button))
        async with running(app):
            tg.push_command(-1001, "report@reportbot_test_bot 2023 summary", user_id=77, chat_type="supergroup")
            await tg.wait_for_async(lambda calls: tg.sent_messages(-1001), timeout=WAIT)
            tg.push_message(-1001, "@reportbot_test_bot thanks", user_id=77, chat_type="supergroup", reply_to_bot=True)
            await tg.wait_for_async(lambda calls: len(tg.sent_messages(-1001)) == 2, timeout=WAIT)
            first = tg.sent_messages(-1001)[0]
            tg.push_callback_query(-1001, 77, "more:1", first.message_id)
            await tg.wait_for_async(lambda calls: seen.get("done"), timeout=WAIT)

    asyncio.run(scenario())

    assert seen["args"] == ["2023", "summary"]
    assert seen["mention_reply_to_bot"] is True
    assert seen["commands"] == ["report"]
    report_msg, noted = tg.sent_messages(-1001)
    assert report_msg.text == "done: more:1"
    assert report_msg.edits == 1
    assert report_msg.reply_markup is None  # editing without reply_markup drops the keyboard
    assert noted.reply_markup == {"keyboard": [[{"text": "a"}, {"text": "b"}]]}
    [deleted] = [m for m in tg.sent_messages(-1001, include_deleted=True) if m.deleted]
    assert deleted.text == "temporary"
    assert [c.status for c in tg.calls_of("answerCallbackQuery")] == [200, 400]


def test_bot_errors_map_to_ptb_exceptions(tg: FakeTelegramServer) -> None:
    """Status codes and descriptions must turn into the PTB exceptions production code catches."""

    async def scenario() -> None:
        with pytest.raises(InvalidToken):
            async with make_bot(tg, token="123:WRONG"):
                pass
        async with make_bot(tg) as bot:
            with pytest.raises(EndPointNotFound):
                await bot.do_api_request("noSuchMethod")
            with pytest.raises(BadRequest, match="Invalid file_id"):
                await bot.get_file("missing")
            with pytest.raises(BadRequest, match="Message to edit not found"):
                await bot.edit_message_text("x", chat_id=1, message_id=99)
            with pytest.raises(BadRequest, match="Message text is empty"):
                await bot.send_message(1, "   ")

    asyncio.run(scenario())
    assert tg.calls[0].response == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert tg.calls_of("noSuchMethod")[0].response == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }


def test_raw_http_encodings_and_long_polling(tg: FakeTelegramServer) -> None:
    """Every body encoding is typed correctly, and long polling wakes on push and honours offset."""

    api = f"{tg.base_url}{TOKEN}"
    with httpx.Client(trust_env=False, timeout=10) as client:
        as_json = client.post(f"{api}/sendMessage", json={"chat_id": 3, "text": "123"}).json()
        as_form = client.post(f"{api}/sendMessage", data={"chat_id": "3", "text": "true"}).json()
        as_query = client.get(f"{api}/sendmessage", params={"chat_id": "3", "text": "null"}).json()
        as_multipart = client.post(
            f"{api}/sendDocument",
            data={"chat_id": "3", "caption": "42"},
            files={"document": ("r.txt", b"abc", "text/plain")},
        ).json()
        assert [as_json["result"]["text"], as_form["result"]["text"], as_query["result"]["text"]] == [
            "123",
            "true",
            "null",
        ]
        assert as_multipart["result"]["caption"] == "42"
        assert as_multipart["result"]["document"]["file_size"] == 3
        assert [c.method for c in tg.calls] == ["sendMessage"] * 3 + ["sendDocument"]

        # Long polling wakes as soon as an update is pushed, and offset confirms.
        threading.Timer(0.3, lambda: tg.push_message(3, "late")).start()
        started = time.monotonic()
        first = client.post(f"{api}/getUpdates", json={"timeout": 5}).json()["result"]
        assert 0.2 < time.monotonic() - started < 2
        assert [u["message"]["text"] for u in first] == ["late"]
        again = client.post(f"{api}/getUpdates", json={"offset": first[0]["update_id"], "timeout": 0}).json()
        assert [u["update_id"] for u in again["result"]] == [first[0]["update_id"]]
        confirmed = client.post(f"{api}/getUpdates", json={"offset": first[0]["update_id"] + 1}).json()
        assert confirmed["result"] == []
        assert tg.pending_update_count == 0

        # A webhook blocks getUpdates, like Telegram.
        assert client.post(f"{api}/setWebhook", json={"url": "https://example.invalid/hook"}).json()["result"]
        conflict = client.post(f"{api}/getUpdates").json()
        assert conflict["error_code"] == 409
        info = client.post(f"{api}/getWebhookInfo").json()["result"]
        assert info["url"] == "https://example.invalid/hook"

        # The file endpoint serves registered bytes and refuses a wrong token.
        tg.add_file("f1", b"\x00\x01", "a b.bin")
        path = client.post(f"{api}/getFile", data={"file_id": "f1"}).json()["result"]["file_path"]
        assert path == "documents/a b.bin"
        assert client.get(f"{tg.base_file_url}{TOKEN}/{path}").content == b"\x00\x01"
        assert client.get(f"{tg.base_file_url}999:NOPE/{path}").status_code == 401


def test_wait_for_times_out_with_a_summary(tg: FakeTelegramServer) -> None:
    """A failed wait must say what the bot did instead; other error codes can be injected too."""

    tg.fail_next("getMe", error_code=403, description="Forbidden: bot was blocked by the user")
    with httpx.Client(trust_env=False) as client:
        body = client.get(f"{tg.base_url}{TOKEN}/getMe").json()
    assert body == {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
    with pytest.raises(AssertionError) as raised:
        tg.wait_for(lambda calls: tg.calls_of("sendMessage"), timeout=0.2)
    assert "getMe [403]" in str(raised.value)
    assert json.dumps(tg.calls_of("getme")[0].response)
