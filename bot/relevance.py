"""Whether the retrieved text answers a question at all, or only resembles it.

A question that names a unit is close, in every vector, to whatever that unit's report says; so is a
question about next year to every plan section. The words that name the unit, the part of the report
(明年, 计划, 问题) and the framing (多少, 提到, 目前) therefore say nothing about whether a sentence answers.
What remains, the question's content words, must be there: a question whose rarest content words occur in
none of the retrieved chunks asks for something the reports do not say (how many staff, a figure of a
kind the report never gives), however similar its sources look.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache

from bot.measure import (
    FIGURE,
    asks_stock,
    asks_total,
    count_pattern,
    counted_after,
    gives_increase_only,
    gives_progress_only,
    quantity_nouns,
)
from bot.query import QueryPlan
from bot.retrieve import Hit, term_weights
from ingest.index.reader import LoadedIndex
from ingest.lexicon.aliases import abbreviates, stem_words
from ingest.lexicon.grammar import CLAUSE_END, SENTENCE_END, part_words
from ingest.lexicon.normalize import normalize_for_match
from ingest.lexicon.synonyms import SYNONYM_SHARE, said_otherwise
from ingest.lexicon.tables import word_table
from ingest.lexicon.terms import STOPWORDS, terms

PART_SPAN_CHARS = 4
"""Longest match of a part pattern that counts as a part word (明年, 下一步); the longer patterns of
`parts.txt` (是怎么…的) frame a whole clause whose words are content."""

_CJK_ONE = re.compile(r"[\u4e00-\u9fff]")
_NUMBER = re.compile(r"[\d.%]+")
_HOW_MANY = re.compile(r"几[\u4e00-\u9fff]|[一二两三四五六七八九十]+[个块座家项条处所名位件台辆]")
"""几块, 几条, 四块: how many of something, or as many as the question says, in whatever measure."""
_SENTENCE_END = re.compile(rf"[{SENTENCE_END}\n]")


@cache
def _asking() -> tuple[frozenset[str], re.Pattern[str]]:
    table = word_table("asking.txt")
    what = "|".join(sorted(table["what_is"], key=len, reverse=True))
    return frozenset(table["framing"]), re.compile(f"(?:{what})(?:的)?")


def _part_spans(text: str) -> list[tuple[int, int]]:
    words = part_words()
    spans: list[tuple[int, int]] = []
    for pattern in (words.ask_future, words.ask_plan, words.ask_summary, words.ask_problem):
        spans.extend(m.span() for m in pattern.finditer(text) if 0 < m.end() - m.start() <= PART_SPAN_CHARS)
    return spans


def _only_inside(text: str, term: str, spans: list[tuple[int, int]]) -> bool:
    """The term occurs in the text, and only within part words."""
    at = [m.start() for m in re.finditer(re.escape(term), text)]
    return bool(at) and all(any(a <= p and p + len(term) <= b for a, b in spans) for p in at)


def _kind_words(text: str, question_terms: Iterable[str]) -> set[str]:
    """The words around 什么/哪些…: the kind of thing asked for and how it came (获得了什么荣誉), which the
    answer names ("被评为先进集体") rather than says."""
    framing, what = _asking()
    out: set[str] = set()
    for m in what.finditer(text):
        before, after = text[: m.start()].removesuffix("了"), text[m.end() :]
        if any(after.startswith(f) for f in framing if len(f) > 1):
            continue  # 什么时候 asks when: the word before it is what is asked about
        out.update(t for t in question_terms if after.startswith(t) or before.endswith(t))
    return out


def _trimmed(term: str, text: str) -> str:
    """A word no chunk has is often jieba gluing a particle to a word (建了, 卫健委对, 个托位), a modal verb or a
    verb's result to the verb (要种, 扩到, 降至), the measure of 多少 to the next one (多少|项新|技术) or the rest of
    a framing word (一|共收缴): its core."""
    start, end = 0, len(term)
    at = max(text.find(term), 0)
    if _COUNTED.search(text[:at]):
        while start < end - 1 and term[start] in _measure_chars():
            start += 1
    framing, _ = _asking()
    for word in framing:  # 一|共收缴: the rest of a framing word the term begins with
        for k in range(1, len(word)):
            if text[max(at - k, 0) : at] == word[:k] and term.startswith(word[k:]):
                start = max(start, len(word) - k)
    while start < end and (term[start] in STOPWORDS or (end - start >= 2 and term[start] in _modals())):
        start += 1
    while end > start and (term[end - 1] in STOPWORDS or (end - start == 2 and term[end - 1] in _results())):
        end -= 1
    return term[start:end]


@cache
def _modals() -> frozenset[str]:
    return frozenset(word_table("asking.txt")["modal"])


@cache
def _results() -> frozenset[str]:
    return frozenset(word_table("asking.txt")["result"])


_COUNTED = re.compile(r"(?:多少|几)$")


@cache
def _measure_chars() -> frozenset[str]:
    return frozenset(w for w in word_table("asking.txt")["measure"] if len(w) == 1)


def content_terms(plan: QueryPlan, index: LoadedIndex, ignore: set[str], kinds: bool = False) -> list[str]:
    """The question's words that say what it asks about: not the unit, not the part, not the framing, and
    not the kind of thing asked for (哪些措施), unless `kinds`: what the question is about at all."""
    framing, _ = _asking()
    text = normalize_for_match(plan.search_text).lower()
    spans = _part_spans(text)
    naming = ignore | index.title_words | plan.name_terms
    skip = framing | STOPWORDS | naming
    question_terms = list(dict.fromkeys(plan.search_terms))
    kind_words = set() if kinds else _kind_words(text, question_terms)
    out: list[str] = []
    for term in question_terms:
        trimmed = _trimmed(term, text)
        core = trimmed if term not in index.bm25.idf or not trimmed else term
        if (
            not core
            or core in skip
            or term in skip
            or term in kind_words
            or _NUMBER.fullmatch(core)
            or (len(core) == 1 and _CJK_ONE.match(core) and not (kinds and _telling_char(core)))
            or _HOW_MANY.fullmatch(core)
            or _only_inside(text, term, spans)
        ):
            continue
        out.append(core)
    return list(dict.fromkeys(out))


def _telling_char(char: str) -> bool:
    """A one-character word that may be what a question is about (雨 in 下了多少雨), not a particle, modal or
    measure (得 in 做得怎么样)."""
    asking = char in STOPWORDS or bool(_asking()[1].fullmatch(char))
    return not asking and char not in _modals() and char not in _results() and char not in _measure_chars()


def _presence(
    term: str,
    chunk_terms: set[str],
    plain: str,
    sentences: list[str],
    otherwise: frozenset[str] = frozenset(),
    by_words: bool = False,
) -> float:
    """1 when a chunk has the term (as a term or as text) or its short form, or the term is the short form of
    one it has (公厕 ⊂ 公共|厕所: the abbreviation rule of unit names); less for one of the words it may be said
    otherwise (老师 → 教师); for a longer word jieba may cut otherwise (引进人才 → 引进各类人才), the most of its
    character pairs one sentence has; `by_words`: of its words, for a four- or six-character one (人才|队伍: 才队
    is no part of it), where what counts is whether the sources speak of it at all, not what stands beside a
    figure."""
    if term in chunk_terms or term in plain or any(_abbreviation_of(term, t) for t in chunk_terms if t[:1] == term[:1]):
        return 1.0
    if any(s in chunk_terms or s in plain for s in otherwise):
        return SYNONYM_SHARE
    if len(term) < 3:
        return 0.0
    pairs = (
        list(stem_words(term)) if by_words and len(term) in (4, 6) else [term[i : i + 2] for i in range(len(term) - 1)]
    )
    return max((sum(p in s for p in pairs) / len(pairs) for s in sentences), default=0.0)


def _abbreviation_of(a: str, b: str) -> bool:
    """One of two words is a short form of the other (公厕, 公共厕所): taken from several of its words, not one
    piece of it (城镇 is part of 城镇居民, not its short form)."""
    short, full = (a, b) if len(a) < len(b) else (b, a)
    return 2 <= len(short) and len(full) >= 4 and short not in full and abbreviates(short, stem_words(full))


def missing_share(content: Iterable[str], hits: list[Hit], idf: Mapping[str, float]) -> float:
    """Share of the content words' weight (idf; the most for words no chunk has) in none of the retrieved chunks."""
    weights = term_weights(content, idf, set())
    total = sum(weights.values())
    if total <= 0 or not hits:
        return 0.0
    chunk_terms, plain, sentences = _retrieved(hits)
    shortened = _shortened_pairs(list(weights), chunk_terms)
    missing = sum(
        w * (1.0 - _presence(t, chunk_terms, plain, sentences, said_otherwise(t, idf, everyday=True), by_words=True))
        for t, w in weights.items()
        if t not in shortened
    )
    return missing / total


def asked_missing(before: str, content: Iterable[str], hits: list[Hit], idf: Mapping[str, float]) -> bool:
    """ "…公众号的阅读量有多少": the word the amount is asked of (the last content word before 有多少, a trailing
    character aside) is in no retrieved chunk, said as written, shortened or otherwise: the figure is not there,
    whatever else its sentence shares with the question."""
    before = normalize_for_match(before).lower()
    asked = [t for t in content if len(t) >= 2 and 0 <= before.rfind(t) and before.rfind(t) + len(t) >= len(before) - 1]
    if not asked or not hits:
        return False
    term = max(asked, key=lambda t: before.rfind(t) + len(t))
    chunk_terms, plain, sentences = _retrieved(hits)
    return _presence(term, chunk_terms, plain, sentences, said_otherwise(term, idf)) < 0.5


_PHASE = re.compile(r"[一二三四五六七八九十\d]+期(?![间末中])")


def phase_missing(search_text: str, content: Iterable[str], hits: list[Hit], idf: Mapping[str, float]) -> bool:
    """ "…产业园二期什么时候开工": a project's phase names one thing; no retrieved sentence has that phase beside
    the word it follows (产业园), so the sources speak of another phase, or of another project's 二期."""
    text = normalize_for_match(search_text).lower()
    phases = [(m.group(), text[: m.start()]) for m in _PHASE.finditer(text)]
    if not phases or not hits:
        return False
    _, _, sentences = _retrieved(hits)
    for phase, before in phases:
        word = next((w for w in content if before.endswith(w)), "")
        other = said_otherwise(word, idf) if word else frozenset()
        if word and not any(phase in s and _presence(word, set(), s, [s], other) >= 0.5 for s in sentences):
            return True
    return False


def beside_figure(question: str, search_text: str, content: list[str], hits: list[Hit]) -> list[str]:
    """What must stand beside the figure asked for: the content words, but not a quantity whose measure stands
    for it when the word before it in the question is in no source (户籍人口有多少: 户籍 beside a number of 人,
    not 人口 in 常住人口8.6万人)."""
    text = normalize_for_match(search_text)
    _, plain, _ = _retrieved(hits)
    dropped = {
        w
        for w in content
        for n in quantity_nouns(question)
        if n in w and any(text.find(v + w) >= 0 and v not in plain for v in content if v != w)
    }
    return [w for w in content if w not in dropped] or content


def quantity_owner(question: str, search_text: str, content: list[str]) -> list[str]:
    """ "城南片区城市更新项目的总投资是多少": the thing an owned quantity belongs to (the content words that run up
    to it: 城南, 片区, 城市更新, 项目), which the figure's own sentence or heading names; a sum of other
    projects' investment is not it."""
    owned = [n for n in quantity_nouns(question) if n in _owned()]
    text = normalize_for_match(search_text).lower()
    end = min((text.find(n) for n in owned if text.find(n) >= 0), default=-1)
    spans = {text.find(w) + len(w): (text.find(w), w) for w in content if text.find(w) >= 0}
    run: list[str] = []
    while end > 0:
        while end > 0 and text[end - 1] in "的总":
            end -= 1
        if end not in spans:
            break
        end, word = spans.pop(end)
        run.append(word)
    return run if len(run) > 1 else []  # one word before it is as often the money's kind (补助|钱) as its owner


def _rarest_retrieved(
    words: Iterable[str], hits: list[Hit], idf: Mapping[str, float]
) -> tuple[str, frozenset[str]] | None:
    """The rarest of the words that some retrieved chunk has (of equally rare ones the longer, which says more:
    一体化 before 工程), with the words it may be said otherwise: one no source has (a paraphrase, a
    segmentation accident) is the missing-words check's to weigh."""
    texts = [(set(h.record.terms), normalize_for_match(h.record.text).lower()) for h in hits]
    found = [(w, said_otherwise(w, idf)) for w in words]
    found = [(w, other) for w, other in found if any(_presence(w, ts, text, [], other) >= 0.5 for ts, text in texts)]
    top = max(idf.values(), default=1.0)
    return max(found, key=lambda f: (idf.get(f[0], top), len(f[0])), default=None)


@cache
def _owned() -> frozenset[str]:
    return frozenset(word_table("asking.txt")["owned"])


def _retrieved(hits: list[Hit]) -> tuple[set[str], str, list[str]]:
    """The retrieved chunks' terms, their text as matched (normalised, lower case) and its sentences: where a
    question's words are looked for."""
    chunk_terms = {t for h in hits for t in h.record.terms}
    plain = "\n".join(normalize_for_match(h.record.text) for h in hits)
    return chunk_terms, plain, _SENTENCE_END.split(plain)


def _shortened_pairs(content: list[str], chunk_terms: set[str]) -> set[str]:
    """Two words, in order and at most one apart, that a chunk says in one short form (减轻|负担 → 减负,
    增加|收入 → 增收, 减轻|填报|负担 → 减负): the rule of unit short forms, a prefix of each word."""
    out: set[str] = set()
    pairs = [(a, b) for i, a in enumerate(content) for b in content[i + 1 : i + 3]]
    for a, b in pairs:
        if any(
            2 <= len(t) <= 3 and t[0] == a[0] and t not in (a, b) and abbreviates(t, (a, b)) and t[-1] in b
            for t in chunk_terms
        ):
            out.update((a, b))
    return out


@cache
def _planned() -> re.Pattern[str]:
    return re.compile("|".join(word_table("asking.txt")["planned"]))


def figure_given(plan: QueryPlan, content: list[str], hits: list[Hit], idf: Mapping[str, float]) -> bool:
    """Whether a retrieved clause gives the figure the question asks (`gives_count`), with what the question
    says of it: the words beside it, the thing it belongs to, a stock or an addition, a whole or the part done,
    the thing counted. A question about the plan is answered from a plan, or a chunk that says what is planned
    (年初计划…, 力争…), when any retrieved one is."""
    if plan.kind == "计划":  # "明年…能拿到多少钱": this year's figure is not next year's
        hits = [h for h in hits if h.record.kind == "计划" or _planned().search(h.record.text)] or hits
    return gives_count(
        plan.measure or None,
        beside_figure(plan.question, plan.search_text, content, hits),
        hits,
        idf,
        owner=quantity_owner(plan.question, plan.search_text, content),
        stock=asks_stock(plan.question),
        counted=counted_after(plan.search_text),
        total=asks_total(plan.question),
    )


def gives_count(
    measure: frozenset[str] | None,
    content: Iterable[str],
    hits: list[Hit],
    idf: Mapping[str, float],
    owner: Iterable[str] = (),
    stock: bool = False,
    counted: str = "",
    total: bool = False,
) -> bool:
    """Some retrieved clause gives a number in the asked measure (any figure, for no measure; a redacted one
    too: xx名 is what the report says) beside one of the question's content words, in it or in the clause
    before it: "基层技术骨干有多少名" is not answered by "组织基层技术骨干培训12期" (a count of trainings). The
    owner of an owned quantity (a project's 总投资) stands in the figure's sentence or its section's heading; a
    stock asked for (现在一共有多少家) is not given by the year's additions alone, nor a whole cost asked for
    (总投资) by what was invested so far."""
    words = {w: said_otherwise(w, idf) for w in content if w}
    after = normalize_for_match(counted).lower()
    thing = next((w for w in words if after.startswith(w)), "")
    if thing:  # "多少吨小麦": the thing counted, not any word of the question, stands beside the figure
        words = {thing: said_otherwise(thing, idf, everyday=True)}
    owned = _rarest_retrieved(owner, hits, idf)
    number = count_pattern(measure) if measure else FIGURE
    for hit in hits:
        named = normalize_for_match(f"{hit.record.report} {hit.record.section}").lower()
        for sentence in _SENTENCE_END.split(normalize_for_match(hit.record.text).lower()):
            around = f"{named}\n{sentence}"
            if owned and _presence(owned[0], set(terms(sentence)), around, [], owned[1]) < 0.5:
                continue
            clauses = CLAUSE_END.split(sentence)
            for i, clause in enumerate(clauses):
                if (
                    not number.search(clause)
                    or (stock and gives_increase_only(clause))
                    or (total and gives_progress_only(clause))
                ):
                    continue
                near = "，".join(clauses[max(i - 1, 0) : i + 1])  # 配合…改建工程，完成征地326亩
                near_terms = set(terms(near)) if thing else set()  # 公共厕所 where the text says 公厕
                if not words or any(_presence(w, near_terms, near, [near], o) >= 0.5 for w, o in words.items()):
                    return True
    return False


def said_in_one_sentence(content: list[str], hits: list[Hit]) -> bool:
    """One sentence of the sources holds every content word of the question, as written (矛盾纠纷化解率 beside
    化解矛盾纠纷318起，化解率98.7%): the text says what is asked of, however far the model places the two."""
    _, _, sentences = _retrieved(hits)
    return bool(content) and any(all(word in sentence for word in content) for sentence in sentences)


def term_coverage(question_terms: Iterable[str], hits: list[Hit], index: LoadedIndex, ignore: set[str]) -> float:
    """Share of the question's term weight found in the retrieved chunks, a word said otherwise at part of
    its weight; unseen terms weigh the most."""
    wanted = {t for t in question_terms if t not in ignore}
    if not wanted:
        return 0.0
    present: set[str] = set()
    for hit in hits:
        present.update(hit.record.terms)
    idf = index.bm25.idf
    top = max(idf.values(), default=1.0)
    total = sum(idf.get(t, top) for t in wanted)
    found = 0.0
    for t in wanted:
        if t in present:
            found += idf.get(t, top)
        elif not present.isdisjoint(said_otherwise(t, idf)):
            found += SYNONYM_SHARE * top
    return found / total
