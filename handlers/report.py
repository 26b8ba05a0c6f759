"""Rider report intake: photos, a location and words become a ticket."""

from __future__ import annotations

from app.domain.categories import Category, classify
from app.domain.coords import to_wgs84
from app.services import duplicates, notices, reports
from app.services.reports import Intake, Outcome, Piece
from bot.router import Router, normalize
from handlers.context import ChatContext
from handlers.texts import ASK_DETAILS, ASK_LOCATION, RIDER_HELP

router = Router("report")

MIN_FREE_TEXT = 6
"""Free text this long starts a report even without a category keyword."""

PLEASANTRIES = {
    "你好",
    "您好",
    "谢谢",
    "谢谢你",
    "多谢",
    "好的",
    "好",
    "收到",
    "嗯",
    "ok",
    "thanks",
    "hi",
}


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
        return f"已补充到工单 #{t.number}，网格员会看到。"
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
def voice(ctx: ChatContext, args: str) -> str:
    text = normalize(ctx.msg.text)
    if not text:
        return "语音没有识别出文字，请改发文字描述。"
    return _answer(_submit(ctx, Piece(text=text[:1000])))


@router.on("text")
def text(ctx: ChatContext, args: str) -> str | None:
    words = normalize(ctx.msg.text)
    if not words:
        return RIDER_HELP
    if words.strip("!！。.~～ ").lower() in PLEASANTRIES:
        return "不客气！发现问题随时拍照上报，回复「我的上报」可查看进度。"
    looks_like_report = classify(words) is not Category.OTHER or len(words) >= MIN_FREE_TEXT
    # Words a rider plainly means as a report go straight to intake (which finds any draft
    # or recent ticket itself); other words count only when they continue one.
    if ctx.staff is not None or not looks_like_report:
        in_progress = reports.active_draft(
            ctx.session, ctx.rider, now=ctx.now, window=ctx.rules.draft_window
        ) or reports.recent_ticket(
            ctx.session, ctx.rider, now=ctx.now, window=ctx.rules.followup_window
        )
        if not in_progress:
            # staff chatter is not a report: the fallback shows their commands
            return None if ctx.staff is not None else RIDER_HELP
    return _answer(_submit(ctx, Piece(text=words[:1000])))
