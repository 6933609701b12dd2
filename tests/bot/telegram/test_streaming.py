"""With an LLM, the answer streams into one message by throttled edits, then becomes the cited answer."""

from __future__ import annotations

from itertools import pairwise

from bot.telegram.app import build_application
from tests.bot.telegram.conftest import USER, WAIT, drive, sent
from tests.fakes.openai_server import FakeOpenAIServer

PIECES = ["明年", "将开展", "政策性粮油库存检查、", "粮食购销定期巡查", "等多项", "执法检查", "。", "[1]"]


def test_llm_answer_streams_by_editing_one_message(bot_settings, open_services, tg):
    with FakeOpenAIServer(reply=PIECES, stream_delay=0.5) as llm:
        settings = bot_settings(
            openai_api_key="test-key", openai_base_url=llm.base_url, llm_model="m", llm_timeout=20, llm_retries=0
        )
        app = build_application(open_services(settings))

        async def scenario(app):
            tg.push_message(USER, "粮食局明年粮食流通执法要开展哪些检查？", user_id=USER)
            await tg.wait_for_async(lambda _: any("来源" in m.text for m in sent(tg, USER)), timeout=WAIT)

        drive(app, scenario)
        assert llm.last_request()["body"]["stream"] is True
    [message] = [m for m in sent(tg, USER) if not m.deleted]
    assert message.edits >= 2, "shown while streaming, then replaced by the final answer"
    assert message.text.startswith("明年将开展政策性粮油库存检查") and "[1]" in message.text
    assert "来源" in message.text and message.parse_mode == "HTML"
    drafts = [c for c in tg.calls_of("editMessageText") if c.params.get("message_id") == message.message_id]
    times = [c.time for c in drafts][:-1]  # the last edit is the final answer, sent at once
    assert all(b - a >= 1.0 for a, b in pairwise(times)), "streaming edits are throttled"
