"""Terminal output: answers with their sources, ingest summaries, status tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from bot.answer import Answer
from ingest.index.manifest import Manifest

if TYPE_CHECKING:  # the ingest pipeline (readers, parsers) is not needed to print an answer
    from ingest.pipeline import IngestResult


def answer_text(answer: Answer, show_answer: bool = True) -> str:
    lines = [*(f"（{n}）" for n in answer.notes)]
    if show_answer:
        lines.append(answer.answer)
    cited = answer.cited_sources
    if answer.found and cited:
        lines.append("")
        lines.append("来源：")
        lines.extend(f"[{s.n}] {s.label}    (reportbot source {s.ref})" for s in cited)
    return "\n".join(lines)


def ingest_table(console: Console, result: IngestResult) -> None:
    table = Table(title="ingest", show_lines=False)
    for col in ("file", "status", "reports", "chunks"):
        table.add_column(col, overflow="fold")
    for o in result.outcomes:
        status = o.status if o.status != "failed" else f"failed: {o.error}"
        table.add_row(o.path, "\n".join([status, *o.notes]), str(o.reports), str(o.chunks))
    console.print(table)
    counts = result.counts
    total = result.manifest.chunks if result.manifest else 0
    console.print(
        " · ".join(f"{k} {v}" for k, v in counts.items())
        + f" · embedded {result.embedded} · index {total} chunks · {result.seconds:.1f}s"
    )


def status_json(manifest: Manifest | None, store: str) -> dict[str, object]:
    if manifest is None:
        return {"reports": [], "chunks": 0, "embedding": None, "store": store, "generation": None}
    return {
        "reports": [
            {
                "title": r.title,
                "file": r.file,
                "sections": r.sections,
                "chunks": r.chunks,
                "year": r.year,
                "kind": r.kind,
            }
            for r in manifest.reports
        ],
        "chunks": manifest.chunks,
        "embedding": f"{manifest.embedding} ({manifest.dim}-d)",
        "store": store,
        "generation": manifest.generation,
        "created": manifest.created,
    }


def status_table(console: Console, data: dict[str, object]) -> None:
    if data["generation"] is None:
        console.print(f"nothing indexed yet in {data['store']}: run `reportbot ingest PATH...`")
        return
    table = Table(title=f"{len(data['reports'])} reports · {data['chunks']} chunks")  # type: ignore[arg-type]
    for col in ("title", "year", "kind", "sections", "chunks", "file"):
        table.add_column(col, overflow="fold")
    for r in data["reports"]:  # type: ignore[attr-defined]
        table.add_row(r["title"], str(r["year"] or ""), r["kind"], str(r["sections"]), str(r["chunks"]), r["file"])
    console.print(table)
    console.print(f"embedding: {data['embedding']} · store: {data['store']} · generation: {data.get('generation')}")
