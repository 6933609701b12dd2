"""Title facts (org, year, kind) and what every indexed chunk carries: title, section, file, offsets, year, kind."""

from __future__ import annotations

import pytest

from ingest.report import TitleFacts, classifier, title_facts
from tests.ingest.helpers import RANKED, SKIPPED_TWO, UNNUMBERED, parse, path_of


@pytest.mark.parametrize(
    ("title", "facts"),
    [
        ("粮食局2023年工作总结及2024年工作计划", TitleFacts("粮食局", 2023, 2024, ("总结", "计划"))),
        ("商务局关于2023年工作总结及2024年工作打算的总结", TitleFacts("商务局", 2023, 2024, ("总结", "计划"))),
        ("民族事务委员会2023年工作总结及下一步工作计划", TitleFacts("民族事务委员会", 2023, 2024, ("总结", "计划"))),
        ("工业园区2023年工作总结和2023年工作思路", TitleFacts("工业园区", 2023, 2024, ("总结", "计划"))),
        ("2023年工作总结和2024年工作谋划", TitleFacts("", 2023, 2024, ("总结", "计划"))),
        ("文旅局2023年工作总结", TitleFacts("文旅局", 2023, None, ("总结",))),
        ("审计局述职报告", TitleFacts("", None, None, ("总结",))),
    ],
)
def test_title_facts(title, facts):
    assert title_facts(title) == facts


def test_kind_label_joins_kinds():
    assert title_facts("粮食局2023年工作总结及2024年工作计划").kind == "总结+计划"


def test_section_kind_and_year_follow_the_top_heading():
    classify = classifier(title_facts("粮食局2023年工作总结及2024年工作计划"))
    assert classify(("一、2023年工作总结", "（二）积极推进仓储项目建设")) == ("总结", 2023)
    assert classify(("二、存在的问题",)) == ("问题", 2023)
    assert classify(("三、2024年工作计划", "（一）提高政治站位")) == ("计划", 2024)
    assert classify(("二、明年工作思路",)) == ("计划", 2024)
    assert classify(()) == ("总结", 2023)


def test_a_lower_heading_that_names_only_a_part_heads_that_part():
    """A problems section filed under the summary ("一、…总结 › （三）存在的主要问题") is the problems part; a heading
    that merely has a part word in it is work done."""
    classify = classifier(title_facts("招商中心2023年工作总结和2024年工作安排"))
    assert classify(("一、2023年工作总结", "（三）存在的主要问题")) == ("问题", 2023)
    assert classify(("一、2023年工作总结", "（三）存在的主要问题", "1.招大引强不足")) == ("问题", 2023)
    assert classify(("一、工作开展情况", "(四)存在问题及建议")) == ("问题", 2023)
    assert classify(("一、2023年工作总结和2024年工作安排", "（四）2024年工作打算")) == ("计划", 2024)
    assert classify(("一、2023年工作总结", "（二）解决群众困难问题")) == ("总结", 2023)
    assert classify(("一、2023年工作总结", "（一）主要指标完成情况")) == ("总结", 2023)
    assert classify(("三、2024年工作安排", "二是加强计划管理")) == ("计划", 2024)


def test_written_reports_carry_kind_and_year():
    (ranked,) = parse(RANKED, max_tokens=48)
    by_top = {}
    for chunk in ranked.chunks:
        by_top.setdefault(path_of(chunk.section)[:1], set()).add((chunk.kind, chunk.year))
    assert by_top == {
        (): {("总结", 2023)},
        ("一、2023年工作总结",): {("总结", 2023)},
        ("二、存在的问题",): {("问题", 2023)},
        ("三、2024年工作计划",): {("计划", 2024)},
    }
    (skipped,) = parse(SKIPPED_TWO)
    assert {c.kind for c in skipped.chunks if c.section.startswith("三、")} == {"计划"}
    (unnumbered,) = parse(UNNUMBERED)
    assert {c.kind for c in unnumbered.chunks if c.section.startswith("下一步工作打算")} == {"计划"}
    assert {c.year for c in unnumbered.chunks if not c.section.startswith("下一步")} == {2023}


def test_report_ids_are_distinct_for_same_titles_in_one_file():
    reports = parse(f"{RANKED}\n\n{RANKED}")
    assert [r.title for r in reports] == ["环保局2023年工作总结及2024年工作计划"] * 2
    assert reports[0].report_id != reports[1].report_id
    assert not {c.chunk_id for c in reports[0].chunks} & {c.chunk_id for c in reports[1].chunks}


def test_every_indexed_chunk_carries_its_citation(indexed, compilation):
    manifest, got, report_texts, _ = indexed
    titles = {r.report_id: r.title for r in manifest.reports}
    assert len(titles) == 11 and len(report_texts) == 11
    for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
        assert meta["file"] == str(compilation.resolve())
        assert meta["report"] == titles[meta["report_id"]]
        assert report_texts[meta["report_id"]][meta["start"] : meta["end"]] == doc
        assert meta["block_start"] <= meta["start"] < meta["end"] <= meta["block_end"]
        assert meta["section"].startswith(meta["block"])
        assert (meta["kind"], meta["year"]) in {("总结", 2023), ("问题", 2023), ("计划", 2024)}, (cid, meta)
        assert meta["terms"].strip()
    assert len(set(got["ids"])) == len(got["ids"]) == manifest.chunks


def test_indexed_liangshiju_plan_and_summary(indexed):
    _, got, _, _ = indexed
    grain = [m for m in got["metadatas"] if m["report"] == "粮食局2023年工作总结及2024年工作计划"]
    assert {(m["kind"], m["year"]) for m in grain if m["section"].startswith("三、2024年工作计划")} == {("计划", 2024)}
    assert {(m["kind"], m["year"]) for m in grain if m["section"].startswith("一、2023年工作总结")} == {("总结", 2023)}
    assert {(m["kind"], m["year"]) for m in grain if m["section"].startswith("二、存在的问题")} == {("问题", 2023)}
    assert any(
        m["section"].startswith("一、2023年工作总结 › （二）积极推进仓储项目建设及粮库信息化建设") for m in grain
    )


def test_manifest_reports_match_the_index(indexed, compilation):
    manifest, got, _, report_meta = indexed
    per_report = {}
    for meta in got["metadatas"]:
        per_report[meta["report_id"]] = per_report.get(meta["report_id"], 0) + 1
    assert {r.report_id: r.chunks for r in manifest.reports} == per_report
    assert all(r.year == 2023 and r.plan_year == 2024 and r.kind == "总结+计划" for r in manifest.reports)
    assert {m["title"] for m in report_meta} == {r.title for r in manifest.reports}
    entry = manifest.files[str(compilation.resolve())]
    assert entry.chunks == manifest.chunks and len(entry.reports) == 11
