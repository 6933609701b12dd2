"""Errors of the ingest job: a file that can't be indexed, and an ingest that can't start."""

from __future__ import annotations

from pathlib import Path

from ingest.index.errors import ReportbotError


class FileRejected(ReportbotError):
    """A file that cannot be indexed; callers name the file and go on with the rest."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IngestBusy(ReportbotError):
    """Another ingest holds the writer lock."""
