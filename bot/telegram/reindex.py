"""Admin re-index inside the bot process: one at a time, in a worker thread, with one edited progress message."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from telegram import Message

from bot.services import Services
from ingest.pipeline import IngestResult, run_ingest

log = logging.getLogger(__name__)
PROGRESS_EVERY = 2.0


class Reindexer:
    """Single-flight: a second request while one runs is told so instead of queueing."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._running = False
        self._progress: tuple[str, int, int] = ("starting", 0, 0)

    @property
    def running(self) -> bool:
        return self._running

    async def run(self, paths: list[Path], status: Message) -> IngestResult | None:
        """Ingest paths, editing `status` as it goes; None when another re-index holds the slot."""
        if self._running:
            return None
        self._running = True
        try:
            work = asyncio.create_task(asyncio.to_thread(self._ingest, paths))
            last = ""
            while not work.done():
                await asyncio.wait({work}, timeout=PROGRESS_EVERY)
                stage, done, total = self._progress
                text = f"重建索引中：{'读取文件' if stage == 'reading' else '向量化'} {done}/{total}"
                if text != last and not work.done():
                    last = text
                    try:
                        await status.edit_text(text)
                    except Exception as exc:  # progress is best effort
                        log.debug("progress edit failed: %s", exc)
            return work.result()
        finally:
            self._running = False

    def _ingest(self, paths: list[Path]) -> IngestResult:
        embeddings = self.services.new_embeddings()
        try:
            return run_ingest(
                paths,
                self.services.settings,
                self.services.store,
                embeddings,
                prune=True,
                show_progress=False,
                progress=lambda stage, done, total: setattr(self, "_progress", (stage, done, total)),
            )
        finally:
            embeddings.close()


def summary_text(result: IngestResult) -> str:
    counts = result.counts
    manifest = result.manifest
    also = "".join(
        f"、{label} {counts[key]}" for key, label in (("moved", "移动"), ("duplicate", "重复")) if counts[key]
    )
    lines = [
        f"索引已更新：新增 {counts['new']}、更新 {counts['changed']}、未变 {counts['unchanged']}{also}、"
        f"移除 {counts['removed']}、失败 {counts['failed']} 个文件。",
        f"现有 {len(manifest.reports) if manifest else 0} 篇报告、{manifest.chunks if manifest else 0} 个片段。",
    ]
    lines.extend(f"失败：{Path(o.path).name}：{o.error}" for o in result.failed)
    lines.extend(f"注意：{Path(o.path).name}：{note}" for o in result.outcomes for note in o.notes)
    return "\n".join(lines)


__all__ = ["Reindexer", "summary_text"]
