"""Lexical terms for BM25: jieba words over normalised text, computed once at ingest and stored.

jieba keeps its prefix dictionary (580k words and prefixes) in a dict that takes 0.3-0.7 s to unmarshal in
every process, and longer to build where its cache is missing. A reader only segments short questions, so
it looks words up in a sorted, memory-mapped copy of the same dictionary and hands jieba's own algorithm a
dictionary of just the words the text can contain: the same terms, without loading the dictionary. Long
texts (an ingest) load jieba's whole dictionary once, from its cache in `cache_dir()`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import mmap
import os
import re
import struct
import sys
import tempfile
import threading
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from ingest.lexicon.normalize import normalize_for_match

_KEEP = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
_REDACTED = re.compile(r"x+")
STOPWORDS = frozenset(
    "的 了 和 与 及 在 是 对 为 等 中 上 下 把 被 将 就 也 都 而 或 并 其 之 以 于 个 这 那 有 我 我们 你 "
    "他 它 各 做 哪些 什么 怎么 怎样 如何 多少 吗 呢 啊 吧 方面 情况 工作 进行 开展 一 是".split()
)
BULK_CHARS = 5_000
"""Characters segmented by lookups before the whole dictionary pays off: ~15 µs a character by lookups,
~2 µs with the dictionary in memory after a 0.3-0.7 s load."""

_MAGIC = b"RBPFXD1\0"
_HEADER = struct.Struct("<8sQQQ")  # magic, entries, total frequency, key bytes
_lock = threading.Lock()
_segmented = 0
_blocks: dict[str, list[str]] = {}
_MAX_BLOCKS = 200_000  # ~40 MiB of cut runs; cleared, not evicted one by one, when full


def cache_dir() -> Path:
    """Where the segmenter keeps its dictionary files: `$XDG_CACHE_HOME/reportbot`, shared by every data dir
    (jieba's default is the temporary directory, which is cleared at boot)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reportbot"


def _import_jieba() -> Any:
    """jieba imports `pkg_resources` (0.7 s, deprecated) only to open its bundled files; when that import
    fails it opens them beside its module, which is what we want."""
    blocked = "pkg_resources" not in sys.modules
    if blocked:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]
    try:
        import jieba
    finally:
        if blocked:
            sys.modules.pop("pkg_resources", None)
    jieba.setLogLevel(logging.WARNING)
    return jieba


@cache
def _dict_source() -> tuple[Path, str]:
    """jieba's dictionary file and a key naming its exact content (version, size, head and tail)."""
    jieba = _import_jieba()
    path = Path(jieba.__file__).parent / "dict.txt"
    st = path.stat()
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
        fh.seek(max(st.st_size - (1 << 16), 0))
        tail = fh.read()
    digest = hashlib.sha256(f"{getattr(jieba, '__version__', '')}|{st.st_size}|".encode() + head + tail)
    return path, digest.hexdigest()[:16]


def fingerprint() -> str:
    """Names the segmenter: an index whose terms were made by another one must be rebuilt."""
    return f"jieba-{_dict_source()[1]}"


class PrefixDict:
    """jieba's prefix dictionary as a sorted file of UTF-8 keys, searched in place (no load, shared pages)."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as fh:
            self._mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        magic, self.n, self.total, blob = _HEADER.unpack_from(self._mm, 0)
        if magic != _MAGIC:
            raise ValueError(f"{path} is not a prefix dictionary")
        start = _HEADER.size
        view = memoryview(self._mm)
        self._offsets = view[start : start + 4 * (self.n + 1)].cast("I")
        start += 4 * (self.n + 1)
        self._freqs = view[start : start + 4 * self.n].cast("I")
        self._keys = start + 4 * self.n
        if self._keys + blob > len(self._mm):
            raise ValueError(f"{path} is truncated")

    def get(self, word: str) -> int | None:
        key = word.encode()
        lo, hi = 0, self.n
        offsets, mm, base = self._offsets, self._mm, self._keys
        while lo < hi:
            mid = (lo + hi) // 2
            probe = mm[base + offsets[mid] : base + offsets[mid + 1]]
            if probe < key:
                lo = mid + 1
            elif probe > key:
                hi = mid
            else:
                return int(self._freqs[mid])
        return None

    def words_in(self, text: str) -> dict[str, int]:
        """Every dictionary key that occurs in the text: all jieba will ask about it.

        Keys include every prefix of every word, so walking forward from each position while the fragment
        is a key finds them all, the same walk as jieba's DAG.
        """
        found: dict[str, int] = {}
        n = len(text)
        for k in range(n):
            i = k + 1
            while i <= n:
                frag = text[k:i]
                freq = found.get(frag)
                if freq is None:
                    freq = self.get(frag)
                    if freq is None:
                        break
                    found[frag] = freq
                i += 1
        return found


def write_prefix_dict(freq: dict[str, int], total: int, path: Path) -> None:
    """Written once per jieba dictionary, atomically (readers on other processes may open it any time)."""
    keys = sorted((k.encode(), v) for k, v in freq.items())
    offsets = [0]
    for key, _ in keys:
        offsets.append(offsets[-1] + len(key))
    blob = b"".join(k for k, _ in keys)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".prefix.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_HEADER.pack(_MAGIC, len(keys), total, len(blob)))
            fh.write(struct.pack(f"<{len(offsets)}I", *offsets))
            fh.write(struct.pack(f"<{len(keys)}I", *(v for _, v in keys)))
            fh.write(blob)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _writable_cache() -> Path:
    for folder in (cache_dir(), Path(tempfile.gettempdir()) / f"reportbot-{os.getuid()}"):
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            if os.access(folder, os.W_OK):
                return folder
    raise OSError("no writable cache directory for the segmenter's dictionary")


@cache
def _prefix_dict() -> PrefixDict:
    path = _writable_cache() / f"prefix-{_dict_source()[1]}.bin"
    with contextlib.suppress(OSError, ValueError):
        return PrefixDict(path)
    jieba = _import_jieba()
    with open(_dict_source()[0], "rb") as fh:
        freq, total = jieba.Tokenizer.gen_pfdict(fh)
    write_prefix_dict(freq, total, path)
    return PrefixDict(path)


@cache
def _full() -> Any:
    """jieba with its whole dictionary in memory, its cache beside ours (not in /tmp)."""
    jieba = _import_jieba()
    jieba.dt.tmp_dir = str(_writable_cache())
    jieba.dt.cache_file = f"jieba-{_dict_source()[1]}.cache"
    jieba.initialize()
    return jieba


def _small(text: str) -> Any:
    """A jieba tokenizer that knows only the dictionary words occurring in the text: jieba's code, our dict."""
    jieba = _import_jieba()
    prefixes = _prefix_dict()
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = prefixes.words_in(text)
    tokenizer.total = prefixes.total
    tokenizer.initialized = True
    return tokenizer


def segment(text: str) -> list[str]:
    """jieba's default cut (accurate mode, HMM for unknown words) of the text as it is.

    jieba cuts each run of CJK, Latin and digits on its own, so runs are cut once and remembered: a chunk's
    terms and its sentences' terms share them, and so do reports written from one template.
    """
    jieba = _import_jieba()
    han, skip = jieba.re_han_default, jieba.re_skip_default
    pieces = han.split(text)
    missing = [p for p in dict.fromkeys(pieces) if p and p not in _blocks and han.match(p)]
    if missing:
        tokenizer = _tokenizer_for(missing)
        if len(_blocks) > _MAX_BLOCKS:
            _blocks.clear()
        for block in missing:
            _blocks[block] = _unglued(tokenizer.lcut(block))
    out: list[str] = []
    for piece in pieces:
        if not piece:
            continue
        words = _blocks.get(piece)
        if words is not None:
            out.extend(words)
        elif han.match(piece):
            out.extend(_unglued(_tokenizer_for([piece]).lcut(piece)))
        else:  # what jieba yields for spaces and punctuation: whitespace runs whole, anything else by character
            for part in skip.split(piece):
                if skip.match(part):
                    out.append(part)
                else:
                    out.extend(part)
    return out


_DATED = re.compile(r"[\dx]+")
_DATE_CHARS = "年月日"


def _unglued(words: list[str]) -> list[str]:
    """ "2024年岚江全市" → 2024|年|岚江|全市, not 2024|年岚江: jieba's guess for an unknown name glues the date's
    年 (月, 日) to it; a dictionary word (年度, 月底) is two characters and stays."""
    out: list[str] = []
    for word in words:
        if len(word) > 2 and word[0] in _DATE_CHARS and out and _DATED.fullmatch(out[-1]):
            out.extend((word[0], word[1:]))
        else:
            out.append(word)
    return out


def _tokenizer_for(blocks: list[str]) -> Any:
    """The whole dictionary once a process has segmented enough to pay for loading it; else lookups."""
    global _segmented
    with _lock:
        bulk = _full.cache_info().currsize > 0
        if not bulk:
            _segmented += sum(map(len, blocks))
            bulk = _segmented > BULK_CHARS
    return _full().dt if bulk else _small("\n".join(blocks))


def preload() -> None:
    """Load the whole dictionary now: for a process about to segment whole reports."""
    _full()


def terms(text: str) -> list[str]:
    """Words of the normalised text, without punctuation or stopwords, redaction marks dropped."""
    return keep_terms(segment(normalize_for_match(text)))


def keep_terms(words: Iterable[str]) -> list[str]:
    return [w for w in words if _KEEP.search(w) and w not in STOPWORDS and not _REDACTED.fullmatch(w)]
