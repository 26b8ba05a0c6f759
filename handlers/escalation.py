"""Oversight commands: 吹哨 and 报到, 延期, 退回, and the level above's 同意 / 驳回."""

from __future__ import annotations

from app.domain.send_back import ReturnKind
from app.domain.ticket_notices import clock_time
from app.services import notices
from app.services.supervision import oversight
from bot.router import Router
from handlers.context import ChatContext, is_staff, split_number

router = Router("escalation")


@router.command("吹哨", "summon", when=is_staff)
def summon(ctx: ChatContext, args: str) -> str:
    number, department = split_number(args)
    if number is None or not department:
        return "格式：吹哨 工单号 部门，例如「吹哨 12 区排水所」。"
    done = ctx.as_staff(oversight.summon, number=number, department=department)
    ticket, liaisons = done
    return (
        f"已吹哨：工单 #{ticket.number} 请{liaisons[0].name}报到处理，"
        f"已通知 {len(liaisons)} 位联络员。"
    )


@router.command("报到", "checkin", when=is_staff)
def check_in(ctx: ChatContext, args: str) -> str:
    number, _ = split_number(args)
    if number is None:
        return "格式：报到 工单号，例如「报到 12」。"
    t = ctx.as_staff(oversight.check_in, number=number)
    return (
        f"已报到，工单 #{t.number}（{notices.category_label(t)}，{notices.where(t)}）由您处理。\n"
        f"处理完请回复「办结 {t.number} 处理结果」。"
    )


@router.command("延期", "extend", when=is_staff)
def extend(ctx: ChatContext, args: str) -> str:
    number, rest = split_number(args)
    duration, _, reason = rest.partition(" ")
    if number is None or not duration:
        return "格式：延期 工单号 时长 原因，例如「延期 12 2小时 等待配件」。"
    done = ctx.as_staff(
        oversight.request_extension, number=number, duration=duration, reason=reason.strip()
    )
    who = done.lead.name if done.lead else "上级"
    return f"已提交工单 #{number} 延期 {duration} 的申请，等待{who}审批。"


@router.command("退回", "sendback", when=is_staff)
def send_back(ctx: ChatContext, args: str) -> str:
    number, reason = split_number(args)
    if number is None:
        return (
            "格式：退回 工单号 原因。问题不存在或不属实：「退回 12 无效 现场无积水」；"
            "问题存在但不归您处理：「退回 12 转办 属于小区物业」。"
        )
    done = ctx.as_staff(oversight.send_back, number=number, reason=reason)
    who = done.lead.name if done.lead else "上级"
    if done.kind is ReturnKind.NOT_OURS:
        return f"工单 #{number} 已交{who}另行派单（转派或吹哨），上报人也已知悉。"
    return f"已申请退回工单 #{number}（问题不存在或不属实），等待{who}确认。"


def _decide(ctx: ChatContext, args: str, approve: bool) -> str:
    number, note = split_number(args)
    if number is None:
        word = "同意" if approve else "驳回"
        return f"格式：{word} 工单号 [意见]，例如「{word} 12」。"
    d = ctx.as_staff(oversight.decide, number=number, approve=approve, note=note)
    n = d.ticket.number
    if d.what == "return":
        if d.approved:
            return f"已确认退回，工单 #{n} 已关闭，并已告知上报人原因。"
        return f"已驳回退回申请，工单 #{n} 交回{d.ticket.assignee.name}继续处理。"
    if d.approved:
        return f"已批准工单 #{n} 延期，新期限 {clock_time(d.new_deadline, ctx.now, ctx.tz)}。"
    return f"已驳回工单 #{n} 的延期申请。"


@router.command("同意", "approve", when=is_staff)
def approve(ctx: ChatContext, args: str) -> str:
    return _decide(ctx, args, approve=True)


@router.command("驳回", "refuse", when=is_staff)
def refuse(ctx: ChatContext, args: str) -> str:
    return _decide(ctx, args, approve=False)
