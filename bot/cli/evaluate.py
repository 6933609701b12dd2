"""`reportbot eval`: retrieval and answer quality on a JSONL question set, in the dev set's format."""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.answer import Answer, Answerer
from bot.errors import BadInput
from ingest.lexicon.normalize import normalize_for_match


@dataclass
class EvalReport:
    answerable: int = 0
    hit1: int = 0
    hit5: int = 0
    rr: float = 0.0
    report1: int = 0
    named: int = 0
    wrongly_refused: int = 0
    leads: int = 0
    answer_chars: list[int] = field(default_factory=list)
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
            "report@1": round(self.report1 / max(self.named, 1), 3),
            "refused_unanswerable": f"{self.refused}/{self.unanswerable}",
            "refused_answerable": self.wrongly_refused,
            "answer_leads_80": round(self.leads / n, 3),
            "answer_chars_p50": sorted(self.answer_chars)[len(self.answer_chars) // 2] if self.answer_chars else 0,
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


def leads_with(answer: str, evidence: list[str], within: int = 80) -> bool:
    """The answering text starts within the answer's first `within` characters (markers and spaces not counted)."""
    shown = squash(normalize_for_match(re.sub(r"\[\d+\]", "", answer)))
    return any(0 <= shown.find(squash(normalize_for_match(e))) < within for e in evidence if e.strip())


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
                report.named += bool(word)
                report.report1 += bool(answer.found and answer.sources and word and word in answer.sources[0].report)
                report.wrongly_refused += not answer.found
                if answer.found:
                    report.leads += leads_with(answer.answer, item.get("evidence", []))
                    report.answer_chars.append(len(answer.answer))
            else:
                report.unanswerable += 1
                report.refused += not answer.found
            if out:
                out.write(json.dumps(answer.record(item.get("id")), ensure_ascii=False) + "\n")
    finally:
        if out:
            out.close()
    return report
