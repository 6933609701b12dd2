"""One exception type for anything wrong with an input file, so callers can name the file and go on."""

from __future__ import annotations

from pathlib import Path


class FileRejected(Exception):
    """A file that cannot be indexed; the message is shown to the user as is."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
