"""File → text: detect the format and encoding instead of assuming them, and refuse what can't be read."""

from __future__ import annotations

import codecs
import logging
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from ingest.errors import FileRejected

SUPPORTED = (".txt", ".md", ".docx", ".pdf")
_MAX_DOCX_RATIO = 200
_SENTENCE_END = "。！？；：:;!?”」』）)"

_PLAUSIBLE = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\u2010-\u2027\u00b7\x20-\x7e\s]")


def iter_files(paths: list[Path]) -> Iterator[Path]:
    """Expand folders recursively; a missing path or an unsupported file is yielded so it gets reported."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in SUPPORTED and not child.name.startswith((".", "~$")):
                    yield child
        else:
            yield path


def check_file(path: Path, max_bytes: int) -> int:
    """Refuse what must not be opened at all (missing, not a regular file, wrong type, too large); return the size."""
    if not path.exists():
        raise FileRejected(path, "no such file or folder")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise FileRejected(path, f"unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED)}")
    if not path.is_file():
        raise FileRejected(path, "not a regular file")
    size = path.stat().st_size
    if size > max_bytes:
        raise FileRejected(
            path, f"too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:.0f} MB); raise REPORTBOT_MAX_FILE_MB"
        )
    if size == 0:
        raise FileRejected(path, "empty file")
    return size


def read_text(path: Path, max_bytes: int, max_pdf_pages: int = 2000) -> str:
    """Return the file's text with LF line ends; raise FileRejected with a reason a person understands."""
    suffix = path.suffix.lower()
    try:
        check_file(path, max_bytes)
        if suffix == ".docx":
            text = _read_docx(path, max_bytes)
        elif suffix == ".pdf":
            text = _read_pdf(path, max_pdf_pages)
        else:
            text = decode_bytes(path.read_bytes(), path)
    except FileRejected:
        raise
    except PermissionError:
        raise FileRejected(path, "permission denied") from None
    except OSError as exc:
        raise FileRejected(path, f"cannot read: {exc.strerror or exc}") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise FileRejected(path, "no text found")
    return text


def decode_bytes(data: bytes, path: Path) -> str:
    """Decode by BOM, then UTF-16 if NULs say so, then strict UTF-8, then GB18030, then line by line for files
    that mix both."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return _strict(data[len(bom) :], codec, path)
    if b"\x00" in data[:4096]:
        text = _as_utf16(data)
        if text is None:
            raise FileRejected(path, "binary data, not text")
        return text
    for codec in ("utf-8", "gb18030"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return "\n".join(_decode_line(line) for line in data.split(b"\n"))


def _as_utf16(data: bytes) -> str | None:
    """UTF-16 without a byte-order mark, as Windows tools save it: NUL bytes are its line ends and digits.

    Chinese text has few NULs, so the count can't tell it from binary data; what the decoded text looks like
    can. Random bytes decode to ~35% CJK at best, a report to nearly all CJK, ASCII and punctuation.
    """
    best: tuple[float, str] | None = None
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = data[: len(data) // 2 * 2].decode(codec)
        except UnicodeDecodeError:
            continue
        sample = text[:4000]
        share = sum(1 for ch in sample if _PLAUSIBLE.match(ch)) / max(len(sample), 1)
        if best is None or share > best[0]:
            best = (share, text)
    return best[1] if best and best[0] >= 0.9 and len(data) % 2 == 0 else None


def _strict(data: bytes, codec: str, path: Path) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        raise FileRejected(path, f"not valid {codec} text") from None


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("gb18030", errors="replace")


def _read_docx(path: Path, max_bytes: int) -> str:
    """Paragraphs and table cells in body order; zip bombs are refused before anything is inflated."""
    import docx
    from docx.oxml.ns import qn

    if not zipfile.is_zipfile(path):
        raise FileRejected(path, "not a valid .docx (not a zip archive)")
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        total = sum(info.file_size for info in infos)
        packed = max(1, sum(info.compress_size for info in infos))
        if total > max_bytes * 4 or total / packed > _MAX_DOCX_RATIO:
            raise FileRejected(path, f"refused: .docx inflates to {total / 1e6:.0f} MB (zip bomb?)")
        if "word/document.xml" not in archive.namelist():
            raise FileRejected(path, "not a valid .docx (no word/document.xml)")
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises many types for malformed XML
        raise FileRejected(path, f"not a valid .docx ({type(exc).__name__})") from None
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        if block.tag == qn("w:p"):
            lines.append("".join(node.text or "" for node in block.iter(qn("w:t"))))
        elif block.tag == qn("w:tbl"):
            for row in block.iter(qn("w:tr")):
                cells = ["".join(t.text or "" for t in cell.iter(qn("w:t"))) for cell in row.iter(qn("w:tc"))]
                lines.append("\t".join(cells))
    return "\n".join(lines)


def _read_pdf(path: Path, max_pages: int) -> str:
    """Text layer only; hard-wrapped lines are rejoined unless a sentence or heading ends them."""
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # its warnings name no file; what matters becomes a FileRejected
    try:
        return _read_pdf_pages(path, max_pages)
    finally:
        pypdf_log.setLevel(level)


def _read_pdf_pages(path: Path, max_pages: int) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise FileRejected(path, f"not a valid PDF ({type(exc).__name__})") from None
    if pages > max_pages:
        raise FileRejected(path, f"refused: {pages} pages > {max_pages}; raise REPORTBOT_MAX_PDF_PAGES")
    texts: list[str] = []
    for page in reader.pages:
        try:
            texts.append(page.extract_text() or "")
        except Exception as exc:  # pypdf raises assorted errors on damaged content streams
            raise FileRejected(path, f"damaged PDF page ({type(exc).__name__})") from None
    text = "\n".join(texts)
    if not text.strip():
        raise FileRejected(path, "PDF has no text layer (scanned?); run OCR on it first")
    return rejoin_wrapped_lines(text)


_HEADING_START = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d+[.．、])")


def rejoin_wrapped_lines(text: str) -> str:
    """Undo a PDF's line wrapping.

    A line joins the next unless it ends a sentence, is clearly shorter than a full line (a title or the
    end of a paragraph), or the next line opens with a heading number.
    """
    lines = [raw.strip() for raw in text.split("\n")]
    lengths = sorted(len(line) for line in lines if line)
    full = lengths[int(len(lengths) * 0.75)] if lengths else 0
    out: list[str] = []
    joinable = False
    for line in lines:
        if not line:
            out.append("")
            joinable = False
            continue
        if joinable and not _HEADING_START.match(line):
            out[-1] += line
        else:
            out.append(line)
        joinable = len(line) >= 0.8 * full and not line.endswith(tuple(_SENTENCE_END))
    return "\n".join(out)
