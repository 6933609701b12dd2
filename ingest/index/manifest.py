"""The manifest: what a complete index generation holds. Publishing it is what makes a generation live."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ingest.index.errors import IndexMismatch
from ingest.index.schema import FORMAT, PARSER


@dataclass
class FileEntry:
    sha256: str
    size: int
    reports: list[str]
    chunks: int


@dataclass
class ReportEntry:
    report_id: str
    title: str
    file: str
    org: str
    sections: int
    chunks: int
    year: int | None
    plan_year: int | None
    kind: str


@dataclass
class Manifest:
    generation: str
    embedding: str
    dim: int
    chunk_tokens: int
    created: str
    files: dict[str, FileEntry] = field(default_factory=dict)
    reports: list[ReportEntry] = field(default_factory=list)
    format: int = FORMAT
    parser: int = PARSER

    def check_readable(self) -> None:
        if self.format != FORMAT:
            raise IndexMismatch(
                f"the index was built by another version of reportbot (index format {self.format}, this one reads "
                f"{FORMAT}): run `reportbot ingest --rebuild PATH...`"
            )

    @property
    def chunks(self) -> int:
        return sum(r.chunks for r in self.reports)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Any format parses, so an ingest can rebuild an old index; readers check `readable` before use."""
        data: dict[str, Any] = json.loads(text)
        data.setdefault("format", 1)
        data.setdefault("parser", 1)
        data["files"] = {k: FileEntry(**v) for k, v in data["files"].items()}
        data["reports"] = [ReportEntry(**r) for r in data["reports"]]
        return cls(**data)
