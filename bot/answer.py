"""The answering core shared by the CLI and Telegram: question → plan → retrieval → cited answer."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from bot.compose import compose
from bot.errors import EmptyQuestion
from bot.followup import Conversation, Turn, carry_forward
from bot.llm import check_citations, condense, generate, leaks_prompt
from bot.prompts import Prompts
from bot.query import QueryPlan, plan_query
from bot.retrieve import Hit, retrieve
from bot.settings import Settings
from ingest.index.manifest import ReportEntry
from ingest.index.reader import IndexReader, LoadedIndex
from ingest.lexicon.normalize import normalize_for_match

log = logging.getLogger(__name__)
_WORDY = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


@dataclass
class Source:
    n: int
    ref: str
    report: str
    section: str
    file: str
    chunk_id: str
    score: float
    text: str
    cited: bool = False

    @property
    def label(self) -> str:
        return " › ".join(p for p in (self.report, self.section) if p)


@dataclass
class Answer:
    question: str
    found: bool
    answer: str
    sources: list[Source] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    llm: bool = False
    seconds: float = 0.0

    @property
    def cited_sources(self) -> list[Source]:
        return [s for s in self.sources if s.cited]

    def record(self, record_id: str | None = None) -> dict[str, Any]:
        """The JSON record of `ask --json` and `eval --output`."""
        out: dict[str, Any] = {} if record_id is None else {"id": record_id}
        out.update(
            question=self.question,
            found=self.found,
            answer=self.answer,
            sources=[{k: v for k, v in asdict(s).items() if k != "cited"} for s in self.sources],
        )
        if self.notes:
            out["notes"] = self.notes
        return out


@dataclass(frozen=True)
class SectionText:
    report: str
    section: str
    file: str
    text: str


def report_names(reports: list[ReportEntry], limit: int = 12) -> str:
    titles = [r.title for r in reports]
    shown = "、".join(f"《{t}》" for t in titles[:limit])
    return shown + (f" 等 {len(titles)} 篇" if len(titles) > limit else "")


class Answerer:
    """Holds what answering needs, built once: the index reader, the embedder, and optionally an LLM."""

    def __init__(
        self,
        reader: IndexReader,
        embedder: Embeddings,
        settings: Settings,
        llm: BaseChatModel | None = None,
        prompts: Prompts | None = None,
    ) -> None:
        self.reader = reader
        self.embedder = embedder
        self.settings = settings
        self.llm = llm if prompts is not None else None
        self.prompts = prompts

    def reports(self) -> list[ReportEntry]:
        return self.reader.current().manifest.reports

    def ask(
        self,
        question: str,
        report: str | None = None,
        conversation: Conversation | None = None,
        on_token: Callable[[str], None] | None = None,
        k: int | None = None,
    ) -> Answer:
        started = time.perf_counter()
        question, notes = self._tidy(question)
        index = self.reader.current()
        answer = self._answer(index, question, report, conversation, on_token, k or self.settings.top_k, notes)
        answer.seconds = time.perf_counter() - started
        return answer

    def _tidy(self, question: str) -> tuple[str, list[str]]:
        question = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", question or "").strip()
        if not question:
            raise EmptyQuestion("the question is empty")
        notes: list[str] = []
        limit = self.settings.max_question_chars
        if len(question) > limit:
            question = question[:limit]
            notes.append(f"问题过长，只按前 {limit} 个字作答。")
        return question, notes

    def _answer(
        self,
        index: LoadedIndex,
        question: str,
        report: str | None,
        conversation: Conversation | None,
        on_token: Callable[[str], None] | None,
        k: int,
        notes: list[str],
    ) -> Answer:
        reports = index.manifest.reports
        if not _WORDY.search(question):
            return Answer(
                question,
                False,
                "这个问题里没有可检索的文字，请用中文提问，例如：粮食局明年打算新建哪些粮库？",
                notes=notes,
            )
        standalone = self._standalone(question, conversation)
        plan = carry_forward(plan_query(standalone, reports, index.untitled_terms), conversation)
        if report:
            wanted = normalize_for_match(report)
            chosen = [r.report_id for r in reports if wanted in normalize_for_match(r.title)]
            if not chosen:
                return Answer(
                    question, False, f"没有名为“{report}”的报告。已索引的报告：{report_names(reports)}", notes=notes
                )
            plan.groups = [chosen]
        if plan.unknown_orgs and not plan.groups:
            names = "、".join(plan.unknown_orgs)
            return Answer(
                question,
                False,
                f"已索引的报告中没有{names}的报告，无法回答。已索引的报告：{report_names(reports)}",
                notes=notes,
            )
        hits = retrieve(index, self.embedder, plan, k)
        ignore = index.org_terms
        if not self._relevant(hits, plan, index, ignore):
            return Answer(question, False, self._not_found(index, hits), self._sources(hits), notes=notes)
        sources = self._sources(hits)
        text, cited, used_llm = self._compose(question, plan, hits, index, ignore, on_token, notes)
        for s in sources:
            s.cited = s.n in cited
        answer = Answer(question, True, text, sources, notes, used_llm)
        if conversation is not None:
            conversation.add(Turn(question, text, plan.groups, _subject(plan.search_terms, ignore)))
        return answer

    def _standalone(self, question: str, conversation: Conversation | None) -> str:
        if self.llm is None or self.prompts is None or conversation is None or conversation.last is None:
            return question
        try:
            return condense(self.llm, self.prompts, conversation.pairs(), question)
        except Exception as exc:  # any API failure: fall back to carrying context forward ourselves
            log.warning("condense failed: %s", type(exc).__name__)
            return question

    def _relevant(self, hits: list[Hit], plan: QueryPlan, index: LoadedIndex, ignore: set[str]) -> bool:
        """Calibrated on the dev set plus off-topic questions (bench/offtopic.jsonl): see README."""
        if not hits:
            return False
        s = self.settings
        best = max(h.dense for h in hits)
        coverage = term_coverage(plan.search_terms, hits, index, ignore)
        if best >= s.min_score:
            if coverage > 0 or best >= s.min_score_uncovered:
                return True
            # "统计局有哪些不足" names a report and a part of it (its problems, its plan): that part answers it
            return bool(plan.groups and plan.kind and hits[0].record.kind == plan.kind)
        return best >= s.min_score_lexical and coverage >= s.min_coverage

    def _not_found(self, index: LoadedIndex, hits: list[Hit]) -> str:
        near: list[str] = []
        for h in hits:
            if h.record.report not in near:
                near.append(h.record.report)
        nearest = "、".join(f"《{t}》" for t in near[:3])
        return "已索引的报告中没有找到与这个问题相关的内容。" + (f"最接近的报告：{nearest}。" if nearest else "")

    def _compose(
        self,
        question: str,
        plan: QueryPlan,
        hits: list[Hit],
        index: LoadedIndex,
        ignore: set[str],
        on_token: Callable[[str], None] | None,
        notes: list[str],
    ) -> tuple[str, set[int], bool]:
        if self.llm is not None and self.prompts is not None:
            try:
                raw = generate(self.llm, self.prompts, plan.question, hits, on_token)
                checked = check_citations(raw, len(hits))
                if leaks_prompt(raw, self.prompts):
                    log.warning("LLM reply reproduced the prompt; answering extractively")
                    notes.append("大模型的回答不可用，以下改为报告原文摘录。")
                elif checked.cited:
                    return checked.text, checked.cited, True
                else:
                    notes.append("大模型的回答没有有效引用，以下改为报告原文摘录。")
            except Exception as exc:  # API errors, timeouts, malformed replies all end in the extractive answer
                log.warning("LLM failed (%s); answering extractively", type(exc).__name__)
                notes.append("大模型服务暂时不可用，以下为报告原文摘录。")
        text, cited = compose(
            plan.search_terms,
            hits,
            index.bm25,
            self.settings.answer_chars,
            ignore,
            per_report=plan.across or plan.comparison,
            every=plan.comparison,
        )
        if not cited:
            text, cited = f"据《{hits[0].record.report}》：{hits[0].record.text[:200]}[1]", {1}
        return text, cited, False

    def _sources(self, hits: list[Hit]) -> list[Source]:
        return [
            Source(
                n=n,
                ref=h.record.chunk_id,
                report=h.record.report,
                section=h.record.section,
                file=h.record.file,
                chunk_id=h.record.chunk_id,
                score=round(h.score, 5),
                text=h.record.text,
            )
            for n, h in enumerate(hits, start=1)
        ]

    def source(self, ref: str) -> SectionText | None:
        """The whole original section a citation points into."""
        index = self.reader.current()
        pos = index.positions.get(ref.strip())
        if pos is None:
            return None
        rec = index.records[pos]
        text = index.report_text(rec.report_id)
        body = text[rec.block_start : rec.block_end] if text else rec.text
        return SectionText(rec.report, rec.block or rec.section, rec.file, body.strip())


def term_coverage(question_terms: Iterable[str], hits: list[Hit], index: LoadedIndex, ignore: set[str]) -> float:
    """Share of the question's term weight found in the retrieved chunks; unseen terms weigh the most."""
    wanted = {t for t in question_terms if t not in ignore}
    if not wanted:
        return 0.0
    present: set[str] = set()
    for hit in hits:
        present.update(hit.record.terms)
    top = max(index.bm25.idf.values(), default=1.0)
    total = sum(index.bm25.idf.get(t, top) for t in wanted)
    return sum(index.bm25.idf.get(t, top) for t in wanted if t in present) / total


def _subject(search_terms: Iterable[str], ignore: set[str]) -> str:
    return " ".join(t for t in search_terms if t not in ignore)[:120]
