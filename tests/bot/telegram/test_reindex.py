"""The re-index summary an admin reads in Telegram: every file counted, moves and copies named when there are any."""

from __future__ import annotations

from bot.telegram.reindex import summary_text
from ingest.pipeline import FileOutcome, IngestResult


def test_the_summary_counts_moves_and_copies_only_when_there_are_some():
    plain = summary_text(IngestResult([FileOutcome("/r/a.txt", "new", 1, 9), FileOutcome("/r/b.txt", "unchanged")]))
    assert plain.splitlines()[0] == "索引已更新：新增 1、更新 0、未变 1、移除 0、失败 0 个文件。"
    moved = IngestResult(
        [
            FileOutcome("/new/a.txt", "moved", 1, 9, notes=["moved from /old/a.txt"]),
            FileOutcome("/new/a（转发）.txt", "duplicate", notes=["same content as /new/a.txt: indexed once"]),
        ]
    )
    text = summary_text(moved)
    assert text.splitlines()[0] == "索引已更新：新增 0、更新 0、未变 0、移动 1、重复 1、移除 0、失败 0 个文件。"
    assert "注意：a.txt：moved from /old/a.txt" in text
