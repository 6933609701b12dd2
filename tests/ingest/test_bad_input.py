"""Bad input: each file gets a clear error naming it (or is handled), the rest is indexed, nothing indexed is lost."""

from __future__ import annotations

import json
import os
import random
import zipfile

import pytest

from ingest.read import read_text
from tests.ingest.helpers import RANKED, SKIPPED_TWO, UNNUMBERED, cli_env, make_pdf, run_cli

ADVERTS = "【哒哒素材库】——每天更新材料1000多篇，有意加入请联系：1 4367\n添加客服：cwk，谨防假冒！\n"


def _random_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def make_bad_inputs(tmp_path):
    """name → (path, the reason it must be refused with)."""
    root = tmp_path / "bad"
    root.mkdir()
    bad = {}

    def add(name, content, reason):
        path = root / name
        if content is not None:
            path.write_bytes(content)
        bad[name] = (path, reason)

    add("empty.txt", b"", "empty file")
    add("blank.txt", b" \r\n\r\n\t\n", "no text found")
    add("adverts-only.txt", ADVERTS.encode(), "no report text found after cleaning")
    add("random.docx", _random_bytes(4096, 1), "not a valid .docx")
    add("random.pdf", _random_bytes(4096, 2), "not a valid PDF")
    add("scan.pdf", make_pdf([None]), "page 1: blank")
    add("missing.txt", None, "no such file or folder")
    broken = root / "broken.docx"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types")
        archive.writestr("word/document.xml", "<w:document><w:body>")
    bad["broken.docx"] = (broken, "not a valid .docx")
    huge = root / "huge.txt"
    with open(huge, "wb") as fh:  # sparse: 50 MB in no time
        fh.truncate(50 * 1024 * 1024)
    bad["huge.txt"] = (huge, "too large (52.4 MB > 20 MB)")
    return bad


@pytest.fixture
def indexed(indexer, write):
    """An index that already holds one report, which no bad input may disturb."""
    idx = indexer()
    idx.run(write("环保局.txt", RANKED))
    return idx


def test_each_bad_file_is_refused_by_name_and_the_rest_is_indexed(indexed, write, tmp_path):
    before = indexed.manifest
    bad = make_bad_inputs(tmp_path)
    good = write("交通局2023年工作总结.txt", SKIPPED_TWO)
    result = indexed.run(*(p for p, _ in bad.values()), good)
    failed = {o.path.rsplit("/", 1)[1]: o.error for o in result.failed}
    assert set(failed) == set(bad)
    for name, (_, reason) in bad.items():
        assert reason in failed[name], (name, failed[name])
        assert "unexpected" not in failed[name]
    assert [o.status for o in result.outcomes if o.status != "failed"] == ["new"]
    titles = [r.title for r in indexed.manifest.reports]
    assert sorted(titles) == sorted(["环保局2023年工作总结及2024年工作计划", "交通局2023年工作总结和2024年工作思路"])
    assert indexed.manifest.files[before.reports[0].file] == before.files[before.reports[0].file]
    assert len(indexed.chunk_records()) == indexed.manifest.chunks


def test_only_bad_files_publish_nothing(indexed, tmp_path):
    before = indexed.manifest
    bad = make_bad_inputs(tmp_path)
    result = indexed.run(*(p for p, _ in bad.values()))
    assert len(result.failed) == len(bad) and not result.published
    assert indexed.manifest == before
    assert len(indexed.chunk_records()) == before.chunks


def test_a_folder_with_a_report_name_is_walked_not_read(indexer, tmp_path):
    odd = tmp_path / "x.txt"
    (odd / "inner").mkdir(parents=True)
    (odd / "inner" / "文旅局.txt").write_text(UNNUMBERED, encoding="utf-8")
    idx = indexer()
    result = idx.run(odd)
    assert not result.failed
    assert [r.title for r in idx.manifest.reports] == ["文旅局2023年工作总结"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file anyway")
def test_unreadable_file_is_refused(indexed, tmp_path):
    path = tmp_path / "locked.txt"
    path.write_text(UNNUMBERED, encoding="utf-8")
    path.chmod(0)
    try:
        result = indexed.run(path)
    finally:
        path.chmod(0o644)
    (failed,) = result.failed
    assert "permission denied" in failed.error.lower()


def test_title_less_file_with_a_chinese_name_is_named_after_it(indexer, write):
    body = UNNUMBERED.split("\n", 2)[2]  # no title line
    path = write("文化和旅游局2023年度材料.txt", body)
    idx = indexer()
    result = idx.run(path)
    assert not result.failed
    (report,) = idx.manifest.reports
    assert report.title == "文化和旅游局2023年度材料" and report.year == 2023
    assert report.file == str(path)


def test_huge_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    with pytest.raises(Exception, match=r"too large \(52\.4 MB > 20 MB\); raise REPORTBOT_MAX_FILE_MB"):
        read_text(path, 20_000_000)


def test_cli_exit_code_and_one_line_per_failed_file(indexed, write, tmp_path, embed_cache):
    env = cli_env(indexed.settings.data_dir, embed_cache)

    bad = make_bad_inputs(tmp_path)
    good = write("水务/交通局2023年工作总结和2024年工作思路.txt", SKIPPED_TWO)
    out = run_cli(tmp_path, env, "ingest", *(str(p) for p, _ in bad.values()), str(good))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr and "unexpected" not in out.stderr
    failed_lines = [line for line in out.stderr.splitlines() if line.startswith("reportbot: failed: ")]
    assert len(failed_lines) == len(bad)
    for path, reason in bad.values():
        (line,) = [line for line in failed_lines if line.startswith(f"reportbot: failed: {path}: ")]
        assert reason in line
    assert "new 1 · moved 0 · changed 0 · unchanged 0 · duplicate 0 · removed 0 · failed 9" in out.stdout
    assert out.stderr.count("\n") == len(bad)  # nothing else on stderr: no warnings, no traceback

    data = json.loads(run_cli(tmp_path, env, "status", "--json").stdout)
    assert sorted(r["title"] for r in data["reports"]) == sorted(
        ["环保局2023年工作总结及2024年工作计划", "交通局2023年工作总结和2024年工作思路"]
    )
    assert str(good) in {r["file"] for r in data["reports"]}
