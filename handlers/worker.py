"""Worker commands: claim, progress note, resolve, transfer and list, by replying in chat."""

from __future__ import annotations

from datetime import timedelta

from app.domain.people import Role
from app.services import notices
from app.services.handling import evidence, tickets, transfer_targets
from bot.router import Router
from handlers.context import ChatContext, is_staff, split_number

router = Router("worker")


@router.command("认领", "接单", "claim", when=is_staff)
def claim(ctx: ChatContext, args: str) -> str:
    number, _ = split_number(args)
    if args and number is None:
        return "格式：认领 工单号，例如「认领 12」；只发「认领」接最新一单。"
    t = ctx.as_staff(tickets.claim, number=number)
    return (
        f"已认领工单 #{t.number}（{notices.category_label(t)}，{notices.where(t)}）。\n"
        f"处理完请回复「办结 {t.number} 处理结果」。"
    )


@router.command("进展", "note", when=is_staff)
def note(ctx: ChatContext, args: str) -> str:
    number, text = split_number(args)
    if number is None or not text:
        return "格式：进展 工单号 内容，例如「进展 12 已联系排水公司」。"
    t = ctx.as_staff(tickets.add_note, number=number, note=text)
    return f"已记录工单 #{t.number} 的进展，并通知上报人。"


@router.command("办结", "done", when=is_staff)
def done(ctx: ChatContext, args: str) -> str:
    number, text = split_number(args)
    if not args.strip():
        return "格式：办结 工单号 处理结果，例如「办结 12 积水已排除」；名下只有一单时可不写号。"
    if number is None:  # a result alone: the worker's one open ticket
        number = tickets.only_open(ctx.session, ctx.staff)
    window = timedelta(minutes=ctx.settings.resolution_photo_minutes)
    t = ctx.as_staff(
        evidence.resolve_with_photos, number=number, note=text, rules=ctx.rules, window=window
    )
    return f"工单 #{t.number} 已办结，已请上报人确认。"


@router.command("转派", "transfer", when=is_staff)
def transfer(ctx: ChatContext, args: str) -> str:
    number, code = split_number(args)
    if number is None or not code:
        return "格式：转派 工单号 网格名称或编码，例如「转派 12 枫苑二网格」；「网格列表」查看可转派的网格。"
    t = ctx.as_staff(tickets.transfer, number=number, grid_code=code.split()[0])
    return f"工单 #{t.number} 已转派至{notices.routed_to(t)}。"


@router.command("网格列表", "grids", when=is_staff)
def grids(ctx: ChatContext, args: str) -> str:
    return transfer_targets.listing(ctx.session, ctx.staff)


@router.command("我的工单", "待办", "mine", when=is_staff)
def mine(ctx: ChatContext, args: str) -> str:
    if Role(ctx.staff.role).is_lead:
        in_area = tickets.open_in_area(ctx.session, ctx.staff)
        if not in_area:
            return f"{ctx.staff.area.name}目前没有未办结的工单。"
        lines = [notices.overdue_line(t, ctx.now, ctx.settings.timezone) for t in in_area]
        return f"{ctx.staff.area.name}未办结的工单（{len(lines)}，最超时的在前）：\n" + "\n".join(
            lines
        )
    open_tickets = tickets.open_for_staff(ctx.session, ctx.staff)
    if not open_tickets:
        return "您目前没有待办工单。"
    lines = [notices.todo_line(t, ctx.now) for t in open_tickets]
    return f"您的待办工单（{len(lines)}）：\n" + "\n".join(lines)
