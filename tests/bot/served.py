"""An Answerer over a folder of reports, ingested as `reportbot ingest` does: the answer tests' one way to serve
reports they write themselves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from bot.answer import Answerer
from bot.services import Services
from bot.settings import Settings
from ingest.pipeline import run_ingest


def served(folder: Path, embed_cache: Path, **overrides: object) -> Iterator[Answerer]:
    settings = Settings(_env_file=None, data_dir=folder / "data", embed_cache=embed_cache, **overrides)  # type: ignore[arg-type]
    svc = Services(settings, serving=False)
    assert not run_ingest([folder], settings, svc.store, svc.embeddings, show_progress=False).failed
    yield svc.answerer()
    svc.close()
