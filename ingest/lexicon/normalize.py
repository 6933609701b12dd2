"""One normalisation for matching, applied alike to indexed text and to questions.

Shown text is never normalised: citations quote the report as written (with its `D建`), while search
sees `党建` on both sides.
"""

from __future__ import annotations

import re
import unicodedata

_CJK = r"\u4e00-\u9fff"
_CENSORED = (
    (re.compile(rf"(?<![A-Za-z])DP(?![A-Za-z])(?=[{_CJK}]|$)|(?<=[{_CJK}])DP(?![A-Za-z])"), "GDP"),
    (re.compile(rf"(?<![A-Za-z])D(?![A-Za-z])(?=[{_CJK}“”])|(?<=[{_CJK}“”])D(?![A-Za-z])"), "党"),
)
_SPACES = re.compile(r"\s+")


def restore_censored(text: str) -> str:
    """D组会议 → 党组会议, DP → GDP: what the censored characters stand for, for text shown in an answer."""
    for pattern, repl in _CENSORED:
        text = pattern.sub(repl, text)
    return text


def normalize_for_match(text: str) -> str:
    """NFKC (full/half width), 〇→零, censored D/DP restored, lower-case Latin, spaces folded."""
    text = restore_censored(unicodedata.normalize("NFKC", text))
    text = text.replace("〇", "零")
    return _SPACES.sub(" ", text).lower().strip()
