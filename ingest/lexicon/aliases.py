"""How people name a unit: its full name, or the short forms everyone uses (民委, 交通局, 人社局).

The endings and the look-alike words are data (`data/units.txt`); the short forms are derived from the
name itself, so a new shelf of reports needs no list of its units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ingest.lexicon.terms import terms


@dataclass(frozen=True)
class UnitWords:
    suffix: re.Pattern[str]
    strict: re.Pattern[str]
    not_unit: frozenset[str]


@cache
def unit_words() -> UnitWords:
    table: dict[str, list[str]] = {}
    text = resources.files("ingest.lexicon").joinpath("data/units.txt").read_text(encoding="utf-8")
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, _, words = line.partition(":")
            table.setdefault(name.strip(), []).extend(words.split())
    return UnitWords(
        suffix=re.compile(f"(?:{'|'.join(table['suffix'])})$"),
        strict=re.compile(f"(?:{'|'.join(table['strict'])})$"),
        not_unit=frozenset(table["not_unit"]),
    )


@cache
def org_aliases(org: str) -> frozenset[str]:
    """Ways a question names a bureau: 民族事务委员会 → 民委, 经济开发区 → 开发区.

    Cached: every question matches every report's names, and the short forms need jieba.
    """
    if not org:
        return frozenset()
    aliases = {org}
    if org.endswith("委员会") and len(org) > 3:
        aliases.add(org[0] + "委")
        aliases.add(org[:-3] + "委")
    for tail in ("开发区", "管理区", "园区", "中心"):
        if org.endswith(tail) and len(org) > len(tail):
            aliases.add(tail if tail != "中心" else org)
    if org.endswith("局") and len(org) >= 5:
        aliases.update(_short_bureau_names(org[:-1]))
    return frozenset(aliases)


def _short_bureau_names(stem: str) -> set[str]:
    """交通运输局 → 交通局, 文化旅游局 → 文旅局, 人力资源和社会保障局 → 人社局: the first word, or the words' initials."""
    stem = re.sub(r"[和与及]", "", stem)
    splits = [[w for w in terms(stem) if len(w) >= 2]]
    if len(stem) % 2 == 0:
        splits.append([stem[i : i + 2] for i in range(0, len(stem), 2)])
    out: set[str] = set()
    for words in splits:
        if len(words) >= 2 and "".join(words) == stem:
            out.add(words[0] + "局")
            out.add("".join(w[0] for w in words) + "局")
            if len(words) > 2:
                out.add(words[0][0] + words[1][0] + "局")
    return {a for a in out if a not in unit_words().not_unit}


def mentions(question_terms: list[str]) -> list[str]:
    """Terms of a question (and pairs of them: 住建 + 局) that look like a unit's name."""
    words = [w for w in question_terms if w]
    units = unit_words()
    found: list[str] = []
    for i, word in enumerate(words):
        candidate = word
        if word in {"局", "委", "委员会"} and i > 0:
            candidate = words[i - 1] + word
        if len(candidate) >= 2 and units.suffix.search(candidate) and candidate not in units.not_unit:
            found.append(candidate)
    return found
