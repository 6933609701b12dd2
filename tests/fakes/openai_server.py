"""A loopback fake of an OpenAI-compatible HTTP API (chat completions, embeddings, models).

Why: mocking `ChatOpenAI.invoke` or `OpenAI.chat.completions.create` skips exactly what breaks in
production — request encoding, SSE parsing, status-code → exception mapping, timeouts and
retries.  This server lets the *real* `openai` client (and `langchain_openai` on top of it) talk
HTTP to something that answers in OpenAI's wire shapes, while the test decides how it behaves and
inspects what it was sent.

Usage::

    with FakeOpenAIServer() as server:
        server.reply = "你好"
        llm = ChatOpenAI(base_url=server.base_url, api_key="test", model="test-model", max_retries=0)
        assert llm.invoke("hi").content == "你好"
        assert server.last_messages()[-1]["content"] == "hi"

        server.script(["rate_limit", "error500"])  # the next two requests fail, then `server.mode` again
        server.mode = "echo"                       # reply with every message's text, concatenated

Modes (``server.mode`` or one item of ``server.script([...])``):

* ``"reply"``      — 200 with ``server.reply``: a ``str``, a list of ``str`` (the stream pieces; joined
  for non-streaming requests), or a callable taking the request's ``messages`` and returning either.
* ``"echo"``       — 200 whose content is the text of every message received, joined by newlines.
* ``"error500"``   — 500 with an OpenAI-style ``{"error": {...}}`` body → ``openai.InternalServerError``.
* ``"rate_limit"`` — 429 with ``retry-after-ms`` = ``server.retry_after`` → ``openai.RateLimitError``.
* ``"timeout"``    — sleeps ``server.delay`` seconds (default 30) before answering as ``"reply"``; the
  sleep is cut short by ``stop()``, so leaving the ``with`` block never waits for it.
* ``"garbage"``    — 200 whose body is not JSON (``Content-Type`` is ``server.garbage_content_type``);
  for ``"stream": true`` requests, an SSE event whose data is not JSON.

Fidelity notes:

* Streams are chunked HTTP/1.1 ``text/event-stream``: a role chunk, one chunk per piece, a chunk with
  ``finish_reason: "stop"``, a usage chunk (``choices: []``) only when
  ``stream_options.include_usage`` is set, then ``data: [DONE]``.
* Token counts are character counts — good enough for "usage is present", not for billing tests.
* Embeddings honour ``encoding_format`` (the ``openai`` client asks for ``base64`` unless told
  otherwise), ``dimensions``, and token-id inputs.
* Only the first choice is produced (``n`` is ignored); tools / function calls are not simulated.
* One server object serves once: after ``stop()`` it cannot be started again.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import random
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, get_args

JSONDict = dict[str, Any]
Mode = Literal["reply", "echo", "error500", "timeout", "garbage", "rate_limit"]
MODES: tuple[str, ...] = get_args(Mode)
ReplyText = str | Sequence[str]
ReplySource = ReplyText | Callable[[list[JSONDict]], ReplyText]

CHAT_PATH = "/v1/chat/completions"
EMBEDDINGS_PATH = "/v1/embeddings"
MODELS_PATH = "/v1/models"
GARBAGE_BODY = b"<html><body><h1>502 Bad Gateway</h1>{not json</body></html>"
_DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


@dataclass(frozen=True)
class Step:
    """One scripted behaviour, for when a test needs a per-request reply or delay, not just a mode."""

    mode: Mode
    reply: ReplySource | None = None
    delay: float | None = None


def fake_embedding(text: str, dim: int = 8) -> list[float]:
    """A deterministic unit vector seeded by the text's SHA-256, so equal texts embed equally across runs."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    raw = [rng.gauss(0.0, 1.0) for _ in range(dim)]
    norm = sum(v * v for v in raw) ** 0.5 or 1.0
    return [v / norm for v in raw]


def message_text(message: JSONDict) -> str:
    """The plain text of one chat message, whether `content` is a string or a list of content parts."""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content)
    return str(content)


def _as_step(item: Mode | str | Step) -> Step:
    if isinstance(item, Step):
        _check_mode(item.mode)
        return item
    return Step(mode=_check_mode(item))


def _check_mode(mode: str) -> Mode:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
    return mode  # type: ignore[return-value]


class _HTTPServer(ThreadingHTTPServer):
    """Daemon handler threads and no join on close: a handler stuck in a client's socket must not block stop()."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


class FakeOpenAIServer:
    """An OpenAI-compatible API on 127.0.0.1:<free port>, run in a background thread; use as a context manager."""

    def __init__(
        self,
        *,
        reply: ReplySource = "This is a fake reply.",
        mode: Mode = "reply",
        delay: float = 30.0,
        embedding_dim: int = 8,
        stream_chunk_chars: int = 8,
        stream_delay: float = 0.0,
        retry_after: float = 0.01,
        model: str | None = None,
        garbage_content_type: str = "application/json",
    ) -> None:
        self.reply: ReplySource = reply
        """What "reply" mode answers: str, list of stream pieces, or callable(messages) → either."""
        self.delay = delay
        """Seconds "timeout" mode sleeps before answering (interrupted by stop())."""
        self.embedding_dim = embedding_dim
        """Vector length for /v1/embeddings when the request gives no `dimensions`."""
        self.stream_chunk_chars = stream_chunk_chars
        """A `str` reply is streamed in pieces of this many characters."""
        self.stream_delay = stream_delay
        """Seconds between streamed pieces, for tests of progressive output."""
        self.retry_after = retry_after
        """Seconds sent as `retry-after-ms`/`retry-after` on 429, so client retries stay fast."""
        self.model = model
        """Model name put in responses; None echoes the request's `model`."""
        self.garbage_content_type = garbage_content_type
        """Content-Type of "garbage" replies; "text/html" makes `openai` return a bare str instead of raising."""
        self._mode: Mode = _check_mode(mode)
        self._lock = threading.Lock()
        self._requests: list[JSONDict] = []
        self._script: deque[Step] = deque()
        self._connections: set[socket.socket] = set()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._started = False
        self._stopped = False
        self._httpd = _HTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )

    # ----------------------------------------------------------------- lifecycle

    def __enter__(self) -> FakeOpenAIServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Serve in a background thread; the port is already bound, so `base_url` is valid before this."""
        if self._stopped:
            raise RuntimeError("a stopped FakeOpenAIServer cannot be restarted; make a new one")
        if not self._started:
            self._started = True
            self._thread.start()

    def stop(self) -> None:
        """Stop at once: wake sleeping handlers, cut open keep-alive connections, close the port."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        if self._started:
            self._httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        if self._started:
            self._thread.join(timeout=5)

    # ----------------------------------------------------------------- addresses

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The server root, e.g. for raw HTTP tests."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass as `base_url` to `openai.OpenAI` / `ChatOpenAI` / `OpenAIEmbeddings`."""
        return f"{self.url}/v1"

    # ----------------------------------------------------------------- behaviour

    @property
    def mode(self) -> Mode:
        """The behaviour for requests not covered by `script()`; validated on assignment."""
        return self._mode

    @mode.setter
    def mode(self, value: Mode) -> None:
        self._mode = _check_mode(value)

    def script(self, steps: Iterable[Mode | str | Step]) -> None:
        """Queue per-request behaviours, consumed one per API request, before falling back to `mode`."""
        queued = [_as_step(step) for step in steps]
        with self._lock:
            self._script.extend(queued)

    @property
    def pending_script(self) -> int:
        """How many scripted behaviours have not been used yet."""
        with self._lock:
            return len(self._script)

    # ----------------------------------------------------------------- inspection

    @property
    def requests(self) -> list[JSONDict]:
        """A snapshot of every request so far: {method, path, headers (lower-cased keys), body, mode, time}."""
        with self._lock:
            return list(self._requests)

    def last_request(self) -> JSONDict:
        with self._lock:
            if not self._requests:
                raise LookupError("the fake OpenAI server has received no request")
            return self._requests[-1]

    def last_messages(self) -> list[JSONDict]:
        """The `messages` of the most recent chat completions request — what the model was really shown."""
        with self._lock:
            for record in reversed(self._requests):
                body = record["body"]
                if isinstance(body, dict) and isinstance(body.get("messages"), list):
                    return list(body["messages"])
        raise LookupError("the fake OpenAI server has received no chat completions request")

    def clear(self) -> None:
        """Forget recorded requests and any unused script, e.g. between phases of one test."""
        with self._lock:
            self._requests.clear()
            self._script.clear()

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[JSONDict]:
        """Block until at least `count` requests were received, for tests where the client runs elsewhere."""
        deadline = time.monotonic() + timeout
        while True:
            snapshot = self.requests
            if len(snapshot) >= count:
                return snapshot
            if time.monotonic() >= deadline:
                raise TimeoutError(f"expected {count} requests within {timeout}s, got {len(snapshot)}")
            time.sleep(0.01)

    # ----------------------------------------------------------------- internals used by the handler

    def _record(self, method: str, path: str, headers: dict[str, str], body: Any, *, scripted: bool) -> Step:
        with self._lock:
            step = self._script.popleft() if scripted and self._script else Step(self._mode)
            self._requests.append(
                {
                    "method": method,
                    "path": path,
                    "headers": headers,
                    "body": body,
                    "mode": step.mode if scripted else None,
                    "time": time.time(),
                }
            )
            return step

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}-fake{next(self._ids):06d}"

    def _resolve_reply(self, step: Step, messages: list[JSONDict]) -> list[str]:
        """The reply as stream pieces; joined, it is the non-streaming content."""
        if step.mode == "echo":
            pieces: ReplyText = "\n".join(message_text(m) for m in messages if isinstance(m, dict))
        else:
            source = step.reply if step.reply is not None else self.reply
            pieces = source(messages) if callable(source) else source
        if isinstance(pieces, str):
            size = max(1, self.stream_chunk_chars)
            return [pieces[i : i + size] for i in range(0, len(pieces), size)]
        return [str(p) for p in pieces]


def _make_handler(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    """A handler class bound to one FakeOpenAIServer (http.server instantiates it per connection)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeOpenAI/1.0"

        def setup(self) -> None:
            super().setup()
            server._track(self.connection, add=True)

        def finish(self) -> None:
            server._track(self.connection, add=False)
            with contextlib.suppress(OSError):
                super().finish()

        def log_message(self, format: str, *args: Any) -> None:
            return None

        # ------------------------------------------------------------- routing

        def do_GET(self) -> None:
            path = self._path()
            server._record("GET", path, self._headers(), None, scripted=False)
            if path == MODELS_PATH:
                model = server.model or "test-model"
                self._json(200, {"object": "list", "data": [_model_obj(model)]})
            elif path.startswith(MODELS_PATH + "/"):
                self._json(200, _model_obj(path[len(MODELS_PATH) + 1 :]))
            else:
                self._error(404, f"Unknown request URL: GET {path}.", "invalid_request_error", "unknown_url")

        def do_POST(self) -> None:
            path = self._path()
            headers = self._headers()
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                server._record("POST", path, headers, raw.decode("utf-8", "replace"), scripted=False)
                self._error(400, "We could not parse the JSON body of your request.", "invalid_request_error", None)
                return
            if path not in (CHAT_PATH, EMBEDDINGS_PATH):
                server._record("POST", path, headers, body, scripted=False)
                self._error(404, f"Unknown request URL: POST {path}.", "invalid_request_error", "unknown_url")
                return
            if not isinstance(body, dict):
                server._record("POST", path, headers, body, scripted=False)
                self._error(400, "The request body must be a JSON object.", "invalid_request_error", None)
                return
            step = server._record("POST", path, headers, body, scripted=True)
            try:
                self._behave(step, path, body)
            except _DISCONNECTS:
                self.close_connection = True  # the client gave up (e.g. its timeout); nothing to tell it

        def _behave(self, step: Step, path: str, body: JSONDict) -> None:
            stream = bool(body.get("stream")) and path == CHAT_PATH
            if step.mode == "error500":
                self._error(
                    500,
                    "The server had an error while processing your request. Sorry about that!",
                    "server_error",
                    None,
                )
                return
            if step.mode == "rate_limit":
                self._error(
                    429,
                    f"Rate limit reached for {body.get('model', 'test-model')} on requests per min (RPM): "
                    "Limit 3, Used 3, Requested 1. Please try again later.",
                    "requests",
                    "rate_limit_exceeded",
                    extra_headers={
                        "retry-after-ms": str(int(server.retry_after * 1000)),
                        "retry-after": str(max(0, round(server.retry_after))),
                    },
                )
                return
            if step.mode == "garbage":
                self._garbage(stream)
                return
            if step.mode == "timeout":
                delay = server.delay if step.delay is None else step.delay
                if server._stopping.wait(delay):
                    self.close_connection = True
                    return
            if path == EMBEDDINGS_PATH:
                self._json(200, self._embeddings(body))
                return
            messages = body.get("messages")
            messages = messages if isinstance(messages, list) else []
            pieces = server._resolve_reply(step, messages)
            if stream:
                self._stream(body, messages, pieces)
            else:
                self._json(200, self._completion(body, messages, "".join(pieces)))

        # ------------------------------------------------------------- bodies

        def _model(self, body: JSONDict) -> str:
            return server.model or str(body.get("model") or "test-model")

        def _completion(self, body: JSONDict, messages: list[JSONDict], text: str) -> JSONDict:
            return {
                "id": server._next_id("chatcmpl"),
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self._model(body),
                "system_fingerprint": "fp_fake",
                "service_tier": "default",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": _usage(messages, text),
            }

        def _stream(self, body: JSONDict, messages: list[JSONDict], pieces: list[str]) -> None:
            chunk_id = server._next_id("chatcmpl")
            created = int(time.time())
            model = self._model(body)
            options = body.get("stream_options")
            include_usage = isinstance(options, dict) and bool(options.get("include_usage"))

            def chunk(delta: JSONDict, finish: str | None = None, *, usage: JSONDict | None = None) -> JSONDict:
                data: JSONDict = {
                    "id": chunk_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "system_fingerprint": "fp_fake",
                    "service_tier": "default",
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                }
                if include_usage:
                    data["usage"] = usage
                return data

            self._start_sse()
            self._event(chunk({"role": "assistant", "content": "", "refusal": None}))
            for piece in pieces:
                if server.stream_delay and server._stopping.wait(server.stream_delay):
                    self.close_connection = True
                    return
                self._event(chunk({"content": piece}))
            self._event(chunk({}, "stop"))
            if include_usage:
                final = chunk({}, usage=_usage(messages, "".join(pieces)))
                final["choices"] = []
                self._event(final)
            self._send_chunk(b"data: [DONE]\n\n")
            self._send_chunk(b"")

        def _embeddings(self, body: JSONDict) -> JSONDict:
            raw_input = body.get("input")
            if isinstance(raw_input, str):
                inputs: list[Any] = [raw_input]
            elif isinstance(raw_input, list) and raw_input and all(isinstance(t, int) for t in raw_input):
                inputs = [raw_input]  # one text given as token ids
            elif isinstance(raw_input, list):
                inputs = raw_input
            else:
                inputs = []
            dim = body.get("dimensions") or server.embedding_dim
            as_base64 = body.get("encoding_format") == "base64"
            data = []
            tokens = 0
            for index, item in enumerate(inputs):
                key = item if isinstance(item, str) else json.dumps(item)
                tokens += len(item) if isinstance(item, str | list) else 1
                vector = fake_embedding(key, int(dim))
                encoded: list[float] | str = (
                    base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii") if as_base64 else vector
                )
                data.append({"object": "embedding", "index": index, "embedding": encoded})
            return {
                "object": "list",
                "data": data,
                "model": self._model(body),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }

        def _garbage(self, stream: bool) -> None:
            if stream:
                self._start_sse()
                self._send_chunk(b"data: {this is not json\n\n")
                self._send_chunk(b"data: [DONE]\n\n")
                self._send_chunk(b"")
                return
            self._raw(200, GARBAGE_BODY, server.garbage_content_type)

        # ------------------------------------------------------------- wire helpers

        def _path(self) -> str:
            path = self.path.split("?", 1)[0]
            return path.rstrip("/") or "/"

        def _headers(self) -> dict[str, str]:
            return {key.lower(): value for key, value in self.headers.items()}

        def _common_headers(self) -> None:
            self.send_header("x-request-id", server._next_id("req"))
            self.send_header("openai-processing-ms", "1")

        def _raw(self, status: int, payload: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self._common_headers()
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()

        def _json(self, status: int, payload: JSONDict, extra: dict[str, str] | None = None) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self._raw(status, data, "application/json", extra)

        def _error(
            self,
            status: int,
            message: str,
            error_type: str,
            code: str | None,
            *,
            extra_headers: dict[str, str] | None = None,
        ) -> None:
            error = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
            self._json(status, error, extra_headers)

        def _start_sse(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self._common_headers()
            self.end_headers()
            self.wfile.flush()

        def _event(self, data: JSONDict) -> None:
            self._send_chunk(b"data: " + json.dumps(data, ensure_ascii=False).encode("utf-8") + b"\n\n")

        def _send_chunk(self, data: bytes) -> None:
            """One HTTP/1.1 chunk; an empty one ends the body."""
            self.wfile.write(f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n")
            self.wfile.flush()

    return Handler


def _usage(messages: list[JSONDict], text: str) -> JSONDict:
    prompt = sum(len(message_text(m)) for m in messages if isinstance(m, dict))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": len(text),
        "total_tokens": prompt + len(text),
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _model_obj(model: str) -> JSONDict:
    return {"id": model, "object": "model", "created": 0, "owned_by": "fake-openai"}
