"""Lexical terms for BM25: jieba words over normalised text, computed once at ingest and stored."""

from __future__ import annotations

import logging
import re
from functools import cache

from ingest.lexicon.normalize import normalize_for_match

_KEEP = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
STOPWORDS = frozenset(
    "的 了 和 与 及 在 是 对 为 等 中 上 下 把 被 将 就 也 都 而 或 并 其 之 以 于 个 这 那 有 我 我们 你 "
    "他 它 各 做 哪些 什么 怎么 怎样 如何 多少 吗 呢 啊 吧 方面 情况 工作 进行 开展 一 是".split()
)


@cache
def _jieba() -> object:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def terms(text: str) -> list[str]:
    """Words of the normalised text, without punctuation or stopwords, redaction marks dropped."""
    jieba = _jieba()
    words = jieba.lcut(normalize_for_match(text))  # type: ignore[attr-defined]
    return [w for w in words if _KEEP.search(w) and w not in STOPWORDS and not re.fullmatch(r"x+", w)]
