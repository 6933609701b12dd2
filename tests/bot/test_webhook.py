"""Webhook mode behind a load balancer: the secret token is checked on every request."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.error
import urllib.request

from bot.services import Services
from bot.telegram.app import build_application, serve_webhook
from tests.fakes.telegram_server import FakeTelegramServer

TOKEN = "123456:WEBHOOK-TEST-TOKEN"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(url: str, update: dict, secret: str | None) -> int:
    """POST as Telegram would; the listener may still be coming up right after setWebhook."""
    for _ in range(100):
        try:
            return _post(url, update, secret)
        except urllib.error.URLError as exc:
            if not isinstance(exc.reason, ConnectionRefusedError):
                raise
            time.sleep(0.1)
    raise AssertionError("webhook listener never came up")


def _post(url: str, update: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_webhook_answers_only_requests_with_the_secret(corpus_services, make_settings):
    with FakeTelegramServer(token=TOKEN) as tg:
        settings = make_settings(
            data_dir=corpus_services.settings.data_dir,
            telegram_bot_token=TOKEN,
            telegram_base_url=tg.base_url,
            telegram_base_file_url=tg.base_file_url,
            allowed_user_ids="*",
        )
        services = Services(settings)
        app = build_application(services)
        port = free_port()
        url = "https://bot.example.test/hook"  # the load balancer's public URL; it forwards to our port
        local = f"http://127.0.0.1:{port}/hook"

        async def scenario() -> None:
            stop = asyncio.Event()
            server = asyncio.create_task(serve_webhook(app, url, "127.0.0.1", port, "s3cret-token", stop))
            await tg.wait_for_async(lambda calls: any(c.method == "setWebhook" for c in calls), timeout=30)
            hook = tg.calls_of("setWebhook")[-1].params
            assert hook["url"] == url and hook["secret_token"] == "s3cret-token"
            update = tg.push_message(5001, "粮食局明年打算新建哪些粮库？", user_id=5001)
            assert await asyncio.to_thread(post, local, update, "wrong") == 403
            assert await asyncio.to_thread(post, local, update, None) == 403
            assert await asyncio.to_thread(post, local, update, "s3cret-token") == 200
            await tg.wait_for_async(
                lambda calls: any(c.method == "sendMessage" and "来源" in str(c.params.get("text")) for c in calls),
                timeout=60,
            )
            stop.set()
            assert await server == 0

        asyncio.run(scenario())
        answers = [c for c in tg.calls_of("sendMessage") if "来源" in str(c.params.get("text"))]
        assert len(answers) == 1, "only the request with the right secret was answered"
        services.close()
