"""File → text: detect the format and encoding instead of assuming them, and refuse what can't be read."""

from __future__ import annotations

import codecs
import logging
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.errors import FileRejected
from ingest.lexicon.grammar import CLOSING, HEADING_START, SENTENCE_END

if TYPE_CHECKING:
    from lxml.etree import _Element

    from ingest.ocr import PageOcr
    from ingest.tables import PageTables

SUPPORTED = (".txt", ".md", ".docx", ".pdf")
_MAX_DOCX_RATIO = 200
_LINE_ENDS = tuple(SENTENCE_END + "：:" + CLOSING)
"""A PDF line ending in one of these ends its sentence or introduces a list: it is not wrapped."""

_PLAUSIBLE = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\u2010-\u2027\u00b7\x20-\x7e\s]")


def iter_files(paths: list[Path], skip: Path | None = None) -> Iterator[Path]:
    """Expand folders recursively; a missing path or an unsupported file is yielded so it gets reported. A folder
    holding the index itself (`reportbot ingest .` beside `./data`) is not searched: its word list is no report."""
    inside = skip.resolve() if skip is not None else None
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if inside is not None and child.resolve().is_relative_to(inside):
                    continue
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


TITLE_LEVEL = 0
"""Heading levels in `ReadText.headings`: 0 for Word's Title style, 1-9 for Heading 1-9 or an outline level."""
BOLD_LEVEL = 10
"""A short paragraph set all in bold: a weaker heading family than styles, ranked below them."""
TABLE_LEVEL = 11
"""A table's caption or its `表：…` line: the heading its rows are filed under, inside whatever section holds it."""


@dataclass(frozen=True)
class ReadText:
    """A file's text and what its format says about its structure.

    `headings` maps a heading line's text (stripped as `clean_text` strips it, so it survives cleaning) to its
    level; only formats that mark headings (.docx) fill it. `notes` says what was left out (a capped table).
    """

    text: str
    headings: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def read_text(path: Path, max_bytes: int, max_pdf_pages: int = 2000, *, ocr: PageOcr | None = None) -> str:
    """Return the file's text with LF line ends; raise FileRejected with a reason a person understands.

    `ocr` reads PDF pages that have no text layer; without it such pages are skipped, as `--no-ocr` asks.
    """
    return read_document(path, max_bytes, max_pdf_pages, ocr=ocr).text


def read_document(path: Path, max_bytes: int, max_pdf_pages: int = 2000, *, ocr: PageOcr | None = None) -> ReadText:
    """The file's text with LF line ends, and its marked headings; raise FileRejected as `read_text` does."""
    suffix = path.suffix.lower()
    headings: dict[str, int] = {}
    notes: list[str] = []
    try:
        check_file(path, max_bytes)
        if suffix == ".docx":
            document = _read_docx(path, max_bytes)
            text, headings, notes = document.text, document.headings, document.notes
        elif suffix == ".pdf":
            document = _read_pdf(path, max_pdf_pages, ocr)
            text, notes = document.text, document.notes
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
    return ReadText(text, headings, notes)


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


def _read_docx(path: Path, max_bytes: int) -> ReadText:
    """Paragraphs and tables in body order, with the headings Word marks; zip bombs are refused before anything
    is inflated. Each table row becomes one line carrying its column headers (`ingest.tables`)."""
    import docx

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
    return _docx_body(document.element.body, _DocxStyles(document.styles.element))


_STYLE_HEADING = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.IGNORECASE)
_STYLE_TITLE = re.compile(r"^(?:title|标题)$", re.IGNORECASE)
_STYLE_CAPTION = re.compile(r"^(?:caption|题注)$", re.IGNORECASE)
_BOLD_MAX = 40
_BOLD_INNER = re.compile(r"[，,。；;！？!?]")
"""Inside a bold paragraph, these make it an emphasised sentence rather than a heading."""
_HEADING_MAX = 100


class _DocxStyles:
    """What a paragraph's style says: its heading level (from the style's name or `w:outlineLvl`, through
    `w:basedOn`), whether it sets bold, whether it is a caption."""

    def __init__(self, styles: _Element) -> None:
        from docx.oxml.ns import qn

        self._raw: dict[str, _Element] = {}
        self.default = ""
        for style in styles.iterfind(qn("w:style")):
            style_id = style.get(qn("w:styleId")) or ""
            self._raw[style_id] = style
            if style.get(qn("w:type")) == "paragraph" and style.get(qn("w:default")) in ("1", "true"):
                self.default = style_id
        self._levels: dict[str, int | None] = {}
        self._bold: dict[str, bool] = {}

    def name(self, style_id: str) -> str:
        from docx.oxml.ns import qn

        style = self._raw.get(style_id)
        node = style.find(qn("w:name")) if style is not None else None
        return (node.get(qn("w:val")) or "") if node is not None else ""

    def level(self, style_id: str) -> int | None:
        if style_id not in self._levels:
            self._levels[style_id] = self._walk(style_id, self._own_level)
        return self._levels[style_id]

    def bold(self, style_id: str) -> bool:
        if style_id not in self._bold:
            self._bold[style_id] = bool(self._walk(style_id, self._own_bold))
        return self._bold[style_id]

    def is_caption(self, style_id: str) -> bool:
        return bool(_STYLE_CAPTION.match(self.name(style_id).strip()))

    def _walk(self, style_id: str, own: Callable[[_Element], int | bool | None]) -> Any:
        """The first answer up the `w:basedOn` chain (bounded: a cycle must not hang)."""
        from docx.oxml.ns import qn

        for _ in range(12):
            style = self._raw.get(style_id)
            if style is None:
                return None
            found = own(style)
            if found is not None:
                return found
            based = style.find(qn("w:basedOn"))
            if based is None:
                return None
            style_id = based.get(qn("w:val")) or ""
        return None

    def _own_level(self, style: _Element) -> int | None:
        from docx.oxml.ns import qn

        node = style.find(qn("w:name"))
        name = ((node.get(qn("w:val")) or "") if node is not None else "").strip()
        if match := _STYLE_HEADING.match(name):
            return int(match.group(1))
        if _STYLE_TITLE.match(name):
            return TITLE_LEVEL
        p_pr = style.find(qn("w:pPr"))
        return _outline_level(p_pr) if p_pr is not None else None

    def _own_bold(self, style: _Element) -> bool | None:
        from docx.oxml.ns import qn

        r_pr = style.find(qn("w:rPr"))
        node = r_pr.find(qn("w:b")) if r_pr is not None else None
        return None if node is None else _on(node)


def _docx_body(body: _Element, styles: _DocxStyles) -> ReadText:
    from docx.oxml.ns import qn

    from ingest.tables import docx_table, is_caption, render_table

    lines: list[str] = []
    headings: dict[str, int] = {}
    notes: list[str] = []
    caption = ""
    tables = 0
    for block in _docx_blocks(body):
        if block.tag == qn("w:p"):
            text = "".join(node.text or "" for node in block.iter(qn("w:t")))
            lines.append(text)
            style_id = _paragraph_style(block, styles)
            level = _paragraph_level(block, style_id, styles, text)
            key = _heading_key(text)
            if level is not None and key:
                headings.setdefault(key, level)
            if key:
                titled = styles.is_caption(style_id) or is_caption(key)
                caption = key if titled and level in (None, BOLD_LEVEL) else ""
            continue
        tables += 1
        table = docx_table(block, caption)
        rendered = render_table(table)
        lines.extend(rendered.lines)
        if rendered.heading and (key := _heading_key(rendered.heading)):
            headings[key] = TABLE_LEVEL
        notes.extend(f"table {tables}: {note}" for note in rendered.notes)
        caption = ""
    return ReadText("\n".join(lines), headings, notes)


def _docx_blocks(parent: _Element, depth: int = 0) -> Iterator[_Element]:
    """Body paragraphs and tables in order, looking through content controls (`w:sdt`) except building blocks
    (a table of contents, a cover page), whose text repeats or decorates the body."""
    from docx.oxml.ns import qn

    for child in parent.iterchildren():
        if child.tag in (qn("w:p"), qn("w:tbl")):
            yield child
        elif child.tag == qn("w:sdt") and depth < 4:
            props = child.find(qn("w:sdtPr"))
            content = child.find(qn("w:sdtContent"))
            if content is not None and (props is None or props.find(qn("w:docPartObj")) is None):
                yield from _docx_blocks(content, depth + 1)


def _paragraph_style(paragraph: _Element, styles: _DocxStyles) -> str:
    from docx.oxml.ns import qn

    p_pr = paragraph.find(qn("w:pPr"))
    node = p_pr.find(qn("w:pStyle")) if p_pr is not None else None
    return (node.get(qn("w:val")) or styles.default) if node is not None else styles.default


def _paragraph_level(paragraph: _Element, style_id: str, styles: _DocxStyles, text: str) -> int | None:
    """The paragraph's own `w:outlineLvl` first, then its style's; else bold when short and all bold."""
    from docx.oxml.ns import qn

    stripped = text.strip()
    if not stripped or len(stripped) > _HEADING_MAX:
        return None
    p_pr = paragraph.find(qn("w:pPr"))
    if p_pr is not None and p_pr.find(qn("w:outlineLvl")) is not None:
        return _outline_level(p_pr)
    level = styles.level(style_id)
    if level is not None:
        return level
    one_phrase = not _BOLD_INNER.search(stripped.rstrip("。：:"))
    if len(stripped) <= _BOLD_MAX and one_phrase and _all_bold(paragraph, style_id, styles):
        return BOLD_LEVEL
    return None


def _outline_level(p_pr: _Element) -> int | None:
    """`w:outlineLvl` 0-8 is heading level 1-9; 9 is body text."""
    from docx.oxml.ns import qn

    node = p_pr.find(qn("w:outlineLvl"))
    if node is None:
        return None
    try:
        value = int(node.get(qn("w:val")) or "9")
    except ValueError:
        return None
    return value + 1 if 0 <= value < 9 else None


def _all_bold(paragraph: _Element, style_id: str, styles: _DocxStyles) -> bool:
    """Every run that shows text is bold, by its own `w:b`, its character style or the paragraph's style."""
    from docx.oxml.ns import qn

    seen = False
    for run in paragraph.iter(qn("w:r")):
        if not "".join(t.text or "" for t in run.iterfind(qn("w:t"))).strip():
            continue
        seen = True
        r_pr = run.find(qn("w:rPr"))
        own = r_pr.find(qn("w:b")) if r_pr is not None else None
        if own is not None:
            if not _on(own):
                return False
            continue
        char_style = r_pr.find(qn("w:rStyle")) if r_pr is not None else None
        if char_style is not None and styles.bold(char_style.get(qn("w:val")) or ""):
            continue
        if not styles.bold(style_id):
            return False
    return seen


def _on(node: _Element) -> bool:
    from docx.oxml.ns import qn

    return (node.get(qn("w:val")) or "true").lower() not in ("0", "false", "off", "none")


def _heading_key(line: str) -> str:
    """A heading line as it reads after `clean_text`, so the map still finds it in the cleaned text."""
    from ingest.clean import clean_text

    return clean_text(line)


def _read_pdf(path: Path, max_pages: int, ocr: PageOcr | None = None) -> ReadText:
    """The text layer page by page, OCR for pages without one; hard-wrapped lines are rejoined unless a sentence or
    heading ends them. `notes` names the pages that gave nothing."""
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # its warnings name no file; what matters becomes a FileRejected
    try:
        return _read_pdf_pages(path, max_pages, ocr)
    finally:
        pypdf_log.setLevel(level)


def _read_pdf_pages(path: Path, max_pages: int, ocr: PageOcr | None) -> ReadText:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    from ingest.ocr import describe
    from ingest.tables import PdfTableReader

    try:
        reader = PdfReader(str(path))
        pages = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise FileRejected(path, f"not a valid PDF ({type(exc).__name__})") from None
    if pages > max_pages:
        raise FileRejected(path, f"refused: {pages} pages > {max_pages}; raise REPORTBOT_MAX_PDF_PAGES")
    texts: list[str] = []
    tabled: dict[int, PageTables] = {}
    with PdfTableReader(path) as tables:
        for n, page in enumerate(reader.pages):
            try:
                contents = page.get_contents()
                found = tables.page(n, contents.get_data()) if contents is not None else None
                if found is not None:
                    tabled[n] = found
                texts.append(found.text if found is not None else page.extract_text() or "")
            except Exception as exc:  # pypdf raises assorted errors on damaged content streams
                raise FileRejected(path, f"damaged PDF page ({type(exc).__name__})") from None
    notes: list[str] = []
    if ocr is None:
        if not "".join(texts).strip():
            raise FileRejected(path, "PDF has no text layer (scanned?); run OCR on it first")
        skipped = [n for n, text in enumerate(texts, start=1) if not text.strip()]
        if skipped:
            notes.append(f"{describe(skipped)}: no text layer, not read (OCR off)")
    else:
        scanned = ocr.read_pages(path, ocr.scan_pages(path, texts))
        for scan in scanned:
            texts[scan.number - 1] = "\n".join(scan.lines)
        blank = [p.number for p in scanned if p.blank]
        illegible = [p.number for p in scanned if not p.blank and not p.lines]
        notes += [f"{describe(blank)}: blank"] if blank else []
        notes += [f"{describe(illegible)}: nothing legible"] if illegible else []
        if not "".join(texts).strip():
            raise FileRejected(path, f"no text found ({'; '.join(notes) or 'every page empty'})")
    return _pdf_text(without_page_furniture(texts), tabled, notes)


_PAGE_NUMBER = re.compile(
    r"^[-—–·\s]*(?:第\s*\d+\s*页(?:\s*[/，,、]?\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+|\d{1,4}"
    r"|page\s*\d+(?:\s*of\s*\d+)?)[-—–·\s]*$",
    re.IGNORECASE,
)
FURNITURE_LINES = 2
"""How many lines at a page's top and at its bottom may be a running header, footer or page number."""


def without_page_furniture(pages: list[str]) -> list[str]:
    """Each page's running header and footer (a line at its top or bottom that recurs, digits aside, on half
    the pages or more) and its page number (第 2 页 共 3 页, - 2 -, 2/3) dropped: in the text they would split
    a paragraph that runs on over the page, or stand as a heading. The first page keeps its top lines: a
    header there may be the title."""
    lines = [text.split("\n") for text in pages]
    edges = [_edge_lines(page) for page in lines]
    seen: dict[str, int] = {}
    for edge in edges:
        for key in {_furniture_key(page_line) for _, page_line in edge}:
            seen[key] = seen.get(key, 0) + 1
    recurring = {k for k, n in seen.items() if k and n >= max(2, (len(pages) + 1) // 2)}
    out: list[str] = []
    for n, (page, edge) in enumerate(zip(lines, edges, strict=True)):
        kept = {i for i, _ in edge[:FURNITURE_LINES]} if n == 0 else set()  # the first page's top: its title
        drop = {
            i for i, line in edge if _PAGE_NUMBER.match(line) or (_furniture_key(line) in recurring and i not in kept)
        }
        out.append("\n".join(line for i, line in enumerate(page) if i not in drop).strip("\n"))
    return out


def _edge_lines(page: list[str]) -> list[tuple[int, str]]:
    filled = [(i, line.strip()) for i, line in enumerate(page) if line.strip()]
    if len(filled) <= 2 * FURNITURE_LINES:
        return filled
    return filled[:FURNITURE_LINES] + filled[-FURNITURE_LINES:]


def _furniture_key(line: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", line))


def _pdf_text(texts: list[str], tabled: dict[int, PageTables], notes: list[str]) -> ReadText:
    """Prose is rejoined across lines and pages; a table's rows stay one line each, under its heading line."""
    out: list[str] = []
    prose: list[str] = []
    headings: dict[str, int] = {}

    def flush() -> None:
        if prose:
            out.append(rejoin_wrapped_lines("\n".join(prose)))
            prose.clear()

    for n, text in enumerate(texts):
        found = tabled.get(n)
        if found is None:
            prose.append(text)
            continue
        for piece, table in zip(found.pieces, [*found.tables, None], strict=True):
            prose.append(piece)
            if table is not None:
                flush()
                out.extend(table.text.lines)
                notes.extend(table.text.notes)
                if table.text.heading and (key := _heading_key(table.text.heading)):
                    headings[key] = TABLE_LEVEL
    flush()
    return ReadText("\n".join(out), headings=headings, notes=notes)


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
        if joinable and not HEADING_START.match(line):
            out[-1] += line
        else:
            out.append(line)
        joinable = len(line) >= 0.8 * full and not line.endswith(_LINE_ENDS)
    return "\n".join(out)
