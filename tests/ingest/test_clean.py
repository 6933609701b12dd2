"""Noise rules as data: each one catches its furniture and spares report text; none reaches titles or the index."""

from __future__ import annotations

import re

import pytest

from ingest.clean import MARKERS, NOISE_LINES, clean_text, is_noise_line
from ingest.read import read_text
from tests.ingest.helpers import parse

# pattern → (furniture it must catch, report text that looks alike and must survive)
MARKER_EXAMPLES = {
    MARKERS[0]: ("##paidbegin##管理区2023年工作总结及2024年工作计划", "付费项目##paid##开始前的说明"),
    MARKERS[1]: ("### 会员内容 开始 ###", "会员内容开始前，先完成党员信息采集"),
}
NOISE_EXAMPLES = {
    NOISE_LINES[0]: (
        "【哒哒素材库】——每天更新材料1000多篇内部高质量素材，一键精准搜索",
        "建成全县数字档案资料库，录入档案xx万条。",
    ),
    NOISE_LINES[1]: ("需要的小伙伴请联系客服：cwk", "开通12345政务服务客服热线，群众满意率达98%。"),
    NOISE_LINES[2]: ("有意加入请联系：1 4367，：9 649564", "欢迎有意向的企业加入产业联盟，共同开拓市场。"),
    NOISE_LINES[3]: ("会员群+网盘群同步每日更新", "全年发展工会会员xx名，建成职工之家x个。"),
    NOISE_LINES[4]: ("请各位小伙伴认准哒哒，谨防假冒！", "严厉打击假冒伪劣商品，查处案件xx起。"),
    NOISE_LINES[5]: ("关注微信公众号：哒哒君，获取更多材料", "通过政务微信公众号发布政策解读xx篇。"),
    NOISE_LINES[6]: ("本文来源：哒哒素材网", "要拓宽数据来源，充分结合工业企业综合评价。"),
    NOISE_LINES[7]: ("扫码加入会员，每日更新", "推广扫码支付，商户覆盖率达到90%。"),
    NOISE_LINES[8]: ("下载完整版请添加微信", "建立政策文件全文数据库，获取全文检索服务。"),
    NOISE_LINES[9]: ("本文档由文库用户上传，仅供学习参考", "本年度档案由各科室整理后统一移交。"),
    NOISE_LINES[10]: ("如有侵权请联系删除", "依法查处侵权假冒案件12起，如有侵权行为及时处置。"),
    NOISE_LINES[11]: ("开通会员，免费下载全文", "开通政务服务“免费帮办”专线，全年帮办1,200件。"),
    NOISE_LINES[12]: ("还剩 3 页未读，继续阅读", "全年开展全民阅读活动120场，还剩余资金3万元。"),
    NOISE_LINES[13]: ("剩余内容已隐藏，请付费后查看", "剩余工程内容将于明年上半年完工。"),
    NOISE_LINES[14]: ("点击阅读全文", "组织干部阅读全文件汇编，开展学习研讨。"),
    NOISE_LINES[15]: ("下载文档到电脑，查找使用更方便", "推动政务服务事项从电脑端向手机端延伸。"),
    NOISE_LINES[16]: ("下载后可自由编辑", "完成办事指南编辑，群众下载使用。"),
}
FURNITURE_WORDS = ("##paid", "哒哒", "素材库", "客服", "会员群", "网盘群", "谨防假冒", "代笔", "有意加入")


def test_every_rule_has_examples():
    assert set(MARKER_EXAMPLES) == set(MARKERS)
    assert set(NOISE_EXAMPLES) == set(NOISE_LINES)


@pytest.mark.parametrize("pattern", MARKERS)
def test_marker_rule(pattern):
    furniture, report_text = MARKER_EXAMPLES[pattern]
    assert re.search(pattern, furniture, re.IGNORECASE)
    assert not re.search(pattern, report_text, re.IGNORECASE)
    assert clean_text(report_text) == report_text
    assert not re.search(pattern, clean_text(furniture), re.IGNORECASE)


@pytest.mark.parametrize("pattern", NOISE_LINES)
def test_noise_line_rule(pattern):
    furniture, report_text = NOISE_EXAMPLES[pattern]
    assert re.search(pattern, furniture, re.IGNORECASE)
    assert not re.search(pattern, report_text, re.IGNORECASE)
    assert is_noise_line(furniture)
    assert not is_noise_line(report_text)
    assert clean_text(f"第一段。\n{furniture}\n{report_text}") == f"第一段。\n{report_text}"


def test_marker_is_cut_out_and_the_rest_of_its_line_kept():
    assert clean_text("##paidbegin##粮食局2023年工作总结\n正文。##PAIDEND##") == "粮食局2023年工作总结\n正文。"


def test_control_characters_and_wide_spaces_are_removed():
    raw = "\ufeff\u3000\u3000一、总体情况\u200b\n\xa0正文\x07内容。  \n\n\n（一）下一节"
    assert clean_text(raw) == "一、总体情况\n正文内容。\n\n\n（一）下一节"


def test_text_is_nfc_normalised():
    assert clean_text("Cafe\u0301 项目") == "Caf\u00e9 项目"


def test_rules_drop_no_line_of_the_real_reports(compilation):
    """Only the advert block at the end of the compilation matches a noise rule."""
    lines = read_text(compilation, 20_000_000).split("\n")
    dropped = [n for n, line in enumerate(lines) if line.strip() and is_noise_line(line.strip())]
    assert len(dropped) == 4
    assert all("哒哒" in lines[n] for n in dropped)
    assert min(dropped) > len(lines) - 12


def test_compilation_noise_reaches_no_title_section_or_chunk(compilation):
    reports = parse(read_text(compilation, 20_000_000), compilation.name)
    assert len(reports) == 11
    for report in reports:
        for word in FURNITURE_WORDS:
            assert word not in report.title
            assert word not in report.text, (report.title, word)
            for chunk in report.chunks:
                assert word not in chunk.text and word not in chunk.section
    assert reports[0].title == "管理区2023年工作总结及2024年工作计划"  # the marker glued to it is gone
    assert reports[-1].text.endswith("构建专管群管结合、人防技防并重的执法监管新格局。")


def test_noise_never_reaches_the_index(indexed):
    manifest, got, report_texts, _ = indexed
    assert len(got["ids"]) == manifest.chunks > 100
    texts = [
        *got["documents"],
        *(m["section"] for m in got["metadatas"]),
        *(m["report"] for m in got["metadatas"]),
        *report_texts.values(),
        *(r.title for r in manifest.reports),
    ]
    for word in FURNITURE_WORDS:
        assert not [t for t in texts if word in t], word
