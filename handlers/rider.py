"""Rider queries and follow-up: my reports, satisfied or not, cancel, help, subscription."""

from __future__ import annotations

from app.services import notices
from app.services.directory import people
from app.services.handling import tickets
from app.services.intake import additions, drafts
from bot.router import Router
from handlers.context import ChatContext, split_number
from handlers.texts import WELCOME
from handlers.usage import help_for

router = Router("rider")


@router.command("我的上报", "我的工单", "mine")
def my_reports(ctx: ChatContext, args: str) -> str:
    mine = tickets.for_rider(ctx.session, ctx.rider)
    if not mine:
        return "您还没有上报过问题。发现问题时，拍照并发送位置即可上报。"
    lines = [notices.ticket_line(t, ctx.tz) for t in mine]
    return f"您最近的上报（{len(lines)}）：\n" + "\n".join(lines)


def _verdict(ctx: ChatContext, args: str, satisfied: bool) -> str:
    number, reason = split_number(args)
    t = tickets.rider_verdict(
        ctx.session,
        rider=ctx.rider,
        number=number,
        satisfied=satisfied,
        reason="" if satisfied else reason,
        now=ctx.now,
        message_key=ctx.message_key,
        notice_settings=ctx.notice_settings,
    )
    if satisfied:
        return f"感谢确认，工单 #{t.number} 已关闭。感谢您为城市出力！"
    told = "，并转告了您说的原因" if reason else ""
    return f"抱歉问题还没解决，工单 #{t.number} 已重新打开，已通知{notices.routed_to(t)}继续处理{told}。"


@router.command("不满意", "unsatisfied")
def unsatisfied(ctx: ChatContext, args: str) -> str:
    return _verdict(ctx, args, satisfied=False)


@router.command("满意", "satisfied")
def satisfied(ctx: ChatContext, args: str) -> str:
    return _verdict(ctx, args, satisfied=True)


@router.command("取消", "cancel")
def cancel(ctx: ChatContext, args: str) -> str:
    number, _ = split_number(args)
    if number is not None:  # 取消 <号>: take back a report just filed
        t = tickets.withdraw(
            ctx.session,
            rider=ctx.rider,
            number=number,
            now=ctx.now,
            message_key=ctx.message_key,
            notice_settings=ctx.notice_settings,
        )
        return f"已撤回工单 #{t.number}，已告知{notices.routed_to(t)}无需处理。"
    if drafts.cancel_draft(ctx.session, ctx.rider):
        return "已取消正在填写的上报。"
    taken = additions.take_back_last(
        ctx.session,
        ctx.rider,
        now=ctx.now,
        rules=ctx.rules.additions,
        message_key=ctx.message_key,
    )
    if taken is not None:
        ticket, what = taken
        return f"已撤回刚才补充到工单 #{ticket.number} 的{what}。"
    return "没有正在填写的上报，也没有刚补充、可以撤回的内容。"


@router.on("event:subscribe", "event:scan")
def subscribed(ctx: ChatContext, args: str) -> str:
    if ctx.staff is not None:  # a bound staff member following the account again
        return f"欢迎回来，{ctx.staff.name}！\n{help_for(ctx)}"
    return WELCOME


@router.on("event:unsubscribe")
def unsubscribed(ctx: ChatContext, args: str) -> str:
    people.unsubscribe(ctx.session, ctx.msg.openid)
    return ""


@router.on("event:location", "event:view", "event:templatesendjobfinish")
def silent_event(ctx: ChatContext, args: str) -> str:
    # WeChat allows no passive reply to these; answering "success" keeps it quiet.
    return ""
