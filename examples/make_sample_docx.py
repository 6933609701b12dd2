"""Regenerate the sample .docx report in examples/reports/.

Why a script: a .docx is a binary zip, so its text lives here where it can be reviewed and diffed.
The document is built the way many real bureau files are: plain paragraphs only, the title line in
bold, headings typed as text (一、 / （一） / 1.) rather than Word heading styles.  Zip entry times
and document properties are fixed so that regenerating it gives the same bytes.

Usage:  python examples/make_sample_docx.py [OUTPUT.docx]
"""

from __future__ import annotations

import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

TITLE = "应急管理局2023年工作总结及2024年工作安排"
OUTPUT = Path(__file__).resolve().parent / "reports" / f"{TITLE}.docx"
FIXED_TIME = datetime(2024, 1, 15, 9, 0, tzinfo=timezone.utc)

BODY = """\
2023年，县应急管理局坚持人民至上、生命至上，统筹发展和安全，扎实做好安全生产、防汛抗旱、森林防火和防灾减灾救灾各项工作。全年全县共发生生产安全事故x起、死亡x人，同比分别下降xx%和xx%，未发生较大及以上事故；成功应对x轮强降雨过程和夏秋连旱，实现了“不死人、少伤人、少损失”的目标。现将有关情况报告如下。
一、2023年工作总结
（一）安全生产形势总体平稳
一是压实安全生产责任。调整县安委会成员单位职责，印发安全生产“三个必须”责任清单，与各乡镇、各部门签订安全生产目标责任书xx份。二是深化重大事故隐患专项排查整治。聚焦危险化学品、非煤矿山、工贸、城镇燃气等重点行业领域，组织开展明查暗访xx次，检查企业xxx家，发现并督促整改隐患xxxx条，整改率达到x%。三是严格执法检查。全年立案查处安全生产违法行为xx起，罚款xx万元，责令停产停业整顿企业x家。四是强化宣传培训。在“安全生产月”期间开展安全宣传咨询日、企业应急演练等活动，培训企业主要负责人和安全管理人员xxx人次。
（二）防汛抗旱工作有力有序
汛前，组织对全县xx座水库、xx公里堤防和xx处山洪地质灾害隐患点开展拉网式检查，整改问题隐患xx处；修订完善县、乡、村三级防汛应急预案，逐一落实水库和隐患点“三个责任人”xxx名。汛期，严格执行24小时值班值守和领导带班制度，发布气象灾害预警信息xx期，向群众发送预警短信xx万条。7月中旬强降雨期间，提前转移危险区域群众xxxx人，未发生人员伤亡。入夏后全县出现较重旱情，及时启动抗旱Ⅳ级应急响应，调度抗旱资金xx万元，投入抽水设备xxx台（套），组织送水车辆为xx个缺水村保障群众饮水，最大限度减轻了旱灾损失。
（三）森林防火和应急救援能力不断增强
1. 森林防火。落实林长制和网格化管护，聘用专职护林员xxx名，在重点林区进山路口设置防火检查卡点xx个，全年未发生较大森林火灾。
2. 队伍建设。组建县级综合应急救援队伍1支xx人、乡镇半专业应急救援队伍xx支，开展多部门联合演练x次。
3. 物资保障。县级应急物资储备库新增冲锋舟、发电机、折叠床等物资xx类xxxx件（套），与xx家企业签订应急物资协议储备。
4. 指挥调度。建成县应急指挥平台，接入水库、河道和重点企业视频监控点位xxx个，实现重点部位远程可视化调度，乡镇应急值守电话全部实现24小时畅通。
（四）防灾减灾救灾扎实开展
推进自然灾害综合风险普查成果应用，创建全国综合减灾示范社区1个、省级综合减灾示范社区x个。健全灾害信息员队伍，全年核查上报灾情x次，发放受灾群众生活救助资金xx万元，确保受灾群众有饭吃、有干净水喝、有安全住所。
二、存在的问题
一是部分企业安全生产主体责任落实不到位，重效益、轻安全的现象依然存在。二是基层应急力量薄弱，乡镇应急管理机构人员少、专业能力不足。三是应急物资储备的种类和数量与应对大灾巨灾的要求还有差距。四是部分山区群众防灾避险意识不强，预警信息传递“最后一公里”仍需打通。
三、2024年工作安排
（一）从严抓好安全生产。深入推进安全生产治本攻坚三年行动，建立重大事故隐患动态清零机制，全年计划检查企业xxx家次。推行“执法+专家”检查模式，对危险化学品和城镇燃气领域开展全覆盖检查，严厉打击非法违法生产经营行为。
（二）全力做好防汛抗旱。汛前完成全部水库、堤防和山洪灾害隐患点检查；新建乡镇防汛物资储备点x个；每个乡镇至少组织开展1次防汛转移避险演练；完善雨情水情监测预警系统，推动预警信息直达村组和农户。
（三）提升应急救援能力。推进县应急指挥中心信息化建设，实现与各乡镇视频会商系统互联互通；加强综合应急救援队伍专业训练，全年开展各类应急演练不少于xx次。
（四）加强防灾减灾宣传。结合“5·12”全国防灾减灾日、“安全生产月”等时间节点，开展应急知识进企业、进农村、进社区、进学校、进家庭活动，提升群众自救互救能力。
"""


def build(output: Path = OUTPUT) -> Path:
    """Write the report: a bold centred title, then one plain paragraph per line of BODY."""
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "仿宋"
    normal.font.size = Pt(16)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋")

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(TITLE)
    run.bold = True
    run.font.size = Pt(22)

    for line in BODY.strip().split("\n"):
        paragraph = document.add_paragraph(line)
        paragraph.paragraph_format.first_line_indent = Pt(32)

    props = document.core_properties
    props.title = TITLE
    props.author = "reportbot examples"
    props.last_modified_by = "reportbot examples"
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    props.revision = 1

    output.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(output))
    _fix_zip_times(output)
    return output


def _fix_zip_times(path: Path) -> None:
    """Rewrite the zip with constant entry times, so an unchanged text regenerates identical bytes."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 15, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, data)


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT))
