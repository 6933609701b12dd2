"""Extractive answers read like answers: relevant sentences, in report order, each run cited."""

from __future__ import annotations

import re

from bot.compose import compose
from bot.retrieve import Hit
from ingest.index.lexical import BM25
from ingest.index.schema import ChunkRecord
from ingest.lexicon.grammar import sentences
from ingest.lexicon.terms import terms


def record(cid: str, text: str, start: int, report: str = "粮食局2023年工作总结") -> ChunkRecord:
    return ChunkRecord(
        chunk_id=cid,
        report_id="r1",
        ordinal=0,
        section="一、总结",
        block="一、总结",
        start=start,
        end=start + len(text),
        block_start=0,
        block_end=0,
        text=text,
        kind="总结",
        year=2023,
        report=report,
        file="f.txt",
        terms=tuple(terms(text)),
    )


def test_sentences_keep_their_offsets():
    text = "一是抓开工。二是促竣工；三是强谋划！"
    parts = sentences(text)
    assert [t for _, t in parts] == ["一是抓开工。", "二是促竣工；", "三是强谋划！"]
    assert all(text[s : s + len(t)] == t for s, t in parts)


def test_answer_cites_each_run_and_follows_report_order():
    a = record("a", "连城中心粮库项目总投资xxxx万元。拟建xx座仓库。", 100)
    b = record("b", "粮库信息化建设完成。与仓库无关的一句话。", 10)
    hits = [Hit(a, 0.03, 0.9, 10.0), Hit(b, 0.02, 0.88, 5.0)]
    bm25 = BM25([list(a.terms), list(b.terms)])
    text, cited = compose(terms("连城中心粮库建多少座仓库"), hits, bm25, 420, set())
    assert text.startswith("据《粮食局2023年工作总结》：")
    assert cited == {int(n) for n in re.findall(r"\[(\d)\]", text)}
    assert 1 in cited
    assert "与仓库无关" not in text


def test_no_shared_terms_falls_back_to_the_top_source_opening():
    a = record("a", "二、存在的问题\n一是预警预测的水平有待提升。二是统计服务水平有待提升。", 0)
    bm25 = BM25([list(a.terms)])
    text, cited = compose(terms("短板有哪些"), [Hit(a, 0.03, 0.9, 0.0)], bm25, 420, set())
    assert "预警预测" in text and cited == {1}


def test_length_is_capped():
    long = "。".join(f"粮库建设第{i}项工作进展顺利" for i in range(100)) + "。"
    a = record("a", long, 0)
    text, _ = compose(terms("粮库建设进展"), [Hit(a, 0.03, 0.9, 1.0)], BM25([list(a.terms)]), 200, set())
    assert len(text) < 320
