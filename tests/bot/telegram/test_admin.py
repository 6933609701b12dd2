"""Admin work inside the bot: /reindex in the background and document uploads, both refused to others."""

from __future__ import annotations

import re
import shutil
import threading

from bot.telegram import reindex
from bot.telegram.app import build_application
from bot.telegram.format import LIMIT, section_html, split_message
from ingest.pipeline import run_ingest
from tests.bot.telegram.conftest import ADMIN, USER, WAIT, drive, messages, say, sent, state_of

ADMIN_ONLY = "这个命令只限管理员使用。请把你的 ID {} 发给管理员开通。"
WATER = "水利局2023年工作总结及2024年工作计划"
_TOWNS = (
    "南塘镇 北关镇 东河乡 西岭乡 青石镇 白沙镇 柳林乡 红岩镇 金桥乡 梅溪镇 长岗乡 "
    "新华镇 石门乡 枫林镇 双河镇 龙泉乡 桃源镇 清水乡 马鞍镇 凤凰乡 黄土镇"
).split()


def water_report(serial: int = 0) -> str:
    """A report whose first subsection runs past one Telegram message (town by town), so /source must split it.

    `serial` makes its opening new text, so embedding it is never answered from the session's cache (which is new
    each session): a fixed one keeps the ranking the same in every run.
    """
    towns = "\n".join(
        f"{town}：排查山洪灾害危险区{7 + i}处，更新预警广播{3 + i % 4}套，组织防汛转移演练{1 + i % 3}场次，"
        f"汛期提前转移避险群众{60 + 13 * i}人；对辖区{2 + i % 5}座小型水库落实“三个责任人”，逐库开展汛前检查，"
        f"整改渗漏、坝坡塌陷等隐患{4 + i}处；8月旱情期间调度提水泵站{1 + i % 4}处、抗旱服务队{2 + i % 3}支，"
        f"保障农田灌溉{900 + 110 * i}亩，确保群众饮水安全。全年累计投入防汛抗旱资金{120 + 35 * i}万元，"
        f"新建和修复堤防{3 + i % 6}公里，清淤疏浚沟渠{18 + 2 * i}公里，汛期实现“不死人、少伤人、少损失”目标。"
        for i, town in enumerate(_TOWNS)
    )
    return (
        f"{WATER}\n\n"
        f"2023年，县水利局围绕防汛抗旱、农村供水和河湖治理三项重点，扎实推进各项工作（水报〔2024〕{serial}号）。"
        "现将有关情况报告如下。\n"
        "一、2023年工作总结\n"
        "（一）防汛抗旱保障有力\n"
        f"{towns}\n"
        "（二）农村供水提质增效\n"
        "完成城乡供水一体化二期工程，新铺设供水主管网58公里，农村自来水普及率由91%提高到96%。\n"
        "二、存在的问题\n"
        "一是部分小型水库管护人员年龄偏大，专业能力不足；二是农村供水工程水费收缴率偏低，仅为78%。\n"
        "三、2024年工作计划\n"
        "（一）实施小型水库标准化管理，年内完成15座水库标准化创建。\n"
        "（二）新建幸福河湖示范段5条，开展河湖“清四乱”常态化整治。\n"
    )


AUDIT = "审计局2023年工作总结及2024年工作计划"
AUDIT_REPORT = (
    f"{AUDIT}\n\n"
    "一、2023年工作总结\n"
    "（一）完成审计项目23个，查出违规问题金额1.6亿元，推动整改到位1.2亿元。\n"
    "（二）开展政府投资项目审计，审减工程结算金额3400万元。\n"
    "二、2024年工作计划\n"
    "（一）开展乡村振兴资金专项审计，覆盖全部12个乡镇。\n"
    "（二）推进审计整改“回头看”，建立问题整改台账。\n"
)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _first_text(tg, chat_id: int, index: int) -> str:
    """What the bot's index-th message to the chat said when it was sent, before any edit."""
    return [c.params["text"] for c in tg.calls_of("sendMessage") if c.params["chat_id"] == chat_id][index]


def test_reindex_and_status_are_refused_to_non_admins(bot_settings, open_services, tg):
    app = build_application(open_services(bot_settings()))

    async def scenario(app):
        for command in ("/reindex", "/status"):
            [refusal] = await say(tg, USER, command)
            assert refusal.text == ADMIN_ONLY.format(USER)
        assert not app.bot_data["reindexer"].running

    drive(app, scenario)
    assert not (app.bot_data["state"].services.settings.reports_dir).exists()  # nothing was read or made


def test_admin_reindex_runs_in_background_and_then_answers_about_the_new_report(
    bot_settings, open_services, tg, compilation, tmp_path, monkeypatch
):
    reports = tmp_path / "reports"
    reports.mkdir()
    shutil.copy(compilation, reports / compilation.name)
    services = open_services(bot_settings(data_dir=tmp_path / "data", reports_dir=reports))
    seed = services.new_embeddings()
    run_ingest([reports], services.settings, services.store, seed, show_progress=False)  # vectors from the cache
    seed.close()
    text = water_report(serial=1)  # fixed: a clock-drawn one made the test's ranking differ from run to run
    (reports / f"{WATER}.txt").write_text(text, encoding="utf-8")

    # Hold the ingest inside embedding the new report until the test has checked what happens meanwhile.
    embedding, release = threading.Event(), threading.Event()
    new_embeddings = services.new_embeddings

    def held_embeddings():
        embedder = new_embeddings()
        embed = embedder.inner.embed_documents

        def held(texts):
            embedding.set()
            release.wait(WAIT)
            return embed(texts)

        embedder.inner.embed_documents = held
        return embedder

    monkeypatch.setattr(services, "new_embeddings", held_embeddings)
    monkeypatch.setattr(reindex, "PROGRESS_EVERY", 0.05)
    app = build_application(services)

    async def scenario(app):
        try:
            await during_and_after(app)
        finally:
            release.set()

    async def during_and_after(app):
        [status] = await say(tg, ADMIN, "/reindex")
        assert _first_text(tg, ADMIN, 0) == "开始重建索引…"
        progress = await tg.wait_for_async(
            lambda _c: embedding.is_set() and sent(tg, ADMIN)[0].edits and sent(tg, ADMIN)[0], timeout=WAIT
        )
        assert progress.text.startswith("重建索引中：") and progress.message_id == status.message_id
        [busy] = await say(tg, ADMIN, "/reindex")
        assert _first_text(tg, ADMIN, 1) == busy.text == "已有重建索引任务在运行，请稍候。"  # said at once
        [answer] = await say(tg, USER, "粮食局明年打算新建哪些粮库？")
        assert "来源" in answer.text and app.bot_data["reindexer"].running  # answered while it runs

        release.set()
        done = await tg.wait_for_async(
            lambda _c: sent(tg, ADMIN)[0].text.startswith("索引已更新") and sent(tg, ADMIN)[0], timeout=WAIT
        )
        manifest = services.store.read_manifest()
        assert done.text == (
            f"索引已更新：新增 1、更新 0、未变 1、移除 0、失败 0 个文件。\n现有 12 篇报告、{manifest.chunks} 个片段。"
        )
        assert done.edits >= 2 and len(sent(tg, ADMIN)) == 2  # one progress message, edited; one "busy" reply

        [answer] = await say(tg, USER, "水利局今年在防汛抗旱方面做了什么？")
        assert f"\n[1] {WATER} › " in answer.text
        last = state_of(app).chats[USER].last_answer
        n = next(s.n for s in last.sources if s.section.startswith("一、2023年工作总结 › （一）防汛抗旱保障有力"))
        section = state_of(app).answerer.source(last.sources[n - 1].chunk_id)
        expected = split_message(section_html(section))
        assert len(expected) >= 2
        before = len(sent(tg, USER))
        tg.push_command(USER, f"/source {n}")
        pieces = (await messages(tg, USER, before + len(expected)))[before:]
        assert all(len(p.raw_text) <= LIMIT and len(p.text) <= LIMIT for p in pieces)
        assert all(p.parse_mode == "HTML" for p in pieces)
        head = f"{WATER} › 一、2023年工作总结 › （一）防汛抗旱保障有力"
        assert pieces[0].text.startswith(f"{head}\n\n（一）防汛抗旱保障有力\n南塘镇：")
        assert pieces[0].entities[0] == {"type": "bold", "offset": 0, "length": len(head)}
        whole = "（一）" + text.split("（一）", 1)[1].split("（二）", 1)[0]
        assert len(whole) > LIMIT
        assert _squash("".join(p.text for p in pieces)) == _squash(head + whole)

    drive(app, scenario)


def test_admin_document_is_saved_and_ingested_and_others_are_refused(bot_settings, open_services, tg, tmp_path):
    reports = tmp_path / "reports"
    app = build_application(open_services(bot_settings(data_dir=tmp_path / "data", reports_dir=reports)))
    name = f"{AUDIT}.txt"
    content = AUDIT_REPORT.encode("utf-8")

    async def scenario(app):
        before = len(sent(tg, USER))
        tg.push_document(USER, USER, name, content)
        [refusal] = (await messages(tg, USER, before + 1))[before:]
        assert refusal.text == ADMIN_ONLY.format(USER)
        assert not (reports / name).exists() and not tg.calls_of("getFile")

        tg.push_document(ADMIN, ADMIN, "notes.exe", b"MZ\x90\x00")
        [unsupported] = await messages(tg, ADMIN, 1)
        assert unsupported.text.startswith("不支持的文件类型：notes.exe")

        tg.push_document(ADMIN, ADMIN, name, content)
        await messages(tg, ADMIN, 2)
        assert _first_text(tg, ADMIN, 1) == f"已保存 {name}，正在导入…"
        done = await tg.wait_for_async(
            lambda _c: sent(tg, ADMIN)[1].text.startswith("索引已更新") and sent(tg, ADMIN)[1], timeout=WAIT
        )
        manifest = app.bot_data["state"].services.store.read_manifest()
        assert done.text == (
            f"索引已更新：新增 1、更新 0、未变 0、移除 0、失败 0 个文件。\n现有 1 篇报告、{manifest.chunks} 个片段。"
        )
        assert (reports / name).read_bytes() == content
        assert sorted(p.name for p in reports.iterdir()) == [name]  # no .part file left, nothing else saved

        [answer] = await say(tg, USER, "审计局明年有哪些工作计划？")
        assert f"[1] {AUDIT} › 二、2024年工作计划" in answer.text

    drive(app, scenario)
    assert len(tg.calls_of("getFile")) == len(tg.calls_of("downloadFile")) == 1  # only the admin's file
