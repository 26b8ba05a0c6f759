"""Staff and evidence: a worker's after photo, and 拆分 to undo a wrong merge."""

from __future__ import annotations

from datetime import timedelta

from app.services import notices
from app.services.handling import evidence
from app.services.intake import duplicates
from bot.router import Router
from handlers.context import ChatContext, is_staff, split_number

router = Router("evidence")


@router.on("image", when=is_staff)
def worker_photo(ctx: ChatContext, args: str) -> str | None:
    msg = ctx.msg
    if not msg.media_id:
        return None
    return evidence.worker_photo(
        ctx.session,
        staff=ctx.staff,
        media_id=msg.media_id,
        pic_url=msg.pic_url or "",
        now=ctx.now,
        rules=ctx.rules,
        window=timedelta(minutes=ctx.settings.resolution_photo_minutes),
        notice_settings=ctx.notice_settings,
    )


@router.command("拆分", "split", when=is_staff)
def split(ctx: ChatContext, args: str) -> str:
    number, _ = split_number(args)
    if number is None:
        return "格式：拆分 工单号，例如「拆分 12」：把误合并的上报拆成独立工单。"
    t = ctx.as_staff(duplicates.split, number=number)
    reply = f"工单 #{t.number} 已拆分为独立工单，派往{notices.routed_to(t)}。"
    if t.assignee is ctx.staff:
        reply += f"回复「认领 {t.number}」接单。"
    return reply
