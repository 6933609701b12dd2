"""A loopback fake of the Telegram Bot API HTTP server.

Why: patching `Bot` methods skips exactly the parts that break in production (request encoding,
error mapping, retries, the polling loop).  This server lets the *real* python-telegram-bot
`Application` talk HTTP to something that answers like Telegram, including Telegram's error
strings, while the test pushes updates and inspects what the bot sent.

Usage::

    with FakeTelegramServer(token="123:ABC") as tg:
        app = (
            ApplicationBuilder()
            .token(tg.token)
            .base_url(tg.base_url)
            .base_file_url(tg.base_file_url)
            .build()
        )
        tg.push_message(42, "hello")
        ...  # run the app (see tests/fakes/test_telegram_server.py)
        tg.wait_for(lambda calls: any(c.method == "sendMessage" for c in calls))

Fidelity notes (where this fake is deliberately stricter or simpler than Telegram):

* HTML parse mode is validated like tdlib does (allowed tags, balanced tags, span class), and by
  default a bare ``&`` that does not start ``&lt; &gt; &amp; &quot;`` or a numeric entity is
  rejected.  Real Telegram keeps such an ``&`` literally; pass ``strict_html_entities=False`` to
  get that behaviour.
* Markdown / MarkdownV2 texts are accepted without validation; their length is the raw length.
* Message text is trimmed of surrounding whitespace (as Telegram does) before the length check.
* Only inline keyboards are echoed back in the returned Message (Telegram never returns reply
  keyboards in Message.reply_markup); every reply_markup is still recorded in `sent_messages`.
* Group privacy mode is not simulated: every pushed group message is delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import itertools
import json
import mimetypes
import re
import socket
import threading
import time
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from aiohttp import BodyPartReader, hdrs, web

JSONDict = dict[str, Any]
Predicate = Callable[[list["Call"]], Any]

BOT_USER_ID = 999000
BOT_FIRST_NAME = "ReportBot"
DEFAULT_BOT_USERNAME = "reportbot_test_bot"
DEFAULT_GROUP_USER_ID = 4242
MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 64 * 1024 * 1024
FILE_DOWNLOAD = "downloadFile"
"""Pseudo method name recorded for ``GET /file/bot<token>/<file_path>`` (not a Bot API method)."""

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
CALLBACK_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"

# Parameters that Telegram types as strings: PTB sends them unencoded in form bodies, so they must not
# be JSON-decoded (a text of "123" or "true" has to stay a string).
_STRING_PARAMS = frozenset(
    {
        "action",
        "address",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "currency",
        "custom_title",
        "description",
        "document",
        "emoji",
        "error_message",
        "file_id",
        "first_name",
        "game_short_name",
        "inline_message_id",
        "invite_link",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "next_offset",
        "parse_mode",
        "payload",
        "phone_number",
        "photo",
        "pre_checkout_query_id",
        "query",
        "question",
        "quote",
        "quote_parse_mode",
        "secret_token",
        "shipping_query_id",
        "short_description",
        "sticker",
        "sticker_set_name",
        "text",
        "thumbnail",
        "title",
        "url",
        "video",
        "video_note",
        "voice",
        "web_app_query_id",
    }
)

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

_API_PATH_RE = re.compile(r"^/bot(?P<token>[^/]*)/(?P<method>[^/]+)/?$")
_FILE_PATH_RE = re.compile(r"^/file/bot(?P<token>[^/]*)/(?P<path>.+)$")
_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_])")
_MENTION_RE = re.compile(r"(?<![A-Za-z0-9_@/])@[A-Za-z0-9_]{3,32}(?![A-Za-z0-9_])")
_BOT_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")


# --------------------------------------------------------------------------------------------------
# Records handed to tests
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part as the bot uploaded it (why: tests assert on what was uploaded)."""

    field: str
    filename: str | None
    content_type: str | None
    content: bytes = field(repr=False)


@dataclass
class Call:
    """One HTTP request the bot made; `time` is `time.monotonic()` at arrival.

    Why: tests assert on the exact sequence of API calls (retries, edits, uploads).  `status` and
    `response` are filled in once the fake has answered (`status` stays None while a long poll waits).
    """

    method: str
    params: JSONDict
    time: float
    status: int | None = None
    response: Any = field(default=None, repr=False)


@dataclass(frozen=True)
class SentMessage:
    """The current state of one message sent by the bot with sendMessage, edits applied.

    Why: tests care about what the user finally sees, not about the edit history.  `text` is the
    visible text (HTML tags removed, entities decoded, trimmed) exactly as Telegram would return it
    in `Message.text`; `raw_text` is what the bot last sent.
    """

    chat_id: int
    message_id: int
    text: str
    raw_text: str
    parse_mode: str | None
    entities: list[JSONDict]
    reply_markup: JSONDict | None
    edits: int
    deleted: bool


@dataclass(frozen=True)
class SentDocument:
    """A document the bot sent with sendDocument (why: report files are asserted byte for byte)."""

    chat_id: int
    message_id: int
    file_id: str
    file_name: str
    mime_type: str
    content: bytes = field(repr=False)
    caption: str | None
    raw_caption: str | None
    parse_mode: str | None


class TelegramApiError(Exception):
    """An error answer in Telegram's exact shape (why: PTB maps status + description to exceptions)."""

    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        """Render the JSON body Telegram sends for this error."""
        body: JSONDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


def _bad_request(detail: str) -> TelegramApiError:
    return TelegramApiError(400, f"Bad Request: {detail}")


@dataclass
class _BotMessage:
    chat_id: int
    message_id: int
    kind: str
    text: str
    raw_text: str
    parse_mode: str | None
    entities: list[JSONDict]
    reply_markup: JSONDict | None
    inline_markup: JSONDict | None
    edits: int = 0
    deleted: bool = False

    def snapshot(self) -> SentMessage:
        return SentMessage(
            chat_id=self.chat_id,
            message_id=self.message_id,
            text=self.text,
            raw_text=self.raw_text,
            parse_mode=self.parse_mode,
            entities=copy.deepcopy(self.entities),
            reply_markup=copy.deepcopy(self.reply_markup),
            edits=self.edits,
            deleted=self.deleted,
        )


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    content: bytes
    file_path: str

    def document_json(self) -> JSONDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.content),
        }


# --------------------------------------------------------------------------------------------------
# Text helpers: UTF-16 offsets, entity detection, HTML parse mode
# --------------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets (why: emoji count twice)."""
    return len(text.encode("utf-16-le")) // 2


def detect_entities(text: str) -> list[JSONDict]:
    """Find bot_command and mention entities the way Telegram marks them in incoming messages.

    Why: PTB's CommandHandler and mention filters look at entities, not at the raw text.
    """
    entities: list[JSONDict] = []
    taken: list[tuple[int, int]] = []
    for match in _COMMAND_RE.finditer(text):
        taken.append(match.span())
        entities.append(
            {"type": "bot_command", "offset": utf16_len(text[: match.start()]), "length": utf16_len(match.group())}
        )
    for match in _MENTION_RE.finditer(text):
        if any(start <= match.start() < end for start, end in taken):
            continue
        entities.append(
            {"type": "mention", "offset": utf16_len(text[: match.start()]), "length": utf16_len(match.group())}
        )
    entities.sort(key=lambda e: e["offset"])
    return entities


class HtmlParseError(ValueError):
    """Raised for HTML Telegram would refuse (why: becomes "can't parse entities: ...")."""


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8}));")
_TAG_NAME_RE = re.compile(r"[A-Za-z0-9-]+")
_END_TAG_RE = re.compile(r"</([A-Za-z0-9-]*)\s*>")
_ATTR_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")
_UNQUOTED_VALUE_RE = re.compile(r"[^\s>]*")


@dataclass
class _OpenTag:
    name: str
    start: int
    attrs: dict[str, str]
    language: str | None = None


def _decode_html_entity(text: str, index: int) -> tuple[str | None, int]:
    match = _HTML_ENTITY_RE.match(text, index)
    if match is None:
        return None, index
    if match.group(1):
        return _HTML_NAMED[match.group(1)], match.end()
    code_point = int(match.group(2)) if match.group(2) else int(match.group(3), 16)
    if code_point == 0 or code_point > 0x10FFFF or 0xD800 <= code_point <= 0xDFFF:
        return None, index
    return chr(code_point), match.end()


def _decode_attribute(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        decoded, _ = _decode_html_entity(match.string, match.start())
        return decoded if decoded is not None else match.group()

    return _HTML_ENTITY_RE.sub(replace, value)


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index].isspace():
        index += 1
    return index


def _parse_attributes(text: str, index: int, tag: str, offset: int) -> tuple[dict[str, str], int]:
    attrs: dict[str, str] = {}
    while True:
        index = _skip_space(text, index)
        if index >= len(text):
            raise HtmlParseError(f"Unclosed start tag at byte offset {offset}")
        if text[index] == ">":
            return attrs, index + 1
        name_match = _ATTR_NAME_RE.match(text, index)
        if name_match is None:
            raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
        index = _skip_space(text, name_match.end())
        value = ""
        if index < len(text) and text[index] == "=":
            index = _skip_space(text, index + 1)
            if index >= len(text):
                raise HtmlParseError(f"Unclosed start tag at byte offset {offset}")
            if text[index] in "\"'":
                close = text.find(text[index], index + 1)
                if close < 0:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {offset}")
                value, index = text[index + 1 : close], close + 1
            else:
                value_match = _UNQUOTED_VALUE_RE.match(text, index)
                assert value_match is not None  # the pattern matches the empty string
                value, index = value_match.group(), value_match.end()
        attrs[name_match.group().lower()] = _decode_attribute(value)


def _close_tag(tag: _OpenTag, position: int, stack: list[_OpenTag], entities: list[JSONDict]) -> None:
    if tag.name == "code" and stack and stack[-1].name == "pre" and stack[-1].start == tag.start:
        css_class = tag.attrs.get("class", "")
        if css_class.startswith("language-"):
            stack[-1].language = css_class.removeprefix("language-")
            return
    length = position - tag.start
    if length <= 0:
        return
    entity: JSONDict = {"type": _HTML_TAGS[tag.name], "offset": tag.start, "length": length}
    if tag.name == "a":
        href = tag.attrs.get("href", "")
        if not href:
            return
        entity["url"] = href
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    entities.append(entity)


def parse_html(text: str, *, strict_entities: bool = True) -> tuple[str, list[JSONDict]]:
    """Turn HTML-mode text into (visible text, entities) or raise HtmlParseError like Telegram.

    Why: a bot that emits unbalanced or unsupported HTML works in unit tests and fails in
    production with "can't parse entities"; the fake must refuse the same input.
    """
    out: list[str] = []
    position = 0
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "&":
            decoded, end = _decode_html_entity(text, index)
            if decoded is None:
                if strict_entities:
                    offset = len(text[:index].encode())
                    raise HtmlParseError(
                        f'Unsupported HTML entity at byte offset {offset}: escape a literal "&" as "&amp;"'
                    )
                decoded, end = "&", index + 1
            out.append(decoded)
            position += utf16_len(decoded)
            index = end
            continue
        if char != "<":
            out.append(char)
            position += utf16_len(char)
            index += 1
            continue
        offset = len(text[:index].encode())
        if text.startswith("</", index):
            end_match = _END_TAG_RE.match(text, index)
            if end_match is None:
                raise HtmlParseError(f"Unclosed end tag at byte offset {offset}")
            name = end_match.group(1).lower()
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {offset}")
            tag = stack.pop()
            if name != tag.name:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{tag.name}>", found "</{name}>"'
                )
            _close_tag(tag, position, stack, entities)
            index = end_match.end()
            continue
        name_match = _TAG_NAME_RE.match(text, index + 1)
        name = name_match.group().lower() if name_match else ""
        if name_match is None or name not in _HTML_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
        attrs, index = _parse_attributes(text, name_match.end(), name, offset)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        stack.append(_OpenTag(name, position, attrs))
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _strip_text(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    kept: list[JSONDict] = []
    for entity in entities:
        start = max(int(entity["offset"]) - lead, 0)
        end = min(int(entity["offset"]) + int(entity["length"]) - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def _coerce(name: str, value: str) -> Any:
    """Decode one form/multipart field the way PTB encoded it (why: non-strings arrive JSON-dumped)."""
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1"}
    return bool(value)


def _as_json(value: Any, what: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise _bad_request(f"can't parse {what} JSON object") from exc
    return value


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------

Handler = Callable[[JSONDict], Coroutine[Any, Any, Any]]


class FakeTelegramServer:
    """A Telegram Bot API stand-in on 127.0.0.1, served by aiohttp in a background thread.

    Why: the real PTB `Application` (its own event loop, httpx, rate limiter, updater) must be able
    to run unmodified against it, while the test thread pushes updates and reads what was sent.
    All state is guarded by one lock, so helpers are safe to call from any thread.
    """

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        bot_username: str = DEFAULT_BOT_USERNAME,
        strict_html_entities: bool = True,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.strict_html_entities = strict_html_entities
        self._lock = threading.RLock()
        self._calls: list[Call] = []
        self._internal_errors: list[str] = []
        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(1)
        self._allowed_updates: list[str] = []
        self._message_ids: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._deleted: set[tuple[int, int]] = set()
        self._bot_messages: dict[tuple[int, int], _BotMessage] = {}
        self._documents: list[SentDocument] = []
        self._files: dict[str, _StoredFile] = {}
        self._file_paths: dict[str, str] = {}
        self._file_counter = itertools.count(1)
        self._failures: dict[str, list[TelegramApiError]] = {}
        self._chats: dict[int, JSONDict] = {}
        self._callback_queries: dict[str, bool] = {}
        self._callback_counter = itertools.count(1)
        self._webhook: JSONDict | None = None
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._poll_generation = 0
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._update_event: asyncio.Event | None = None
        self._port: int | None = None
        handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "sendChatAction": self._send_chat_action,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "getFile": self._get_file,
            "deleteMessage": self._delete_message,
            "close": self._return_true,
            "logOut": self._return_true,
        }
        # Telegram matches method names case-insensitively; calls are recorded under the canonical name.
        self._handlers: dict[str, tuple[str, Handler]] = {name.lower(): (name, h) for name, h in handlers.items()}

    # ---------------------------------------------------------------- lifecycle

    def __enter__(self) -> FakeTelegramServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound loopback port (only valid after start())."""
        if self._port is None:
            raise RuntimeError("FakeTelegramServer is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """Value for ApplicationBuilder.base_url(); PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ApplicationBuilder.base_file_url(); PTB appends the token and file_path."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    def start(self) -> FakeTelegramServer:
        """Bind a free loopback port and serve from a daemon thread with its own event loop."""
        if self._thread is not None:
            raise RuntimeError("FakeTelegramServer is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        self._port = int(sock.getsockname()[1])
        self._closing = False
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []
        thread = threading.Thread(
            target=self._serve, args=(loop, sock, ready, failure), name=f"fake-telegram:{self._port}", daemon=True
        )
        self._loop, self._thread = loop, thread
        thread.start()
        if not ready.wait(10) or failure:
            self.stop()
            sock.close()
            raise RuntimeError("FakeTelegramServer failed to start") from (failure[0] if failure else None)
        return self

    def stop(self) -> None:
        """Wake pending long polls, close all connections and join the server thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._closing = True
        if thread.is_alive() and not loop.is_closed():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None
        self._runner = None

    def _serve(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        ready: threading.Event,
        failure: list[BaseException],
    ) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._setup(sock))
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _setup(self, sock: socket.socket) -> None:
        self._update_event = asyncio.Event()
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._runner = runner

    async def _shutdown(self) -> None:
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()

    def _notify(self) -> None:
        """Wake every waiting getUpdates (runs on the server loop)."""
        event = self._update_event
        if event is not None:
            self._update_event = asyncio.Event()
            event.set()

    def _wake_pollers(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._notify)

    # ---------------------------------------------------------------- recording & waiting

    @property
    def calls(self) -> list[Call]:
        """A snapshot of every request so far, in arrival order."""
        with self._lock:
            return list(self._calls)

    def calls_of(self, method: str) -> list[Call]:
        """Calls of one Bot API method (case-insensitive, e.g. "sendMessage")."""
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def clear_calls(self) -> None:
        """Forget recorded calls (why: assert only on what happens after a setup phase)."""
        with self._lock:
            self._calls.clear()

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of bugs inside the fake itself (answered as HTTP 500); should stay empty."""
        with self._lock:
            return list(self._internal_errors)

    def sent_messages(self, chat_id: int | None = None, *, include_deleted: bool = False) -> list[SentMessage]:
        """Messages the bot sent with sendMessage, in order, with later edits applied."""
        with self._lock:
            return [
                record.snapshot()
                for record in self._bot_messages.values()
                if record.kind == "text"
                and (chat_id is None or record.chat_id == chat_id)
                and (include_deleted or not record.deleted)
            ]

    def sent_documents(self, chat_id: int | None = None) -> list[SentDocument]:
        """Documents the bot sent with sendDocument, in order."""
        with self._lock:
            return [doc for doc in self._documents if chat_id is None or doc.chat_id == chat_id]

    @property
    def pending_update_count(self) -> int:
        """Updates pushed but not yet confirmed by a getUpdates offset."""
        with self._lock:
            return len(self._updates)

    def describe_calls(self, limit: int = 40) -> str:
        """A readable summary of the last calls (why: makes a timed-out wait_for debuggable)."""
        calls = self.calls
        start = calls[0].time if calls else 0.0
        lines = [f"{len(calls)} call(s) recorded" + (f", last {limit}:" if len(calls) > limit else ":")]
        for call in calls[-limit:]:
            params = ", ".join(f"{key}={_short(value, 60)}" for key, value in call.params.items())
            status = "pending" if call.status is None else str(call.status)
            detail = ""
            if isinstance(call.response, dict) and not call.response.get("ok", True):
                detail = f" -> {call.response.get('description')}"
            lines.append(f"  +{call.time - start:7.3f}s {call.method} [{status}] ({params}){detail}")
        errors = self.internal_errors
        if errors:
            lines.append("internal errors of the fake:")
            lines.extend(errors)
        return "\n".join(lines)

    def wait_for(self, predicate: Predicate, timeout: float = 10, *, interval: float = 0.01) -> Any:
        """Block until predicate(calls) is truthy and return its value, else raise AssertionError.

        Why: the bot runs asynchronously in another thread; tests need a bounded, debuggable wait.
        Do not call this from the event loop that runs the bot (it would block it): use
        `wait_for_async` there.
        """
        deadline = time.monotonic() + timeout
        while True:
            result = predicate(self.calls)
            if result:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout}s; {self.describe_calls()}")
            time.sleep(interval)

    async def wait_for_async(self, predicate: Predicate, timeout: float = 10, *, interval: float = 0.01) -> Any:
        """`wait_for` for code running on the bot's own event loop (why: must not block that loop)."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate(self.calls)
            if result:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout}s; {self.describe_calls()}")
            await asyncio.sleep(interval)

    # ---------------------------------------------------------------- test-side controls

    def fail_next(
        self,
        method: str,
        times: int = 1,
        retry_after: int = 1,
        *,
        error_code: int = 429,
        description: str | None = None,
    ) -> None:
        """Make the next `times` calls of `method` fail (default: 429 flood control with retry_after).

        Why: retry/rate-limit handling can only be proven against a server that refuses.  Pass another
        `error_code`/`description` (e.g. 403, "Forbidden: bot was blocked by the user") for other errors.
        """
        if error_code == 429:
            error = TelegramApiError(
                429, description or f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        else:
            error = TelegramApiError(error_code, description or f"Error {error_code}")
        with self._lock:
            self._failures.setdefault(method.lower(), []).extend(error for _ in range(times))

    @property
    def bot_user(self) -> JSONDict:
        """The bot's User object as it appears in `from` of its messages."""
        return {"id": BOT_USER_ID, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": self.bot_username}

    def add_file(self, file_id: str, content: bytes, file_name: str, *, mime_type: str | None = None) -> JSONDict:
        """Register a downloadable file; returns its Document JSON (file_id, file_unique_id, ...)."""
        safe_name = file_name.replace("/", "_").replace("\\", "_") or "file"
        mime = mime_type or mimetypes.guess_type(safe_name, strict=False)[0] or "application/octet-stream"
        with self._lock:
            old = self._files.get(file_id)
            if old is not None:
                self._file_paths.pop(old.file_path, None)
            path = f"documents/{safe_name}"
            if path in self._file_paths:
                stem, suffix = PurePosixPath(safe_name).stem, PurePosixPath(safe_name).suffix
                path = f"documents/{stem}_{next(self._file_counter)}{suffix}"
            stored = _StoredFile(
                file_id=file_id,
                file_unique_id="AgAD" + hashlib.sha256(content).hexdigest()[:12],
                file_name=file_name,
                mime_type=mime,
                content=bytes(content),
                file_path=path,
            )
            self._files[file_id] = stored
            self._file_paths[path] = file_id
            return stored.document_json()

    def push_message(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        chat_type: str = "private",
        username: str | None = None,
        entities: list[JSONDict] | None = None,
        reply_to_bot: bool = False,
        first_name: str = "Test",
        *,
        reply_to_message_id: int | None = None,
        title: str | None = None,
    ) -> JSONDict:
        """Queue a text message from a user; returns the Update JSON.

        Why: drives the bot exactly as a user would.  With entities=None, bot_command and mention
        entities are detected like Telegram does (pass entities=[] to suppress).  reply_to_bot makes it
        a reply to the bot's latest message in the chat; reply_to_message_id replies to a given one.
        """
        message = self._new_user_message(
            chat_id, user_id, chat_type, username, first_name, reply_to_bot, reply_to_message_id, title
        )
        message["text"] = text
        found = detect_entities(text) if entities is None else list(entities)
        if found:
            message["entities"] = found
        return self._store_and_push(message)

    def push_command(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        chat_type: str = "private",
        username: str | None = None,
        entities: list[JSONDict] | None = None,
        reply_to_bot: bool = False,
        first_name: str = "Test",
        *,
        reply_to_message_id: int | None = None,
        title: str | None = None,
    ) -> JSONDict:
        """Like push_message, guaranteeing a bot_command entity for the leading /command.

        Why: CommandHandler only fires on a bot_command entity at offset 0.  "start args" becomes
        "/start args"; "/start@<bot_username>" is one entity, as in Telegram groups.
        """
        if not text.startswith("/"):
            text = "/" + text
        command = re.match(r"/[^\s]+", text)
        assert command is not None
        found = detect_entities(text) if entities is None else list(entities)
        if not any(e.get("type") == "bot_command" and e.get("offset") == 0 for e in found):
            found.insert(0, {"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
        return self.push_message(
            chat_id,
            text,
            user_id,
            chat_type,
            username,
            found,
            reply_to_bot,
            first_name,
            reply_to_message_id=reply_to_message_id,
            title=title,
        )

    def push_document(
        self,
        chat_id: int,
        user_id: int | None,
        file_name: str,
        content: bytes,
        caption: str | None = None,
        chat_type: str = "private",
        *,
        username: str | None = None,
        first_name: str = "Test",
        mime_type: str | None = None,
        file_id: str | None = None,
        title: str | None = None,
    ) -> JSONDict:
        """Register `content` as a file and queue a user message carrying it as a document."""
        document = self.add_file(
            file_id or f"BQACAgIAAxk-{next(self._file_counter)}", content, file_name, mime_type=mime_type
        )
        message = self._new_user_message(chat_id, user_id, chat_type, username, first_name, False, None, title)
        message["document"] = document
        if caption:
            message["caption"] = caption
            found = detect_entities(caption)
            if found:
                message["caption_entities"] = found
        return self._store_and_push(message)

    def push_callback_query(
        self,
        chat_id: int,
        user_id: int | None,
        data: str,
        message_id: int,
        *,
        username: str | None = None,
        first_name: str = "Test",
    ) -> JSONDict:
        """Queue a press of an inline button with `data` on message `message_id`; returns the Update.

        The attached message is the current state of that message (a bare bot message if unknown).
        """
        with self._lock:
            chat = self._chat_json(chat_id)
            user = self._user_json(self._default_user_id(chat_id, chat["type"], user_id), first_name, username)
            message = copy.deepcopy(self._messages.get((chat_id, message_id)))
            if message is None:
                message = {"message_id": message_id, "from": self.bot_user, "chat": chat, "date": int(time.time())}
            message.pop("reply_to_message", None)
            query_id = f"{BOT_USER_ID}{next(self._callback_counter):08d}"
            self._callback_queries[query_id] = False
            query = {
                "id": query_id,
                "from": user,
                "message": message,
                "chat_instance": f"-{abs(chat_id)}77",
                "data": data,
            }
        return self._push_update({"callback_query": query})

    # ---------------------------------------------------------------- state helpers (lock held or taken)

    def _default_user_id(self, chat_id: int, chat_type: str, user_id: int | None) -> int:
        if chat_type == "private":
            if user_id is not None and user_id != chat_id:
                raise ValueError(f"in a private chat the chat id is the user's id ({user_id} != {chat_id})")
            return chat_id
        return DEFAULT_GROUP_USER_ID if user_id is None else user_id

    def _user_json(self, user_id: int, first_name: str, username: str | None) -> JSONDict:
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
        if username:
            user["username"] = username
        return user

    def _register_chat(
        self, chat_id: int, chat_type: str, first_name: str, username: str | None, title: str | None
    ) -> JSONDict:
        if chat_type not in {"private", "group", "supergroup", "channel"}:
            raise ValueError(f"unknown chat_type {chat_type!r}")
        if chat_type == "private" and chat_id <= 0:
            raise ValueError("private chats have positive ids (the user's id)")
        if chat_type != "private" and chat_id >= 0:
            raise ValueError(f"{chat_type} chats have negative ids")
        if chat_type == "private":
            chat: JSONDict = {"id": chat_id, "type": "private", "first_name": first_name}
            if username:
                chat["username"] = username
        else:
            previous = self._chats.get(chat_id, {})
            default_title = "Test Supergroup" if chat_type == "supergroup" else f"Test {chat_type.title()}"
            chat = {"id": chat_id, "type": chat_type, "title": title or previous.get("title") or default_title}
        self._chats[chat_id] = chat
        return dict(chat)

    def _chat_json(self, chat_id: int) -> JSONDict:
        known = self._chats.get(chat_id)
        if known is not None:
            return dict(known)
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Test"}
        if str(chat_id).startswith("-100"):
            return {"id": chat_id, "type": "supergroup", "title": "Test Supergroup"}
        return {"id": chat_id, "type": "group", "title": "Test Group"}

    def _next_message_id(self, chat_id: int) -> int:
        number = self._message_ids.get(chat_id, 0) + 1
        self._message_ids[chat_id] = number
        return number

    def _reply_json(self, chat_id: int, message_id: int) -> JSONDict | None:
        if (chat_id, message_id) in self._deleted:
            return None
        message = copy.deepcopy(self._messages.get((chat_id, message_id)))
        if message is not None:
            message.pop("reply_to_message", None)
        return message

    def _new_user_message(
        self,
        chat_id: int,
        user_id: int | None,
        chat_type: str,
        username: str | None,
        first_name: str,
        reply_to_bot: bool,
        reply_to_message_id: int | None,
        title: str | None,
    ) -> JSONDict:
        with self._lock:
            sender_id = self._default_user_id(chat_id, chat_type, user_id)
            chat = self._register_chat(chat_id, chat_type, first_name, username, title)
            reply: JSONDict | None = None
            if reply_to_message_id is not None:
                reply = self._reply_json(chat_id, reply_to_message_id)
                if reply is None:
                    raise ValueError(f"no message {reply_to_message_id} in chat {chat_id} to reply to")
            elif reply_to_bot:
                latest = [key for key, record in self._bot_messages.items() if key[0] == chat_id and not record.deleted]
                if latest:
                    reply = self._reply_json(*latest[-1])
                else:  # the bot said something before the test started
                    reply = {
                        "message_id": self._next_message_id(chat_id),
                        "from": self.bot_user,
                        "chat": chat,
                        "date": int(time.time()) - 60,
                        "text": "(earlier bot message)",
                    }
                    self._messages[(chat_id, reply["message_id"])] = copy.deepcopy(reply)
            message: JSONDict = {
                "message_id": self._next_message_id(chat_id),
                "from": self._user_json(sender_id, first_name, username),
                "chat": chat,
                "date": int(time.time()),
            }
            if reply is not None:
                message["reply_to_message"] = reply
            return message

    def _store_and_push(self, message: JSONDict) -> JSONDict:
        with self._lock:
            self._messages[(message["chat"]["id"], message["message_id"])] = copy.deepcopy(message)
        return self._push_update({"message": message})

    def _push_update(self, payload: JSONDict) -> JSONDict:
        with self._lock:
            update = {"update_id": next(self._update_ids), **copy.deepcopy(payload)}
            self._updates.append(update)
        self._wake_pollers()
        return copy.deepcopy(update)

    # ---------------------------------------------------------------- HTTP plumbing

    def _record(self, method: str, params: JSONDict) -> Call:
        call = Call(method=method, params=params, time=time.monotonic())
        with self._lock:
            self._calls.append(call)
        return call

    def _respond(self, call: Call, status: int, body: JSONDict) -> web.Response:
        with self._lock:
            call.status = status
            call.response = body
        return web.json_response(body, status=status)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        file_match = _FILE_PATH_RE.match(path)
        if file_match is not None:
            return self._serve_file(file_match["token"], file_match["path"])
        api_match = _API_PATH_RE.match(path)
        if api_match is None:
            call = self._record(request.method + " " + path, {})
            return self._respond(call, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
        entry = self._handlers.get(api_match["method"].lower())
        method = entry[0] if entry is not None else api_match["method"]
        try:
            params = await self._read_params(request)
        except TelegramApiError as exc:
            return self._respond(self._record(method, {}), exc.code, exc.payload())
        call = self._record(method, params)
        try:
            if api_match["token"] != self.token:
                raise TelegramApiError(401, "Unauthorized")
            if entry is None:
                raise TelegramApiError(404, "Not Found: method not found")
            with self._lock:
                queued = self._failures.get(method.lower())
                injected = queued.pop(0) if queued else None
            if injected is not None:
                raise injected
            result = await entry[1](params)
        except TelegramApiError as exc:
            return self._respond(call, exc.code, exc.payload())
        except Exception:
            trace = traceback.format_exc()
            with self._lock:
                self._internal_errors.append(trace)
            body = {"ok": False, "error_code": 500, "description": "Internal Server Error: bug in FakeTelegramServer"}
            return self._respond(call, 500, body)
        return self._respond(call, 200, {"ok": True, "result": result})

    async def _read_params(self, request: web.Request) -> JSONDict:
        """Merge query string, JSON, urlencoded and multipart bodies into one typed dict."""
        raw: dict[str, str] = {key: value for key, value in request.query.items()}
        typed: JSONDict = {}
        if request.body_exists:
            content_type = request.content_type
            if content_type == "application/json":
                body = await request.read()
                try:
                    decoded = json.loads(body) if body.strip() else {}
                except ValueError as exc:
                    raise _bad_request("can't parse JSON object") from exc
                if not isinstance(decoded, dict):
                    raise _bad_request("JSON object expected")
                typed.update(decoded)
            elif content_type.startswith("multipart/"):
                reader = await request.multipart()
                while True:
                    part = await reader.next()
                    if part is None:
                        break
                    if not isinstance(part, BodyPartReader):
                        continue
                    name = part.name or ""
                    if part.filename is not None:
                        content = bytes(await part.read())
                        typed[name] = UploadedFile(name, part.filename, part.headers.get(hdrs.CONTENT_TYPE), content)
                    else:
                        raw[name] = await part.text()
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, str):
                        raw[key] = value
        params: JSONDict = {key: _coerce(key, value) for key, value in raw.items()}
        params.update(typed)
        return params

    def _serve_file(self, token: str, file_path: str) -> web.Response:
        call = self._record(FILE_DOWNLOAD, {"file_path": file_path})
        if token != self.token:
            return self._respond(call, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        with self._lock:
            file_id = self._file_paths.get(file_path)
            stored = self._files.get(file_id) if file_id is not None else None
        if stored is None:
            return self._respond(call, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
        with self._lock:
            call.status = 200
            call.response = {"ok": True, "file_size": len(stored.content)}
        return web.Response(body=stored.content, content_type=stored.mime_type)

    # ---------------------------------------------------------------- parameter helpers

    def _chat_id(self, params: JSONDict) -> int:
        value = params.get("chat_id")
        if value is None or value == "":
            raise _bad_request("chat_id is empty")
        chat_id = _as_int(value)
        if chat_id is None or chat_id == 0:
            raise _bad_request("chat not found")
        return chat_id

    def _message_id(self, params: JSONDict) -> int:
        value = params.get("message_id")
        if value is None or value == "":
            raise _bad_request("message identifier is not specified")
        message_id = _as_int(value)
        if message_id is None:
            raise _bad_request("invalid message identifier specified")
        return message_id

    def _format(
        self, text: str, parse_mode: Any, entities: Any, limit: int, too_long: str
    ) -> tuple[str, list[JSONDict]]:
        mode = parse_mode.lower() if isinstance(parse_mode, str) and parse_mode else None
        if mode == "html":
            try:
                plain, found = parse_html(text, strict_entities=self.strict_html_entities)
            except HtmlParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from exc
        elif mode in {"markdown", "markdownv2"}:
            plain, found = text, []
        elif mode is None:
            given = _as_json(entities, "entities") if entities else []
            plain, found = text, list(given or [])
        else:
            raise _bad_request("unsupported parse_mode")
        plain, found = _strip_text(plain, found)
        if len(plain) > limit:
            raise _bad_request(too_long)
        return plain, found

    def _markup(self, params: JSONDict) -> tuple[JSONDict | None, JSONDict | None]:
        """Return (reply_markup as sent, the inline keyboard Telegram would echo back or None)."""
        value = params.get("reply_markup")
        if value is None or value == "":
            return None, None
        markup = _as_json(value, "reply keyboard markup")
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return markup, None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays')
        for row in rows:
            for button in row:
                if not isinstance(button, dict):
                    raise _bad_request("can't parse inline keyboard button")
                if not button.get("text"):
                    raise _bad_request("BUTTON_TEXT_EMPTY")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise _bad_request("BUTTON_DATA_INVALID")
        return markup, markup

    def _resolve_reply(self, chat_id: int, params: JSONDict) -> JSONDict | None:
        reply_parameters = _as_json(params.get("reply_parameters") or {}, "reply parameters")
        if not isinstance(reply_parameters, dict):
            raise _bad_request("can't parse reply parameters JSON object")
        target = params.get("reply_to_message_id") or reply_parameters.get("message_id")
        if target is None or target == "":
            return None
        message_id = _as_int(target)
        reply = self._reply_json(chat_id, message_id) if message_id is not None else None
        allow = _as_bool(params.get("allow_sending_without_reply")) or _as_bool(
            reply_parameters.get("allow_sending_without_reply")
        )
        if reply is None and not allow:
            raise _bad_request("message to be replied not found")
        return reply

    def _bot_message(self, chat_id: int, message_id: int) -> _BotMessage:
        key = (chat_id, message_id)
        record = self._bot_messages.get(key)
        if record is None or record.deleted:
            if key in self._messages and key not in self._deleted:
                raise _bad_request("message can't be edited")
            raise _bad_request("message to edit not found")
        return record

    # ---------------------------------------------------------------- Bot API methods

    async def _return_true(self, params: JSONDict) -> bool:
        return True

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        offset = _as_int(params.get("offset")) or 0
        limit = min(max(_as_int(params.get("limit")) or 100, 1), 100)
        timeout_value = params.get("timeout") or 0
        try:
            timeout = max(float(timeout_value), 0.0)
        except (TypeError, ValueError) as exc:
            raise _bad_request("invalid timeout specified") from exc
        allowed = params.get("allowed_updates")
        with self._lock:
            if self._webhook is not None:
                raise TelegramApiError(409, WEBHOOK_CONFLICT)
            if allowed is not None and allowed != "":
                allowed_list = _as_json(allowed, "allowed_updates")
                self._allowed_updates = [str(kind) for kind in allowed_list or []]
            self._poll_generation += 1
            generation = self._poll_generation
        self._notify()  # a newer getUpdates terminates an older one, as in Telegram
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._lock:
                if generation != self._poll_generation:
                    raise TelegramApiError(409, POLL_CONFLICT)
                if offset < 0:
                    self._updates = self._updates[offset:]
                elif offset > 0:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                allowed_kinds = set(self._allowed_updates)
                batch = [
                    copy.deepcopy(u)
                    for u in self._updates
                    if not allowed_kinds or any(kind in u for kind in allowed_kinds)
                ][:limit]
                event = self._update_event
            remaining = deadline - loop.time()
            if batch or self._closing or remaining <= 0 or event is None:
                return batch
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def _delete_webhook(self, params: JSONDict) -> bool:
        with self._lock:
            self._webhook = None
            if _as_bool(params.get("drop_pending_updates")):
                self._updates.clear()
        return True

    async def _set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url") or ""
        if not url:
            return await self._delete_webhook(params)
        if not str(url).startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        with self._lock:
            self._webhook = {"url": url, **{k: v for k, v in params.items() if k not in {"url", "certificate"}}}
            if _as_bool(params.get("drop_pending_updates")):
                self._updates.clear()
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        with self._lock:
            info: JSONDict = {
                "url": self._webhook["url"] if self._webhook else "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self._webhook:
                info["max_connections"] = _as_int(self._webhook.get("max_connections")) or 40
                if self._webhook.get("allowed_updates"):
                    info["allowed_updates"] = _as_json(self._webhook["allowed_updates"], "allowed_updates")
        return info

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        scope = _as_json(params.get("scope") or {"type": "default"}, "scope")
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _set_my_commands(self, params: JSONDict) -> bool:
        commands = _as_json(params.get("commands"), "commands")
        if not isinstance(commands, list):
            raise _bad_request('parameter "commands" is required')
        for command in commands:
            if not isinstance(command, dict) or not _BOT_COMMAND_NAME_RE.match(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        with self._lock:
            self._commands[self._commands_key(params)] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        with self._lock:
            return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        with self._lock:
            self._commands.pop(self._commands_key(params), None)
        return True

    async def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        raw = params.get("text")
        if raw is None or raw == "":
            raise _bad_request("message text is empty")
        raw_text = raw if isinstance(raw, str) else json.dumps(raw)
        parse_mode = params.get("parse_mode") or None
        plain, entities = self._format(
            raw_text, parse_mode, params.get("entities"), MAX_MESSAGE_LENGTH, "message is too long"
        )
        if not plain:
            raise _bad_request("message text is empty")
        markup, inline = self._markup(params)
        with self._lock:
            reply = self._resolve_reply(chat_id, params)
            message: JSONDict = {
                "message_id": self._next_message_id(chat_id),
                "from": self.bot_user,
                "chat": self._chat_json(chat_id),
                "date": int(time.time()),
                "text": plain,
            }
            if entities:
                message["entities"] = entities
            if reply is not None:
                message["reply_to_message"] = reply
            if inline is not None:
                message["reply_markup"] = inline
            key = (chat_id, message["message_id"])
            self._messages[key] = copy.deepcopy(message)
            self._bot_messages[key] = _BotMessage(
                chat_id=chat_id,
                message_id=message["message_id"],
                kind="text",
                text=plain,
                raw_text=raw_text,
                parse_mode=parse_mode,
                entities=copy.deepcopy(entities),
                reply_markup=copy.deepcopy(markup),
                inline_markup=copy.deepcopy(inline),
            )
            return message

    async def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        raw = params.get("text")
        if raw is None or raw == "":
            raise _bad_request("message text is empty")
        raw_text = raw if isinstance(raw, str) else json.dumps(raw)
        parse_mode = params.get("parse_mode") or None
        plain, entities = self._format(
            raw_text, parse_mode, params.get("entities"), MAX_MESSAGE_LENGTH, "message is too long"
        )
        if not plain:
            raise _bad_request("message text is empty")
        markup, inline = self._markup(params)
        if params.get("inline_message_id"):
            return True
        chat_id = self._chat_id(params)
        message_id = self._message_id(params)
        with self._lock:
            record = self._bot_message(chat_id, message_id)
            if record.kind != "text":
                raise _bad_request("there is no text in the message to edit")
            if plain == record.text and entities == record.entities and inline == record.inline_markup:
                raise TelegramApiError(400, NOT_MODIFIED)
            record.text, record.raw_text, record.parse_mode = plain, raw_text, parse_mode
            record.entities = copy.deepcopy(entities)
            record.reply_markup, record.inline_markup = copy.deepcopy(markup), copy.deepcopy(inline)
            record.edits += 1
            message = self._messages[(chat_id, message_id)]
            message["text"] = plain
            message["edit_date"] = int(time.time())
            message.pop("entities", None)
            message.pop("reply_markup", None)  # editing without reply_markup removes the inline keyboard
            if entities:
                message["entities"] = copy.deepcopy(entities)
            if inline is not None:
                message["reply_markup"] = copy.deepcopy(inline)
            return copy.deepcopy(message)

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        markup, inline = self._markup(params)
        if params.get("inline_message_id"):
            return True
        chat_id = self._chat_id(params)
        message_id = self._message_id(params)
        with self._lock:
            record = self._bot_message(chat_id, message_id)
            if inline == record.inline_markup:
                raise TelegramApiError(400, NOT_MODIFIED)
            record.reply_markup, record.inline_markup = copy.deepcopy(markup), copy.deepcopy(inline)
            record.edits += 1
            message = self._messages[(chat_id, message_id)]
            message["edit_date"] = int(time.time())
            message.pop("reply_markup", None)
            if inline is not None:
                message["reply_markup"] = copy.deepcopy(inline)
            return copy.deepcopy(message)

    async def _delete_message(self, params: JSONDict) -> bool:
        chat_id = self._chat_id(params)
        message_id = self._message_id(params)
        key = (chat_id, message_id)
        with self._lock:
            if key not in self._messages or key in self._deleted:
                raise _bad_request("message to delete not found")
            self._deleted.add(key)
            record = self._bot_messages.get(key)
            if record is not None:
                record.deleted = True
        return True

    async def _send_chat_action(self, params: JSONDict) -> bool:
        self._chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        with self._lock:
            if self._callback_queries.get(query_id, True):
                raise TelegramApiError(400, CALLBACK_QUERY_INVALID)
            self._callback_queries[query_id] = True
        return True

    async def _send_document(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        document = params.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            document = params.get(document.removeprefix("attach://"))
        if document is None or document == "":
            raise _bad_request("there is no document in the request")
        caption_raw = params.get("caption")
        caption_raw = None if caption_raw in (None, "") else str(caption_raw)
        parse_mode = params.get("parse_mode") or None
        caption: str | None = None
        caption_entities: list[JSONDict] = []
        if caption_raw is not None:
            caption, caption_entities = self._format(
                caption_raw,
                parse_mode,
                params.get("caption_entities"),
                MAX_CAPTION_LENGTH,
                "message caption is too long",
            )
        markup, inline = self._markup(params)
        if isinstance(document, UploadedFile):
            if not document.content:
                raise _bad_request("file must be non-empty")
            document_json = self.add_file(
                f"BQACAgIAAxk-{next(self._file_counter)}",
                document.content,
                document.filename or "document",
                mime_type=document.content_type,
            )
        elif isinstance(document, str):
            with self._lock:
                stored = self._files.get(document)
            if stored is None:
                if document.startswith(("http://", "https://")):
                    raise _bad_request("failed to get HTTP URL content")
                raise _bad_request("wrong file identifier/HTTP URL specified")
            document_json = stored.document_json()
        else:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        with self._lock:
            reply = self._resolve_reply(chat_id, params)
            stored = self._files[document_json["file_id"]]
            message: JSONDict = {
                "message_id": self._next_message_id(chat_id),
                "from": self.bot_user,
                "chat": self._chat_json(chat_id),
                "date": int(time.time()),
                "document": document_json,
            }
            if caption:
                message["caption"] = caption
                if caption_entities:
                    message["caption_entities"] = caption_entities
            if reply is not None:
                message["reply_to_message"] = reply
            if inline is not None:
                message["reply_markup"] = inline
            key = (chat_id, message["message_id"])
            self._messages[key] = copy.deepcopy(message)
            self._bot_messages[key] = _BotMessage(
                chat_id=chat_id,
                message_id=message["message_id"],
                kind="document",
                text=caption or "",
                raw_text=caption_raw or "",
                parse_mode=parse_mode,
                entities=copy.deepcopy(caption_entities),
                reply_markup=copy.deepcopy(markup),
                inline_markup=copy.deepcopy(inline),
            )
            self._documents.append(
                SentDocument(
                    chat_id=chat_id,
                    message_id=message["message_id"],
                    file_id=stored.file_id,
                    file_name=stored.file_name,
                    mime_type=stored.mime_type,
                    content=stored.content,
                    caption=caption,
                    raw_caption=caption_raw,
                    parse_mode=parse_mode,
                )
            )
            return message

    async def _get_file(self, params: JSONDict) -> JSONDict:
        file_id = str(params.get("file_id") or "")
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None:
            raise _bad_request("invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_SIZE:
            raise _bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }
