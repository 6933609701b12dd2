"""How people name a unit: its full name, with or without its place, or a short form (住建局, 卫健委, 市监局).

A short form keeps the name's kind of ending (局, 委, 办 …) and takes, in order, a prefix of some of the
name's words, starting with the first: 住建局 ⊂ 住房|和|城乡|建设|局, 市场监管局 ⊂ 市场|监督|管理|局. So a
new shelf of reports needs no list of its units; the few short forms no rule derives (民委, 政府办) are data
(`data/unit_names.txt`), as are the endings, places and look-alikes (`data/units.txt`).

Mentions are found on the question's characters, not on its jieba words: a segmentation accident (住|建局)
can add a place where a name may start, never remove one, so it cannot cut a name or make one up.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from functools import cache, cached_property, lru_cache

from ingest.lexicon.tables import word_table
from ingest.lexicon.terms import segment, terms

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_MAX_PLACE = 6
"""Characters of a place's own name before its ending (临江市, 城西新区, 巴音郭楞蒙古自治州 is the longest kind)."""
_MAX_SHOWN = 10
_ORDINAL = re.compile(r"第([一二三四五六七八九十]+|\d+)")


@dataclass(frozen=True)
class UnitWords:
    kinds: dict[str, str]
    endings: tuple[str, ...]
    strict: frozenset[str]
    bare: frozenset[str]
    not_end: tuple[str, ...]
    not_unit: frozenset[str]
    place_ends: tuple[str, ...]
    bare_places: frozenset[str]
    not_place: tuple[str, ...]
    lead: tuple[str, ...]
    short_names: dict[str, tuple[str, ...]]
    owners: tuple[str, ...]
    within: tuple[str, ...]
    branches: tuple[str, ...]


@cache
def unit_words() -> UnitWords:
    table = word_table("units.txt")
    kinds = {
        end: name.removeprefix("kind_") for name, ends in table.items() if name.startswith("kind_") for end in ends
    }
    return UnitWords(
        kinds=kinds,
        endings=tuple(sorted(kinds, key=len, reverse=True)),
        strict=frozenset(table["strict"]),
        bare=frozenset(table["bare"]),
        not_end=table["not_end"],
        not_unit=frozenset(table["not_unit"]),
        place_ends=tuple(sorted(table["place_end"], key=len, reverse=True)),
        bare_places=frozenset(table["bare_place"]),
        not_place=table["not_place"],
        lead=tuple(sorted(table["lead"], key=len, reverse=True)),
        short_names=word_table("unit_names.txt"),
        owners=table.get("owner", ()),
        within=table.get("within", ()),
        branches=table.get("branch", ()),
    )


@dataclass(frozen=True)
class Form:
    """One way to write a unit's name: `stem` + an ending of `kind`."""

    stem: str
    kind: str
    placed: bool = False
    """Still opens with a place that another form drops: a likeness to the place (柳溪镇 ~ 柳溪县人社局)
    says nothing about the unit, so it is never LOOSE."""
    numbered: str = ""
    """The number of a numbered unit with its 第 dropped (二 of 第二人民医院): a short form may be that alone."""

    @cached_property
    def words(self) -> tuple[str, ...]:
        """Segmented only when a short form starting with the stem's first character is tried."""
        return stem_words(self.stem)


class Match(IntEnum):
    NONE = 0
    LOOSE = 1
    """Not a short form, but close (监管局 ~ 市场监督管理局, 卫生局 ~ 卫生健康委员会): not enough to choose the
    unit, too much to refuse."""
    SHORT = 2
    EXACT = 3


@lru_cache(maxsize=4096)
def name_kind(name: str) -> tuple[str, str] | None:
    """`卫生健康委员会` → (`卫生健康`, `委`); None when the name does not end like a unit."""
    words = unit_words()
    for end in words.endings:
        if name.endswith(end):
            return name[: -len(end)], words.kinds[end]
    return None


def _unsaid(name: str) -> list[str]:
    """The name without the government that owns the unit or the street it stands in, which people leave
    unsaid: 人民政府国有资产监督管理委员会 → 国有资产监督管理委员会 (国资委), 望湖街道桂香社区… → 桂香社区…"""
    words = unit_words()
    out = [name.removeprefix(o) for o in words.owners if name.startswith(o)]
    for within in words.within:
        at = name.find(within)
        if 0 < at <= _MAX_PLACE:
            out.append(name[at + len(within) :])
    return out


def _other_kinds(name: str, split: tuple[str, str] | None) -> list[tuple[str, str]]:
    """The name read with a shorter ending of another kind inside its own (管理委员会 ⊃ 委员会, 街道办事处 ⊃ 办事处);
    `split` is its own reading (`name_kind`)."""
    if split is None:
        return []
    words = unit_words()
    return [
        (name[: -len(end)], words.kinds[end])
        for end in words.endings
        if name.endswith(end) and words.kinds[end] != split[1] and len(end) < len(name)
    ]


def place_length(text: str, at: int = 0) -> int:
    """Length of the place opening `text[at:]` (临江市, 城西新区, or 市 alone), 0 if none.

    The shortest reading wins, and a place ending that goes on as a word (市场) or a word that only ends
    like a place (城市) is no place.
    """
    words = unit_words()
    for own in range(_MAX_PLACE + 1):
        p = at + own
        if p >= len(text):
            return 0
        end = next((e for e in words.place_ends if text.startswith(e, p)), None)
        if end is None or (own == 0 and end not in words.bare_places):
            continue
        place = text[at : p + len(end)]
        if any(text.startswith(w, p) for w in words.not_place) or place.endswith(words.not_place):
            continue
        return len(place)
    return 0


def opening_places(text: str) -> list[str]:
    """The places a name opens with, widest first: 临江市城南区审计局 → 临江市, 城南区."""
    found, at = [], 0
    while n := place_length(text, at):
        found.append(text[at : at + n])
        at += n
    return found


def other_place(asked: list[str], org: str) -> bool:
    """A unit asked for with a place (区医保局, 城南区审计局) was matched to one of another place or level (云岭县医疗
    保障局, 城北区审计局): the narrowest place asked is not the unit's, so the answer says whose report speaks.
    A unit whose name gives no place could be anyone's, 州 says no level, and a branch (市公安局澜川分局) stands
    below its parent's place."""
    own = opening_places(org)
    if not asked or not own:
        return False
    narrowest, bare = asked[-1], unit_words().bare_places
    if narrowest in bare:
        if org.endswith("分局"):
            return False
        levels = {e for p in own for e in bare if p.endswith(e)}
        return bool(levels) and narrowest not in levels
    ending = next(e for e in unit_words().place_ends if narrowest.endswith(e))
    return narrowest not in own and narrowest[: -len(ending)] not in org


@cache
def unit_forms(org: str) -> tuple[Form, ...]:
    """The name, and the name without each place that opens it (临江市松涛区审计局 → 松涛区审计局 → 审计局),
    with the data's short names for any of them. Cached: every question matches every unit."""
    names = _placeless(org) if org else []
    for rest in _unsaid(names[-1]) if names else ():
        if (split := name_kind(rest)) and len(split[0]) >= 2:
            names.extend(_placeless(rest))
    shorts = unit_words().short_names
    if names and (known := _known_after_place(names[-1], shorts)):
        names.append(known)
    names.extend(_branch_names(names[-1]) if names else ())
    forms: dict[tuple[str, str], Form] = {}
    written = [(name, i < len(names) - 1) for i, name in enumerate(names)]
    written += [(short, False) for name in names for short in shorts.get(name, ())]
    for name, placed in written:
        split = name_kind(name)
        for other in _other_kinds(name, split):  # 国有资产监督管理委员会 is a 管委会 and a 委 (国资委)
            forms.setdefault(other, Form(*other, placed=placed))
        if split and split not in forms:
            forms[split] = Form(*split, placed=placed)
        if split and (ordinal := _ORDINAL.match(split[0])):
            unnumbered = (split[0][1:], split[1])  # 第二人民医院 → 二院, 第三中学 → 三中: short forms drop 第
            forms.setdefault(unnumbered, Form(*unnumbered, placed=placed, numbered=ordinal.group(1)))
    return tuple(forms.values())


def _placeless(name: str) -> list[str]:
    """The name, then without each place that opens it: 临江市松涛区审计局 → 松涛区审计局 → 审计局."""
    names = [name]
    while (n := place_length(names[-1])) and name_kind(names[-1][n:]):
        names.append(names[-1][n:])
    return names


def _known_after_place(name: str, known: Iterable[str]) -> str:
    """A name of the data's that ends this one after a few characters of place with no ending (临江 +
    城市建设投资集团有限公司): a company is named after its city without 市."""
    return next((k for k in known if name.endswith(k) and 0 < len(name) - len(k) <= _MAX_PLACE), "")


def _branch_names(name: str) -> list[str]:
    """A branch written after its parent (公安局城东分局): its place with the ending, with the parent's name
    before the ending, and the parent's name with it (城东分局, 城东公安分局, 公安分局)."""
    out: list[str] = []
    for ending in unit_words().branches:
        if not name.endswith(ending):
            continue
        stem = name[: -len(ending)]
        cut = stem.rfind(ending[-1]) + 1  # after the parent's own ending: 公安局|城东
        parent, place = name_kind(stem[:cut]) if cut else None, stem[cut:]
        if parent and len(place) >= 2 and len(parent[0]) >= 2:
            out += [place + ending, place + parent[0] + ending, parent[0] + ending]
    return out


@lru_cache(maxsize=65536)
def stem_words(stem: str) -> tuple[str, ...]:
    """jieba's words, four- and six-character ones cut in twos (城乡建设 → 城乡 建设): short forms take from each."""
    out: list[str] = []
    for word in segment(stem):
        if len(word) in (4, 6):
            out.extend(word[i : i + 2] for i in range(0, len(word), 2))
        else:
            out.append(word)
    return tuple(out)


@lru_cache(maxsize=65536)
def abbreviates(short: str, words: tuple[str, ...]) -> bool:
    """`short` is a prefix of the first word, then prefixes of some later words, in order (住建 ⊂ 住房 和 城乡 建设).

    The first character must be the name's: abbreviations keep it (住建, 卫健, 市监), and a short form that
    drops it (监管局 for 市场监督管理局) as often means another unit (金融监管局). Cached: a shelf of one
    kind of unit in many places asks the same pair once per place.
    """
    return bool(short) and _fits(short, words, 0, 0)


def _fits(short: str, words: tuple[str, ...], i: int, j: int) -> bool:
    if i == len(short):
        return True
    if j == len(words):
        return False
    word = words[j]
    for k in range(min(len(word), len(short) - i), 0, -1):
        if short[i : i + k] == word[:k] and _fits(short, words, i + k, j + 1):
            return True
    return j > 0 and _fits(short, words, i, j + 1)


def _in_order(chars: str, text: str) -> bool:
    it = iter(text)
    return all(c in it for c in chars)


def match(name: str, org: str) -> Match:
    """How well `name` (as a question writes it) names the unit `org`."""
    split = name_kind(name)
    if split is None:
        return Match.NONE
    stem, kind = split
    best = Match.NONE
    for form in unit_forms(org):
        if stem == form.stem and kind == form.kind:
            return Match.EXACT
        if kind == form.kind and (
            (not stem and (kind in unit_words().bare or name in unit_words().bare))
            or ((len(stem) >= 2 or stem == form.numbered) and abbreviates(stem, form.words))
        ):
            best = Match.SHORT
        elif (
            best < Match.LOOSE
            and len(stem) >= 2
            and not form.placed
            and (_in_order(stem, form.stem) if kind == form.kind else abbreviates(stem, form.words))
        ):
            best = Match.LOOSE
    return best


@dataclass(frozen=True)
class Mention:
    """Characters of a question that end like a unit's name: `run` from where a name may start to its ending.

    `starts` are the offsets in `run` where the name itself may begin: the run's start, after words that go
    before a name (请问, 那, 2023年), after a place (城南区, 市), and at jieba's word boundaries.
    """

    run: str
    start: int
    kind: str
    starts: tuple[int, ...]
    lead: int
    stem_len: int

    @property
    def name(self) -> str:
        """The name as the question writes it, for a refusal: without the words before it, and if that is
        long, from the last word boundary that leaves two characters before the ending."""
        shown = self.run[self.lead :]
        if len(shown) > _MAX_SHOWN:
            ending = len(self.run) - self.stem_len
            for s in sorted(self.starts, reverse=True):
                if s >= self.lead and len(self.run) - ending - s >= 2:
                    return self.run[s:]
        return shown

    @property
    def strict(self) -> bool:
        """Surely a unit's name (a 局, a 委): a question naming one the shelf lacks can be refused."""
        return self.kind in unit_words().strict and not self.run.endswith(tuple(unit_words().not_unit))

    def tails(self) -> list[str]:
        """Where the name may begin, longest first."""
        return [self.run[s:] for s in self.starts]

    def places_before(self, org: str) -> list[str]:
        """The places the question writes before the longest tail that names `org`, with those the tail opens
        with when the rest still names it (区 of 区医保局; 临江市, 城南区 of 临江市城南区审计局; none for 市监局, whose
        市 is part of the short name, nor for 县里给, which is no place)."""
        for s in self.starts:
            named = self.run[s:]
            if s >= self.lead and _names(named, org):
                before = opening_places(self.run[self.lead : s])
                if "".join(before) != self.run[self.lead : s]:
                    before = []
                own = opening_places(named)
                if own and _names(named[len("".join(own)) :], org):
                    before += own
                return before
        return []


def _names(name: str, org: str) -> bool:
    """`name` alone is a short form of `org`, not a bare ending of its kind (委 of 澜川团区委)."""
    alone = name not in unit_words().kinds or name in unit_words().bare
    return alone and match(name, org) >= Match.SHORT


def mentions(text: str) -> list[Mention]:
    """Every run of the (normalised) question's characters that ends like a unit's name."""
    words = unit_words()
    found: list[Mention] = []
    for block in _CJK_RUN.finditer(text):
        chars, begin, i = block.group(), 0, 0
        cuts: set[int] | None = None
        while i < len(chars):
            end = next((e for e in words.endings if chars.startswith(e, i)), None)
            if end is not None and any(len(w) > len(end) and chars.startswith(w, i) for w in words.not_end):
                cuts = _word_ends(chars) if cuts is None else cuts
                if i + len(end) not in cuts:
                    end = None  # 当前局面: 局面 is the word; 财政局|面临: the name ends at 局
            if end is None:
                i += 1
                continue
            run = chars[begin : i + len(end)]
            stem = run[: -len(end)]
            if stem or end in words.bare or words.kinds[end] in words.bare:
                found.append(_mention(run, block.start() + begin, words.kinds[end], len(stem)))
            if not end.endswith(words.place_ends):  # 柏岗镇卫生院: a town's name may open the next unit's
                begin = i + len(end)
            i += len(end)
    return found


def _word_ends(chars: str) -> set[int]:
    ends, at = set(), 0
    for word in segment(chars):
        at += len(word)
        ends.add(at)
    return ends


def _mention(run: str, start: int, kind: str, stem_len: int) -> Mention:
    words = unit_words()
    starts = {0}
    todo, lead, reached = [0], 0, {0}
    while todo:
        s = todo.pop()
        nexts = [s + len(w) for w in words.lead if run.startswith(w, s)]
        if s == lead and nexts:
            lead = max(nexts)
        if n := place_length(run, s):
            nexts.append(s + n)
        for t in nexts:
            if t < stem_len + 1 and t not in reached:
                reached.add(t)
                todo.append(t)
    starts |= {t for t in reached if t <= stem_len}
    offset = 0
    for word in segment(run):
        offset += len(word)
        if offset <= stem_len:
            starts.add(offset)
    return Mention(run, start, kind, tuple(sorted(starts)), min(lead, stem_len), stem_len)


@dataclass(frozen=True)
class UnitIndex:
    """A shelf's units by the characters their forms' stems hold, so that `match` runs only on those that
    can match a name at all. Built once per shelf: at 11,000 reports, building it per question cost more
    than the search."""

    rank: dict[str, int]
    exact: dict[tuple[str, str], tuple[str, ...]]
    by_kind: dict[str, frozenset[str]]
    by_first: dict[str, frozenset[str]]
    by_char: dict[str, frozenset[str]]

    @classmethod
    def of(cls, orgs: Iterable[str]) -> UnitIndex:
        ranked = tuple(o for o in dict.fromkeys(orgs) if o)
        exact: dict[tuple[str, str], list[str]] = {}
        by_kind: dict[str, set[str]] = {}
        by_first: dict[str, set[str]] = {}
        by_char: dict[str, set[str]] = {}
        for org in ranked:
            for form in unit_forms(org):
                exact.setdefault((form.stem, form.kind), []).append(org)
                by_kind.setdefault(form.kind, set()).add(org)
                if form.stem:
                    by_first.setdefault(form.stem[0], set()).add(org)
                for c in form.stem:
                    by_char.setdefault(c, set()).add(org)

        def frozen(table: dict[str, set[str]]) -> dict[str, frozenset[str]]:
            return {k: frozenset(v) for k, v in table.items()}

        return cls(
            {o: i for i, o in enumerate(ranked)},
            {key: tuple(dict.fromkeys(found)) for key, found in exact.items()},
            frozen(by_kind),
            frozen(by_first),
            frozen(by_char),
        )

    def named(self, mention: Mention) -> tuple[Match, list[str]]:
        """The units a mention names best, and how well: the best match over where the name may begin, the
        longest name first among equals (城北区审计局 before 审计局). A LOOSE match looks at every character's
        place, so only the absence of any likeness refuses a question."""
        for tail in mention.tails():
            if (split := name_kind(tail)) and (exact := self.exact.get(split)):
                return Match.EXACT, list(exact)
        for level, tails in (
            (Match.SHORT, mention.tails()),
            (Match.LOOSE, [mention.run[s:] for s in range(len(mention.run))]),
        ):
            for tail in tails:
                if found := [o for o in self.candidates(tail) if match(tail, o) == level]:
                    return level, found
        return Match.NONE, []

    def nearest(self, name: str, n: int = 3) -> list[str]:
        """Units whose names share the most characters with `name` (its ending aside), for a refusal to
        offer; among equals, those of the same kind first."""
        split = name_kind(name)
        stem, kind = split if split else (name, "")
        shared: Counter[str] = Counter()
        for c in set(stem):
            shared.update(self.by_char.get(c, frozenset()))
        same = self.by_kind.get(kind, frozenset())
        ranked = sorted(shared, key=lambda o: (-shared[o], o not in same, self.rank[o]))
        return ranked[:n]

    def candidates(self, name: str) -> list[str]:
        split = name_kind(name)
        if split is None:
            return []
        stem, kind = split
        if not stem:
            found = self.by_kind.get(kind, frozenset())
        else:
            found = self.by_first.get(stem[0], frozenset()) | frozenset.intersection(
                *(self.by_char.get(c, frozenset()) for c in stem)
            )
        return sorted(found, key=self.rank.__getitem__)


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
