"""The optional LLM: a LangChain chain over delimited sources, whose citations are checked after generation."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from bot.prompts import Prompts
from bot.retrieve import Hit
from bot.settings import Settings

_MARKER = re.compile(r"\[(\d{1,3})\]")


def build_chat_model(settings: Settings) -> BaseChatModel:
    """Any OpenAI-compatible server; bounded time, retries and length."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.llm_model,
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_retries,
        max_tokens=settings.llm_max_tokens,  # type: ignore[call-arg]
        temperature=0.1,
        streaming=True,
    )


def format_sources(hits: list[Hit]) -> str:
    """Each source fenced and escaped, so its text can't close the fence or pose as markup."""
    blocks = []
    for n, hit in enumerate(hits, start=1):
        rec = hit.record
        body = rec.text.replace("<", "＜").replace(">", "＞")
        section = rec.section.replace("<", "＜").replace(">", "＞")
        blocks.append(f'<source id="{n}">\n报告：{rec.report}\n章节：{section}\n内容：\n{body}\n</source>')
    return "\n\n".join(blocks)


def answer_prompt(prompts: Prompts) -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages([("system", prompts.answer_system), ("human", prompts.answer_user)])


@dataclass
class Checked:
    text: str
    cited: set[int]


def check_citations(text: str, n_sources: int) -> Checked:
    """Drop markers that name no retrieved source; report which were valid."""
    cited: set[int] = set()

    def keep(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= n_sources:
            cited.add(n)
            return match.group(0)
        return ""

    return Checked(_MARKER.sub(keep, text).strip(), cited)


def leaks_prompt(text: str, prompts: Prompts) -> bool:
    """True when a reply reproduces our instructions or the source fences instead of answering."""
    if "<source" in text or "</source>" in text:
        return True
    squashed = re.sub(r"\s+", "", text)
    lines = [re.sub(r"\s+", "", line) for line in (prompts.answer_system + "\n" + prompts.answer_user).splitlines()]
    return any(len(line) >= 12 and line in squashed for line in lines)


def generate(
    llm: BaseChatModel,
    prompts: Prompts,
    question: str,
    hits: list[Hit],
    on_token: Callable[[str], None] | None = None,
) -> str:
    """Run the chain, streaming tokens to on_token when given; errors propagate for the caller's fallback."""
    chain = answer_prompt(prompts) | llm | StrOutputParser()
    inputs = {"question": question, "sources": format_sources(hits)}
    if on_token is None:
        return chain.invoke(inputs)
    parts: list[str] = []
    for piece in chain.stream(inputs):
        parts.append(piece)
        on_token(piece)
    return "".join(parts)


def condense(llm: BaseChatModel, prompts: Prompts, history: list[tuple[str, str]], question: str) -> str:
    """Rewrite a follow-up as a standalone question, from the turns so far."""
    lines = "\n".join(f"用户：{q}\n助手：{a[:300]}" for q, a in history)
    prompt = ChatPromptTemplate.from_messages([("human", prompts.condense)])
    text = (prompt | llm | StrOutputParser()).invoke({"history": lines, "question": question})
    text = text.strip().splitlines()[0].strip() if text.strip() else ""
    return text[:300] or question
