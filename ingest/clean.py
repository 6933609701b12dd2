"""Strip what the publishing site added (paywall markers, adverts) so it never reaches a title or the index.

The rules are data: `MARKERS` are cut out wherever they stand, a line matching any of `NOISE_LINES` is
dropped whole. Add a pattern here when a new site's furniture turns up.
"""

from __future__ import annotations

import re
import unicodedata

MARKERS: tuple[str, ...] = (
    r"##paid(?:begin|end)##",
    r"#{2,}\s*(?:付费|会员)内容\s*(?:开始|结束)\s*#{2,}",
)

NOISE_LINES: tuple[str, ...] = (
    r"【[^】]{0,20}(?:素材库|代笔|文库|资料库)[^】]{0,20}】",
    r"(?:添加|联系)客服",
    r"有意加入请联系",
    r"(?:会员群|网盘群|svip会员)",
    r"谨防假冒",
    r"(?:关注|搜索)(?:微信)?公众号",
    r"(?:本文|文章)来源[:：]\s*\S*(?:网|号)",
    r"(?:扫码|扫一扫)(?:关注|加入|下载)",
    r"(?:下载|获取)(?:完整版|全文).{0,10}(?:请|付费|会员)",
    r"本(?:文档|文|资料)由.{0,24}上传",
    r"如有侵权.{0,10}(?:删除|联系)",
    r"开通(?:vip|会员).{0,12}(?:下载|阅读|免费|查看)",
    r"还剩\s*\d+\s*页未读",
    r"剩余内容已隐藏",
    r"(?:点击|继续)(?:阅读|查看)全文",
    r"下载(?:本?文档)?到电脑",
    r"下载后可(?:自由)?编辑",
)

_MARKER_RE = re.compile("|".join(MARKERS), re.IGNORECASE)
_NOISE_RE = re.compile("|".join(NOISE_LINES), re.IGNORECASE)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


def is_noise_line(line: str) -> bool:
    """True for a line that is an advert or solicitation rather than report text."""
    return bool(_NOISE_RE.search(line))


def clean_text(text: str) -> str:
    """Remove markers, noise lines and control characters; trim each line; keep blank lines as separators."""
    text = _CONTROL_RE.sub("", text)
    text = _MARKER_RE.sub("", text)
    lines = []
    for raw in text.split("\n"):
        line = raw.replace("\u3000", " ").replace("\xa0", " ").strip()
        if line and is_noise_line(line):
            continue
        lines.append(unicodedata.normalize("NFC", line))
    return "\n".join(lines).strip("\n")
