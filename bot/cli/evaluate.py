"""`reportbot eval`: retrieval and answer quality on a JSONL question set, in the dev set's format."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.answer import Answer, Answerer
from bot.errors import BadInput


@dataclass
class EvalReport:
    answerable: int = 0
    hit1: int = 0
    hit5: int = 0
    rr: float = 0.0
    report1: int = 0
    unanswerable: int = 0
    refused: int = 0
    cited: int = 0
    found: int = 0
    latencies: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        n = max(self.answerable, 1)
        lat = sorted(self.latencies) or [0.0]
        return {
            "questions": self.answerable + self.unanswerable,
            "hit@1": round(self.hit1 / n, 3),
            "hit@5": round(self.hit5 / n, 3),
            "mrr": round(self.rr / n, 3),
            "report@1": round(self.report1 / n, 3),
            "refused_unanswerable": f"{self.refused}/{self.unanswerable}",
            "found_answers_cited": f"{self.cited}/{self.found}",
            "latency_ms_mean": round(statistics.fmean(lat) * 1000, 1),
            "latency_ms_p50": round(lat[len(lat) // 2] * 1000, 1),
            "latency_ms_p95": round(lat[min(len(lat) - 1, int(len(lat) * 0.95))] * 1000, 1),
        }


def squash(text: str) -> str:
    return "".join(text.split())


def evidence_rank(answer: Answer, evidence: list[str]) -> int | None:
    """1-based rank of the first source whose text holds an evidence string, whitespace ignored."""
    wanted = [squash(e) for e in evidence if e.strip()]
    for source in answer.sources:
        body = squash(source.text)
        if any(e in body for e in wanted):
            return source.n
    return None


def read_questions(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BadInput(f"{path}:{line_no}: not JSON ({exc.msg})") from None


def run_eval(answerer: Answerer, path: Path, k: int, output: Path | None) -> EvalReport:
    report = EvalReport()
    out = open(output, "w", encoding="utf-8") if output else None
    try:
        for item in read_questions(path):
            answer = answerer.ask(item["question"], k=k)
            report.latencies.append(answer.seconds)
            if answer.found:
                report.found += 1
                report.cited += bool(answer.cited_sources)
            if item.get("answerable", True):
                report.answerable += 1
                rank = evidence_rank(answer, item.get("evidence", [])) if answer.found else None
                report.hit1 += rank == 1
                report.hit5 += rank is not None and rank <= 5
                report.rr += 1 / rank if rank else 0.0
                word = item.get("report") or ""
                report.report1 += bool(answer.found and answer.sources and word and word in answer.sources[0].report)
            else:
                report.unanswerable += 1
                report.refused += not answer.found
            if out:
                out.write(json.dumps(answer.record(item.get("id")), ensure_ascii=False) + "\n")
    finally:
        if out:
            out.close()
    return report
