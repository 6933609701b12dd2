"""The lexicon's data files: `name: word word …` lines, `#` comments, one list per name (lines add up)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def word_table(file: str) -> dict[str, tuple[str, ...]]:
    """Read once per process from `ingest/lexicon/data/FILE`, inside the installed package."""
    table: dict[str, list[str]] = {}
    text = resources.files("ingest.lexicon").joinpath("data", file).read_text(encoding="utf-8")
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, _, words = line.partition(":")
            table.setdefault(name.strip(), []).extend(words.split())
    return {name: tuple(words) for name, words in table.items()}


def word_lines(file: str, name: str) -> list[tuple[str, ...]]:
    """The lines of one name, each on its own (groups of words), where `word_table` adds them up."""
    text = resources.files("ingest.lexicon").joinpath("data", file).read_text(encoding="utf-8")
    out: list[tuple[str, ...]] = []
    for raw in text.splitlines():
        key, sep, words = raw.split("#", 1)[0].strip().partition(":")
        if sep and key.strip() == name:
            out.append(tuple(words.split()))
    return out
