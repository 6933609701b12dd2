"""How units are named in questions: full names with or without their place, short forms derived from the
name, the few short forms kept as data, and look-alikes that are not units."""

from __future__ import annotations

import pytest

from ingest.lexicon.aliases import (
    Match,
    UnitIndex,
    abbreviates,
    match,
    mentions,
    name_kind,
    opening_places,
    org_aliases,
    other_place,
    place_length,
    unit_forms,
)
from ingest.lexicon.terms import segment, terms


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("住建局", "住房和城乡建设局"),
        ("卫健委", "卫生健康委员会"),
        ("发改委", "发展和改革委员会"),
        ("市场监管局", "市场监督管理局"),
        ("市监局", "市场监督管理局"),
        ("人社局", "人力资源和社会保障局"),
        ("农业局", "农业农村局"),
        ("应急局", "应急管理局"),
        ("医保局", "医疗保障局"),
        ("退役军人局", "退役军人事务局"),
        ("交运局", "交通运输局"),
        ("文旅局", "文化和旅游局"),
        ("林草局", "林业和草原局"),
        ("开发区", "高新技术开发区"),
    ],
)
def test_short_forms_are_derived_from_the_full_name(short, full):
    assert match(short, full) == Match.SHORT
    assert match(full, full) == Match.EXACT


@pytest.mark.parametrize(
    ("name", "org"),
    [
        ("临江市松涛区审计局", "临江市松涛区审计局"),
        ("松涛区审计局", "临江市松涛区审计局"),
        ("审计局", "临江市松涛区审计局"),
        ("审计局", "松涛区审计局"),
        ("卫生健康委员会", "临江市卫生健康委员会"),
        ("石湾街道", "松涛区石湾街道办事处"),
        ("柳溪镇", "松涛区柳溪镇人民政府"),
    ],
)
def test_place_prefixes_are_dropped_from_the_units_name(name, org):
    assert match(name, org) == Match.EXACT


def test_places_are_read_from_the_characters():
    assert place_length("临江市松涛区审计局") == 3
    assert place_length("城西新区市场监督管理局") == 4
    assert place_length("市卫健委") == 1  # 市 alone
    assert place_length("市场监督管理局") == 0  # 市场 goes on as a word
    assert place_length("城市管理局") == 0  # 城市 only ends like a place
    assert [f.stem for f in unit_forms("城西新区市场监督管理局")] == ["城西新区市场监督管理", "市场监督管理"]
    assert [f.stem for f in unit_forms("城市管理局")] == ["城市管理"]


def test_a_question_names_a_unit_with_its_place_or_part_of_it():
    orgs = ["临江市卫生健康委员会", "临江市松涛区审计局", "松涛区住房和城乡建设局"]
    for question, org in [
        ("市卫健委明年的重点？", "临江市卫生健康委员会"),
        ("临江市卫健委明年的重点？", "临江市卫生健康委员会"),
        ("区审计局明年计划安排多少个项目？", "临江市松涛区审计局"),
        ("请问松涛区住建局加装了多少部电梯？", "松涛区住房和城乡建设局"),
    ]:
        [mention] = mentions(question)
        level, found = UnitIndex.of(orgs).named(mention)
        assert level >= Match.SHORT and found == [org], question


def test_the_longest_name_wins_among_two_units_of_one_kind():
    orgs = ["松涛区审计局", "城西区审计局"]
    [mention] = mentions("城西区审计局今年完成了多少项目？")
    assert UnitIndex.of(orgs).named(mention) == (Match.EXACT, ["城西区审计局"])
    [mention] = mentions("审计局今年完成了多少项目？")
    assert UnitIndex.of(orgs).named(mention) == (Match.EXACT, orgs)


def test_a_segmentation_accident_neither_cuts_nor_makes_up_a_name():
    question = "住建局加装了多少部电梯？"
    assert "住建局" not in segment(question)  # jieba: 住 | 建局 (the word-based matcher read 建局)
    [mention] = mentions(question)
    assert mention.name == "住建局" and mention.strict
    assert UnitIndex.of(["松涛区住房和城乡建设局"]).named(mention) == (Match.SHORT, ["松涛区住房和城乡建设局"])
    assert mentions("电梯加装了多少部？") == []


@pytest.mark.parametrize(
    ("question", "name"),
    [("人社局面临哪些困难？", "人社局"), ("松涛区审计局面临哪些困难？", "松涛区审计局"), ("当前局面如何？", None)],
)
def test_a_word_that_starts_with_an_ending_hides_a_name_only_where_it_is_the_word(question, name):
    """局面 is a word (当前局面), but in 财政局面临 the name ends at 局 and 面临 follows: jieba's cut decides."""
    found = mentions(question)
    assert [m.run[-len(name) :] for m in found] == [name] if name else found == []


def test_a_street_office_is_named_by_its_kind_alone_but_a_street_is_no_unit():
    [mention] = mentions("街道办今年做了什么？")
    assert UnitIndex.of(["云溪县城关街道办事处", "石门县审计局"]).named(mention) == (
        Match.SHORT,
        ["云溪县城关街道办事处"],
    )
    assert mentions("街道环境怎么样？") == [] and mentions("街道今年做了什么？") == []


def test_look_alikes_are_not_short_forms():
    # 监管局 drops 市场监督管理局's first character: as often another unit (金融监管局), so only LOOSE:
    # not enough to choose the report, too much to refuse the question.
    assert match("监管局", "市场监督管理局") == Match.LOOSE
    assert match("卫生局", "卫生健康委员会") == Match.LOOSE  # another kind of ending
    assert match("办公室", "人民政府办公室") == Match.NONE
    assert match("政府办", "松涛区人民政府办公室") == Match.EXACT  # from data/unit_names.txt
    assert match("民委", "民族事务委员会") == Match.EXACT
    assert match("职专", "松桥县职业中等专业学校") == Match.EXACT  # a school called by its kind alone
    assert match("职专", "青川市第三中学") == Match.NONE
    # the government a unit belongs to goes unsaid, and a 管理委员会 is a 委员会 too
    assert match("国资委", "禾阳市人民政府国有资产监督管理委员会") == Match.SHORT
    assert match("桂香社区", "泉湾区望湖街道桂香社区居民委员会") == Match.EXACT  # the street it stands in, unsaid
    # whole-word short names are each a kind of their own: 妇联 is never the 残联, 职高 never the 职专
    assert match("妇联", "泉湾区妇女联合会") == Match.EXACT and match("妇联", "椿林县残疾人联合会") == Match.NONE
    assert match("职高", "松桥县职业中等专业学校") == Match.NONE
    assert match("审批局", "禾阳市行政审批服务局") == Match.EXACT and match("审批局", "禾阳市审计局") == Match.NONE
    assert match("统计局", "审计局") == Match.NONE
    assert match("民政局", "人民政府办公室") == Match.NONE
    assert match("柳溪镇", "柳溪县人力资源和社会保障局") == Match.NONE  # like its place, not the unit
    assert not abbreviates("建局", ("住房", "和", "城乡", "建设"))


def test_party_committees_and_words_ending_like_a_unit_are_not_units():
    [committee] = mentions("市委的要求落实得怎么样？")[:1]
    assert committee.name == "市委" and not committee.strict
    assert not any(m.strict for m in mentions("构建新发展格局，统筹全局"))
    assert not any(m.strict for m in mentions("居民委员会换届选举完成了吗？"))
    assert [m.name for m in mentions("审计局局长是谁？")] == ["审计局"]  # 局长 is no second name
    assert [m.name for m in mentions("审计局和财政局各做了什么？")] == ["审计局", "财政局"]
    assert [m.name for m in mentions("2023年审计局存在哪些问题？")] == ["审计局"]


def test_kinds_of_ending():
    assert name_kind("卫生健康委员会") == ("卫生健康", "委")
    assert name_kind("卫健委") == ("卫健", "委")
    assert name_kind("石湾街道办事处") == ("石湾", "街道")
    assert name_kind("城西分局") == ("城西", "局")
    assert name_kind("家庭医生") is None


def test_nearest_units_share_characters():
    orgs = ["松涛区审计局", "临江市卫生健康委员会", "松涛区财政局"]
    assert UnitIndex.of(orgs).nearest("统计局") == ["松涛区审计局"]
    assert UnitIndex.of(orgs).nearest("卫生局")[0] == "临江市卫生健康委员会"
    assert UnitIndex.of(orgs).nearest("教育局") == []


def test_org_aliases_still_give_the_words_that_name_a_bureau():
    assert {"民委", "民族事务委员会"} <= org_aliases("民族事务委员会")
    assert {"交通局", "应急局", "文旅局", "人社局"} <= (
        org_aliases("交通运输局")
        | org_aliases("应急管理局")
        | org_aliases("文化旅游局")
        | org_aliases("人力资源和社会保障局")
    )
    assert org_aliases("档案局") == {"档案局"}
    assert "开发区" in org_aliases("高新技术开发区")
    assert org_aliases("") == set()
    assert "审计局" in terms("审计局明年有什么计划")


def test_the_name_shown_leaves_out_the_words_before_it():
    assert [m.name for m in mentions("请问统计局明年有什么计划？")] == ["统计局"]
    assert [m.name for m in mentions("想了解一下临江市统计局的情况")] == ["临江市统计局"]
    assert [m.name for m in mentions("那么人力资源和社会保障局呢？")] == ["人力资源和社会保障局"]


def test_a_parks_management_committee_is_named_管委会():
    org = "鹤川高新技术产业开发区管理委员会"
    index = UnitIndex.of([org, "民族事务委员会"])
    for question in (
        "管委会明年有什么计划？",
        "高新区管委会明年有什么计划？",
        "鹤川高新技术产业开发区管委会今年做了什么？",
    ):
        assert any(index.named(m) >= (Match.SHORT, [org]) for m in mentions(question)), question
    [mention] = mentions("民委明年有什么计划？")
    assert index.named(mention) == (Match.EXACT, ["民族事务委员会"])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("二院", Match.SHORT),  # 第 dropped, the number alone, the ending kept
        ("二医院", Match.SHORT),
        ("第二人民医院", Match.EXACT),
        ("三院", Match.NONE),
        ("住院", Match.NONE),
        ("医院", Match.NONE),
    ],
)
def test_a_numbered_unit_is_named_by_its_number(name, expected):
    assert match(name, "岚江市第二人民医院") == expected


def test_a_hospital_is_a_unit_and_a_stay_in_it_is_not():
    assert [m.name for m in mentions("市二院今年门急诊多少人次？")] == ["市二院"]
    assert not any(m.strict or match(m.name, "岚江市第二人民医院") for m in mentions("患者住院平均多少天？"))
    assert [m.name for m in mentions("二院院长是谁？")] == ["二院"]  # 院长 is no second name


def _named(orgs: list[str], question: str) -> list[str]:
    index = UnitIndex.of(orgs)
    found = [index.named(m) for m in mentions(question)]
    return list(dict.fromkeys(org for level, named in found if level >= Match.SHORT for org in named))


@pytest.mark.parametrize(
    "question",
    [
        "国家税务总局临江市松涛区税务局今年组织了多少税收？",
        "松涛区税务局今年组织了多少税收？",
        "税务局今年组织了多少税收？",
    ],
)
def test_a_local_office_of_a_national_body_is_named_as_a_local_bureau(question):
    assert _named(["国家税务总局临江市松涛区税务局", "临江市审计局"], question) == ["国家税务总局临江市松涛区税务局"]


@pytest.mark.parametrize("question", ["城东分局破了多少案子？", "城东公安分局破了多少案子？", "公安分局破了多少案子？"])
def test_a_branch_is_named_by_its_place_or_its_parents_name(question):
    assert _named(["临江市公安局城东分局", "临江市审计局"], question) == ["临江市公安局城东分局"]


@pytest.mark.parametrize(
    ("question", "org"),
    [
        ("市总工会今年建了多少个驿站？", "临江市总工会"),
        ("总工会明年打算做什么？", "临江市总工会"),
        ("县红会培训了多少名救护员？", "松涛县红十字会"),
        ("红十字会今年募集了多少款物？", "松涛县红十字会"),
        ("城投今年融资多少？", "临江城市建设投资集团有限公司"),
        ("城投集团明年开工几个项目？", "临江城市建设投资集团有限公司"),
        ("桃源村今年集体收入多少？", "松涛县柳湾镇桃源村村民委员会"),
        ("桃源村村委会开了几次村民代表大会？", "松涛县柳湾镇桃源村村民委员会"),
    ],
)
def test_peoples_organisations_companies_and_villages_are_units(question, org):
    orgs = ["临江市总工会", "松涛县红十字会", "临江城市建设投资集团有限公司", "松涛县柳湾镇桃源村村民委员会"]
    assert _named(orgs, question) == [org]


def test_words_about_villages_and_companies_name_no_unit():
    orgs = ["松涛县柳湾镇桃源村村民委员会", "临江城市建设投资集团有限公司"]
    assert _named(orgs, "全县农村居民人均收入是多少？") == []
    assert _named(orgs, "村民代表大会开了几次？") == []
    assert not any(m.strict for m in mentions("引进了多少家公司？"))


@pytest.mark.parametrize(
    ("question", "org", "other"),
    [
        ("区医保局今年", "云岭县医疗保障局", True),
        ("市医保局今年", "云岭县医疗保障局", True),
        ("县医保局今年", "云岭县医疗保障局", False),
        ("城南区审计局", "城北区审计局", True),
        ("城南区审计局", "临江市城南区审计局", False),
        ("临江市城南区审计局", "城南区审计局", False),
        ("岚州市科协", "梓溪县科学技术协会", True),
        ("市教育局", "教育局", False),
        ("市监局", "城东新区市场监督管理局", False),
        ("区公安分局", "岚州市公安局澜川分局", False),
        ("共青团澜川区委", "共青团岚州市澜川区委员会", False),
        ("县里给柏岗镇卫生院", "椿林县柏岗镇中心卫生院", False),
    ],
)
def test_a_place_asked_is_told_from_the_units_own(question, org, other):
    """区医保局 matched to 云岭县医疗保障局 is answered with a note of whose report it is; 市监局's 市 is no place, nor
    is 县里给 (a place reader would take 共青团澜川区 for one)."""
    mention = mentions(question)[-1]
    assert other_place(mention.places_before(org), org) is other


def test_the_places_a_name_opens_with():
    assert opening_places("临江市城南区审计局") == ["临江市", "城南区"]
    assert opening_places("市场监督管理局") == []
