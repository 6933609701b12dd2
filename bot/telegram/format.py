"""Answers as Telegram HTML: escaped text, a 来源 block, 原文 buttons, split under 4,096 characters."""

from __future__ import annotations

import html
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.answer import Answer, SectionText

LIMIT = 4096
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")
MAX_BUTTONS = 8


def answer_html(answer: Answer) -> str:
    parts = [html.escape(f"（{n}）") for n in answer.notes]
    parts.append(html.escape(answer.answer))
    cited = answer.cited_sources
    if answer.found and cited:
        lines = [f"[{s.n}] {html.escape(s.label)}" for s in cited]
        parts.append("<b>来源</b>\n" + "\n".join(lines))
    return "\n\n".join(p for p in parts if p)


def source_buttons(answer: Answer) -> InlineKeyboardMarkup | None:
    cited = answer.cited_sources[:MAX_BUTTONS]
    if not answer.found or not cited:
        return None
    buttons = [InlineKeyboardButton(f"原文 [{s.n}]", callback_data=f"src:{s.ref}") for s in cited]
    return InlineKeyboardMarkup([buttons[i : i + 4] for i in range(0, len(buttons), 4)])


def section_html(section: SectionText) -> str:
    head = html.escape(" › ".join(p for p in (section.report, section.section) if p))
    return f"<b>{head}</b>\n\n{html.escape(section.text)}"


def split_message(text: str, limit: int = LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraphs, then lines, then sentences, then anywhere.

    Cuts never fall inside a tag or an entity: the only tags we emit open and close on one line.
    """
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for unit in _units(text, limit):
        candidate = f"{current}{unit}" if current else unit.lstrip("\n")
        if len(candidate) <= limit:
            current = candidate
        else:
            if current.strip():
                pieces.append(current.rstrip())
            current = unit.lstrip("\n")
    if current.strip():
        pieces.append(current.rstrip())
    return pieces


def _units(text: str, limit: int) -> list[str]:
    units: list[str] = []
    for para in re.split(r"(?<=\n\n)", text):
        if len(para) <= limit:
            units.append(para)
            continue
        for line in re.split(r"(?<=\n)", para):
            if len(line) <= limit:
                units.append(line)
                continue
            for sentence in _SENTENCE_END.split(line):
                units.extend(_hard_cut(sentence, limit))
    return [u for u in units if u]


def _hard_cut(text: str, limit: int) -> list[str]:
    out = []
    while len(text) > limit:
        cut = limit
        amp = text.rfind("&", 0, cut)
        if amp != -1 and ";" not in text[amp:cut]:
            cut = amp
        tag = text.rfind("<", 0, cut)
        if tag != -1 and ">" not in text[tag:cut]:
            cut = tag
        cut = cut or limit
        out.append(text[:cut])
        text = text[cut:]
    out.append(text)
    return out


def plain(text_html: str) -> str:
    """The fallback when Telegram rejects our HTML: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"</?[a-zA-Z][^>]*>", "", text_html))
