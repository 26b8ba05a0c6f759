"""Recognition for riders: 「我的积分」 shows this month's points and rank in the street."""

from __future__ import annotations

from app.services import policies
from app.services.riders import recognition
from bot.router import Router
from handlers.context import ChatContext

router = Router("recognition")


@router.command("我的积分", "积分", "points")
def my_points(ctx: ChatContext, args: str) -> str:
    rules = policies.of(ctx.session).points
    mine = recognition.my_points(ctx.session, ctx.rider, now=ctx.now, tz=ctx.tz, rules=rules)
    how = (
        f"上报的问题处理完并关闭得 {rules.resolved_closed} 分，"
        f"确认别人已上报的问题得 {rules.confirmation} 分，每天最多 {rules.daily_cap} 分。"
    )
    month = f"{mine.month.month}月"
    if not mine.points:
        return f"您{month}还没有积分。{how}"
    reply = f"您{month}的积分：{mine.points} 分。"
    if mine.street is not None and mine.standing is not None:
        reply += (
            f"在{mine.street.name}排第 {mine.standing.rank} 名"
            f"（共 {mine.riders_ranked} 位骑手有积分）。"
        )
    return f"{reply}\n{how}"
