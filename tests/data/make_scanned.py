"""Write tests/data/scanned-report.pdf: a made-up two-page report as a scanner would give it (no text layer).

Run once by hand; its output is committed so tests and CI need no CJK font. The fonts come from Debian
packages (`apt-get install fonts-arphic-uming fonts-arphic-ukai fonts-wqy-microhei`): Ming for body text,
Kai for second-level headings, a sans for the title and first-level headings, as such reports are typeset.
The page is laid out at 300 dpi on A4, one 16 pt character per cell, 28 characters a line (and a 10.5 pt
note, as small print is set), then slightly rotated, blurred, noised and saved as JPEG, so OCR meets what a
real scan gives it. Alongside it, scanned-report.json holds the ground truth: each page's lines as laid out,
and the report's paragraphs.

    .venv/bin/python tests/data/make_scanned.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
DPI = 300
PAGE = (2480, 3508)  # A4 at 300 dpi
LEFT, TOP = 331, 437
CELL = 65  # 16 pt at 300 dpi, as the character advance
PER_LINE = 28
PITCH = 120  # line pitch (28.9 pt)
LINES_PER_PAGE = 16  # fewer than a real page holds, so the second page starts inside a paragraph

FONTS = {
    "title": ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 80),
    "h1": ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 62),
    "h2": ("/usr/share/fonts/truetype/arphic/ukai.ttc", 64),
    "body": ("/usr/share/fonts/truetype/arphic/uming.ttc", 64),
    "note": ("/usr/share/fonts/truetype/arphic/uming.ttc", 42),  # 10.5 pt, as footnotes and tables are set
}

REPORT: list[tuple[str, str]] = [
    ("title", "气象局2023年工作总结及2024年工作计划"),
    (
        "body",
        "2023年，我局坚持以服务地方经济社会发展为中心，着力提升气象监测预报能力，扎实做好防灾减灾气象保障，各项工作取得新进展。现将有关情况报告如下。",
    ),
    ("h1", "一、2023年工作总结"),
    ("h2", "（一）气象监测网络持续完善"),
    (
        "body",
        "全年新建区域自动气象站十八个，改造升级老旧站点二十六个，实现乡镇全覆盖。新建的天气雷达数据接收系统已经投入业务运行，观测数据到报率达到百分之九十九以上。",
    ),
    ("h2", "（二）预报预警服务能力明显提升"),
    (
        "body",
        "全年发布各类预警信息二百一十五期，短时临近预报准确率较上年提高四个百分点。汛期组织开展天气会商七十余次，为防汛抗旱指挥决策提供了及时准确的气象服务，受到各方面的好评。",
    ),
    ("h1", "二、存在的问题"),
    ("body", "一是基层台站人员偏少，专业技术力量不足；二是部分观测设备运行年限较长，故障率偏高，维护保障压力较大。"),
    ("h1", "三、2024年工作计划"),
    ("h2", "（一）加快智慧气象建设"),
    ("body", "推进气象大数据平台建设，完善精细化网格预报产品，力争明年汛期前完成全部乡镇预报服务系统部署。"),
    ("h2", "（二）强化人才队伍建设"),
    ("body", "通过公开招聘和业务培训等方式充实基层力量，全年计划组织专业培训不少于六期，不断提高队伍综合素质。"),
    ("note", "注：本报告所列观测数据均来自本局业务系统，统计时间截至2023年12月20日，部分数据为初步统计结果。"),
]

_NO_LINE_START = "，。、；：？！）》”"


def wrap(text: str, first_indent: int) -> list[str]:
    """Fill lines of PER_LINE cells; closing punctuation hangs on the line before instead of opening one."""
    lines: list[str] = []
    line, width = "", float(first_indent)
    for ch in text:
        if width >= PER_LINE and ch not in _NO_LINE_START:
            lines.append(line)
            line, width = "", 0.0
        line += ch
        width += 1 if ord(ch) > 0x7F else 0.5
    lines.append(line)
    return lines


def layout() -> list[list[tuple[str, str, int]]]:
    """Pages of (style, text, indent cells)."""
    rows: list[tuple[str, str, int]] = []
    for style, text in REPORT:
        if style == "title":
            rows.append((style, text, -1))  # centred
            rows.append(("blank", "", 0))
        elif style == "body":
            for n, line in enumerate(wrap(text, 2)):
                rows.append((style, line, 2 if n == 0 else 0))
        elif style == "note":
            rows.append(("blank", "", 0))
            rows.append((style, text, 0))
        else:
            rows.append((style, text, 2))
    return [rows[i : i + LINES_PER_PAGE] for i in range(0, len(rows), LINES_PER_PAGE)]


def draw_page(rows: list[tuple[str, str, int]], number: int, rng: np.random.Generator) -> Image.Image:
    image = Image.new("L", PAGE, 255)
    draw = ImageDraw.Draw(image)
    fonts = {k: ImageFont.truetype(path, size) for k, (path, size) in FONTS.items()}
    for n, (style, text, indent) in enumerate(rows):
        if style == "blank":
            continue
        font = fonts[style]
        y = TOP + n * PITCH
        if indent < 0:
            width = draw.textlength(text, font=font)
            draw.text(((PAGE[0] - width) / 2, y), text, font=font, fill=20)
            continue
        x = LEFT + indent * CELL
        for ch in text:  # one cell per character, as a typeset report is set; half a cell for ASCII
            draw.text((x, y), ch, font=font, fill=20)
            cell = CELL * font.size // FONTS["body"][1]
            x += cell if ord(ch) > 0x7F else cell // 2 + 2
    footer = f"— {number} —"
    width = draw.textlength(footer, font=fonts["body"])
    draw.text(((PAGE[0] - width) / 2, PAGE[1] - 300), footer, font=fonts["body"], fill=20)
    # what a flatbed scanner adds: a slight skew, soft edges, grey paper and sensor noise
    image = image.rotate(0.35, resample=Image.Resampling.BICUBIC, fillcolor=255)
    image = image.filter(ImageFilter.GaussianBlur(0.8))
    pixels = np.asarray(image, dtype=np.float32) * 0.93 + rng.normal(0, 4, (PAGE[1], PAGE[0]))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")


def main() -> None:
    rng = np.random.default_rng(2024)
    pages = layout()
    images = [draw_page(rows, n, rng) for n, rows in enumerate(pages, start=1)]
    out = HERE / "scanned-report.pdf"
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=DPI, quality=50)
    truth = {
        "pages": [[text for style, text, _ in rows if style != "blank"] for rows in pages],
        "paragraphs": [text for _, text in REPORT],
    }
    (HERE / "scanned-report.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"{out}: {len(images)} pages, {out.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
