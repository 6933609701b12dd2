"""How units are named in questions: full names, short forms derived from them, and look-alikes that are not units."""

from __future__ import annotations

from ingest.lexicon.aliases import mentions, org_aliases
from ingest.lexicon.terms import terms


def test_short_forms_are_derived_from_the_name():
    assert {"民委", "民族事务委员会"} <= org_aliases("民族事务委员会")
    assert {"交通局", "应急局", "文旅局", "人社局"} <= (
        org_aliases("交通运输局")
        | org_aliases("应急管理局")
        | org_aliases("文化旅游局")
        | org_aliases("人力资源和社会保障局")
    )
    assert org_aliases("粮食局") == {"粮食局"}
    assert "开发区" in org_aliases("经济开发区")
    assert org_aliases("") == set()


def test_party_committees_are_not_units():
    assert "市委" not in mentions(terms("市委县委的要求"))
    assert "审计局" in mentions(terms("审计局明年有什么计划"))
