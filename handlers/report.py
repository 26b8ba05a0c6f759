"""Rider report intake: photos, a location and words become a ticket."""

from __future__ import annotations

from app.domain.categories import Category, classify
from app.domain.coords import to_wgs84
from app.domain.rider_words import Gist, gist
from app.services import notices
from app.services.intake import duplicates, reports
from app.services.intake.in_progress import in_progress
from app.services.intake.reports import Intake, Outcome, Piece
from bot.router import Router, match_command, normalize
from handlers import digest, escalation, evidence, worker
from handlers.context import ChatContext
from handlers.texts import ASK_DETAILS, ASK_LOCATION, GREETING, RIDER_HELP
from models import ReportDraft, Ticket

router = Router("report")

MIN_FREE_TEXT = 6
"""Free text this long starts a report even without a category keyword."""

STAFF_ROUTERS = (worker.router, escalation.router, evidence.router, digest.router)
"""Commands only staff may use: a rider who sends one gets a word, not a report."""


def _submit(ctx: ChatContext, piece: Piece) -> Intake:
    return reports.submit(
        ctx.session, ctx.rider, piece, now=ctx.now, rules=ctx.rules, message_key=ctx.message_key
    )


def _answer(intake: Intake) -> str:
    t = intake.ticket
    if intake.outcome is Outcome.FILED:
        assert t is not None
        reply = (
            f"已受理！工单号 #{t.number}（{notices.category_label(t)}），"
            f"已派往{notices.routed_to(t)}。处理进展会通知您，回复「我的上报」可随时查看。"
        )
        if not t.description:
            reply += "\n可再补充一句文字描述，方便网格员判断。"
        return reply
    if intake.outcome is Outcome.JOINED:
        assert t is not None
        return duplicates.joined_text(t)
    if intake.outcome is Outcome.ADDED:
        assert t is not None
        if intake.corrected:
            urgent = "，情况紧急，已提醒网格员尽快处理" if t.severe else "，已通知网格员"
            return (
                f"已补充到工单 #{t.number}，问题类别为「{notices.category_label(t)}」{urgent}。"
                "如补充错了，回复「取消」撤回。"
            )
        return f"已补充到工单 #{t.number}，网格员会看到。如补充错了，回复「取消」撤回。"
    if intake.outcome is Outcome.ANOTHER_REPORT:
        assert t is not None
        return (
            f"看起来是另一个问题，已为您新开一条上报（不会补充到工单 #{t.number}）。{ASK_LOCATION}"
        )
    if intake.outcome is Outcome.OUTSIDE:
        served = f"{intake.district}的" if intake.district else ""
        return (
            f"这个位置不在{served}服务范围内，无法受理。"
            "请确认定位是否准确，到现场后重新发送位置：点击输入框旁的＋号→位置。"
        )
    if intake.outcome is Outcome.NEED_LOCATION:
        draft = intake.draft
        got = "照片" if draft is not None and draft.photos and not draft.description else "描述"
        return f"已收到{got}。{ASK_LOCATION}"
    return ASK_DETAILS


@router.on("image")
def photo(ctx: ChatContext, args: str) -> str:
    msg = ctx.msg
    if not msg.media_id:
        return "图片没有收到，请重新发送。"
    return _answer(_submit(ctx, Piece(media_id=msg.media_id, pic_url=msg.pic_url or "")))


@router.on("location")
def location(ctx: ChatContext, args: str) -> str:
    msg = ctx.msg
    if msg.lat is None or msg.lng is None or not (-90 <= msg.lat <= 90 and -180 <= msg.lng <= 180):
        return "位置无法识别，请重新发送：点击输入框旁的＋号→位置。"
    lat, lng = to_wgs84(msg.lat, msg.lng, ctx.settings.location_crs)
    return _answer(_submit(ctx, Piece(lat=lat, lng=lng, place=msg.label.strip()[:250])))


@router.on("voice")
def voice(ctx: ChatContext, args: str) -> str | None:
    words = normalize(ctx.msg.text)
    if not words:
        return "语音没有识别出文字，请改发文字描述。"
    return _words(ctx, words)


@router.on("text")
def text(ctx: ChatContext, args: str) -> str | None:
    words = normalize(ctx.msg.text)
    if not words:
        return RIDER_HELP
    return _words(ctx, words)


def _words(ctx: ChatContext, words: str) -> str | None:
    """A rider's words: part of a report, or something to answer without filing it."""
    kind = gist(words)
    if kind is not Gist.DESCRIPTION:
        return _answer_chat(ctx, kind)
    command = _staff_command(words)
    if command is not None and ctx.staff is None:
        return (
            f"「{command}」是工作人员的指令。工作人员请先回复「绑定 绑定码」；"
            "上报问题请发送现场照片和位置。"
        )
    looks_like_report = classify(words) is not Category.OTHER or len(words) >= MIN_FREE_TEXT
    # Words a rider plainly means as a report go straight to intake (which finds any draft
    # or recent ticket itself); other words count only when they continue one.
    if (ctx.staff is not None or not looks_like_report) and _in_progress(ctx) is None:
        # staff chatter is not a report: the fallback shows their commands
        return None if ctx.staff is not None else RIDER_HELP
    return _answer(_submit(ctx, Piece(text=words[:1000])))


def _answer_chat(ctx: ChatContext, kind: Gist) -> str:
    """Greetings, thanks, emoji and questions are answered, never added to a report."""
    if ctx.staff is not None:
        opening = {
            Gist.GREETING: f"您好，{ctx.staff.name}！",
            Gist.THANKS: "不客气！",
            Gist.QUESTION: "",
        }.get(kind, "好的。")
        return f"{opening}回复「帮助」查看您可以使用的指令。"
    if kind is Gist.QUESTION:
        return RIDER_HELP
    if kind is Gist.GREETING:
        return GREETING
    if kind is Gist.THANKS:
        return "不客气！发现问题随时拍照上报，回复「我的上报」可查看进度。"
    # 好的 / 收到 / an emoji / unreadable: say where the rider's report stands, if anywhere.
    current = _in_progress(ctx)
    unread = "没看懂这条消息，没有记入上报。" if kind is Gist.UNREADABLE else ""
    if isinstance(current, ReportDraft):
        if current.lat is None:
            return unread + ASK_LOCATION
        return f"{unread}请再发一张现场照片，或用一句中文描述问题。" if unread else ASK_DETAILS
    if current is not None:
        if unread:
            return f"{unread}补充工单 #{current.number} 请用中文描述，或再发一张照片。"
        return f"好的。工单 #{current.number} 正在处理，进展会通知您。"
    return RIDER_HELP


def _in_progress(ctx: ChatContext) -> ReportDraft | Ticket | None:
    draft, recent = in_progress(
        ctx.session,
        ctx.rider,
        now=ctx.now,
        draft_window=ctx.rules.draft_window,
        followup_window=ctx.rules.followup_window,
    )
    return draft or recent


def _staff_command(words: str) -> str | None:
    for staff_router in STAFF_ROUTERS:
        for route in staff_router.routes:
            if route.words and match_command(words, route.words) is not None:
                return route.words[0]
    return None
