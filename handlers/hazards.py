"""Hazard alerts in chat: 「退订预警」 / 「订阅预警」 for riders, 「预警 号」 for leads."""

from __future__ import annotations

from app.domain.hazards import RADIUS_M
from app.services.handling import tickets
from app.services.riders import hazard_alerts
from bot.router import Router
from handlers.context import ChatContext, split_number

router = Router("hazards")

WHAT = "附近有积水、倒树、井盖缺失或道路堵塞时提醒您绕行"


@router.command("退订预警", "退订绕行预警", "取消预警")
def opt_out(ctx: ChatContext, args: str) -> str:
    if not hazard_alerts.set_subscribed(ctx.session, ctx.rider, False, now=ctx.now):
        return "您已退订绕行预警。想重新接收，回复「订阅预警」。"
    return "已退订绕行预警，以后不再给您发送路况提醒。想重新接收，回复「订阅预警」。"


@router.command("订阅预警", "订阅绕行预警")
def opt_in(ctx: ChatContext, args: str) -> str:
    if not hazard_alerts.set_subscribed(ctx.session, ctx.rider, True, now=ctx.now):
        return f"您已在接收绕行预警：{WHAT}。"
    return f"已订阅绕行预警：{WHAT}。"


@router.command("预警", "alert")
def lead_alert(ctx: ChatContext, args: str) -> str | None:
    number, rest = split_number(args)
    if ctx.staff is None:
        if args and number is None:
            return None  # "预警…" words of a report
        return f"绕行预警会在{WHAT}，无需操作。不想接收请回复「退订预警」。"
    if number is None or rest:
        return "格式：预警 工单号，例如「预警 12」：提醒工单地点附近的骑手绕行。"
    ticket = tickets.get_ticket(ctx.session, number, lock=True)
    done = hazard_alerts.lead_alert(ctx.session, staff=ctx.staff, ticket=ticket, now=ctx.now)
    radius = f"{RADIUS_M / 1000:g}公里"
    if done.sent:
        return f"已向工单 #{number} 附近{radius}内的 {done.sent} 位骑手发送绕行预警。"
    if done.recipients.skipped:
        return (
            f"工单 #{number} 附近{radius}内的骑手暂时都无法接收预警"
            f"（已退订、超过48小时未互动或1小时内已收到多条提醒），未发送。"
        )
    return f"工单 #{number} 附近{radius}内近2小时没有新的骑手可提醒，未发送预警。"
