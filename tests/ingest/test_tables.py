"""Tables → lines that carry their headers: grids in, exact lines out; real ruled PDFs through pdfplumber."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.tables import (
    MAX_CELLS,
    Cell,
    Table,
    draws_rules,
    grid_table,
    is_caption,
    render_table,
    table_lines,
)

INDICATORS = [
    ["指标", "2023年", "目标"],
    ["家庭医生签约率", "68.5%", "65%"],
    ["每千人口床位数", "5.1张", "5张"],
]
INDICATORS_LINE = "家庭医生签约率：2023年 68.5%，目标 65%。"


def test_rows_carry_their_column_headers():
    assert table_lines(grid_table(INDICATORS, header_rows=1)) == [
        "表：指标、2023年、目标",
        "家庭医生签约率：2023年 68.5%，目标 65%。",
        "每千人口床位数：2023年 5.1张，目标 5张。",
    ]


def test_header_is_guessed_when_years_are_its_only_digits():
    rendered = render_table(grid_table(INDICATORS))
    assert rendered.header == ("指标", "2023年", "目标")
    assert rendered.lines[1] == "家庭医生签约率：2023年 68.5%，目标 65%。"


def test_empty_cells_are_skipped_and_a_row_of_none_is_dropped():
    grid = [*INDICATORS, ["孕产妇死亡率", "", "≤10/10万"], ["", "", ""], ["新增床位", "", ""]]
    assert table_lines(grid_table(grid, header_rows=1))[3:] == ["孕产妇死亡率：目标 ≤10/10万。", "新增床位。"]


def test_two_header_rows_combine_and_a_merged_value_names_both_columns():
    grid = [
        ["项目", "2023年", None, "2022年"],
        [None, "完成", "目标", "完成"],
        ["新建公园", "12个", "10个", "8个"],
        ["绿道", "未统计", None, "35公里"],
    ]
    rendered = render_table(grid_table(grid))
    assert rendered.header == ("项目", "2023年 完成", "2023年 目标", "2022年 完成")
    assert rendered.lines == [
        "表：项目、2023年 完成、2023年 目标、2022年 完成",
        "新建公园：2023年 完成 12个，2023年 目标 10个，2022年 完成 8个。",
        "绿道：2023年 完成、目标 未统计，2022年 完成 35公里。",
    ]


def test_vertically_merged_label_and_value_repeat_down():
    rows = [
        [Cell("片区"), Cell("项目"), Cell("投资（万元）")],
        [Cell("东片"), Cell("污水管网"), Cell("1200")],
        [Cell("", merged_up=True), Cell("口袋公园"), Cell("300")],
        [Cell("西片"), Cell("停车场"), Cell("450")],
        [Cell("", merged_up=True), Cell("充电桩"), Cell("", merged_up=True)],
    ]
    assert table_lines(Table(rows, header_rows=1))[1:] == [
        "东片：项目 污水管网，投资（万元） 1200。",
        "东片：项目 口袋公园，投资（万元） 300。",
        "西片：项目 停车场，投资（万元） 450。",
        "西片：项目 充电桩，投资（万元） 450。",
    ]


def test_header_repeated_on_a_new_page_is_dropped():
    head = [["项目", "2023年", None], [None, "完成", "目标"]]
    grid = [*head, ["新建公园", "12个", "10个"], *head, ["湿地", "3处", "2处"]]
    assert table_lines(grid_table(grid, header_rows=2)) == [
        "表：项目、2023年 完成、2023年 目标",
        "新建公园：2023年 完成 12个，2023年 目标 10个。",
        "湿地：2023年 完成 3处，2023年 目标 2处。",
    ]


def test_without_a_header_cells_are_joined_plainly():
    grid = [["张三", "局长", "主持全面工作"], ["李四", "副局长", "分管财务"]]
    assert render_table(grid_table(grid)).lines == ["张三，局长，主持全面工作。", "李四，副局长，分管财务。"]


def test_first_row_with_numbers_is_not_a_header():
    grid = [["一季度", "12户", "3户"], ["二季度", "15户", "4户"]]
    assert table_lines(grid_table(grid)) == ["一季度，12户，3户。", "二季度，15户，4户。"]


def test_short_names_over_sentences_are_a_header():
    grid = [["项目", "进展情况"], ["老旧小区改造", "完成改造小区二十三个，惠及居民四千余户。"]]
    assert table_lines(grid_table(grid)) == [
        "表：项目、进展情况",
        "老旧小区改造：进展情况 完成改造小区二十三个，惠及居民四千余户。",
    ]


def test_one_column_table_reads_as_its_lines():
    grid = [["推进老旧小区改造"], [""], ["完善社区养老服务"]]
    assert table_lines(grid_table(grid)) == ["推进老旧小区改造", "完善社区养老服务"]


def test_outside_caption_heads_the_rows_and_a_title_row_is_kept():
    outside = render_table(grid_table(INDICATORS, caption="表1 主要指标完成情况"))
    assert outside.heading == "表1 主要指标完成情况"
    assert outside.lines[0] == "家庭医生签约率：2023年 68.5%，目标 65%。"  # the caption is already in the text
    titled = render_table(grid_table([["2023年主要指标", None, None], *INDICATORS]))
    assert titled.heading == "2023年主要指标"
    assert titled.lines[:2] == ["2023年主要指标", "家庭医生签约率：2023年 68.5%，目标 65%。"]
    both = render_table(grid_table([["2023年主要指标", None, None], *INDICATORS], caption="表1 主要指标"))
    assert both.heading == "表1 主要指标"
    assert both.lines[:2] == ["2023年主要指标", INDICATORS_LINE]


def test_a_row_across_the_table_stays_a_group_line():
    grid = [INDICATORS[0], ["一、医疗服务", None, None], INDICATORS[1]]
    assert table_lines(grid_table(grid, header_rows=1))[1:] == ["一、医疗服务", INDICATORS_LINE]


def test_serial_numbers_give_way_to_the_name_column():
    grid = [["序号", "机构名称", "床位（张）"], ["1", "东街社区卫生服务站", "20"]]
    assert table_lines(grid_table(grid))[1] == "东街社区卫生服务站：床位（张） 20。"


def test_cell_text_is_one_line_and_a_row_ends_once():
    grid = [["项目", "进展"], ["河道治理", "完成清淤\n十二公里。"], ["绿化", "新增  绿地 3 处；"]]
    lines = table_lines(grid_table(grid, header_rows=1))
    assert lines[1:] == ["河道治理：进展 完成清淤十二公里。", "绿化：进展 新增 绿地 3 处。"]
    assert all("\n" not in line for line in lines)


def test_heading_line_is_bounded():
    header = ["地区", *(f"第{n}项重点民生工程完成率" for n in range(1, 8))]
    line = table_lines(grid_table([header, ["东城", *(["95%"] * 7)]], header_rows=1))[0]
    assert line.startswith("表：地区、第1项") and len(line) == 40 and line.endswith("…")


def test_huge_table_is_cut_with_a_note():
    rows = [["社区", "户数"]] + [[f"第{n}网格", str(n)] for n in range(MAX_CELLS // 2 + 10)]
    rendered = render_table(grid_table(rows, header_rows=1))
    assert len(rendered.lines) == MAX_CELLS // 2  # heading line + the rows up to the cap
    assert rendered.notes and "cut to its first" in rendered.notes[0]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("表1 主要指标完成情况", True),
        ("附表2：重点项目清单", True),
        ("2023年民生实事项目一览表", True),
        ("一、主要指标完成情况", False),
        ("今年主要指标完成情况如下表。", False),
        ("表彰先进集体和个人", False),
    ],
)
def test_caption_lines(line, expected):
    assert is_caption(line) is expected


def test_draws_rules_sees_lines_and_rectangles_only():
    assert draws_rules(b"q 0 0 m 100 0 l S Q")
    assert draws_rules(b"10 10 80 20 re f")
    assert not draws_rules(b"BT /F1 12 Tf (real) Tj ET")


# --- real PDFs: reportlab draws them, pdfplumber reads them ----------------------------------------------------


def _pdf(path: Path, blocks: list[object]) -> Path:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate
    from reportlab.platypus import Table as PdfGrid

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=11, leading=16)
    story: list[object] = []
    for block in blocks:
        if block == "\f":
            story.append(PageBreak())
            continue
        if isinstance(block, str):
            story.append(Paragraph(block, body))
            continue
        data, spans, repeat = block  # type: ignore[misc]
        style = [
            ("FONTNAME", (0, 0), (-1, -1), "STSong-Light"),
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            *(("SPAN", a, b) for a, b in spans),
        ]
        story.append(PdfGrid(data, repeatRows=repeat, style=style))
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return path


def _pages(path: Path) -> list[object]:
    pdfplumber = pytest.importorskip("pdfplumber")
    from ingest.tables import pdf_page_tables

    out = []
    with pdfplumber.open(str(path)) as pdf:
        previous = None
        for page in pdf.pages:
            found = pdf_page_tables(page, previous)
            out.append(found)
            previous = found.tables[-1].table if found.tables else None
    return out


@pytest.fixture
def reportlab():
    return pytest.importorskip("reportlab")


def test_pdf_ruled_table_is_spliced_in_reading_order(tmp_path, reportlab):
    data = [["指标", "2023年", "目标"], ["家庭医生签约率", "68.5%", "65%"], ["孕产妇死亡率", "0", "≤10/10万"]]
    path = _pdf(
        tmp_path / "t.pdf",
        ["一、主要指标完成情况", "表1 主要指标完成情况", (data, [], 0), "二、下一步工作计划"],
    )
    (page,) = _pages(path)
    (table,) = page.tables
    assert table.table.caption == "表1 主要指标完成情况"
    assert page.pieces == ["一、主要指标完成情况\n表1 主要指标完成情况", "二、下一步工作计划"]
    assert page.spliced().split("\n") == [
        "一、主要指标完成情况",
        "表1 主要指标完成情况",
        "家庭医生签约率：2023年 68.5%，目标 65%。",
        "孕产妇死亡率：2023年 0，目标 ≤10/10万。",
        "二、下一步工作计划",
    ]
    assert page.text == "一、主要指标完成情况\n表1 主要指标完成情况\n二、下一步工作计划"
    assert table.top < table.bottom


def test_pdf_merged_cells_keep_their_spans(tmp_path, reportlab):
    data = [
        ["项目", "2023年", "", "2022年"],
        ["", "完成", "目标", "完成"],
        ["新建公园", "12个", "10个", "8个"],
        ["绿道", "未统计", "", "35公里"],
    ]
    spans = [((1, 0), (2, 0)), ((0, 0), (0, 1)), ((1, 3), (2, 3))]
    (page,) = _pages(_pdf(tmp_path / "m.pdf", ["城市绿化", (data, spans, 0)]))
    assert page.tables[0].text.lines == [
        "表：项目、2023年 完成、2023年 目标、2022年 完成",
        "新建公园：2023年 完成 12个，2023年 目标 10个，2022年 完成 8个。",
        "绿道：2023年 完成、目标 未统计，2022年 完成 35公里。",
    ]


@pytest.mark.parametrize("repeat", [1, 0], ids=["header-repeated", "header-not-repeated"])
def test_pdf_table_over_two_pages_keeps_its_header(tmp_path, reportlab, repeat):
    data = [["序号", "站点名称", "床位（张）"]] + [[str(n), f"第{n}卫生服务站", str(10 + n)] for n in range(1, 71)]
    pages = _pages(_pdf(tmp_path / "long.pdf", ["基层站点名录", (data, [], repeat)]))
    assert len(pages) == 2
    lines = [line for page in pages for table in page.tables for line in table.text.lines]
    assert lines[0] == "表：序号、站点名称、床位（张）"
    assert lines[1:] == [f"第{n}卫生服务站：床位（张） {10 + n}。" for n in range(1, 71)]
    assert pages[1].tables[0].table.continued


def test_pdf_boxed_paragraph_is_not_a_table(tmp_path, reportlab):
    (page,) = _pages(_pdf(tmp_path / "box.pdf", ["正文第一段。", ([["专栏：重点任务清单"]], [], 0), "正文第二段。"]))
    assert page.tables == []
    assert page.text.split("\n") == ["正文第一段。", "专栏：重点任务清单", "正文第二段。"]


def test_pdf_table_reader_opens_pdfplumber_only_for_ruled_pages(tmp_path, reportlab):
    pytest.importorskip("pdfplumber")
    from pypdf import PdfReader

    from ingest.tables import PdfTableReader

    data = [["序号", "站点名称", "床位（张）"]] + [[str(n), f"第{n}卫生服务站", str(10 + n)] for n in range(1, 71)]
    path = _pdf(tmp_path / "mixed.pdf", ["第一页只有正文。", "\f", "基层站点名录", (data, [], 1)])
    reader = PdfReader(str(path))
    with PdfTableReader(path) as tables:
        found = [tables.page(n, page.get_contents().get_data()) for n, page in enumerate(reader.pages)]
        assert tables._pdf is not None
    assert found[0] is None
    assert found[1] is not None and found[1].pieces == ["基层站点名录", ""]
    assert found[2] is not None and found[2].tables[0].table.continued
    rows = [line for page in found[1:] if page for t in page.tables for line in t.text.lines]
    assert len(rows) == 71 and rows[-1] == "第70卫生服务站：床位（张） 80。"
    with PdfTableReader(path) as tables:
        assert tables.page(0, reader.pages[0].get_contents().get_data()) is None
        assert tables._pdf is None  # a text-only page never opens pdfplumber
