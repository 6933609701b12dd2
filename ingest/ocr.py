"""Scanned PDF pages → lines of text, offline.

pdfium renders a page that has no text layer; RapidOCR reads the image with the PP-OCRv4 models bundled in
its wheel, so nothing is fetched at run time. OCR costs seconds a page, so what the engine saw on each page
is cached by the hash of the rendered image: a re-ingest or a `--rebuild` of a scan runs no OCR again, and a
PDF with a page replaced re-reads only that page. The cache holds the engine's boxes, not the joined lines, so
a better line grouping needs no new OCR.

One `PageOcr` serves a whole ingest run; its engine loads the models on the first page it must read, so a
run over text files (or cached scans) loads none, and where OCR cannot run (no rapidocr on Python 3.13+,
opencv without libGL) only the files that need it are refused, with the missing piece named.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tqdm import tqdm

from ingest.errors import FileRejected

if TYPE_CHECKING:
    import numpy as np
    import pypdfium2

# Measured on the fixture scan (bench/ocr_speed.py): see bench/README.md.
RENDER_DPI = 100
MAX_OCR_PAGES = 200
_MAX_PIXELS = 12_000_000  # a page with a huge media box is rendered smaller, never into gigabytes
_INK = 64  # grey levels off the paper's (the page's median) that make a pixel ink, on grey paper or white
_BLANK_INK_SHARE = 1e-4  # fewer ink pixels than this share of the page: nothing worth reading
_SPARSE_LAYER = 20  # a text layer this short over a full-page image is a scanner's stamp, not the page's text
_SCAN_COVER = 0.5  # images covering this share of the page make it a scan

_CJK_SPACE = re.compile(r"(?<=[^\x00-\x7f])[ \t]+|[ \t]+(?=[^\x00-\x7f])")
_FULLWIDTH = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", ")": "）"}
_AFTER_CJK = re.compile(r"(?<=[\u4e00-\u9fff])([,;:?!)])")
_OPEN_BEFORE_CJK = re.compile(r"\((?=[\u4e00-\u9fff])")
_PAGE_NUMBER = re.compile(
    r"^[\s\-—–－_一·•]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*[/／]\s*\d{1,4})?(?:\s*页)?[\s\-—–－_一·•]*$"
)
_MARGIN = 0.12  # page numbers sit in the top or bottom 12% of the page


@dataclass(frozen=True)
class Box:
    """One detected text run: its text, its bounding box in image pixels, the recogniser's confidence."""

    text: str
    left: float
    top: float
    right: float
    bottom: float
    score: float

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class OcrPage:
    """What OCR made of one page: `number` counts from 1; `blank` means no ink at all."""

    number: int
    lines: list[str]
    blank: bool = False
    cached: bool = False


class OcrUnavailable(Exception):
    """OCR cannot run on this machine; the message names the missing piece in one line."""


class OcrEngine(Protocol):
    """Reads one greyscale page image; `name` keys the cache, so a different model never reuses results."""

    @property
    def name(self) -> str: ...

    def read(self, image: np.ndarray) -> list[Box]: ...


class RapidOcrEngine:
    """RapidOCR with its bundled PP-OCRv4 Chinese detection and recognition models (onnxruntime, CPU).

    Building one is cheap: the models load on the first page it reads, so a run that meets no scan, or whose
    scans are all cached, never imports opencv or onnxruntime for OCR.
    """

    def __init__(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        self._ocr: Any = None
        self._unavailable: str | None = None
        try:
            self._name = f"rapidocr-onnxruntime {version('rapidocr-onnxruntime')}"
        except PackageNotFoundError:
            self._name = ""
            self._unavailable = missing_piece(ModuleNotFoundError(name="rapidocr_onnxruntime"))

    @property
    def name(self) -> str:
        if not self._name:
            raise OcrUnavailable(self._unavailable)
        return self._name

    def read(self, image: np.ndarray) -> list[Box]:
        result, _ = self._load()(image)
        boxes: list[Box] = []
        for points, text, score in result or []:
            xs = [float(p[0]) for p in points]
            ys = [float(p[1]) for p in points]
            boxes.append(Box(str(text), min(xs), min(ys), max(xs), max(ys), float(score)))
        return boxes

    def _load(self) -> Any:
        """The models, loaded once; a failed import is remembered, not retried on every page."""
        if self._ocr is None:
            if self._unavailable is None:
                # onnxruntime's Linux wheels send usage telemetry (OneDS) unless this is set when it loads
                os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
                try:
                    from rapidocr_onnxruntime import RapidOCR

                    self._ocr = RapidOCR()
                except ImportError as exc:
                    self._unavailable = missing_piece(exc)
            if self._ocr is None:
                raise OcrUnavailable(self._unavailable)
        return self._ocr


def missing_piece(exc: ImportError) -> str:
    """Why importing the OCR stack failed, said so that the fix is obvious."""
    message = str(exc)
    library = re.search(r"(lib[\w.+-]+\.so[\d.]*): cannot open shared object file", message)
    if library:
        name = library.group(1)
        package = {"libGL.so.1": "libgl1", "libgthread-2.0.so.0": "libglib2.0-0", "libglib-2.0.so.0": "libglib2.0-0"}
        hint = f"apt install {package[name]}" if name in package else "install the system library"
        return f"opencv needs {name} ({hint}, or pip install opencv-python-headless in place of opencv-python)"
    module = getattr(exc, "name", None) or message
    if "rapidocr" in str(module):
        if sys.version_info >= (3, 13):
            return "rapidocr-onnxruntime is not installed (it supports Python < 3.13 only)"
        return "rapidocr-onnxruntime is not installed (pip install rapidocr-onnxruntime)"
    return f"the OCR stack cannot be imported ({message})"


class OcrCache:
    """Engine boxes by page-image hash, in SQLite beside the embedding cache; `None` keeps nothing."""

    def __init__(self, path: Path | None) -> None:
        self._db: sqlite3.Connection | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS pages (key TEXT PRIMARY KEY, boxes TEXT NOT NULL)")

    def get(self, key: str) -> list[Box] | None:
        if self._db is None:
            return None
        row = self._db.execute("SELECT boxes FROM pages WHERE key = ?", (key,)).fetchone()
        return [Box(*item) for item in json.loads(row[0])] if row else None

    def put(self, key: str, boxes: list[Box]) -> None:
        if self._db is None:
            return
        rows = [[b.text, b.left, b.top, b.right, b.bottom, b.score] for b in boxes]
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO pages VALUES (?, ?)", (key, json.dumps(rows, ensure_ascii=False)))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class PageOcr:
    """OCR for one ingest run: one engine, one cache, a page budget per file; counts what OCR really ran."""

    def __init__(
        self,
        cache_path: Path | None,
        *,
        engine: OcrEngine | None = None,
        max_pages: int = MAX_OCR_PAGES,
        dpi: int = RENDER_DPI,
        show_progress: bool | None = None,
    ) -> None:
        self.engine: OcrEngine = engine if engine is not None else RapidOcrEngine()
        self.max_pages = max_pages
        self.dpi = dpi
        self.show_progress = sys.stderr.isatty() if show_progress is None else show_progress
        self.cache = OcrCache(cache_path)
        self.engine_calls = 0  # pages the engine really read (cache misses)
        self.cache_hits = 0

    def close(self) -> None:
        self.cache.close()

    def __enter__(self) -> PageOcr:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def scan_pages(self, path: Path, layers: list[str]) -> list[int]:
        """Indexes of the pages to OCR, given each page's text layer: none at all, or only a stamp on an image."""
        empty = [i for i, text in enumerate(layers) if not text.strip()]
        sparse = [i for i, text in enumerate(layers) if text.strip() and len("".join(text.split())) < _SPARSE_LAYER]
        if not sparse:
            return empty
        with _open(path) as doc:
            stamped = [i for i in sparse if _image_cover(doc[i]) >= _SCAN_COVER]
        return sorted(empty + stamped)

    def read_pages(self, path: Path, indexes: list[int]) -> list[OcrPage]:
        """OCR these pages (0-based) in order; raise FileRejected when over budget or when OCR cannot run."""
        if len(indexes) > self.max_pages:
            raise FileRejected(
                path,
                f"refused: {len(indexes)} pages need OCR > {self.max_pages}; raise REPORTBOT_MAX_OCR_PAGES "
                "or ingest the file in parts",
            )
        pages: list[OcrPage] = []
        if not indexes:
            return pages
        with _open(path) as doc:
            bar = tqdm(indexes, desc=f"OCR {path.name}"[:40], unit="page", disable=not self.show_progress, leave=False)
            for index in bar:
                pages.append(self._read_page(path, doc, index))
        return pages

    def _read_page(self, path: Path, doc: pypdfium2.PdfDocument, index: int) -> OcrPage:
        image = render_page(doc, index, self.dpi)
        number = index + 1
        if _ink_share(image) < _BLANK_INK_SHARE:
            return OcrPage(number, [], blank=True)
        try:
            key = page_key(self.engine.name, image)
            boxes = self.cache.get(key)
            cached = boxes is not None
            if boxes is None:
                try:
                    boxes = self.engine.read(image)
                except OcrUnavailable:
                    raise
                except Exception as exc:  # onnxruntime and opencv raise assorted types on images they choke on
                    raise FileRejected(path, f"page {number}: OCR failed ({type(exc).__name__}: {exc})") from None
                self.engine_calls += 1
                self.cache.put(key, boxes)
            else:
                self.cache_hits += 1
        except OcrUnavailable as exc:
            raise FileRejected(path, f"page {number} has no text layer and OCR is unavailable: {exc}") from None
        return OcrPage(number, page_lines(boxes, image.shape[0]), cached=cached)


@contextmanager
def _open(path: Path) -> Iterator[pypdfium2.PdfDocument]:
    import pypdfium2

    try:
        doc = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as exc:
        raise FileRejected(path, f"not a valid PDF (pdfium: {exc})") from None
    try:
        yield doc
    finally:
        doc.close()


def render_page(doc: pypdfium2.PdfDocument, index: int, dpi: int) -> np.ndarray:
    """The page as a greyscale image at `dpi` (less for an outsized page), as an owned array."""
    import numpy as np

    page = doc[index]
    try:
        width, height = page.get_size()
        scale = dpi / 72
        pixels = width * height * scale * scale
        if pixels > _MAX_PIXELS:
            scale *= math.sqrt(_MAX_PIXELS / pixels)
        bitmap = page.render(scale=scale, grayscale=True)
        try:
            image = np.array(bitmap.to_numpy(), dtype=np.uint8)
        finally:
            bitmap.close()
    finally:
        page.close()
    return image.reshape(image.shape[0], image.shape[1])


def page_key(engine: str, image: np.ndarray) -> str:
    """Same pixels, same engine, same result: the render settings are in the pixels and their shape."""
    digest = hashlib.sha256(f"{engine}\n{image.shape}\n".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def _ink_share(image: np.ndarray) -> float:
    import numpy as np

    if not image.size:
        return 0.0
    paper = float(np.median(image[::4, ::4]))
    return float((np.abs(image.astype(np.int16) - paper) >= _INK).mean())


def _image_cover(page: Any) -> float:
    """Share of the page that image objects cover (overlaps counted once per image, capped at 1)."""
    import pypdfium2.raw as pdfium_c

    width, height = page.get_size()
    area = 0.0
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)):
        left, bottom, right, top = obj.get_bounds()
        area += max(0.0, min(right, width) - max(left, 0.0)) * max(0.0, min(top, height) - max(bottom, 0.0))
    page.close()
    return min(1.0, area / max(width * height, 1.0))


def page_lines(boxes: list[Box], page_height: float) -> list[str]:
    """Boxes → lines in reading order: grouped by vertical overlap, lines top to bottom, boxes left to right.

    Spaces the recogniser puts next to Chinese characters are dropped, ASCII punctuation after a Chinese
    character becomes full width as the reports write it, and a page number alone in the top or bottom
    margin is left out so it never lands inside a paragraph that runs on to the next page.
    """
    rows: list[list[Box]] = []
    for box in sorted((b for b in boxes if b.text.strip()), key=lambda b: (b.top + b.bottom) / 2):
        row = rows[-1] if rows else None
        if row is not None:
            top, bottom = min(b.top for b in row), max(b.bottom for b in row)
            overlap = min(bottom, box.bottom) - max(top, box.top)
            if overlap >= 0.5 * min(bottom - top, box.height):
                row.append(box)
                continue
        rows.append([box])
    lines: list[tuple[str, float, float]] = []
    for row in rows:
        row.sort(key=lambda b: b.left)
        height = sorted(b.height for b in row)[len(row) // 2]
        text = _clean(row[0].text)
        for prev, box in itertools.pairwise(row):
            piece = _clean(box.text)
            gap = box.left - prev.right
            ascii_pair = text[-1:].isascii() and text[-1:].isalnum() and piece[:1].isascii() and piece[:1].isalnum()
            text += (" " if gap > 1.5 * height or ascii_pair else "") + piece
        lines.append((text, min(b.top for b in row), max(b.bottom for b in row)))
    kept = [
        text
        for n, (text, top, bottom) in enumerate(lines)
        if not _page_number(n, len(lines), top, bottom, page_height, text)
    ]
    return [text for text in kept if text]


def _clean(text: str) -> str:
    text = _CJK_SPACE.sub("", text.strip())
    text = _AFTER_CJK.sub(lambda m: _FULLWIDTH[m.group(1)], text)
    return _OPEN_BEFORE_CJK.sub("（", text)


def _page_number(n: int, count: int, top: float, bottom: float, page_height: float, text: str) -> bool:
    at_edge = (n == 0 and bottom <= page_height * _MARGIN) or (n == count - 1 and top >= page_height * (1 - _MARGIN))
    return at_edge and bool(_PAGE_NUMBER.match(text))


def describe(numbers: list[int]) -> str:
    """`[3, 4, 5, 9]` → `pages 3-5, 9`; `[7]` → `page 7`."""
    spans: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ("pages " if len(numbers) > 1 else "page ") + ", ".join(spans)
