"""Recognition for riders: 「我的积分」 shows this month's points and rank in the street;
「昵称 小王」 sets the name the boards show beside the rider number."""

from __future__ import annotations

from app.domain.nicknames import MAX_CHARS, rider_label
from app.services import policies
from app.services.riders import nicknames, recognition
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


@router.command("昵称", "设置昵称", "修改昵称", "nickname")
def nickname(ctx: ChatContext, args: str) -> str:
    rider = ctx.rider
    if not args:
        shown = rider_label(rider.id, rider.nickname)
        if rider.nickname:
            return (
                f"您的昵称是「{rider.nickname}」，积分榜上显示为「{shown}」。"
                "改昵称回复「昵称 新昵称」，不想显示昵称回复「昵称 删除」。"
            )
        return (
            f"您还没有昵称，积分榜上显示为「{shown}」。"
            f"回复「昵称 小王」设置昵称（最多 {MAX_CHARS} 个字）。"
        )
    name = nicknames.set_nickname(ctx.session, rider, args)
    shown = rider_label(rider.id, name)
    if name is None:
        return f"已删除昵称，积分榜上显示为「{shown}」。"
    return f"好的，您的昵称已设为「{name}」，积分榜上显示为「{shown}」。"
