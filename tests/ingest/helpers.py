"""Small real inputs written by the tests themselves: hand-made PDFs, short reports, a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ingest.chunk import SEP
from ingest.report import ParsedReport, parse_text
from ingest.tokens import load_encoding

_ENCODING = load_encoding()
OUR_VARS = ("REPORTBOT_", "OPENAI_", "CHROMA_", "TELEGRAM_")


def count_tokens(text: str) -> int:
    return len(_ENCODING.encode(text, disallowed_special=()))


def parse(text: str, name: str = "report.txt", max_tokens: int = 512) -> list[ParsedReport]:
    """parse_text as the pipeline calls it, on a made-up path."""
    return parse_text(text, Path("/reports") / name, max_tokens, count_tokens)


def path_of(section: str) -> tuple[str, ...]:
    return tuple(section.split(SEP)) if section else ()


# --- hand-made PDFs -------------------------------------------------------------------------------------


def _pdf_string(line: str) -> bytes:
    escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def _cjk_string(line: str) -> bytes:
    return b"<" + line.encode("utf-16-be").hex().upper().encode() + b">"


def make_pdf(pages: list[list[str] | None], cjk: bool = False) -> bytes:
    """A valid PDF, one text line per `Tj`; a page given as None has no content stream (a scan without OCR).

    ASCII text uses the standard Type1 Helvetica; `cjk=True` uses the predefined STSong-Light CID font with
    the UniGB-UTF16-H CMap, so Chinese text is extractable without embedding any font program.
    """
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below, once the page tree's number is known
    pages_obj = add(b"")
    if cjk:
        descriptor = add(
            b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900] "
            b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 80 >>"
        )
        cid = add(
            b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
            b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
            b"/FontDescriptor " + str(descriptor).encode() + b" 0 R >>"
        )
        font = add(
            b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H "
            b"/DescendantFonts [" + str(cid).encode() + b" 0 R] >>"
        )
    else:
        font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids: list[int] = []
    for lines in pages:
        contents = b""
        if lines is not None:
            ops = [b"BT", b"/F1 11 Tf", b"14 TL", b"50 800 Td"]
            for line in lines:
                ops.append((_cjk_string(line) if cjk else _pdf_string(line)) + b" Tj T*")
            ops.append(b"ET")
            stream = b"\n".join(ops)
            content = add(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream")
            contents = b" /Contents " + str(content).encode() + b" 0 R"
        kids.append(
            add(
                b"<< /Type /Page /Parent "
                + str(pages_obj).encode()
                + b" 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 "
                + str(font).encode()
                + b" 0 R >> >>"
                + contents
                + b" >>"
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages " + str(pages_obj).encode() + b" 0 R >>"
    objects[pages_obj - 1] = (
        b"<< /Type /Pages /Kids ["
        + b" ".join(str(k).encode() + b" 0 R" for k in kids)
        + b"] /Count "
        + str(len(kids)).encode()
        + b" >>"
    )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += str(n).encode() + b" 0 obj\n" + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 " + str(len(objects) + 1).encode() + b"\n0000000000 65535 f \n"
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += b"trailer\n<< /Size " + str(len(objects) + 1).encode() + b" /Root " + str(catalog).encode() + b" 0 R >>\n"
    out += b"startxref\n" + str(xref).encode() + b"\n%%EOF\n"
    return bytes(out)


# --- the CLI as a user runs it --------------------------------------------------------------------------


def cli_env(data_dir: Path, cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OUR_VARS)}
    env.update({"REPORTBOT_DATA_DIR": str(data_dir), "REPORTBOT_EMBED_CACHE": str(cache), **extra})
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]


def run_cli(cwd: Path, env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command(*args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


# --- reports written for the tests ----------------------------------------------------------------------

RANKED = """环保局2023年工作总结及2024年工作计划

2023年，县环保局围绕污染防治攻坚战，扎实推进各项工作，现总结如下。
一、2023年工作总结
（一）大气污染防治成效明显
1.扬尘管控
全年检查建筑工地126处，下达整改通知书38份。
2.工业废气治理
（1）燃煤锅炉。完成燃煤锅炉淘汰改造17台。
（2）在线监测。对42家重点企业安装在线监测设备。
（二）水环境质量持续改善
一是完成12条黑臭水体整治。二是县城污水处理率达到97%。三是新建农村污水管网86公里。
二、存在的问题
一是环保执法人员不足；二是部分企业治污设施老化。
三、2024年工作计划
（一）推进清洁取暖改造，完成3000户。
（二）新建乡镇污水处理站5座，实现乡镇全覆盖。
"""

UNNUMBERED = """文旅局2023年工作总结

今年以来，我局坚持以文塑旅、以旅彰文，各项工作取得新进展。
文旅融合持续深化。全年接待游客320万人次，旅游收入28亿元，同比增长15%。
公共文化服务提质。新建城市书房6个，开展送戏下乡演出120场。
下一步工作打算。一是办好第三届山水文化节。二是推进古镇景区创建国家4A级景区。
"""

SKIPPED_TWO = """交通局2023年工作总结和2024年工作思路

今年，县交通局以项目建设为抓手，推动交通运输高质量发展。
一、2023年工作总结
（一）公路建设。完成农村公路提档升级120公里，新建桥梁4座。
（二）运输服务。新开通城乡公交线路8条，建制村通客车率100%。
三、2024年工作思路
（一）重大项目。启动国道改线工程前期工作。
（二）养护管理。推行农村公路路长制，优良中等路率达到85%。
"""


def many_chunks_report(site: str, lines: int = 130) -> str:
    """A report whose every line is its own chunk at chunk_tokens=MANY_CHUNK_TOKENS: slow enough to interrupt."""
    body = "\n".join(f"第{i}号{site}巡查{i % 7 + 1}次。" for i in range(lines))
    return f"{site}管理处2023年工作总结\n\n一、巡查\n{body}\n"


MANY_CHUNK_TOKENS = 16
