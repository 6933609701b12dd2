"""Count questions: "多少名", "几座", "多少万元" ask for a number in a measure, which the answering text gives
in that measure (280名, 35座, 3680万元). Both the ranking and the relevance check weigh it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from ingest.lexicon.grammar import CLAUSE_END, SENTENCE_END
from ingest.lexicon.normalize import normalize_for_match
from ingest.lexicon.tables import word_lines, word_table
from ingest.lexicon.terms import terms

_COUNT_NUMBER = r"(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+|[xX×]+)(?:余|多)?(?:万|亿|千|百)?"


@cache
def _measures() -> tuple[re.Pattern[str], dict[str, frozenset[str]]]:
    """The question's "how many, in what" (多少名, 几座, 多少万元) and each measure's equals."""
    table = word_table("asking.txt")
    same: dict[str, frozenset[str]] = {}
    for raw in word_lines("asking.txt", "same"):
        group = frozenset(raw)
        same.update(dict.fromkeys(group, group))
    return re.compile(rf"(?:多少|几)(?:万|亿|千|百)?({_longest_first(table['measure'])})"), same


def asked_measure(question: str) -> frozenset[str]:
    """The measures a count question asks in (多少名 → 名, 人, 位; 面积是多少 → 平方米, 亩, …); empty when it
    asks for no count, or in 个 (of anything)."""
    pattern, same = _measures()
    text = normalize_for_match(question)
    found = pattern.search(text)
    if found is not None:
        return same.get(found.group(1), frozenset({found.group(1)}))
    return _quantity_measures(text)


_COUNTED_BY_GE = re.compile(r"(?:多少|几)个")
_CLAUSE = re.compile(rf"{CLAUSE_END.pattern}|[{SENTENCE_END}]")


def _quantity_measures(text: str) -> frozenset[str]:
    """The measures of the quantity noun in the clause that asks how much (户籍人口有多少 → 人); a change
    (增长了多少) may be given in its own measures (%) too."""
    asking = _asking_clause(text)
    table = word_table("asking.txt")
    out = {m for _, measures in _quantities_in(asking) for m in measures}
    if out and any(w in asking for w in table.get("change", ())):
        out.update(table.get("change_in", ()))
    return frozenset(out)


def quantity_nouns(question: str) -> frozenset[str]:
    """The nouns that say what the asked figure measures (人口 of 户籍人口有多少): the measure stands for them, so
    what stands beside the figure is the rest of the question (户籍)."""
    return frozenset(n for nouns, _ in _quantities_in(_asking_clause(normalize_for_match(question))) for n in nouns)


def _quantities_in(asking: str) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The rows of the quantity table (nouns, measures) whose nouns the asking clause has; their nouns found."""
    rows = []
    for nouns, measures in _quantities():
        found = tuple(n for n in nouns if n in asking)
        if found:
            rows.append((found, measures))
    return rows


def _asking_clause(text: str) -> str:
    """The clause that asks how much, unless it counts in 个 (多少个投资项目 counts projects, not money)."""
    asking = next((c for c in _CLAUSE.split(text) if _AMOUNT.search(c)), "")
    return "" if _COUNTED_BY_GE.search(asking) else asking


@cache
def _quantities() -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    rows = []
    for words in word_lines("asking.txt", "quantity"):
        cut = words.index("=")
        rows.append((words[:cut], words[cut + 1 :]))
    return tuple(rows)


_HOW_MUCH = "多少|多大|多高|多长|多远"
_AMOUNT = re.compile(rf"{_HOW_MUCH}|几|比例|比重|占比")
FIGURE = re.compile(
    r"[0-9]|(?<![A-Za-z])[xX]+(?![A-Za-z])|百分之"
    r"|第[零〇一二两三四五六七八九十百千]+|[零〇一二两三四五六七八九十百千]+(?=[届次期批轮个家项座宗块名位条处件户台辆所场])"
)
"""A figure, redacted ones included (xx亿元, x%), or in words (第三届, 四宗): what a question asking how much is
answered with."""


_REDACTED = re.compile(r"(?<![A-Za-z])[xX]+(?:\.[xX]+)?(?![A-Za-z])")
_DIGIT = re.compile(r"[0-9０-９]")


def redacted_only(sentence: str) -> bool:
    """ "聘用管护员xx名": the sentence gives its figures redacted and none written out, so the answer is that
    the report does not say how many."""
    return bool(_REDACTED.search(sentence)) and not _DIGIT.search(sentence)


@cache
def _counters() -> frozenset[str]:
    table = word_table("asking.txt")
    return frozenset(table["measure"]) | frozenset(table["counter"])


def as_counted(question_terms: list[str]) -> list[str]:
    """几座, 几个, 几 segment as words of their own, unlike 多少座 (多少 | 座): read each as its 多少 would be, so
    "危桥改造了几座" asks what "危桥改造了多少座" asks, not after a word no report uses."""
    out: list[str] = []
    for term in question_terms:
        if term == "几":
            continue
        if term.startswith("几") and term[1:] in _counters():
            out.extend(terms("多少" + term[1:]))
        else:
            out.append(term)
    return out


def asks_amount(question: str) -> bool:
    """The question asks how much or how many: its answer holds a figure."""
    return bool(_AMOUNT.search(question))


_ASKED_BEFORE = re.compile(
    rf"(?:的|是|有|为|达到|达|能|可以|大概|大约|一共|总共|(?:搞|弄|干|做|实现|完成)了?)*(?:百分之)?(?:{_HOW_MUCH})[？?。]?$"
)


def asked_before(text: str) -> list[str]:
    """What each "X是多少" of the question asks the amount of ("…零售总额是多少？同比增长多少？" asks two): the
    text before the asking words of every clause that ends in them, spoken verbs aside (搞了多少)."""
    out: list[str] = []
    for clause in _CLAUSE.split(text.strip()):
        found = _ASKED_BEFORE.search(clause.rstrip("？?。 "))
        if found and found.start() > 0:
            out.append(clause[: found.start()])
    return out


@cache
def count_pattern(measure: frozenset[str]) -> re.Pattern[str]:
    """A number in one of these measures (2860万人次, 约1400户, xx家)."""
    return re.compile(rf"{_COUNT_NUMBER}(?:{_longest_first(measure)})")


def _longest_first(words: Iterable[str]) -> str:
    """An alternation that prefers the longer measure (人次 before 人)."""
    return "|".join(sorted(words, key=len, reverse=True))


def counted_after(question: str) -> str:
    """ "收购了多少吨小麦": the text right after the asked classifier, where the thing counted is named (小麦);
    none after a measure that is a noun itself (多少人参加)."""
    pattern, _ = _measures()
    text = normalize_for_match(question)
    found = pattern.search(text)
    if found is None or found.group(1) in word_table("asking.txt")["noun_measure"]:
        return ""
    return text[found.end() :]


def asks_stock(question: str) -> bool:
    """ "现在一共有多少家单位": how many there are, not how many were added; a question that itself asks of
    additions (今年新建了几个) or of a rate is not one."""
    table = word_table("asking.txt")
    text = normalize_for_match(question)
    return (
        any(w in text for w in table["stock"])
        and not any(w in text for w in table["increase"])
        and not asked_measure(question) & set(table["change_in"])
    )


def gives_increase_only(clause: str) -> bool:
    """ "新增开户单位1,128家": the clause gives a year's additions and nothing that says it is the whole."""
    table = word_table("asking.txt")
    return any(w in clause for w in table["increase"]) and not any(w in clause for w in table["stock_given"])


def asks_list(question: str) -> bool:
    """ "有几项…进了前三，都是哪些": the count is asked with the things counted, and naming them answers it."""
    return _says_one_of(question, "listing")


def asks_total(question: str) -> bool:
    """ "…二期总投资是多少": a project's whole cost, which the part invested so far does not give."""
    return _says_one_of(question, "total")


def _says_one_of(question: str, words: str) -> bool:
    text = normalize_for_match(question)
    return any(w in text for w in word_table("asking.txt")[words])


@cache
def _progress() -> re.Pattern[str]:
    return re.compile("|".join(word_table("asking.txt")["progress"]))


def gives_progress_only(clause: str) -> bool:
    """ "累计完成投资2亿元": the clause gives what was done so far and nothing that says it is the whole."""
    return bool(_progress().search(clause)) and not any(w in clause for w in word_table("asking.txt")["total_given"])
