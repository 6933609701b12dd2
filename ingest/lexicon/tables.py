"""The lexicon's data files: `name: word word …` lines, `#` comments, one list per name (lines add up)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def _lines(file: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Read once per process from `ingest/lexicon/data/FILE`, inside the installed package."""
    text = resources.files("ingest.lexicon").joinpath("data", file).read_text(encoding="utf-8")
    out = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, _, words = line.partition(":")
            out.append((name.strip(), tuple(words.split())))
    return tuple(out)


@cache
def word_table(file: str) -> dict[str, tuple[str, ...]]:
    """Each name's words, its lines added up."""
    table: dict[str, list[str]] = {}
    for name, words in _lines(file):
        table.setdefault(name, []).extend(words)
    return {name: tuple(words) for name, words in table.items()}


def word_lines(file: str, name: str) -> list[tuple[str, ...]]:
    """The lines of one name, each on its own (groups of words), where `word_table` adds them up."""
    return [words for key, words in _lines(file) if key == name]
