"""Hostile files: bounded time, a clear error naming the file, and nothing else lost."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest

from bot.services import Services
from ingest.pipeline import run_ingest

GOOD = """水务局2023年工作总结及2024年工作计划

一、2023年工作总结
（一）供水保障
全年新建供水管网xx公里，完成老旧小区二次供水改造xx个。
二、2024年工作计划
（一）防汛设施
计划新建排涝泵站x座，改造雨污管网xx公里。
"""


def ingest(services: Services, *paths: Path):
    started = time.monotonic()
    result = run_ingest(list(paths), services.settings, services.store, services.embeddings, show_progress=False)
    return result, time.monotonic() - started


@pytest.fixture
def good(tmp_path) -> Path:
    path = tmp_path / "水务局2023年工作总结及2024年工作计划.txt"
    path.write_text(GOOD, encoding="utf-8")
    return path


def failed_reason(result, path: Path) -> str:
    outcome = next(o for o in result.outcomes if Path(o.path).name == path.name)
    assert outcome.status == "failed", outcome
    return outcome.error


def test_zip_bomb_named_docx(services, good, tmp_path):
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w") as fh:
            block = b"\0" * (1 << 20)
            for _ in range(300):
                fh.write(block)
    assert bomb.stat().st_size < 2_000_000
    result, seconds = ingest(services, good, bomb)
    assert "zip bomb" in failed_reason(result, bomb)
    assert seconds < 30
    assert [r.title for r in result.manifest.reports] == ["水务局2023年工作总结及2024年工作计划"]


def docx_with(tmp_path: Path, name: str, document_xml: bytes) -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        z.writestr("word/document.xml", document_xml)
    return path


def test_deeply_nested_and_malformed_docx_xml(services, good, tmp_path):
    ns = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    nested = (
        b"<w:document " + ns + b"><w:body>" + b"<w:sdt>" * 200_000 + b"</w:sdt>" * 200_000 + b"</w:body></w:document>"
    )
    deep = docx_with(tmp_path, "deep.docx", nested)
    broken = docx_with(tmp_path, "broken.docx", b"<w:document " + ns + b"><w:body><w:p><w:t>unclosed")
    result, seconds = ingest(services, good, deep, broken)
    assert "docx" in failed_reason(result, deep)
    assert "docx" in failed_reason(result, broken)
    assert seconds < 60
    assert result.manifest.reports[0].title.startswith("水务局")


def test_pdf_with_a_huge_page_count(services, good, tmp_path):
    pages = 5000
    kids = b" ".join(b"3 0 R" for _ in range(pages))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    huge = tmp_path / "huge.pdf"
    huge.write_bytes(bytes(out))
    result, seconds = ingest(services, good, huge)
    assert "pages" in failed_reason(result, huge)
    assert seconds < 30


def test_200mb_text_file_is_refused_without_reading_it(services, good, tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(200 * 1024 * 1024)
    result, seconds = ingest(services, good, big)
    assert "too large" in failed_reason(result, big)
    assert seconds < 30


def test_control_characters_and_mixed_encodings(services, tmp_path):
    mixed = tmp_path / "混合编码.txt"
    head = "交通局2023年工作总结\n\n一、2023年工作总结\n（一）道路建设\x07\x1b[31m 全年新建农村公路xx公里。\n".encode()
    tail = "（二）公交服务\n新开通城乡公交线路x条，日均客运量xx万人次。\n".encode("gb18030")
    mixed.write_bytes(head + tail)
    result, _ = ingest(services, mixed)
    assert not result.failed
    chunks, _ = services.store.collections(result.manifest.generation)
    text = "".join(chunks.get(include=["documents"])["documents"])
    assert "农村公路" in text and "城乡公交线路" in text
    assert "\x07" not in text and "\x1b" not in text
