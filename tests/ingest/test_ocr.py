"""Scanned PDFs read offline: the real RapidOCR models on a committed scan (tests/data/make_scanned.py made it)."""

from __future__ import annotations

import difflib
import importlib.util
import io
import json
import os
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter

from ingest.errors import FileRejected
from ingest.ocr import Box, OcrPage, PageOcr, RapidOcrEngine, describe, missing_piece, page_lines
from ingest.read import read_document, read_text
from tests.ingest.helpers import make_pdf, parse

# find_spec, not importorskip: importing it here would load onnxruntime before the engine can turn its telemetry off
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("rapidocr_onnxruntime") is None,
    reason="rapidocr-onnxruntime is not installed (it supports Python < 3.13 only)",
)

MB = 20_000_000
DATA = Path(__file__).resolve().parents[1] / "data"
SCAN = DATA / "scanned-report.pdf"
TRUTH = json.loads((DATA / "scanned-report.json").read_text("utf-8"))
TITLE = TRUTH["paragraphs"][0]
HEADINGS = [p for p in TRUTH["paragraphs"] if p.startswith(("一、", "二、", "三、", "（"))]


class CountingEngine:
    """The real engine, counting the pages it really reads."""

    def __init__(self) -> None:
        self.inner = RapidOcrEngine()
        self.calls = 0

    @property
    def name(self) -> str:
        return self.inner.name

    def read(self, image):
        self.calls += 1
        return self.inner.read(image)


@pytest.fixture(scope="module")
def engine() -> CountingEngine:
    return CountingEngine()


@pytest.fixture(scope="module")
def cold(tmp_path_factory, engine):
    """The committed scan read once with an empty cache; later tests reuse that cache."""
    cache = tmp_path_factory.mktemp("ocr") / "ocr-cache.sqlite"
    before = engine.calls
    started = time.perf_counter()
    with PageOcr(cache, engine=engine, show_progress=False) as ocr:
        document = read_document(SCAN, MB, ocr=ocr)
    return {
        "cache": cache,
        "document": document,
        "calls": engine.calls - before,
        "seconds": time.perf_counter() - started,
    }


def similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def pdf_of(*parts: tuple[bytes | Path, list[int]]) -> bytes:
    """Pages picked from several PDFs, in order, as one PDF."""
    writer = PdfWriter()
    for source, pages in parts:
        reader = PdfReader(str(source) if isinstance(source, Path) else io.BytesIO(source))
        for index in pages:
            writer.add_page(reader.pages[index])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_pdf(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PDF", resolution=150)
    return out.getvalue()


def test_scanned_report_reads_with_its_headings_and_sentences(cold):
    lines = cold["document"].text.split("\n")
    assert cold["calls"] == 2
    assert cold["document"].notes == []
    for heading in [TITLE, *HEADINGS]:
        assert heading in lines  # exactly: the heading tree depends on them
    for paragraph in TRUTH["paragraphs"]:
        best = max(similar(paragraph, line) for line in lines)
        assert best >= 0.95, (paragraph, best)
    # the paragraph that runs over the page break is one line again, and no page number got inside it
    assert any(line.startswith("一是基层台站") and line.endswith("压力较大。") for line in lines)
    assert os.environ.get("ORT_DISABLE_TELEMETRY") == "1"  # onnxruntime would otherwise try to send telemetry


def test_scanned_report_gets_its_heading_tree(cold):
    (report,) = parse(cold["document"].text, SCAN.name, max_tokens=64)
    assert report.title == TITLE
    assert {c.section for c in report.chunks if "自动气象站" in c.text} == {
        "一、2023年工作总结 › （一）气象监测网络持续完善"
    }
    assert {c.section for c in report.chunks if "大数据平台" in c.text} == {
        "三、2024年工作计划 › （一）加快智慧气象建设"
    }


def test_second_read_comes_from_the_cache_and_runs_no_ocr(cold, engine):
    before = engine.calls
    started = time.perf_counter()
    with PageOcr(cold["cache"], engine=engine, show_progress=False) as ocr:
        text = read_text(SCAN, MB, ocr=ocr)
        assert (ocr.engine_calls, ocr.cache_hits) == (0, 2)
    seconds = time.perf_counter() - started
    assert engine.calls == before
    assert text == cold["document"].text
    assert seconds < cold["seconds"] / 2


def test_mixed_pdf_reads_text_pages_as_text_and_scanned_pages_by_ocr(cold, engine, tmp_path):
    text_page = make_pdf([["林业局2023年工作总结", "一、造林绿化", "全年完成人工造林三千亩。"]], cjk=True)
    path = tmp_path / "mixed.pdf"
    path.write_bytes(pdf_of((text_page, [0]), (SCAN, [1])))
    with PageOcr(cold["cache"], engine=engine, show_progress=False) as ocr:
        document = read_document(path, MB, ocr=ocr)
        assert ocr.engine_calls + ocr.cache_hits == 1  # only the scanned page went to OCR
    lines = document.text.split("\n")
    assert lines.index("全年完成人工造林三千亩。") < lines.index("（二）强化人才队伍建设")
    assert "三、2024年工作计划" in lines
    assert document.notes == []


def test_blank_and_illegible_pages_are_named(cold, engine, tmp_path):
    blank = Image.new("L", (1240, 1754), 255)
    smudged = Image.new("L", (1240, 1754), 255)  # a blank sheet scanned with a shadowed edge and a stain
    draw = ImageDraw.Draw(smudged)
    draw.rectangle((0, 0, 60, 1754), fill=40)
    draw.polygon([(300, 400), (900, 450), (700, 900)], fill=90)
    path = tmp_path / "gaps.pdf"
    path.write_bytes(pdf_of((SCAN, [1]), (image_pdf(blank), [0]), (image_pdf(smudged), [0])))
    with PageOcr(cold["cache"], engine=engine, show_progress=False) as ocr:
        document = read_document(path, MB, ocr=ocr)
    assert document.notes == ["page 2: blank", "page 3: nothing legible"]
    assert "三、2024年工作计划" in document.text.split("\n")

    only_blank = tmp_path / "blank.pdf"
    only_blank.write_bytes(image_pdf(blank))
    with (
        PageOcr(None, engine=engine, show_progress=False) as ocr,
        pytest.raises(FileRejected, match=r"no text found \(page 1: blank\)"),
    ):
        read_text(only_blank, MB, ocr=ocr)


def test_a_scan_with_a_stamp_for_a_text_layer_is_still_read(engine, tmp_path):
    """Phone scanner apps put a line of their own text on each page; that is no text layer for the page."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf_of((SCAN, [1]))))
    writer.pages[0].merge_page(PdfReader(io.BytesIO(make_pdf([["Scanned by an app"]]))).pages[0])
    path = tmp_path / "stamped.pdf"
    with open(path, "wb") as fh:
        writer.write(fh)
    assert "Scanned by an app" in read_text(path, MB)  # today's reader sees only the stamp
    with PageOcr(None, engine=engine, show_progress=False) as ocr:
        lines = read_text(path, MB, ocr=ocr).split("\n")
    assert "三、2024年工作计划" in lines


def test_without_ocr_a_scan_is_refused_as_before(tmp_path):
    with pytest.raises(FileRejected, match=r"PDF has no text layer \(scanned\?\); run OCR on it first"):
        read_text(SCAN, MB)
    path = tmp_path / "mixed.pdf"
    path.write_bytes(pdf_of((make_pdf([["Page one text."]]), [0]), (SCAN, [0, 1])))
    document = read_document(path, MB)
    assert document.text.strip() == "Page one text."
    assert document.notes == ["pages 2-3: no text layer, not read (OCR off)"]


def test_ocr_budget_refuses_before_reading_anything(engine):
    before = engine.calls
    with PageOcr(None, engine=engine, max_pages=1, show_progress=False) as ocr:
        with pytest.raises(FileRejected, match="2 pages need OCR > 1; raise REPORTBOT_MAX_OCR_PAGES"):
            read_text(SCAN, MB, ocr=ocr)
    assert engine.calls == before


def test_missing_rapidocr_is_named_for_that_file(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # what an install on Python 3.13 has
    with PageOcr(tmp_path / "ocr.sqlite", engine=RapidOcrEngine(), show_progress=False) as ocr:
        with pytest.raises(FileRejected) as info:
            read_text(SCAN, MB, ocr=ocr)
        assert info.value.reason == (
            "page 1 has no text layer and OCR is unavailable: "
            "rapidocr-onnxruntime is not installed (pip install rapidocr-onnxruntime)"
        )
        text_pdf = tmp_path / "text.pdf"
        text_pdf.write_bytes(make_pdf([["Only a text layer here."]]))
        assert read_text(text_pdf, MB, ocr=ocr).strip() == "Only a text layer here."  # other files still read


def test_missing_pieces_are_said_plainly(monkeypatch):
    gl = ImportError("libGL.so.1: cannot open shared object file: No such file or directory")
    assert missing_piece(gl).startswith("opencv needs libGL.so.1 (apt install libgl1")
    monkeypatch.setattr(sys, "version_info", (3, 13, 0))
    absent = ModuleNotFoundError("No module named 'rapidocr_onnxruntime'", name="rapidocr_onnxruntime")
    assert missing_piece(absent) == "rapidocr-onnxruntime is not installed (it supports Python < 3.13 only)"


def test_boxes_become_lines_in_reading_order():
    def box(text: str, left: float, top: float, right: float, height: float = 40) -> Box:
        return Box(text, left, top, right, top + height, 0.99)

    boxes = [
        box("第二行右半", 620, 203, 900),  # slightly lower than its left half: a skewed scan
        box("— 3 —", 560, 1900, 660),  # a page number in the bottom margin
        box("（一） 标题", 100, 100, 400),
        box("第二行左半，", 100, 200, 600),
        box("GDP", 100, 300, 180),
        box("growth", 200, 301, 330),
    ]
    assert page_lines(boxes, page_height=2000) == ["（一）标题", "第二行左半，第二行右半", "GDP growth"]
    assert page_lines([box("12", 560, 1000, 600)], page_height=2000) == ["12"]  # mid-page numbers are text


def test_page_lists_are_short():
    assert describe([7]) == "page 7"
    assert describe([2, 3, 4, 9, 11, 12]) == "pages 2-4, 9, 11-12"
    assert OcrPage(1, []).blank is False
