"""Telegram handlers: each checks access, hands the work to the core, and replies."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from pathlib import Path

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.answer import Answer
from bot.errors import EmptyQuestion, ReportbotError
from bot.telegram.format import answer_html, section_html, source_buttons
from bot.telegram.reindex import Reindexer, summary_text
from bot.telegram.reply import Throttle, edit_html, keep_typing, send_html
from bot.telegram.state import BotState
from ingest.index.errors import NoIndex
from ingest.pipeline import SUPPORTED

log = logging.getLogger(__name__)
UNAVAILABLE = "索引服务暂时不可用，请稍后再试。"
MAX_UPLOAD = 20 * 1024 * 1024
HELP = (
    "我根据已导入的工作总结和工作计划回答问题，每个要点都标注出处 [n]，点“原文”按钮可看整节原文。\n"
    "直接发问题即可（群里请用 /ask 问题，或 @我，或回复我的消息）。\n\n"
    "命令：/reports 已导入的报告 · /source n 第 n 个来源的原文 · /new 开始新话题"
)


def _state(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    return context.bot_data["state"]


async def _admit(update: Update, context: ContextTypes.DEFAULT_TYPE, admin: bool = False) -> BotState | None:
    """Refuse strangers (and non-admins for admin commands) politely, showing their id, before any work."""
    state = _state(context)
    user = update.effective_user
    chat = update.effective_chat
    message = update.effective_message
    user_id = user.id if user else None
    allowed = state.access.is_admin(user_id) if admin else state.access.allows(user_id, chat.id if chat else None)
    if allowed:
        return state
    log.warning(
        "refused %s from user %s in chat %s",
        "admin command" if admin else "request",
        user_id,
        chat.id if chat else None,
    )
    if message is not None:
        text = "这个命令只限管理员使用。" if admin else "抱歉，你还没有使用权限。"
        await message.reply_text(f"{text}请把你的 ID {user_id} 发给管理员开通。")
    return None


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start and /help: what the bot knows, with example questions from the indexed reports."""
    state = await _admit(update, context)
    if state is None or update.effective_message is None:
        return
    examples = _examples(state)
    text = HELP + ("\n\n例如：\n" + "\n".join(f"· {q}" for q in examples) if examples else "")
    await update.effective_message.reply_text(text)


def _examples(state: BotState) -> list[str]:
    try:
        reports = state.answerer.reports()
    except ReportbotError:
        return []
    orgs = [r.org for r in reports if r.org][:3]
    templates = ("{}明年有哪些工作计划？", "{}今年取得了哪些成绩？", "{}存在哪些问题？")
    return [t.format(org) for t, org in zip(templates, orgs, strict=False)]


async def reports_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reports: the indexed reports."""
    state = await _admit(update, context)
    if state is None or update.effective_message is None:
        return
    try:
        reports = await asyncio.to_thread(state.answerer.reports)
    except NoIndex:
        await update.effective_message.reply_text("还没有导入任何报告。")
        return
    except ReportbotError:
        await update.effective_message.reply_text(UNAVAILABLE)
        return
    lines = [f"{i}. {html.escape(r.title)}（{r.chunks} 个片段）" for i, r in enumerate(reports, 1)]
    await send_html(update.effective_message, f"<b>已导入 {len(reports)} 篇报告</b>\n" + "\n".join(lines))


async def new_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/new: forget this chat's history."""
    state = await _admit(update, context)
    if state is None or update.effective_message is None or update.effective_chat is None:
        return
    state.memory(update.effective_chat.id).conversation.clear()
    await update.effective_message.reply_text("好的，开始新话题。")


async def ask_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask QUESTION, the way to ask in groups."""
    question = " ".join(context.args or [])
    if await _admit(update, context) is None:
        return
    if update.effective_message is not None and not question.strip():
        await update.effective_message.reply_text("用法：/ask 粮食局明年打算新建哪些粮库？")
        return
    await _answer(update, context, question)


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text in a private chat is a question."""
    message = update.effective_message
    if message is not None and message.text:
        await _answer(update, context, message.text)


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only a mention of the bot or a reply to it."""
    message = update.effective_message
    if message is None or not message.text:
        return
    username = context.bot.username or ""
    mentioned = bool(username) and f"@{username}".lower() in message.text.lower()
    replied = (
        message.reply_to_message is not None
        and message.reply_to_message.from_user is not None
        and (message.reply_to_message.from_user.id == context.bot.id)
    )
    if mentioned or replied:
        question = (
            re.sub(rf"@{re.escape(username)}", "", message.text, flags=re.IGNORECASE) if username else message.text
        )
        await _answer(update, context, question)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    state = await _admit(update, context)
    message = update.effective_message
    if state is None or message is None or update.effective_chat is None or update.effective_user is None:
        return
    wait = state.limiter.retry_after(update.effective_user.id)
    if wait:
        await message.reply_text(f"提问太频繁了，请 {int(wait) + 1} 秒后再试。")
        return
    chat_id = update.effective_chat.id
    done = asyncio.Event()
    typing = asyncio.create_task(keep_typing(message, done))
    streamer = _Streamer(message) if state.answerer.llm is not None else None
    try:
        answer = await asyncio.to_thread(
            state.answerer.ask,
            question,
            conversation=state.memory(chat_id).conversation,
            on_token=streamer.push if streamer else None,
        )
    except EmptyQuestion:
        await message.reply_text("请输入问题，例如：粮食局明年打算新建哪些粮库？")
        return
    except NoIndex:
        await message.reply_text("还没有导入任何报告，请管理员先导入。")
        return
    except ReportbotError as exc:
        log.error("index unavailable: %s", exc)
        await message.reply_text(UNAVAILABLE)
        return
    finally:
        done.set()
        await typing
        if streamer:
            await streamer.stop()
    state.remember(chat_id, answer)
    await _deliver(message, answer, streamer.message if streamer else None)


async def _deliver(message: Message, answer: Answer, draft: Message | None) -> None:
    text = answer_html(answer)
    markup = source_buttons(answer)
    if draft is not None and len(text) <= 4096:
        await edit_html(draft, text, markup)
        return
    if draft is not None:
        await draft.delete()
    await send_html(message, text, markup)


class _Streamer:
    """Collects tokens from the worker thread; an async loop shows them by editing one message, throttled."""

    def __init__(self, reply_to: Message) -> None:
        self.reply_to = reply_to
        self.message: Message | None = None
        self._parts: list[str] = []
        self._shown = 0
        self._task = asyncio.create_task(self._loop())
        self._throttle = Throttle()

    def push(self, token: str) -> None:
        self._parts.append(token)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(0.3)
            text = "".join(self._parts)
            if len(text) <= self._shown or not self._throttle.ready():
                continue
            self._shown = len(text)
            shown = html.escape(text[:3900]) + " …"
            try:
                if self.message is None:
                    self.message = await self.reply_to.reply_text(shown)
                else:
                    await self.message.edit_text(shown)
            except Exception as exc:  # a dropped intermediate edit is harmless
                log.debug("stream edit failed: %s", exc)

    async def stop(self) -> None:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass


async def source_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/source n: the whole section behind source n of the last answer in this chat."""
    state = await _admit(update, context)
    message = update.effective_message
    if state is None or message is None or update.effective_chat is None:
        return
    mem = state.memory(update.effective_chat.id)
    arg = (context.args or [""])[0]
    sources = mem.last_answer.sources if mem.last_answer else []
    if not arg.isdigit() or not 1 <= int(arg) <= len(sources):
        await message.reply_text(f"用法：/source n，n 是上一个回答里的来源编号（1–{len(sources) or 1}）。")
        return
    await _send_section(message, state, sources[int(arg) - 1].ref)


async def source_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The 原文 [n] button: only for sources this chat was shown."""
    query = update.callback_query
    if query is None:
        return
    state = await _admit(update, context)
    if state is None:
        await query.answer("没有权限。")
        return
    data = query.data or ""
    ref = data.removeprefix("src:")
    chat = update.effective_chat
    if not data.startswith("src:") or chat is None or not state.may_show(chat.id, ref):
        log.warning(
            "refused callback %r from user %s", data[:80], update.effective_user.id if update.effective_user else None
        )
        await query.answer("这个来源已失效，请重新提问。", show_alert=True)
        return
    await query.answer()
    if query.message is not None and isinstance(query.message, Message):
        await _send_section(query.message, state, ref)


async def _send_section(message: Message, state: BotState, ref: str) -> None:
    try:
        section = await asyncio.to_thread(state.answerer.source, ref)
    except ReportbotError:
        await message.reply_text(UNAVAILABLE)
        return
    if section is None:
        await message.reply_text("这个来源已不在当前索引中（报告可能已更新），请重新提问。")
        return
    await send_html(message, section_html(section))


async def reindex_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reindex (admins): ingest the reports folder in the background."""
    state = await _admit(update, context, admin=True)
    message = update.effective_message
    if state is None or message is None:
        return
    folder = state.services.settings.reports_dir
    if folder is None:
        await message.reply_text("没有配置报告目录（REPORTBOT_REPORTS_DIR）。")
        return
    reindexer: Reindexer = context.bot_data["reindexer"]
    if reindexer.running:
        await message.reply_text("已有重建索引任务在运行，请稍候。")
        return
    status = await message.reply_text("开始重建索引…")
    context.application.create_task(_reindex(reindexer, [folder], status), update=update)


async def _reindex(reindexer: Reindexer, paths: list[Path], status: Message) -> None:
    try:
        result = await reindexer.run(paths, status)
    except ReportbotError as exc:
        await status.edit_text(f"重建索引失败：{exc}")
        return
    if result is None:
        await status.edit_text("已有重建索引任务在运行，请稍候。")
        return
    await status.edit_text(summary_text(result))


async def status_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status (admins): what is indexed and where."""
    state = await _admit(update, context, admin=True)
    if state is None or update.effective_message is None:
        return
    try:
        manifest = await asyncio.to_thread(state.services.store.read_manifest)
    except ReportbotError:
        await update.effective_message.reply_text(UNAVAILABLE)
        return
    running = "（正在重建索引）" if context.bot_data["reindexer"].running else ""
    if manifest is None:
        text = f"还没有索引。{running}"
    else:
        text = (
            f"{len(manifest.reports)} 篇报告 · {manifest.chunks} 个片段{running}\n"
            f"向量模型：{manifest.embedding}（{manifest.dim} 维）\n存储：{state.services.store.description}\n"
            f"版本：{manifest.generation}（{manifest.created}）"
        )
    await update.effective_message.reply_text(text)


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin's document is saved into the reports folder and ingested; anyone else's is refused."""
    state = await _admit(update, context, admin=True)
    message = update.effective_message
    if state is None or message is None or message.document is None:
        return
    folder = state.services.settings.reports_dir
    doc = message.document
    name = Path(doc.file_name or "report.txt").name
    if folder is None:
        await message.reply_text("没有配置报告目录（REPORTBOT_REPORTS_DIR），无法保存。")
        return
    if Path(name).suffix.lower() not in SUPPORTED or name.startswith("."):
        await message.reply_text(f"不支持的文件类型：{name}（支持 {' '.join(SUPPORTED)}）")
        return
    if (doc.file_size or 0) > MAX_UPLOAD:
        await message.reply_text("文件太大（超过 20 MB）。")
        return
    reindexer: Reindexer = context.bot_data["reindexer"]
    if reindexer.running:
        await message.reply_text("正在重建索引，请稍后再发送。")
        return
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    data = await (await doc.get_file()).download_as_bytearray()
    tmp = target.with_name(f".{name}.part")
    tmp.write_bytes(bytes(data))
    tmp.replace(target)
    status = await message.reply_text(f"已保存 {name}，正在导入…")
    await _reindex(reindexer, [target], status)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One handler for all errors: a short apology to the user, the update id and error in the log."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed: %s: %s", update_id, type(context.error).__name__, context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text("抱歉，处理时出错了，请稍后再试。")
        except Exception as exc:  # the apology itself failed; the log already has the cause
            log.debug("apology failed: %s", exc)
