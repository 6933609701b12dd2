"""Tables → lines that carry their column headers, so a row read alone still says what each number is.

Flattened to `家庭医生签约率\t68.5%\t65%`, a row loses which number is this year's and which is the target.
Rendered as `家庭医生签约率：2023年 68.5%；目标 65%。` it keeps that through cleaning, chunking and an extractive
answer, and a chunk cut anywhere between rows still reads correctly without the header above it.

One model serves every format: a `Table` of rows of `Cell`s, where a cell may span columns (Word's
`w:gridSpan`, a PDF cell wider than its neighbours) or continue the cell above (`w:vMerge`, a PDF cell taller
than its row). Word tables come from `docx_table`, PDF tables from `pdf_page_tables` (pdfplumber, which finds
ruled tables by their lines; pypdf's layout text glues CJK columns together).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.lexicon.grammar import HEADING_START

if TYPE_CHECKING:
    from lxml.etree import _Element

PAIR_SEP = "，"
ROW_END = "。"
MAX_CELLS = 50_000
"""A table with more cells is read up to the row that reaches this, with a note: bounded time and memory."""
NESTED_CHARS = 300
"""A table inside a cell is read into that cell up to this many characters."""
_NESTED_DEPTH = 3
_HEADING_CHARS = 40
_GUESS_ROWS = 5
_NAME_CHARS = 8
_PROSE_CHARS = 16
_SERIAL = re.compile(r"^(?:序号|编号|序|No\.?)$", re.IGNORECASE)

_YEAR_TOKEN = re.compile(r"(?:19|20)\d\d\s*年(?:度|末|底|初)?(?:\d{1,2}(?:\s*[-—~～至]\s*\d{1,2})?\s*月(?:份|末|底)?)?")
_DIGIT = re.compile(r"\d")
_SPACE = re.compile(r"\s+")
_CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_WRAP = re.compile(rf"(?<=[{_CJK}])\s*\n\s*(?=[{_CJK}])")
_CAPTION = re.compile(r"^(?:附表|续表|表)\s*[\d一二三四五六七八九十]*(?:[-－.．]\d+)?(?:[\s:：、.．]|$)")
_CAPTION_END = re.compile(r"(?:表|一览|情况|统计|清单|明细)$")
_SENTENCE_END = "。！？；;!?，,"
_WORD_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _w(tag: str) -> str:
    """A WordprocessingML tag or attribute in Clark notation (what `docx.oxml.ns.qn("w:…")` returns)."""
    return _WORD_NS + tag


_W_TR = _w("tr")
_W_TRPR = _w("trPr")
_W_TC = _w("tc")
_W_TCPR = _w("tcPr")
_W_VMERGE = _w("vMerge")
_W_HMERGE = _w("hMerge")
_W_VAL = _w("val")
_W_P = _w("p")
_W_T = _w("t")
_W_TBL = _w("tbl")
_W_SDT = _w("sdt")
_W_SDTCONTENT = _w("sdtContent")
_W_TBLHEADER = _w("tblHeader")


@dataclass(frozen=True)
class Cell:
    """One cell as written: `cols` columns wide; `merged_up` when it continues the cell above (its text
    is ignored and the one above is repeated)."""

    text: str
    cols: int = 1
    merged_up: bool = False


@dataclass
class Table:
    """Rows of cells. `header_rows=None` lets `render_table` guess; `caption` is a title line found outside the
    table (already in the text); `continued` marks the rest of a table from the page before (no heading line)."""

    rows: list[list[Cell]]
    header_rows: int | None = None
    caption: str = ""
    continued: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TableText:
    """What a table reads as: `heading` is the line its rows are filed under (the outside caption, a title row,
    or `表：指标、2023年、目标`; empty when there is none), `lines` the heading line when the table made it, then
    one line per row."""

    heading: str
    lines: list[str]
    header: tuple[str, ...]
    notes: list[str]


def grid_table(grid: Sequence[Sequence[str | None]], header_rows: int | None = None, caption: str = "") -> Table:
    """A table from plain strings; `None` marks a position covered by a merged cell: by the cell to its left
    when there is one in the row, else by the cell above."""
    rows: list[list[Cell]] = []
    for raw in grid:
        row: list[Cell] = []
        for value in raw:
            if value is None and row:
                last = row[-1]
                row[-1] = Cell(last.text, last.cols + 1, last.merged_up)
            elif value is None:
                row.append(Cell("", 1, merged_up=True))
            else:
                row.append(Cell(value))
        rows.append(row)
    return Table(rows, header_rows, caption)


def table_lines(table: Table) -> list[str]:
    """The lines a table reads as (heading line first when the table made it)."""
    return render_table(table).lines


def render_table(table: Table) -> TableText:
    """Rows → lines carrying their headers: the first column labels the row, each other non-empty cell becomes
    `header value`; a row repeating the header (a new page's copy) is dropped; a table with no header reads as
    `；`-joined cells, and a one-column table as its lines."""
    notes = list(table.notes)
    rows = _cap(table.rows, notes)
    grid = _resolve(rows)
    width = max((len(r) for r in grid), default=0)
    if width == 0:
        return TableText(table.caption, [], (), notes)
    for r in grid:
        r.extend(_Slot("", col, 1) for col in range(len(r), width))
    lines: list[str] = []
    if width == 1:
        lines = [s.text for r in grid for s in r if s.text]
        return TableText(table.caption, lines, (), notes)
    caption = table.caption
    start, n_head = _head_bounds(rows, grid, width, table.header_rows)
    titles = [r[0].text for r in grid[:start] if r[0].text != caption]
    lines.extend(titles)
    caption = caption or (titles[0] if titles else "")
    body = grid[start:]
    header = _column_headers(body[:n_head], width)
    names = [" ".join(parts) for parts in header]
    head_texts = {tuple(s.text for s in r) for r in body[:n_head]}
    if not caption and any(header) and not table.continued:
        caption = _heading_line(names)
        lines.append(caption)
    for r in body[n_head:]:
        texts = tuple(s.text for s in r)
        if not any(texts) or (n_head and texts in head_texts):
            continue
        line = _row_line(_origins(r), header, width) if any(header) else _plain_line(_origins(r))
        if line:
            lines.append(line)
    return TableText(caption, lines, tuple(names), notes)


def is_caption(line: str) -> bool:
    """A short title line that names the table below it: `表1 主要指标完成情况`, `2023年民生项目一览表`."""
    line = line.strip()
    if not line or len(line) > _HEADING_CHARS or line[-1] in _SENTENCE_END:
        return False
    if _CAPTION.match(line):
        return True
    return bool(_CAPTION_END.search(line)) and not HEADING_START.match(line)  # `一、…情况` heads a section


@dataclass(frozen=True)
class _Slot:
    """One grid position: the text of the cell covering it and where that cell starts and how wide it is."""

    text: str
    start: int
    cols: int


def _cap(rows: list[list[Cell]], notes: list[str]) -> list[list[Cell]]:
    total = 0
    for n, row in enumerate(rows):
        total += max(1, len(row))
        if total > MAX_CELLS:
            notes.append(f"table of {len(rows)} rows cut to its first {n} (over {MAX_CELLS:,} cells)")
            return rows[:n]
    return rows


def _clean(text: str) -> str:
    return _SPACE.sub(" ", _WRAP.sub("", text)).strip()


def _resolve(rows: list[list[Cell]]) -> list[list[_Slot]]:
    """Lay cells on the column grid; a vertically merged cell repeats the text of the one above it."""
    grid: list[list[_Slot]] = []
    for row in rows:
        slots: list[_Slot] = []
        above = grid[-1] if grid else []
        for cell in row:
            start, cols = len(slots), max(1, cell.cols)
            if cell.merged_up and start < len(above):
                text = above[start].text
            else:
                text = "" if cell.merged_up else _clean(cell.text)
            slots.extend([_Slot(text, start, cols)] * cols)
        grid.append(slots)
    return grid


def _origins(row: list[_Slot]) -> list[_Slot]:
    return [s for i, s in enumerate(row) if s.start == i]


def _head_bounds(rows: list[list[Cell]], grid: list[list[_Slot]], width: int, known: int | None) -> tuple[int, int]:
    """Where the header starts (after title rows across the table) and how many rows it has."""
    start = 0
    while start < len(grid) and _full_width(grid[start], width):
        start += 1
    n_head = known if known is not None else _guess_header(rows[start:], grid[start:])
    return start, min(n_head, len(grid) - start)


def _full_width(row: list[_Slot], width: int) -> bool:
    """A title row: one non-empty cell across the whole table."""
    return bool(row) and row[0].cols >= width and bool(row[0].text)


def _valued(text: str) -> bool:
    return bool(_DIGIT.search(text))


def _header_like(row: list[Cell]) -> bool:
    """No numbers once years (`2023年`, `2024年1-6月`) are taken out: headers name, data rows count."""
    texts = [c.text for c in row if not c.merged_up]
    return any(t.strip() for t in texts) and not any(_valued(_YEAR_TOKEN.sub("", t)) for t in texts)


def _guess_header(rows: list[list[Cell]], grid: list[list[_Slot]]) -> int:
    """First row is a header when it holds no numbers and most rows after it do; a second such row joins it
    when the first spans columns above it or it continues a cell of the first."""
    if len(rows) < 2 or not _header_like(rows[0]):
        return 0

    def mostly_valued(after: int) -> bool:
        sample = grid[after : after + _GUESS_ROWS]
        return bool(sample) and 2 * sum(any(_valued(s.text) for s in r) for r in sample) >= len(sample)

    def mostly_prose(after: int) -> bool:
        """Short names over long text: `项目 | 进展情况` above sentences, a header with no numbers below it."""
        names = [c.text.strip() for c in rows[0] if not c.merged_up]
        if not all(0 < len(name) <= _NAME_CHARS for name in names):
            return False
        sample = grid[after : after + _GUESS_ROWS]
        return bool(sample) and 2 * sum(any(len(s.text) >= _PROSE_CHARS for s in r) for r in sample) >= len(sample)

    stacked = any(c.cols > 1 for c in rows[0]) or any(c.merged_up for c in rows[1])
    if stacked and len(rows) > 2 and _header_like(rows[1]) and mostly_valued(2):
        return 2
    return 1 if mostly_valued(1) or mostly_prose(1) else 0


def _column_headers(head: list[list[_Slot]], width: int) -> list[tuple[str, ...]]:
    """Each column's stacked header rows, top down (`2023年` over `完成`), a merged repeat counted once."""
    headers: list[tuple[str, ...]] = []
    for col in range(width):
        parts: list[str] = []
        for r in head:
            text = r[col].text
            if text and (not parts or parts[-1] != text):
                parts.append(text)
        headers.append(tuple(parts))
    return headers


def _span_header(header: list[tuple[str, ...]], start: int, cols: int) -> str:
    """The header over a value spanning columns: each header row's distinct names, `2023年 完成、目标`."""
    levels = [h for h in header[start : start + cols] if h]
    depth = max((len(p) for p in levels), default=0)
    return " ".join("、".join(dict.fromkeys(p[d] for p in levels if len(p) > d)) for d in range(depth))


def _end(line: str) -> str:
    body = line.rstrip("".join(_SENTENCE_END) + " ")
    return body + ROW_END if body else ""


def _row_line(cells: list[_Slot], header: list[tuple[str, ...]], width: int) -> str:
    if cells[0].cols >= width:
        return cells[0].text  # a group row across the table: `一、民生项目`
    serial = _SERIAL.match(" ".join(header[0])) and len(cells) > 2 and cells[0].cols == 1
    label_cell, rest = (cells[1], cells[2:]) if serial else (cells[0], cells[1:])
    pairs = []
    for cell in rest:
        if not cell.text:
            continue
        name = _span_header(header, cell.start, cell.cols)
        pairs.append(f"{name} {cell.text}" if name and name != cell.text else cell.text)
    if not pairs:
        return _end(label_cell.text)
    joined = PAIR_SEP.join(pairs)
    return _end(f"{label_cell.text}：{joined}" if label_cell.text else joined)


def _plain_line(cells: list[_Slot]) -> str:
    return _end(PAIR_SEP.join(c.text for c in cells if c.text))


def _heading_line(names: list[str]) -> str:
    names = list(dict.fromkeys(h for h in names if h))
    line = "表：" + "、".join(names)
    return line if len(line) <= _HEADING_CHARS else line[: _HEADING_CHARS - 1] + "…"


# --- Word ----------------------------------------------------------------------------------------------------


def docx_table(tbl: _Element, caption: str = "", max_cells: int = MAX_CELLS, depth: int = 0) -> Table:
    """A `w:tbl` element as a Table: `w:gridSpan` widens a cell, `w:vMerge` continues the one above, leading
    rows marked `w:tblHeader` (repeated on each page) are the header; a nested table is read into its cell,
    bounded. Rows past `max_cells` are not read at all."""
    rows: list[list[Cell]] = []
    header_rows = 0
    header_open = True
    cells = 0
    notes: list[str] = []
    all_rows = tbl.findall(_W_TR)
    for tr in all_rows:
        row: list[Cell] = []
        tr_pr = tr.find(_W_TRPR)
        before = _int_val(tr_pr, "gridBefore") if tr_pr is not None else 0
        if before:
            row.append(Cell("", before))
        for tc in _row_cells(tr):
            tc_pr = tc.find(_W_TCPR)
            span = max(1, _int_val(tc_pr, "gridSpan")) if tc_pr is not None else 1
            vmerge = tc_pr.find(_W_VMERGE) if tc_pr is not None else None
            hmerge = tc_pr.find(_W_HMERGE) if tc_pr is not None else None
            if hmerge is not None and hmerge.get(_W_VAL) != "restart" and row:
                last = row[-1]
                row[-1] = Cell(last.text, last.cols + span, last.merged_up)
                continue
            continues = vmerge is not None and vmerge.get(_W_VAL, "continue") == "continue"
            row.append(Cell("" if continues else _cell_text(tc, depth), span, continues))
        cells += max(1, len(row))
        if cells > max_cells:
            notes.append(f"table of {len(all_rows)} rows cut to its first {len(rows)} (over {max_cells:,} cells)")
            break
        marked = tr_pr is not None and _on(tr_pr.find(_W_TBLHEADER))
        if header_open and marked:
            header_rows += 1
        else:
            header_open = False
        rows.append(row)
    return Table(rows, header_rows or None, caption, notes=notes)


def docx_table_text(tbl: _Element, depth: int = 0) -> str:
    """A table's lines as one string, for a table nested in a cell (without a `表：…` line of its own): bounded
    by NESTED_CHARS."""
    rendered = render_table(docx_table(tbl, max_cells=NESTED_CHARS, depth=depth))
    lines = rendered.lines[1:] if rendered.lines[:1] == [rendered.heading] else rendered.lines
    text = " ".join(lines)
    return text if len(text) <= NESTED_CHARS else text[: NESTED_CHARS - 1] + "…"


def _row_cells(tr: _Element) -> list[_Element]:
    """A row's cells, looking through content controls (`w:sdt`) that wrap some of them."""
    out: list[_Element] = []
    for child in tr:
        if child.tag == _W_TC:
            out.append(child)
        elif child.tag == _W_SDT:
            content = child.find(_W_SDTCONTENT)
            if content is not None:
                out.extend(content.findall(_W_TC))
    return out


def _cell_text(tc: _Element, depth: int) -> str:
    parts: list[str] = []
    for child in tc:
        if child.tag == _W_P:
            parts.append("".join(t.text or "" for t in child.iter(_W_T)))
        elif child.tag == _W_TBL:
            if depth + 1 < _NESTED_DEPTH:
                parts.append(docx_table_text(child, depth + 1))
            else:
                flat = "".join(t.text or "" for t in child.iter(_W_T))
                parts.append(flat[:NESTED_CHARS])
        elif child.tag == _W_SDT:
            parts.append("".join(t.text or "" for t in child.iter(_W_T)))
    return " ".join(p.strip() for p in parts if p.strip())


def _int_val(parent: _Element, tag: str) -> int:
    node = parent.find(_w(tag))
    if node is None:
        return 0
    try:
        return int(node.get(_W_VAL, "0"))
    except ValueError:
        return 0


def _on(node: _Element | None) -> bool:
    """An OOXML on/off property: present and not switched off."""
    return node is not None and node.get(_W_VAL, "true").lower() not in ("0", "false", "off")


# --- PDF -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfTable:
    """A ruled table found on a page: its vertical extent (points from the page top), its cells, its lines."""

    bbox: tuple[float, float, float, float]
    table: Table
    text: TableText

    @property
    def top(self) -> float:
        return self.bbox[1]

    @property
    def bottom(self) -> float:
        return self.bbox[3]


@dataclass(frozen=True)
class PageTables:
    """A page split around its tables: `pieces[i]` is the page text above `tables[i]` (below the one before),
    `pieces[-1]` the text below the last; so `len(pieces) == len(tables) + 1`."""

    tables: list[PdfTable]
    pieces: list[str]

    @property
    def text(self) -> str:
        """The page's text with the table areas removed."""
        return "\n".join(p for p in self.pieces if p)

    def spliced(self) -> str:
        """The page in reading order, each table replaced by its lines."""
        out: list[str] = []
        for piece, table in zip(self.pieces, [*self.tables, None], strict=True):
            if piece:
                out.append(piece)
            if table is not None and table.text.lines:
                out.append("\n".join(table.text.lines))
        return "\n".join(out)


_CAPTION_GAP = 24.0
"""Points between a caption line's bottom and the table's top, at most."""
_RULED = re.compile(rb"(?<![A-Za-z])(?:re|l)\s")


def draws_rules(content: bytes) -> bool:
    """Whether a page's content stream draws lines or rectangles: pages without any can hold no ruled table,
    and skipping them keeps pdfplumber's layout analysis (40-90 ms a page) off text-only pages."""
    return bool(_RULED.search(content))


class PdfTableReader:
    """One PDF's tables, page by page, for a reader that extracts the text itself (with pypdf).

    pdfplumber opens the file only once a page draws rules; a table that runs on from the page before is
    joined to it. `page` returns None (keep your own text for that page) when the page draws no rules, holds
    no ruled table, or pdfplumber cannot read it.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._pdf: Any = None
        self._last: Table | None = None

    def page(self, index: int, content: bytes) -> PageTables | None:
        """The tables of page `index` (0-based), given that page's decoded content stream."""
        if not draws_rules(content):
            self._last = None
            return None
        try:
            if self._pdf is None:
                import pdfplumber

                self._pdf = pdfplumber.open(str(self._path))
            page = self._pdf.pages[index]
            try:
                found = pdf_page_tables(page, self._last)
            finally:
                page.close()
        except Exception:  # pdfminer raises many types on damaged pages; the reader's own text still stands
            self._last = None
            return None
        self._last = found.tables[-1].table if found.tables else None
        return found if found.tables else None

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None

    def __enter__(self) -> PdfTableReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pdf_page_tables(page: Any, continues: Table | None = None) -> PageTables:
    """A pdfplumber page's ruled tables (at least 2×2 cells) as Tables and its remaining text in pieces.

    `continues` is the last table of the page before: when this page's first table starts near the top with as
    many columns, it is taken as that table's continuation: it gets its header when it repeats none, and no
    second heading line.
    """
    kept: list[tuple[tuple[float, float, float, float], Table]] = []
    for found in sorted(page.find_tables(), key=lambda t: t.bbox[1]):
        table = _pdf_table(found)
        if table is not None:
            kept.append((tuple(found.bbox), table))
    boxes = [bbox for bbox, _ in kept]
    outside = page.filter(lambda obj: not _inside(obj, boxes)) if boxes else page
    bands: list[list[tuple[str, float]]] = [[] for _ in range(len(kept) + 1)]
    for line in outside.extract_text_lines():
        middle = (float(line["top"]) + float(line["bottom"])) / 2
        bands[sum(1 for bbox in boxes if bbox[1] < middle)].append((str(line["text"]), float(line["bottom"])))
    tables: list[PdfTable] = []
    for n, (bbox, table) in enumerate(kept):
        above = bands[n]
        if above and is_caption(above[-1][0]) and bbox[1] - above[-1][1] < _CAPTION_GAP:
            table.caption = above[-1][0].strip()
        elif n == 0 and continues is not None and bbox[1] < 0.2 * float(page.height):
            table = _continue(table, continues)
        tables.append(PdfTable(bbox, table, render_table(table)))
    return PageTables(tables, ["\n".join(text for text, _ in band) for band in bands])


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    if "x0" not in obj or "top" not in obj:
        return False
    x = (float(obj["x0"]) + float(obj["x1"])) / 2
    y = (float(obj["top"]) + float(obj["bottom"])) / 2
    return any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)


def _pdf_table(found: Any) -> Table | None:
    """pdfplumber's cells (bounding boxes) laid on the grid their edges make, so spans are exact."""
    texts = found.extract()
    boxes: list[tuple[tuple[float, float, float, float], str]] = []
    for found_row, row_texts in zip(found.rows, texts, strict=True):
        for box, text in zip(found_row.cells, row_texts, strict=True):
            if box is not None:
                boxes.append((box, text or ""))
    xs = _edges([b[0] for b, _ in boxes] + [b[2] for b, _ in boxes])
    ys = _edges([b[1] for b, _ in boxes] + [b[3] for b, _ in boxes])
    if len(xs) < 3 or len(ys) < 3:
        return None
    at: dict[tuple[int, int], tuple[int, int, int, str]] = {}
    for (x0, top, x1, bottom), text in boxes:
        c0, c1, r0, r1 = _index(xs, x0), _index(xs, x1), _index(ys, top), _index(ys, bottom)
        for r in range(r0, max(r1, r0 + 1)):
            at[(r, c0)] = (r0, c0, max(1, c1 - c0), text)
    rows: list[list[Cell]] = []
    for r in range(len(ys) - 1):
        row: list[Cell] = []
        c = 0
        while c < len(xs) - 1:
            r0, _, cols, text = at.get((r, c), (r, c, 1, ""))
            row.append(Cell(text if r0 == r else "", cols, merged_up=r0 != r))
            c += cols
        rows.append(row)
    return Table(rows)


def _edges(values: list[float], tolerance: float = 1.5) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tolerance:
            out.append(v)
    return out


def _index(edges: list[float], value: float) -> int:
    return min(range(len(edges)), key=lambda i: abs(edges[i] - value))


def _continue(table: Table, previous: Table) -> Table:
    """This page's first table as the rest of `previous`: same width; borrow its header when none repeats."""
    prev_grid = _resolve(previous.rows)
    width = max((len(r) for r in prev_grid), default=0)
    grid = _resolve(table.rows)
    if not grid or max(len(r) for r in grid) != width:
        return table
    start, n_prev = _head_bounds(previous.rows, prev_grid, width, previous.header_rows)
    if n_prev == 0:
        return table
    head = [tuple(s.text for s in r) for r in prev_grid[start : start + n_prev]]
    repeats = [tuple(s.text for s in r) for r in grid[:n_prev]] == head
    rows = table.rows if repeats else [*previous.rows[start : start + n_prev], *table.rows]
    return Table(rows, n_prev, previous.caption, continued=True, notes=table.notes)
