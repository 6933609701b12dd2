"""Chunks: token-bounded, inside one section, exact offsets into the cleaned report, stable ids."""

from __future__ import annotations

import itertools

import pytest

from ingest.chunk import split_span
from ingest.read import read_text
from ingest.structure import segment_report
from tests.ingest.helpers import RANKED, count_tokens, parse, path_of


@pytest.fixture(scope="module")
def compilation_text(compilation):
    return read_text(compilation, 20_000_000)


@pytest.mark.parametrize("max_tokens", [48, 128, 256, 512])
def test_real_chunks_are_token_bounded_exact_and_inside_one_section(compilation_text, compilation, max_tokens):
    reports = parse(compilation_text, compilation.name, max_tokens=max_tokens)
    assert len(reports) == 11
    for report in reports:
        segments = segment_report(report.text)
        assert report.chunks
        for chunk in report.chunks:
            assert count_tokens(chunk.text) <= max_tokens, (report.title, chunk.section, len(chunk.text))
            assert report.text[chunk.start : chunk.end] == chunk.text
            assert chunk.text == chunk.text.strip()
            path = path_of(chunk.section)
            for seg in segments:
                if seg.start < chunk.end and chunk.start < seg.end:
                    assert seg.path[: len(path)] == path, (chunk.section, seg.path)
            assert chunk.block_start <= chunk.start < chunk.end <= chunk.block_end
            assert chunk.section.startswith(chunk.block)


@pytest.mark.parametrize("max_tokens", [16, 48, 128])
def test_no_report_text_is_lost(compilation_text, compilation, max_tokens):
    """Every non-blank character is in some chunk, or is a heading carried by a chunk's section path."""
    for report in parse(compilation_text, compilation.name, max_tokens=max_tokens):
        covered = set()
        for chunk in report.chunks:
            covered.update(range(chunk.start, chunk.end))
        headings = {h.rstrip("…") for c in report.chunks for h in path_of(c.section)}
        run = ""
        for i, ch in enumerate(report.text + "\n"):
            if i not in covered and ch != "\n":
                run += ch
            elif run:
                assert run.strip().rstrip("。：:") in headings, (report.title, run)
                run = ""


def test_overlong_sentence_with_uneven_token_density_stays_bounded():
    # one "sentence" without punctuation: cheap ASCII first, then rare characters of 2-3 tokens each
    text = "a" * 400 + "龘齉靐龗鱻" * 80
    spans = split_span(text, 0, len(text), 64, count_tokens)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert all(count_tokens(text[s:e]) <= 64 for s, e in spans)


def test_sentences_are_packed_not_cut():
    sentences = [f"第{i}项工作已经按计划完成并通过验收。" for i in range(30)]
    text = "".join(sentences)
    spans = split_span(text, 0, len(text), 60, count_tokens)
    assert len(spans) > 1
    for s, e in spans:
        assert text[s:e].endswith("。") and count_tokens(text[s:e]) <= 60
        assert text[s:e].count("。") >= 2  # several sentences per chunk, not one each


def test_a_paragraphs_short_title_starts_the_chunk_of_its_paragraph():
    first = "每月召开一次水利工程调度会，逐项核对进度，确保汛前完成全部除险加固任务。" * 3
    title = "优化服务，提升办事效率。"
    body = "全面推行取水许可电子证照，审批时限由二十个工作日压缩到五个工作日。" * 3
    text = f"{first}\n{title}{body}"
    budget = count_tokens(f"{first}\n{title}") + 2  # the title fits after the first paragraph, its body does not
    spans = split_span(text, 0, len(text), budget, count_tokens)
    assert text[spans[0][0] : spans[0][1]].strip() == first
    assert text[spans[1][0] : spans[1][1]].startswith(title + body[:10])
    assert all(count_tokens(text[s:e]) <= budget for s, e in spans)


@pytest.mark.parametrize("max_tokens", [8, 16, 512])
def test_written_report_loses_no_sentence(max_tokens):
    (report,) = parse(RANKED, max_tokens=max_tokens)
    indexed = "".join(c.text for c in report.chunks) + "".join(p for c in report.chunks for p in path_of(c.section))
    for needle in (
        "三是新建农村污水管网86公里",
        "推进清洁取暖改造，完成3000户",
        "新建乡镇污水处理站5座",
        "部分企业治污设施老化",
    ):
        assert needle in indexed, needle
    assert all(count_tokens(c.text) <= max_tokens for c in report.chunks)


def test_a_small_section_stays_one_chunk_with_its_items():
    (report,) = parse(RANKED, max_tokens=512)
    water = [c for c in report.chunks if "黑臭水体" in c.text]
    assert len(water) == 1
    assert "三是新建农村污水管网86公里" in water[0].text


def test_chunk_ids_are_unique_and_repeatable(compilation_text, compilation):
    first = parse(compilation_text, compilation.name)
    second = parse(compilation_text, compilation.name)
    ids = [c.chunk_id for r in first for c in r.chunks]
    assert len(ids) == len(set(ids))
    assert ids == [c.chunk_id for r in second for c in r.chunks]
    assert [c.ordinal for c in first[0].chunks] == list(range(len(first[0].chunks)))


def test_chunk_ids_depend_on_the_file():
    a = parse(RANKED, "a.txt")[0].chunks
    b = parse(RANKED, "b.txt")[0].chunks
    assert not {c.chunk_id for c in a} & {c.chunk_id for c in b}


def test_ids_of_untouched_sections_survive_an_edit_elsewhere():
    before = parse(RANKED, max_tokens=48)[0].chunks
    edited = RANKED.replace(
        "（二）水环境质量持续改善",
        "（二）土壤污染防治扎实推进\n完成受污染耕地安全利用率评估，建立土壤污染重点监管单位名录。\n（三）水环境质量持续改善",
    )
    after = parse(edited, max_tokens=48)[0].chunks
    assert len(after) > len(before)
    untouched = {c.chunk_id: (c.section, c.text) for c in before if c.section.startswith(("二、", "三、"))}
    assert untouched
    assert untouched.items() <= {c.chunk_id: (c.section, c.text) for c in after}.items()


def test_identical_paragraphs_in_one_section_get_distinct_ids():
    twin = "全年召开专题会议xx次，研究解决重点难点问题xx个，推动各项工作落地见效。"
    text = f"水务局2023年工作总结\n\n一、总体情况\n{twin}\n{twin}\n"
    chunks = parse(text, max_tokens=count_tokens(twin) + 4)[0].chunks
    twins = [c for c in chunks if c.text == twin]
    assert len(twins) == 2
    assert twins[0].section == twins[1].section == "一、总体情况"
    assert twins[0].chunk_id != twins[1].chunk_id


def test_a_whole_section_chunk_knows_the_subsection_of_each_of_its_parts():
    (report,) = parse(RANKED, max_tokens=512)
    (chunk,) = [c for c in report.chunks if "燃煤锅炉淘汰改造" in c.text]
    assert chunk.section == "一、2023年工作总结"  # the whole section fits: one chunk for its subsections
    at = chunk.text.index("完成燃煤锅炉淘汰改造17台")
    part = chunk.part_at(at)
    assert path_of(part.section) == (
        "一、2023年工作总结",
        "（一）大气污染防治成效明显",
        "2.工业废气治理",
        "（1）燃煤锅炉",
    )
    block = report.text[part.block_start : part.block_end]
    assert block.startswith("（1）燃煤锅炉") and "在线监测" not in block  # its own block, not the chunk's
    assert path_of(part.block)[-1] == "（1）燃煤锅炉"
    water = chunk.part_at(chunk.text.index("新建农村污水管网86公里"))
    assert path_of(water.section)[1:] == ("（二）水环境质量持续改善", "三是新建农村污水管网86公里")
    assert water.block.endswith("（二）水环境质量持续改善")  # an item opens the numbered section it is in
    assert "一是完成12条黑臭水体整治" in report.text[water.block_start : water.block_end]
    offsets = [p.offset for p in chunk.parts]
    assert offsets == sorted(offsets) and offsets[0] == 0
    for p in chunk.parts:  # each part starts where its text does, inside its block
        assert p.block_start <= chunk.start + p.offset < p.block_end
        heading = path_of(p.section)[-1] if p.section else ""
        assert chunk.text[p.offset :].startswith(heading.rstrip("…")[:4])


def test_a_chunk_cut_from_a_long_section_has_that_section_as_its_one_part():
    (report,) = parse(RANKED, max_tokens=16)
    for chunk in report.chunks:
        assert chunk.parts, chunk.section
        assert {p.section for p in chunk.parts} == {chunk.section}
        assert chunk.part_at(len(chunk.text)).section == chunk.section


def test_parts_survive_the_index_metadata():
    from ingest.index.schema import ChunkRecord

    (report,) = parse(RANKED, max_tokens=512)
    for chunk in report.chunks:
        back = ChunkRecord.from_stored(chunk.chunk_id, chunk.text, chunk.metadata())
        assert back.parts == chunk.parts
    legacy = {k: v for k, v in report.chunks[1].metadata().items() if k != "parts"}
    old = ChunkRecord.from_stored("x", report.chunks[1].text, legacy)  # an index written before parts
    assert old.parts == () and old.part_at(5).section == old.section
