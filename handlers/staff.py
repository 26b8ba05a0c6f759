"""Staff binding: '绑定 <code>' turns the sender into the staff member an invite names."""

from __future__ import annotations

import logging
import math

from app.services.directory import people
from bot.metrics import METRICS
from bot.router import Router
from handlers.context import ChatContext
from handlers.usage import staff_help

router = Router("staff")
log = logging.getLogger(__name__)


@router.command("绑定", "bind")
def bind(ctx: ChatContext, args: str) -> str:
    if not args:
        return "请回复「绑定 绑定码」，绑定码由管理员提供。"
    openid = ctx.msg.openid
    wait = people.bind_cooldown(ctx.session, openid, ctx.now)
    if wait is not None:
        METRICS.inc("gridbot_bind_cooldowns_total")
        log.warning("bind refused for %s: too many wrong codes (cool-down %s)", openid, wait)
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        return f"绑定尝试过于频繁，请 {minutes} 分钟后再试，或联系管理员。"
    try:
        binding = people.bind_staff(ctx.session, openid=openid, code=args, now=ctx.now)
    except people.BadInviteCode as exc:
        failures = people.record_bind_failure(ctx.session, openid, ctx.now)
        METRICS.inc("gridbot_bind_failures_total")
        log.warning("bind failed for %s: wrong code (%d in the last hour)", openid, failures)
        return exc.message
    staff = binding.staff
    who = f"您是{staff.area.name}的{people.ROLE_LABELS[staff.role]}（{staff.name}）"
    commands = staff_help(staff, resolution_photo_minutes=ctx.settings.resolution_photo_minutes)
    if not binding.linked:
        return f"绑定成功！{who}。\n{commands}"
    here = "企业微信" if people.is_wecom_address(openid) else "微信"
    if staff.wecom_userid and not people.is_wecom_address(staff.openid or ""):
        return (
            f"绑定成功！{here}已关联到您现有的工作人员身份：{who}。"
            f"今后通知只发到企业微信，公众号不再重复发送；两边都可以办理工单。\n{commands}"
        )
    return f"绑定成功！{here}已换绑到您的工作人员身份：{who}。\n{commands}"
