"""File → text: encodings detected, line ends normalised, .docx and .pdf read, the shared variants agree."""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

import docx
import pytest

from ingest.errors import FileRejected
from ingest.read import decode_bytes, iter_files, read_text, rejoin_wrapped_lines
from tests.ingest.helpers import RANKED, make_pdf, parse

MB = 1_000_000
SAMPLE = "粮食局2023年工作总结\n一、落实政策性粮食轮换\n区级储备粮轮换出库xxxx吨，“退城进郊”项目开工。\n"


@pytest.mark.parametrize(
    "raw",
    [
        SAMPLE.encode("utf-8"),
        codecs.BOM_UTF8 + SAMPLE.encode("utf-8"),
        SAMPLE.encode("gb18030"),
        SAMPLE.encode("gbk"),
        codecs.BOM_UTF16_LE + SAMPLE.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + SAMPLE.encode("utf-16-be"),
        SAMPLE.encode("utf-16-le"),
        SAMPLE.encode("utf-16-be"),
    ],
    ids=["utf8", "utf8-bom", "gb18030", "gbk", "utf16le-bom", "utf16be-bom", "utf16le", "utf16be"],
)
def test_encodings_are_detected(tmp_path, raw):
    path = tmp_path / "r.txt"
    path.write_bytes(raw)
    text = read_text(path, MB)
    assert text == SAMPLE
    assert "\ufeff" not in text


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_become_lf(tmp_path, newline):
    path = tmp_path / "r.txt"
    path.write_bytes(SAMPLE.replace("\n", newline).encode("gb18030"))
    assert read_text(path, MB) == SAMPLE


def test_file_mixing_utf8_and_gb18030_lines_keeps_both(tmp_path):
    # A report pasted together from two sources: neither codec decodes the whole file.
    raw = "第一段：粮食储备。".encode() + b"\n" + "第二段：仓储建设。".encode("gb18030") + b"\n"
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert decode_bytes(raw, tmp_path / "mixed.txt").split("\n")[:2] == ["第一段：粮食储备。", "第二段：仓储建设。"]


def test_utf16_with_bom_but_broken_body_is_refused(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + "正文".encode("utf-16-le") + b"\x00\xd8")  # lone surrogate
    with pytest.raises(FileRejected, match="not valid utf-16-le"):
        read_text(path, MB)


def test_utf16_without_bom_in_latin_letters_is_read(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes("Summary of 2023\nWork plan for 2024\n".encode("utf-16-le"))
    assert read_text(path, MB) == "Summary of 2023\nWork plan for 2024\n"


def test_binary_named_txt_is_refused(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(FileRejected, match="binary data"):
        read_text(path, MB)


def test_markdown_is_read_as_text(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text(RANKED, encoding="utf-8")
    assert read_text(path, MB) == RANKED


def test_folders_are_walked_recursively_and_filtered(tmp_path):
    root = tmp_path / "in"
    for name in ("a.txt", "sub/b.md", "sub/deeper/c.DOCX", "sub/d.pdf", "e.csv", ".hidden.txt", "~$lock.docx"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    (root / "folder.txt").mkdir()  # a directory with a report-like name is not a file
    missing = tmp_path / "nope.txt"
    got = list(iter_files([root, missing]))
    assert [p.relative_to(root).as_posix() for p in got[:-1]] == ["a.txt", "sub/b.md", "sub/d.pdf", "sub/deeper/c.DOCX"]
    assert got[-1] == missing  # a missing path is passed on so it gets reported


def test_unsupported_type_named_directly_is_refused(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(FileRejected, match=r"unsupported file type \.csv"):
        read_text(path, MB)


def test_docx_paragraphs_and_tables_in_body_order(tmp_path):
    document = docx.Document()
    document.add_paragraph("统计局2023年工作总结")
    document.add_paragraph("一、主要指标")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "指标", "增速"
    table.cell(1, 0).text, table.cell(1, 1).text = "规上工业", "5.2%"
    document.add_paragraph("二、下一步工作计划")
    path = tmp_path / "统计局.docx"
    document.save(str(path))
    assert read_text(path, MB).split("\n") == [
        "统计局2023年工作总结",
        "一、主要指标",
        "表：指标、增速",
        "规上工业：增速 5.2%。",
        "二、下一步工作计划",
    ]


def test_docx_zip_bomb_is_refused_before_inflating(tmp_path):
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<w:document>" + b" " * 30_000_000 + b"</w:document>")
    assert path.stat().st_size < 200_000
    with pytest.raises(FileRejected, match="zip bomb"):
        read_text(path, 20 * MB)


def test_zip_without_document_xml_is_not_a_docx(tmp_path):
    path = tmp_path / "other.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hello")
    with pytest.raises(FileRejected, match=r"no word/document\.xml"):
        read_text(path, MB)


WRAPPED = [
    "Liangshiju 2023 Nian Gongzuo Zongjie",
    "1. Cangchu xiangmu jianshe",
    "Jinnian yilai women jiji tuijin cangchu xiangmu jianshe, wancheng touzi duo",
    "xiang gongcheng, bing qie tigao le liangku xinxihua shuiping he guanli nengl",
    "i, bing wancheng le quan qu chubei liang de lunhuan he jiance gongzuo renwu;",
    "2. Yingji baogong nengli",
    "Zai quan qu jianli le shi ge xiangzhen ji liangyou yingji gongying wangdian, ",
    "bing zuzhi le yingji yanlian, tigao le yingji chuzhi he baozhang gongying neng",
    "li.",
]


def test_pdf_text_layer_is_extracted_and_wrapped_lines_rejoined(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf([WRAPPED, ["Di er ye (page two)."]]))
    lines = read_text(path, MB).split("\n")
    assert lines[0] == "Liangshiju 2023 Nian Gongzuo Zongjie"  # a short title line stays on its own
    assert lines[1] == "1. Cangchu xiangmu jianshe"  # so does a heading
    assert lines[2] == (
        "Jinnian yilai women jiji tuijin cangchu xiangmu jianshe, wancheng touzi duoxiang gongcheng, "
        "bing qie tigao le liangku xinxihua shuiping he guanli nengli, bing wancheng le quan qu chubei liang "
        "de lunhuan he jiance gongzuo renwu;"
    )
    assert lines[3] == "2. Yingji baogong nengli"  # a heading number never joins the line above
    assert lines[4].startswith("Zai quan qu") and lines[4].endswith("baozhang gongying nengli.")
    assert "Di er ye (page two)." in lines


def test_chinese_pdf_goes_through_to_sections(tmp_path):
    body = [
        "粮食局2023年工作总结及2024年工作计划",
        "一、2023年工作总结",
        "（一）积极推进仓储项目建设",
        "连城中心粮库退城进郊建设项目总投资二千四百万元，用地面积四十亩，目前主体",
        "工程已经全部完成，正在进行附属设施和智能化监管设备的安装调试，预计明年",
        "上半年可以投入使用，新增仓容五万吨，有效缓解全区粮食仓储能力不足问题。",
        "（二）着力提升粮油应急保供能力",
        "在全区建立十二个乡镇级粮油应急供应网点，组织开展粮油应急保供演练两次，",
        "进一步提升了突发事件情况下的粮油应急供应和快速响应保障能力水平和效率。",
    ]
    path = tmp_path / "粮食局.pdf"
    path.write_bytes(make_pdf([body], cjk=True))
    text = read_text(path, MB)
    assert "预计明年上半年可以投入使用" in text  # joined across the wrap
    (report,) = parse(text, "粮食局.pdf", max_tokens=64)
    assert report.title == "粮食局2023年工作总结及2024年工作计划"
    sections = {c.section for c in report.chunks if "新增仓容五万吨" in c.text}
    assert sections == {"一、2023年工作总结 › （一）积极推进仓储项目建设"}
    assert {c.section for c in report.chunks if "应急供应网点" in c.text} == {
        "一、2023年工作总结 › （二）着力提升粮油应急保供能力"
    }


def test_a_pdfs_running_header_footer_and_page_numbers_are_dropped(tmp_path):
    """The header repeats the title on every page after the first; the footer numbers the pages. Without them the
    paragraph that runs over the page is one paragraph again, and the title stays."""
    title = "示例市司法局2026年工作总结和2027年工作计划"
    header = "示例市司法局2026年工作总结和2027年工作计划"
    first = [
        title,
        "一、2026年工作总结",
        "（一）公共法律服务体系更加完善",
        "全年建成村（社区）公共法律服务工作室一百二十个，办理法律援助案件一千五百三十件，",
        "第 1 页 共 3 页",
    ]
    second = [
        header,
        "为困难群众挽回经济损失二千三百万元，群众满意率达到百分之九十九以上，受到上级表扬。",
        "（二）人民调解工作扎实有效",
        "第 2 页 共 3 页",
    ]
    third = [header, "全年调解各类矛盾纠纷三千二百件，调解成功率百分之九十八。", "- 3 -"]
    path = tmp_path / "司法局.pdf"
    path.write_bytes(make_pdf([first, second, third], cjk=True))
    text = read_text(path, MB)
    assert "页" not in text.replace("共", "")[: text.find(title)]  # nothing before the title
    assert text.split("\n")[0] == title
    assert text.count(header) == 1 and "第 2 页" not in text and "- 3 -" not in text
    assert "一千五百三十件，为困难群众挽回经济损失" in text  # joined across the page break
    (report,) = parse(text, "司法局.pdf", max_tokens=128)
    assert report.title == title
    assert {c.section for c in report.chunks if "调解成功率" in c.text} == {
        "一、2026年工作总结 › （二）人民调解工作扎实有效"
    }


def test_pdf_without_text_layer_is_refused_clearly(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf([None, None]))
    with pytest.raises(FileRejected, match="no text layer") as info:
        read_text(path, MB)
    assert str(path) in str(info.value)


def test_pdf_over_the_page_limit_is_refused(tmp_path):
    path = tmp_path / "long.pdf"
    path.write_bytes(make_pdf([["page"]] * 3))
    with pytest.raises(FileRejected, match="3 pages > 2"):
        read_text(path, MB, max_pdf_pages=2)


def test_rejoin_keeps_sentence_ends_and_headings():
    lines = ["x" * 30 + "。", "y" * 30, "z" * 30, "（二）标题", "w" * 10]
    assert rejoin_wrapped_lines("\n".join(lines)).split("\n") == [lines[0], lines[1] + lines[2], lines[3], lines[4]]


@pytest.mark.parametrize(
    "variant", ["bureau-reports-2023.gb18030.txt", "bureau-reports-2023.bom-crlf.txt", "bureau-reports-2023.docx"]
)
def test_shared_variants_give_the_same_reports(compilation, shared_dir, variant):
    original = parse(read_text(compilation, 20 * MB), compilation.name)
    path = shared_dir / "corpus" / "variants" / variant
    other = parse(read_text(path, 20 * MB), path.name)
    assert len(original) == len(other) == 11
    for a, b in zip(original, other, strict=True):
        assert a.title == b.title
        assert a.facts == b.facts
        assert a.text == b.text
        assert [(c.section, c.text, c.kind, c.year) for c in a.chunks] == [
            (c.section, c.text, c.kind, c.year) for c in b.chunks
        ]


def test_variant_file_stems_do_not_leak_into_titles(shared_dir):
    path: Path = shared_dir / "corpus" / "variants" / "bureau-reports-2023.docx"
    titles = [r.title for r in parse(read_text(path, 20 * MB), path.name)]
    assert not any("bureau" in t for t in titles)
