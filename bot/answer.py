"""The answering core shared by the CLI and Telegram: question → plan → retrieval → cited answer."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import takewhile
from typing import TYPE_CHECKING, Any

from bot.compose import compose
from bot.errors import EmptyQuestion
from bot.followup import Conversation, Turn, ask_back, asked_ordinal, carry_forward, leans_softly
from bot.measure import asked_before, asks_list, redacted_only
from bot.outline import Heading, Outline, RollCall, missing_part, outline_of, roll_call
from bot.prompts import Prompts
from bot.query import QueryPlan, last_year_unheld, plan_query
from bot.relevance import (
    asked_missing,
    content_terms,
    figure_given,
    missing_share,
    phase_missing,
    said_in_one_sentence,
    term_coverage,
)
from bot.retrieve import Hit, filled_template, retrieve
from bot.settings import Settings
from ingest.index.manifest import ReportEntry
from ingest.index.reader import IndexReader, LoadedIndex
from ingest.index.schema import SEP, ChunkRecord, Part, under
from ingest.lexicon.normalize import normalize_for_match, restore_censored
from ingest.lexicon.terms import terms

if TYPE_CHECKING:  # LangChain's chat models take ~1 s to import; answers without an LLM never need them
    from langchain_core.language_models import BaseChatModel

    from ingest.index.embed import Embeddings

log = logging.getLogger(__name__)
PART_POOL = 3
"""A question naming only a part of the report draws this many times k and keeps that part's chunks."""
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
        """The citation as shown beside the answer, read as the answer is (从严治D → 从严治党); `section` stays
        verbatim, as `source` opens it."""
        return restore_censored(" › ".join(p for p in (self.report, self.section) if p))


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


def _whose_report(plan: QueryPlan, index: LoadedIndex) -> list[str]:
    """Notes for an answer that speaks from another place's unit or another year than the question names:
    given only when something is answered, as a refusal has nothing to speak for."""
    notes = [f"问题说的是“{asked}”，已索引的是{org}的报告，以下据它作答。" for asked, org in plan.elsewhere]
    notes += [
        f"已索引的{e.org}报告只有{e.year}年的，以下是它写的{e.year}年情况。"
        for e in last_year_unheld(plan, index.shelf)
    ]
    return list(dict.fromkeys(notes))


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
        soft: bool = True,
    ) -> Answer:
        """`soft`: a question naming no unit may be taken as about the last turn's unit (`leans_softly`); if
        that unit's report does not answer it, it is asked again of every report."""
        reports = index.manifest.reports
        if not _WORDY.search(question):
            return Answer(
                question,
                False,
                "这个问题里没有可检索的文字，请用中文提问，例如：粮食局明年打算新建哪些粮库？",
                notes=notes,
            )
        if conversation and conversation.last and (n := asked_ordinal(question, conversation)) is not None:
            listed = conversation.last.outline
            if not 1 <= n <= len(listed):
                return Answer(
                    question,
                    False,
                    f"上一个回答列出了{len(listed)}项，请说第1到第{len(listed)}项中的哪一项。",
                    notes=notes,
                )
            return self._heading_answer(index, question, listed[n - 1], conversation, k, notes)
        standalone = self._standalone(question, conversation)
        plan = plan_query(standalone, index.shelf, index.untitled_terms)
        whose = [n for n in _whose_report(plan, index) if n not in notes]
        own = content_terms(plan, index, index.org_terms | plan.name_terms, kinds=True)
        own_bare = not own
        bare = own_bare and len(index.shelf.by_org) > 1
        softly = soft and not report and leans_softly(plan, conversation, bare)
        plan = carry_forward(plan, conversation, bare, softly)
        if report:
            wanted = normalize_for_match(report)
            chosen = [r.report_id for r in reports if wanted in normalize_for_match(r.title)]
            if not chosen:
                return Answer(
                    question, False, f"没有名为“{report}”的报告。已索引的报告：{report_names(reports)}", notes=notes
                )
            plan.groups = [chosen]
        elif (asked_back := ask_back(plan, conversation, index.shelf, bare)) is not None:
            return Answer(question, False, asked_back, notes=notes)
        unknown = _no_report_of(plan, reports) if plan.unknown_orgs and not plan.groups else None
        if unknown is not None and not _spoken_of(plan.unknown_orgs, index.records):
            return Answer(question, False, unknown, notes=notes)
        ignore = index.org_terms | plan.name_terms
        topic = content_terms(plan, index, ignore, kinds=True)  # with what a follow-up borrowed
        if (whole := self._part_answer(question, plan, index, topic, own_bare, conversation, notes)) is not None:
            if whole.found:
                notes.extend(whose)
            return whole
        borrowed = own_bare and bool(topic)
        hits, judged = self._retrieve(index, plan, k, in_part=own_bare, borrowed=borrowed)
        if unknown is not None and not _spoken_of(plan.unknown_orgs, [h.record for h in hits]):
            return Answer(question, False, unknown, self._sources(hits), notes=notes)
        if not (own_bare and not borrowed and _part_found(plan, hits)) and (
            not self._relevant(judged, plan, index, ignore)
            or (softly and self._said_elsewhere(index, standalone, own, hits, k))
        ):
            if softly:
                return self._answer(index, question, report, conversation, on_token, k, notes, soft=False)
            return Answer(question, False, unknown or self._not_found(index, hits), self._sources(hits), notes=notes)
        text, cited, used_llm = self._compose(question, plan, hits, index, ignore, on_token, notes)
        if plan.amount and not used_llm and redacted_only(text.split("[", 1)[0]):
            notes.append("报告原文中这个数字已隐去（以 x 代替），报告没有给出具体数值。")
        sources = self._sources(hits, cited)
        notes.extend(whose)
        answer = Answer(question, True, text, sources, notes, used_llm)
        if conversation is not None:
            about = " ".join(_about(topic, hits, own_bare))[:120]
            conversation.add(Turn(question, text, plan.groups, about, plan.kind, tuple(plan.named)))
        return answer

    def _part_answer(
        self,
        question: str,
        plan: QueryPlan,
        index: LoadedIndex,
        topic: list[str],
        own_bare: bool,
        conversation: Conversation | None,
        notes: list[str],
    ) -> Answer | None:
        """A question about a whole part (or report) of one unit, or of every unit: the part said missing, its
        outline, or each report's outline of it in a line."""
        whole = plan.kind and plan.report_ids and not plan.comparison and not plan.across
        if own_bare and whole and (missing := missing_part(index.records, plan.report_ids or [], plan.kind or "")):
            if conversation is not None:  # understood, only not written: "管委会呢？" next asks the same part
                conversation.add(Turn(question, missing, plan.groups, "", plan.kind, tuple(plan.named)))
            return Answer(question, False, missing, notes=notes)
        if (roll := self._roll_call(plan, index, topic)) is not None:
            text, headings = roll.composed()
            # "第二个具体说说" next opens the second report's part
            listed = tuple((o.headings[0].record.report_id, o.root) for o in roll.outlines)
        elif (outline := self._outline(plan, index, topic)) is not None:
            text, headings = outline.composed()
            listed = tuple((h.record.report_id, h.section) for h in headings)
        else:
            return None
        if conversation is not None:
            conversation.add(Turn(question, text, plan.groups, "", plan.kind, tuple(plan.named), listed))
        return Answer(question, True, text, _heading_sources(headings), notes)

    def _roll_call(self, plan: QueryPlan, index: LoadedIndex, topic: list[str]) -> RollCall | None:
        """A question about one part of every unit's report (or of the units it compares), with nothing else to
        look for: each report's headings of that part. With no year asked, a unit's newest report speaks."""
        if topic or not plan.kind or not (plan.across or plan.comparison):
            return None
        shelf = index.shelf
        if plan.year is None:
            ids = plan.report_ids or [r.report_id for r in shelf.reports if r.report_id not in shelf.superseded]
        else:
            named = set(plan.report_ids or [r.report_id for r in shelf.reports])
            ids = [r.report_id for r in shelf.reports if r.report_id in named and _of_year(r, plan.kind, plan.year)]
        return roll_call(index.records, ids, plan.kind)

    def _said_elsewhere(self, index: LoadedIndex, question: str, own: list[str], hits: list[Hit], k: int) -> bool:
        """A question taken as about the last turn's unit whose own words another report's top source holds
        more of ("老旧小区改造了多少个？" after 水利局's rivers): it was a new question for every report."""
        plain = plan_query(question, index.shelf, index.untitled_terms)
        elsewhere = retrieve(index, self.embedder, plain, k)
        ignore = index.org_terms | plain.name_terms
        if not elsewhere or not hits:
            return False
        return term_coverage(own, elsewhere[:1], index, ignore) > term_coverage(own, hits[:1], index, ignore)

    def _retrieve(
        self, index: LoadedIndex, plan: QueryPlan, k: int, in_part: bool, borrowed: bool
    ) -> tuple[list[Hit], list[Hit]]:
        """The hits to answer from, and the hits that decide whether the reports answer at all.

        `in_part`: the question's own words name only a part ("那明年呢？" after 财政收支, "存在什么问题？"), so
        only that part's chunks answer it, however well another part's heading matches the borrowed subject;
        whether the report speaks of a `borrowed` subject at all is still judged on the plain ranking.
        """
        if not (in_part and plan.kind):
            hits = retrieve(index, self.embedder, plan, k)
            return hits, hits
        pool = retrieve(index, self.embedder, plan, PART_POOL * k)
        mine = [h for h in pool if h.record.kind == plan.kind]
        mine.sort(key=lambda h: not h.record.section)  # the report's opening lines are no part of it
        return (mine or pool)[:k], pool[:k] if borrowed else (mine or pool)[:k]

    def _heading_answer(
        self,
        index: LoadedIndex,
        question: str,
        picked: tuple[str, str],
        conversation: Conversation | None,
        k: int,
        notes: list[str],
    ) -> Answer:
        """ "第二个方面呢？" after an outline: that heading's own outline when it branches ("第一部分呢？" after the
        report's parts), else its section from its start, as its chunks tell it."""
        report_id, section = picked
        last = conversation.last if conversation else None
        if (outline := outline_of(index.records, [report_id], None, within=section)) is not None:
            text, headings = outline.composed()
            if conversation is not None and last is not None:
                listed = tuple((h.record.report_id, h.section) for h in headings)
                kind = headings[0].record.kind
                conversation.add(Turn(question, text, [[report_id]], "", kind, last.named, listed))
            return Answer(question, True, text, _heading_sources(headings), notes)
        inside = [
            rec
            for rec in index.records
            if rec.report_id == report_id and any(under(p.section, section) for p in rec.parts or ())
        ]
        hits = [Hit(rec, 0.0, 0.0, 0.0) for rec in inside[:k]]
        heading = section.split(SEP)[-1]
        composed = compose(
            terms(heading), hits, index.bm25, self.settings.answer_chars, index.org_terms, question=heading
        )
        if not hits or not composed.cited:
            return Answer(question, False, self._not_found(index, hits), notes=notes)
        if conversation is not None and last is not None:
            about = " ".join(terms(heading))[:120]
            kind = hits[0].record.kind
            conversation.add(Turn(question, composed.text, [[report_id]], about, kind, last.named, last.outline))
        return Answer(question, True, composed.text, self._sources(hits, composed.cited), notes)

    def _outline(self, plan: QueryPlan, index: LoadedIndex, topic: list[str]) -> Outline | None:
        """A question about a whole part of one unit's report, with nothing else to look for (no `topic`), gets
        the part's headings (bot.outline); one naming no part ("介绍一下统计局的工作"), the report's parts."""
        if plan.comparison or plan.across or topic:
            return None
        shelf = index.shelf
        ids = plan.report_ids or (
            [r.report_id for r in shelf.reports if r.report_id not in shelf.superseded]
            if len(shelf.by_org) == 1
            else []
        )
        if plan.year and not any(str(plan.year) in r.search_text for r in index.records if r.report_id in ids):
            return None  # "…2027年计划做什么": no outline of another year's plan; the year check refuses it
        return outline_of(index.records, ids, plan.kind) if ids else None

    def _standalone(self, question: str, conversation: Conversation | None) -> str:
        if self.llm is None or self.prompts is None or conversation is None or conversation.last is None:
            return question
        from bot.llm import condense

        try:
            return condense(self.llm, self.prompts, conversation.pairs(), question)
        except Exception as exc:  # any API failure: fall back to carrying context forward ourselves
            log.warning("condense failed: %s", type(exc).__name__)
            return question

    def _relevant(self, hits: list[Hit], plan: QueryPlan, index: LoadedIndex, ignore: set[str]) -> bool:
        """Calibrated on the dev set, off-topic questions (bench/offtopic.jsonl) and the tune halves: see README.
        The missing-words check comes first: a named unit makes its report similar to any question about it."""
        if not hits:
            return False
        if plan.year and not any(str(plan.year) in h.record.search_text for h in hits):
            return False  # "…2026年…" where no source speaks of that year: its neighbours' figures are not it
        s = self.settings
        content = content_terms(plan, index, ignore)
        if missing_share(content, hits, index.bm25.idf) >= s.max_missing:
            return False  # "商务局有多少名员工": the unit's report is near, but no source speaks of what is asked
        if phase_missing(plan.search_text, content, hits, index.bm25.idf):
            return False  # "…产业园二期什么时候开工": the sources speak of its 一期 only
        if plan.amount and any(
            asked_missing(before, content, hits, index.bm25.idf) for before in asked_before(plan.search_text)
        ):
            return False  # "…公众号的阅读量有多少": what the amount is asked of is in no source
        if plan.amount and not asks_list(plan.question) and not figure_given(plan, content, hits, index.bm25.idf):
            return False  # "…一共有多少名执法人员": the words are there, but no count of them in that measure
        best = max(h.dense for h in hits)
        coverage = term_coverage(plan.search_terms, hits, index, ignore)
        if best >= s.min_score:
            if coverage > 0 or best >= s.min_score_uncovered:
                return True
            # "统计局有哪些不足" names a report and a part of it (its problems, its plan): that part answers it
            return bool(plan.groups and plan.kind and hits[0].record.kind == plan.kind)
        if best >= s.min_score_lexical and coverage >= s.min_coverage:
            return True
        # "高龄津贴发了多少钱": short questions sit far from any chunk in the model's space
        return plan.amount and best >= s.min_score_sentence and said_in_one_sentence(content, hits)

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
    ) -> tuple[str, dict[int, list[int]], bool]:
        """The answer, and for each cited source the offsets of the sentences it gave (none from an LLM)."""
        if self.llm is not None and self.prompts is not None:
            from bot.llm import check_citations, generate, leaks_prompt

            try:
                raw = generate(self.llm, self.prompts, plan.question, hits, on_token)
                checked = check_citations(raw, len(hits))
                if leaks_prompt(raw, self.prompts):
                    log.warning("LLM reply reproduced the prompt; answering extractively")
                    notes.append("大模型的回答不可用，以下改为报告原文摘录。")
                elif checked.cited:
                    return checked.text, {n: [] for n in checked.cited}, True
                else:
                    notes.append("大模型的回答没有有效引用，以下改为报告原文摘录。")
            except Exception as exc:  # API errors, timeouts, malformed replies all end in the extractive answer
                log.warning("LLM failed (%s); answering extractively", type(exc).__name__)
                notes.append("大模型服务暂时不可用，以下为报告原文摘录。")
        composed = compose(
            plan.search_terms,
            hits,
            index.bm25,
            self.settings.answer_chars,
            ignore,
            per_report=plan.across or plan.comparison or (not plan.groups and filled_template(hits)),
            every=plan.comparison,
            question=plan.question,
            part=plan.kind,
        )
        if not composed.cited:
            return restore_censored(hits[0].record.text[:200]) + "[1]", {1: [0]}, False
        return composed.text, composed.cited, False

    def _sources(self, hits: list[Hit], cited: Mapping[int, Sequence[int]] | None = None) -> list[Source]:
        """The sources; a cited one names the deepest section holding the sentences it gave, and its ref opens it."""
        out = []
        for n, h in enumerate(hits, start=1):
            offsets = (cited or {}).get(n)
            section, ref = h.record.section, h.record.chunk_id
            if offsets:
                section = cited_span(h.record, offsets).section
                ref = cited_ref(h.record, offsets)
            out.append(
                Source(
                    n=n,
                    ref=ref,
                    report=h.record.report,
                    section=section,
                    file=h.record.file,
                    chunk_id=h.record.chunk_id,
                    score=round(h.score, 5),
                    text=h.record.text,
                    cited=cited is not None and n in cited,
                )
            )
        return out

    def source(self, ref: str) -> SectionText | None:
        """The whole original section a citation points into: a chunk id opens the chunk's section, a ref
        with sentence offsets (`id:120-180`) the deepest section holding those sentences."""
        chunk_id, _, where = ref.strip().partition(":")
        index = self.reader.current()
        pos = index.positions.get(chunk_id)
        if pos is None:
            return None
        rec = index.records[pos]
        span = cited_span(rec, [int(o) for o in re.findall(r"\d+", where)])
        text = index.report_text(rec.report_id)
        body = text[span.block_start : span.block_end] if text else rec.text
        return SectionText(rec.report, span.block or span.section, rec.file, body.strip())


def _of_year(report: ReportEntry, kind: str, year: int) -> bool:
    """Whether a report's `kind` part is of this year, as its title dates it (a plan: its plan year); an
    undated report may be."""
    said = report.plan_year if kind == "计划" else report.year
    return said is None or said == year


def _no_report_of(plan: QueryPlan, reports: list[ReportEntry]) -> str:
    """The refusal for a unit no indexed report is from, with the units whose names come nearest."""
    names = "、".join(plan.unknown_orgs)
    near = sorted((r for r in reports if r.org in plan.nearest_orgs), key=lambda r: plan.nearest_orgs.index(r.org))
    listed = f"名称相近的单位：{report_names(near)}" if near else f"已索引的报告：{report_names(reports)}"
    return f"已索引的报告中没有{names}的报告，无法回答。{listed}"


def _spoken_of(names: Sequence[str], records: Sequence[ChunkRecord]) -> bool:
    """These chunks speak of every unit the question names without a report of its own (省水利厅 in "省水利厅批复了
    哪两座水库…"): one the reports tell of, in the passage that answers, rather than the author asked about."""
    return all(any(name in rec.text for rec in records) for name in names)


def _heading_sources(headings: Sequence[Heading]) -> list[Source]:
    """An outline's sources: each names its heading, and opens the heading's section (from a chunk inside it,
    by the chunk; from a chunk holding several headings, by the offsets of this one's stretches)."""
    out = []
    for n, h in enumerate(headings, start=1):
        rec = h.record
        ref = rec.chunk_id if under(rec.section, h.section) else cited_ref(rec, h.offsets)
        out.append(Source(n, ref, rec.report, h.section, rec.file, rec.chunk_id, 0.0, rec.text, cited=True))
    return out


def cited_span(rec: ChunkRecord, offsets: Sequence[int]) -> Part:
    """The deepest part of a chunk that holds all the sentences at these offsets (chunk-relative): one part
    when they stand in one, else their common heading with the blocks of every part under it."""
    whole = Part(0, rec.section, _depth(rec.block), rec.block_start, rec.block_end)
    if not offsets or not rec.parts:
        return whole
    first, last = rec.part_at(min(offsets)), rec.part_at(max(offsets))
    if first == last:
        return first
    pairs = zip(first.section.split(SEP), last.section.split(SEP), strict=False)
    common = [a for a, _ in takewhile(lambda ab: ab[0] == ab[1], pairs)]
    if len(common) <= _depth(rec.section):
        return whole
    section = SEP.join(common)
    below = [p for p in rec.parts if under(p.section, section)]
    depth = min(len(common), *(p.block_depth for p in below))
    return Part(0, section, depth, min(p.block_start for p in below), max(p.block_end for p in below))


def cited_ref(rec: ChunkRecord, offsets: Sequence[int]) -> str:
    """What `source` takes to open the section of these sentences: the chunk id alone when it is the chunk's."""
    span = cited_span(rec, offsets)
    if (span.section, span.block_start, span.block_end) == (rec.section, rec.block_start, rec.block_end):
        return rec.chunk_id
    lo, hi = min(offsets), max(offsets)
    return f"{rec.chunk_id}:{lo}" + (f"-{hi}" if hi != lo else "")


def _part_found(plan: QueryPlan, hits: Sequence[Hit]) -> bool:
    """ "管委会呢？" after "存在什么问题？": the unit's part, asked for as a whole, is what retrieval found (of the
    year asked, if one is), so no words of the question need be in it."""
    if not (plan.groups and hits and hits[0].record.kind == plan.kind):
        return False
    return not plan.year or any(str(plan.year) in h.record.search_text for h in hits)


def _about(words: list[str], hits: Sequence[Hit], borrowed: bool) -> list[str]:
    """What the next turn may borrow: a question of borrowed words only ("存在什么问题？" after 水利投资) is about
    them only when its top source says them all; else about its part as a whole ("教育局呢？" asks the problems)."""
    if not borrowed or not hits:
        return words
    said = hits[0].record.search_text
    return words if all(w in said for w in words) else []


def _depth(path: str) -> int:
    return len(path.split(SEP)) if path else 0
