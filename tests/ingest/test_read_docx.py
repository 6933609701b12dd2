"""Word files: tables read as lines that carry their headers, headings returned with their levels, bounded."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn

from ingest.clean import clean_text
from ingest.read import BOLD_LEVEL, TABLE_LEVEL, TITLE_LEVEL, ReadText, read_document, read_text

MB = 1_000_000


def _save(document, tmp_path: Path, name: str = "r.docx") -> Path:
    path = tmp_path / name
    document.save(str(path))
    return path


def _read(document, tmp_path: Path) -> ReadText:
    return read_document(_save(document, tmp_path), 20 * MB)


def _set(element, tag: str, value: str | None = None) -> None:
    node = OxmlElement(tag)
    if value is not None:
        node.set(qn("w:val"), value)
    element.append(node)


def _fill(table, rows: list[list[str]]) -> None:
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            if value is not None:
                table.cell(r, c).text = value


def _mark_header(row) -> None:
    _set(row._tr.get_or_add_trPr(), "w:tblHeader")


def _table_xml(rows: list[list[str]], header_rows: int = 1) -> str:
    """A w:tbl written as text: python-docx's cell API is quadratic, too slow for 10,000 rows."""
    out = [f"<w:tbl {nsdecls('w')}><w:tblGrid>" + "<w:gridCol/>" * len(rows[0]) + "</w:tblGrid>"]
    for n, row in enumerate(rows):
        props = "<w:trPr><w:tblHeader/></w:trPr>" if n < header_rows else ""
        cells = "".join(f"<w:tc><w:p><w:r><w:t>{value}</w:t></w:r></w:p></w:tc>" for value in row)
        out.append(f"<w:tr>{props}{cells}</w:tr>")
    return "".join(out) + "</w:tbl>"


def _append_xml(document, xml: str) -> None:
    body = document.element.body
    body.insert(len(body) - 1, parse_xml(xml))  # before the final w:sectPr


# --- headings ---------------------------------------------------------------------------------------------------


def test_heading_styles_and_outline_levels_are_returned_with_their_levels(tmp_path):
    document = docx.Document()
    styles = document.styles
    document.add_heading("城区2024年民生工作计划", 0)
    document.add_heading("一、总体目标", 1)
    document.add_paragraph("围绕群众急难愁盼，办好一批民生实事。")
    document.add_heading("（一）教育", 2)
    localized = styles.add_style("标题 3", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("1.新建学校", style=localized)
    derived = styles.add_style("报告小标题", WD_STYLE_TYPE.PARAGRAPH)
    derived.base_style = styles["Heading 2"]
    document.add_paragraph("（二）医疗", style=derived)
    outlined = styles.add_style("要点", WD_STYLE_TYPE.PARAGRAPH)
    _set(outlined.element.get_or_add_pPr(), "w:outlineLvl", "3")
    document.add_paragraph("加强基层医疗", style=outlined)
    own = document.add_paragraph("二、保障措施")
    _set(own._p.get_or_add_pPr(), "w:outlineLvl", "0")
    demoted = document.add_heading("只是正文的一句话", 1)
    _set(demoted._p.get_or_add_pPr(), "w:outlineLvl", "9")
    read = _read(document, tmp_path)
    assert read.headings == {
        "城区2024年民生工作计划": TITLE_LEVEL,
        "一、总体目标": 1,
        "（一）教育": 2,
        "1.新建学校": 3,
        "（二）医疗": 2,
        "加强基层医疗": 4,
        "二、保障措施": 1,
    }
    assert read.text.split("\n")[2] == "围绕群众急难愁盼，办好一批民生实事。"


def test_short_all_bold_paragraphs_are_the_bold_family(tmp_path):
    document = docx.Document()
    document.add_paragraph().add_run("强化组织领导").bold = True
    document.add_paragraph().add_run("成立工作专班，定期调度重点项目，确保各项任务按期完成并取得实效。").bold = True
    mixed = document.add_paragraph()
    mixed.add_run("压实责任").bold = True
    mixed.add_run("：各部门按分工推进。")
    strong = document.styles.add_style("强调字", WD_STYLE_TYPE.CHARACTER)
    strong.font.bold = True
    document.add_paragraph().add_run("加强督导检查", style=strong)
    bold_style = document.styles.add_style("加粗段", WD_STYLE_TYPE.PARAGRAPH)
    bold_style.font.bold = True
    document.add_paragraph("严格考核问效", style=bold_style)
    document.add_paragraph(style=bold_style).add_run("不加粗的一句").bold = False
    assert _read(document, tmp_path).headings == {
        "强化组织领导": BOLD_LEVEL,
        "加强督导检查": BOLD_LEVEL,
        "严格考核问效": BOLD_LEVEL,
    }


def test_heading_keys_survive_cleaning(tmp_path):
    document = docx.Document()
    document.add_heading("二、\u3000重点任务 ", 1)
    document.add_paragraph("推进\u3000城市更新。")
    read = _read(document, tmp_path)
    (key,) = read.headings
    assert key in clean_text(read.text).split("\n")


def test_read_text_is_read_document_text(tmp_path):
    document = docx.Document()
    document.add_heading("一、总体目标", 1)
    path = _save(document, tmp_path)
    assert read_text(path, MB) == read_document(path, MB).text == "一、总体目标"


def test_plain_text_formats_mark_no_headings(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("一、总体目标\n正文。\n", encoding="utf-8")
    assert read_document(path, MB) == ReadText("一、总体目标\n正文。\n", {}, [])


# --- tables -----------------------------------------------------------------------------------------------------


def test_merged_cells_and_a_marked_header_give_exact_lines(tmp_path):
    document = docx.Document()
    document.add_paragraph("一、城市绿化")
    table = document.add_table(rows=6, cols=4)
    table.cell(0, 1).merge(table.cell(0, 2))  # w:gridSpan
    table.cell(0, 0).merge(table.cell(1, 0))  # w:vMerge
    table.cell(2, 0).merge(table.cell(3, 0))
    table.cell(5, 1).merge(table.cell(5, 2))
    _fill(
        table,
        [
            ["项目", "2023年", None, "2022年"],
            [None, "完成", "目标", "完成"],
            ["公园", "12个", "10个", "8个"],
            [None, "9个", "", "6个"],
            ["湿地", "3处", "2处", "1处"],
            ["绿道", "未统计", None, "35公里"],
        ],
    )
    _mark_header(table.rows[0])
    _mark_header(table.rows[1])
    read = _read(document, tmp_path)
    assert read.text.split("\n") == [
        "一、城市绿化",
        "表：项目、2023年 完成、2023年 目标、2022年 完成",
        "公园：2023年 完成 12个，2023年 目标 10个，2022年 完成 8个。",
        "公园：2023年 完成 9个，2022年 完成 6个。",
        "湿地：2023年 完成 3处，2023年 目标 2处，2022年 完成 1处。",
        "绿道：2023年 完成、目标 未统计，2022年 完成 35公里。",
    ]
    assert read.headings["表：项目、2023年 完成、2023年 目标、2022年 完成"] == TABLE_LEVEL


def test_marked_header_wins_over_the_guess_and_its_repeat_is_dropped(tmp_path):
    document = docx.Document()
    rows = [
        ["街道", "第1季度", "第2季度"],
        ["东街", "120户", "135户"],
        ["街道", "第1季度", "第2季度"],
        ["西街", "98户", "101户"],
    ]
    table = document.add_table(rows=4, cols=3)
    _fill(table, rows)
    _mark_header(table.rows[0])
    assert _read(document, tmp_path).text.split("\n") == [
        "表：街道、第1季度、第2季度",
        "东街：第1季度 120户，第2季度 135户。",
        "西街：第1季度 98户，第2季度 101户。",
    ]


def test_caption_above_the_table_heads_its_rows(tmp_path):
    document = docx.Document()
    document.add_heading("一、主要指标完成情况", 1)
    document.add_paragraph("表1 卫生健康主要指标")
    document.add_paragraph("")
    table = document.add_table(rows=2, cols=3)
    _fill(table, [["指标", "2023年", "目标"], ["家庭医生签约率", "68.5%", "65%"]])
    read = _read(document, tmp_path)
    assert read.text.split("\n") == [
        "一、主要指标完成情况",
        "表1 卫生健康主要指标",
        "",
        "家庭医生签约率：2023年 68.5%，目标 65%。",
    ]
    assert read.headings == {"一、主要指标完成情况": 1, "表1 卫生健康主要指标": TABLE_LEVEL}


def test_nested_table_is_read_into_its_cell(tmp_path):
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    _fill(table, [["项目", "进展情况"], ["学校建设", ""]])
    cell = table.cell(1, 1)
    cell.paragraphs[0].text = "完成年度任务。"
    inner = cell.add_table(rows=3, cols=2)
    _fill(inner, [["类别", "数量"], ["新建", "3所"], ["改扩建", "5所"]])
    deep = inner.cell(2, 1).add_table(rows=1, cols=1)
    deep.cell(0, 0).text = "其中寄宿制2所" * 100  # deeper and longer than any cell may hold
    lines = _read(document, tmp_path).text.split("\n")
    assert lines[:2] == ["表：项目、进展情况", lines[1]]
    assert lines[1].startswith("学校建设：进展情况 完成年度任务。 新建：数量 3所。 改扩建：数量 5所 其中寄宿制2所")
    assert lines[1].endswith("…。") and len(lines[1]) < 400
    assert len(lines) == 2


def test_content_controls_are_read_but_a_table_of_contents_is_not(tmp_path):
    document = docx.Document()
    _append_xml(
        document,
        f"<w:sdt {nsdecls('w')}><w:sdtPr><w:docPartObj><w:docPartGallery w:val='Table of Contents'/>"
        "</w:docPartObj></w:sdtPr><w:sdtContent><w:p><w:r><w:t>一、总体目标……1</w:t></w:r></w:p></w:sdtContent></w:sdt>",
    )
    _append_xml(
        document,
        f"<w:sdt {nsdecls('w')}><w:sdtPr/><w:sdtContent><w:p><w:r><w:t>一、总体目标</w:t></w:r></w:p></w:sdtContent></w:sdt>",
    )
    assert _read(document, tmp_path).text == "一、总体目标"


def test_ten_thousand_rows_read_in_bounded_time_and_memory(tmp_path):
    document = docx.Document()
    document.add_paragraph("社区户籍人口台账")
    rows = [["社区", "2023年户数", "目标"]] + [[f"第{n}社区", str(n * 3), str(n * 4)] for n in range(1, 10_001)]
    _append_xml(document, _table_xml(rows))
    path = _save(document, tmp_path)
    started = time.perf_counter()
    read = read_document(path, 20 * MB)
    seconds = time.perf_counter() - started
    lines = read.text.split("\n")
    assert len(lines) == 2 + 10_000 and not read.notes
    assert lines[1:3] == ["表：社区、2023年户数、目标", "第1社区：2023年户数 3，目标 4。"]
    assert lines[-1] == "第10000社区：2023年户数 30000，目标 40000。"
    assert seconds < 15, f"{seconds:.1f} s"  # ~1.0-1.3 s measured on 2 busy cores
    tracemalloc.start()
    read_document(path, 20 * MB)
    peak = tracemalloc.get_traced_memory()[1]  # Python objects only; lxml's tree is not traced
    tracemalloc.stop()
    assert peak < 100 * MB, f"{peak / MB:.0f} MB"  # ~13 MB measured


def test_pathological_table_is_cut_with_a_note(tmp_path):
    document = docx.Document()
    rows = [["网格", *(f"指标{k}" for k in range(9))]] + [[f"第{n}网格", *("1" * 9)] for n in range(6_000)]
    _append_xml(document, _table_xml(rows))
    read = _read(document, tmp_path)
    assert read.notes == ["table 1: table of 6001 rows cut to its first 5000 (over 50,000 cells)"]
    assert len(read.text.split("\n")) == 1 + 4_999


def test_one_column_table_reads_as_lines(tmp_path):
    document = docx.Document()
    table = document.add_table(rows=2, cols=1)
    _fill(table, [["推进老旧小区改造"], ["完善社区养老服务"]])
    assert _read(document, tmp_path).text == "推进老旧小区改造\n完善社区养老服务"
