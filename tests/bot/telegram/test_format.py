"""Splitting HTML for Telegram's 4,096-character limit: pieces Telegram accepts, nothing lost, nothing cut apart."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.answer import SectionText
from bot.telegram.format import LIMIT, plain, section_html, split_message
from tests.fakes.telegram_server import parse_html


def _visible(pieces: list[str]) -> str:
    """What the reader sees across all pieces, whitespace aside (Telegram trims each message)."""
    return re.sub(r"\s+", "", "".join(parse_html(p)[0] for p in pieces))


def _check(text_html: str, limit: int = LIMIT) -> list[str]:
    pieces = split_message(text_html, limit)
    for piece in pieces:
        assert piece.strip() and len(piece) <= limit
        parse_html(piece)  # raises like Telegram's "can't parse entities" on a cut tag or entity
    assert _visible(pieces) == _visible([text_html])
    return pieces


def test_short_text_is_one_piece():
    assert split_message("<b>来源</b>\n[1] 粮食局") == ["<b>来源</b>\n[1] 粮食局"]
    exact = "据" * LIMIT
    assert split_message(exact) == [exact]


def test_long_section_is_cut_between_lines_and_keeps_its_bold_heading():
    lines = [f"{i}. 新建堤防{i}公里，投资{i * 7}万元，水质达标率>95%且<“历史最好”&稳定。" for i in range(200)]
    section = SectionText("水利局2023年工作总结", "一、2023年工作总结 › （一）防汛抗旱", "x.txt", "\n".join(lines))
    pieces = _check(section_html(section))
    assert len(pieces) >= 3
    assert pieces[0].startswith("<b>水利局2023年工作总结 › 一、2023年工作总结 › （一）防汛抗旱</b>\n\n")
    assert all(p.endswith("稳定。") for p in pieces)  # every cut falls at a line end
    assert sum(len(p) for p in pieces) > 2 * LIMIT


def test_one_long_line_is_cut_at_sentence_ends():
    line = "".join(f"第{i}项工作按期完成；" if i % 2 else f"第{i}项任务已经落实。" for i in range(900))
    pieces = _check(html.escape(line))
    assert len(pieces) >= 2
    assert all(p.endswith(("。", "；")) for p in pieces)


def test_text_without_breaks_is_cut_hard_but_never_inside_an_entity():
    raw = "A&B<C>" * 2000  # escapes to entities of 4-5 characters, across every possible cut position
    for limit in (LIMIT, 4095, 4093, 101):
        pieces = _check(html.escape(raw), limit)
        assert html.unescape("".join(pieces)) == raw


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("据粮a1 。；\n<>&\"'")), max_size=600),
    st.integers(min_value=40, max_value=200),
)
def test_any_text_splits_into_valid_pieces_with_nothing_lost(text, limit):
    _check(f"<b>标题</b>\n\n{html.escape(text)}", limit)


def test_plain_fallback_drops_tags_and_decodes_entities():
    assert plain("<b>来源</b>\n[1] a &lt; b &amp; c") == "来源\n[1] a < b & c"
