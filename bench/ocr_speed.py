"""OCR speed and accuracy against render resolution, on the committed scan (tests/data/scanned-report.pdf).

    python -m bench.ocr_speed [--repeats 3] [--dpi 72 100 120 150 200]      # → bench/results/ocr_speed.json

Two scans of the same two pages: `clean`, the fixture as committed (300 dpi, light blur and noise), and
`poor`, made from it here: blurred, noisier, lower contrast, resampled to 150 dpi and saved as JPEG quality
30, as a cheap office scanner or a photocopy of a photocopy gives it. For each scan and render resolution,
`read_document` with a `PageOcr` (no cache) reads the PDF `--repeats` times with one engine whose models are
already loaded (model load is timed once, apart); pages/s is the median over repeats. Accuracy is against the
ground truth in tests/data/scanned-report.json: character error rate (edit distance / characters, whitespace
ignored) over the report's paragraphs, and how many of its 7 headings and its title came out exactly as a
line (what the heading tree needs), with the misread spans. CPU seconds (both onnxruntime threads) are kept
beside wall time: on this shared box they move less with other people's load. At the default resolution,
each page is also read cold (engine, no cache) and cached (a warm cache: render, hash, SQLite), median of
the repeats.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, log, machine, median, write_result

SCAN = ROOT / "tests" / "data" / "scanned-report.pdf"
TRUTH = json.loads((ROOT / "tests" / "data" / "scanned-report.json").read_text("utf-8"))
MB = 20_000_000


def poor_scan(path: Path) -> Path:
    """The fixture as a bad scanner would have given it."""
    import numpy as np
    import pypdfium2
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(7)
    doc = pypdfium2.PdfDocument(str(SCAN))
    images = []
    for index in range(len(doc)):
        page = doc[index].render(scale=300 / 72, grayscale=True).to_pil().convert("L")
        page = page.filter(ImageFilter.GaussianBlur(1.6))
        pixels = np.asarray(page, dtype=np.float32)
        pixels = 95 + pixels * (215 - 95) / 255 + rng.normal(0, 14, pixels.shape)  # grey ink on grey paper
        page = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")
        page = page.resize((page.width // 2, page.height // 2), Image.Resampling.BILINEAR)  # 150 dpi
        buf = io.BytesIO()
        page.save(buf, "JPEG", quality=30)
        images.append(Image.open(io.BytesIO(buf.getvalue())))
    doc.close()
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=150)
    return path


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i]
        for j, cb in enumerate(b, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def accuracy(text: str) -> dict[str, Any]:
    got = "".join(text.split())
    want = "".join("".join(TRUTH["paragraphs"]).split())
    lines = set(text.split("\n"))
    headings = [p for p in TRUTH["paragraphs"] if p.startswith(("一、", "二、", "三、", "（"))] + [
        TRUTH["paragraphs"][0]
    ]
    import difflib

    misread = [
        f"{want[i1:i2]}→{got[j1:j2]}"
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, want, got, autojunk=False).get_opcodes()
        if op != "equal"
    ]
    return {
        "cer": round(edit_distance(got, want) / len(want), 4),
        "misread": misread[:10],
        "headings_exact": sum(h in lines for h in headings),
        "headings": len(headings),
    }


def read_once(path: Path, engine: Any, dpi: int, cache: Path | None = None) -> tuple[float, str, Any, float]:
    """Wall seconds, text, (engine calls, cache hits), and CPU seconds of this process (all threads)."""
    from ingest.ocr import PageOcr
    from ingest.read import read_document

    started, cpu = time.perf_counter(), time.process_time()
    with PageOcr(cache, engine=engine, dpi=dpi, show_progress=False) as ocr:
        document = read_document(path, MB, ocr=ocr)
        stats = (ocr.engine_calls, ocr.cache_hits)
    return time.perf_counter() - started, document.text, stats, time.process_time() - cpu


def per_page(path: Path, engine: Any, dpi: int, repeats: int, work: Path) -> list[dict[str, Any]]:
    """Each page alone, cold (no cache) and from a warm cache."""
    from pypdf import PdfReader, PdfWriter

    rows = []
    for index in range(len(PdfReader(str(path)).pages)):
        single = work / f"page{index + 1}.pdf"
        writer = PdfWriter()
        writer.add_page(PdfReader(str(path)).pages[index])
        with open(single, "wb") as fh:
            writer.write(fh)
        cold = [read_once(single, engine, dpi)[0] for _ in range(repeats)]
        cache = work / f"cache{index + 1}.sqlite"
        read_once(single, engine, dpi, cache)
        cached = []
        for _ in range(repeats):
            seconds, _, stats, _ = read_once(single, engine, dpi, cache)
            assert stats == (0, 1), stats
            cached.append(seconds)
        rows.append({"page": index + 1, "cold_s": round(median(cold), 3), "cached_s": round(median(cached), 4)})
    return rows


def main() -> None:
    from importlib.metadata import version

    from ingest.ocr import RENDER_DPI, RapidOcrEngine

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--dpi", type=int, nargs="+", default=[72, 100, 120, 150, 200])
    args = p.parse_args()

    at_start = machine()
    engine = RapidOcrEngine()
    started = time.perf_counter()
    engine._load()  # model load, timed apart from reading
    load_s = time.perf_counter() - started
    log(f"models loaded in {load_s:.2f} s")
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        scans = {"clean": SCAN, "poor": poor_scan(work / "poor.pdf")}
        read_once(SCAN, engine, RENDER_DPI)  # warm-up: first inference allocates
        for variant, path in scans.items():
            for dpi in args.dpi:
                runs = [read_once(path, engine, dpi) for _ in range(args.repeats)]
                seconds = [r[0] for r in runs]
                row = {
                    "scan": variant,
                    "dpi": dpi,
                    "pages": 2,
                    "seconds": [round(s, 2) for s in seconds],
                    "pages_per_s": round(2 / median(seconds), 3),
                    "cpu_s_per_page": round(median([r[3] for r in runs]) / 2, 2),
                    **accuracy(runs[-1][1]),
                }
                log(str(row))
                table.append(row)
        pages = per_page(SCAN, engine, RENDER_DPI, args.repeats, work)
    log(str(pages))
    path = write_result(
        "ocr_speed",
        {
            "benchmark": "ocr_speed",
            "scan": str(SCAN.relative_to(ROOT)),
            "engine": engine.name,
            "versions": {name: version(name) for name in ("onnxruntime", "pypdfium2", "opencv-python")},
            "default_dpi": RENDER_DPI,
            "repeats": args.repeats,
            "model_load_s": round(load_s, 2),
            "table": table,
            "per_page_at_default_dpi": pages,
            "machine": at_start,
        },
    )
    print(path)


if __name__ == "__main__":
    main()
