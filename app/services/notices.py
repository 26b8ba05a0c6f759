"""The words of every notice gridbot owes someone, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from app.domain.categories import Category
from app.domain.duplicates import Severity
from app.domain.policy import Phase, phase_of
from app.domain.ticket_notices import span
from app.domain.tickets import Status
from app.services.handling import ticket_card as card
from models import Staff, Ticket


def category_label(ticket: Ticket) -> str:
    return Category(ticket.category).label


def where(ticket: Ticket) -> str:
    """The place in one phrase (the label, or where a photo was taken)."""
    return card.place_label(ticket)


def routed_to(ticket: Ticket) -> str:
    area = ticket.grid or ticket.area
    area_name = area.name if area else "值班台"
    who = ticket.assignee.name if ticket.assignee else "值班人员"
    return f"{area_name}（{who}）"


def ticket_card(
    ticket: Ticket,
    head: str,
    *,
    now: datetime,
    settings: card.NoticeSettings = card.DEFAULT,
    photo_links: Sequence[str] | None = None,
    description: bool = True,
    deadline: bool = True,
) -> list[str]:
    """The lines a worker needs to act on a ticket: urgency and head, place (grid, GCJ-02
    coordinates, map link), description, photos with links, old-photo warning, deadline."""
    if photo_links is None:
        photo_links = settings.photo_links(ticket, now)
    lines = [card.urgent_tag(ticket) + head, *card.place_lines(ticket)]
    if description:
        lines.append(f"描述：{ticket.description or '（无文字描述）'}")
    lines += card.photo_lines(ticket, photo_links)
    lines += [
        line
        for line in (
            card.old_photo_line(ticket, now, settings.tz),
            card.deadline_line(ticket, now, settings.tz) if deadline else "",
        )
        if line
    ]
    return lines


def new_ticket_for_worker(
    ticket: Ticket,
    *,
    now: datetime,
    settings: card.NoticeSettings = card.DEFAULT,
    transferred_by: Staff | None = None,
    photo_links: Sequence[str] | None = None,
) -> str:
    head = f"【新工单 #{ticket.number}】{category_label(ticket)}"
    if transferred_by is not None:
        head = (
            f"【转派工单 #{ticket.number}】{category_label(ticket)}（由{transferred_by.name}转派）"
        )
    lines = ticket_card(ticket, head, now=now, settings=settings, photo_links=photo_links)
    lines.append(f"回复「认领 {ticket.number}」接单；处理完回复「办结 {ticket.number} 处理结果」。")
    return "\n".join(lines)


def claimed_for_rider(ticket: Ticket, staff: Staff) -> str:
    return (
        f"您上报的工单 #{ticket.number}（{category_label(ticket)}）已由{staff.name}认领，正在处理。"
    )


def note_for_rider(ticket: Ticket, staff: Staff, note: str) -> str:
    return f"工单 #{ticket.number} 进展（{staff.name}）：{note}"


def resolved_for_rider(ticket: Ticket, staff: Staff, note: str) -> str:
    result = f"：{note}" if note else "。"
    return (
        f"您上报的工单 #{ticket.number}（{category_label(ticket)}）已由{staff.name}办结{result}\n"
        "问题解决了请回复「满意」，没有解决请回复「不满意」。"
    )


def transferred_for_rider(ticket: Ticket) -> str:
    return f"工单 #{ticket.number} 已转派至{routed_to(ticket)}处理。"


def reopened_for_worker(
    ticket: Ticket, *, now: datetime, settings: card.NoticeSettings = card.DEFAULT, reason: str = ""
) -> str:
    """不满意: the holder keeps it (no need to claim again) and has a shorter deadline."""
    n = ticket.number
    head = f"【重新打开 #{n}】{category_label(ticket)}：上报人回复不满意，请继续处理"
    lines = ticket_card(ticket, head, now=now, settings=settings)
    if reason:
        lines.insert(1, f"不满意的原因：{reason}")
    lines.append(f"处理完回复「办结 {n} 处理结果」。")
    return "\n".join(lines)


def transferred_away(ticket: Ticket, by: Staff) -> str:
    return f"工单 #{ticket.number} 已由{by.name}转派至{routed_to(ticket)}，您无需再处理。"


def resolved_by_department(ticket: Ticket, staff: Staff, note: str) -> str:
    result = f"：{note}" if note else "。"
    return (
        f"工单 #{ticket.number}（{category_label(ticket)}，{where(ticket)}）"
        f"已由{staff.name}办结{result}"
    )


def confirmed_for_follower(ticket: Ticket) -> str:
    return f"工单 #{ticket.number}（{category_label(ticket)}）上报人已确认解决，工单已关闭。感谢您的上报！"


def reopened_for_follower(ticket: Ticket, reason: str = "") -> str:
    why = f"（{reason}）" if reason else ""
    return (
        f"工单 #{ticket.number}（{category_label(ticket)}）有骑手反馈问题仍未解决{why}，已重新打开，"
        f"由{routed_to(ticket)}继续处理。"
    )


def merged_for_worker(ticket: Ticket, target: Ticket) -> str:
    return (
        f"工单 #{ticket.number} 与工单 #{target.number} 为同一问题，已合并至 #{target.number}，"
        f"无需单独处理。如不是同一问题，回复「拆分 {ticket.number}」。"
    )


def joined_for_rider(ticket: Ticket, target: Ticket) -> str:
    """What the rider of a report merged into `target` is told."""
    return (
        f"感谢上报！该问题已有工单 #{target.number}（{category_label(target)}），"
        f"由{routed_to(target)}处理，您的上报 #{ticket.number} 已作为确认并入，"
        f"目前已有 {target.confirmations} 位骑手确认。处理进展会同样通知您。"
    )


def more_reports_for_worker(target: Ticket, numbers: Sequence[int]) -> str:
    """The reports merged into `target` since the worker last heard (several at once)."""
    listed = "、".join(f"#{n}" for n in numbers[:10])
    split = (
        f"如不是同一问题，回复「拆分 {numbers[0]}」单独处理。"
        if len(numbers) == 1
        else f"其中如有不是同一问题的，回复「拆分 号」单独处理，例如「拆分 {numbers[0]}」。"
    )
    return (
        f"【工单 #{target.number}】又有 {len(numbers)} 条上报为同一问题（{listed}），"
        f"已有 {target.confirmations} 位骑手确认，紧急程度：{Severity(target.severity).label}。\n"
        + split
    )


def split_for_rider(ticket: Ticket, target: Ticket) -> str:
    return (
        f"您上报的工单 #{ticket.number} 经核实与 #{target.number} 不是同一问题，"
        f"已作为独立工单派往{routed_to(ticket)}处理。"
    )


def withdrawn_for_worker(ticket: Ticket) -> str:
    return (
        f"工单 #{ticket.number}（{category_label(ticket)}，{where(ticket)}）"
        "已由上报人撤回，无需处理。"
    )


def closed_for_worker(ticket: Ticket) -> str:
    return f"工单 #{ticket.number} 上报人确认满意，已关闭。辛苦了！"


def ticket_line(ticket: Ticket, tz) -> str:
    """One line of a rider's 我的上报, in the rider's words for the status."""
    created = ticket.created_at.astimezone(tz).strftime("%m-%d %H:%M")
    status = Status(ticket.status).rider_label
    return f"#{ticket.number} {category_label(ticket)} {status} {created} {where(ticket)}"


def due_state(ticket: Ticket, now: datetime) -> str:
    """How late the ticket's current deadline is, or how long is left ("" if none)."""
    phase = phase_of(ticket.status)
    due = ticket.claim_due_at if phase is Phase.CLAIM else ticket.resolve_due_at
    if due is None:
        return ""
    verb = "认领" if phase is Phase.CLAIM else "办结"
    minutes = (now - due).total_seconds() / 60
    return f"{verb}已超时 {span(minutes)}" if minutes >= 1 else f"{verb}还剩 {span(-minutes)}"


def overdue_line(ticket: Ticket, now: datetime, tz: str) -> str:
    """One line of a lead's to-do list: what, how late (or how long left), where, who."""
    holder = ticket.assignee.name if ticket.assignee else "无人负责"
    area = ticket.grid or ticket.area
    where_ = area.name if area else "值班台"
    return (
        f"#{ticket.number} {card.urgent_tag(ticket)}{category_label(ticket)} "
        f"{Status(ticket.status).label} {due_state(ticket, now)} {where_}（{holder}）"
    ).replace("  ", " ")


def todo_line(ticket: Ticket, now: datetime) -> str:
    """One line of a worker's to-do list: what, how urgent, how long is left, the place."""
    return (
        f"#{ticket.number} {card.urgent_tag(ticket)}{category_label(ticket)} "
        f"{Status(ticket.status).label} {due_state(ticket, now)} {where(ticket)}"
    ).replace("  ", " ")


def local_time(at: datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return at.astimezone(ZoneInfo(tz)).strftime(fmt) if at is not None else "?"


def old_photo_for_worker(ticket: Ticket, taken: str) -> str:
    return f"注意：工单 #{ticket.number} 的照片拍摄于 {taken}，不是近期拍摄，请到现场核实。"


def resolution_photo_for_rider(ticket: Ticket, links: Sequence[str]) -> str:
    return (
        f"工单 #{ticket.number} 的网格员发来了办结照片。"
        + resolution_photos(links)
        + "\n问题解决了请回复「满意」，没有解决请回复「不满意」。"
    )


def resolution_photos(links: Sequence[str]) -> str:
    """Links to the worker's after photos, appended to the rider's confirmation request."""
    if not links:
        return ""
    return "\n办结照片：" + "\n".join(links)
