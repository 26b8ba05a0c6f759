"""The words of the notices intake owes: what a rider added to a ticket (one notice per
interval), a correction when the words changed the ticket's category or urgency, an
addition taken back, and a ticket whose only photo could not be used."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from app.domain.categories import Category
from app.domain.ticket_notices import clock_time, due_phrase
from app.domain.urgency import Assessment, urgency_label
from app.services.handling.ticket_change import Change
from models import Ticket


def _where(ticket: Ticket) -> str:
    return ticket.place or f"{ticket.lat:.5f}, {ticket.lng:.5f}"


def deadlines_line(ticket: Ticket, now: datetime, tz: ZoneInfo) -> str:
    """By when the worker must claim it (while nobody has) and resolve it, in the words of
    every other notice (`due_phrase`): "请于 10:10 前认领（10 分钟内），12:00 前办结。"."""
    claim = ""
    if ticket.claimed_at is None and ticket.claim_due_at is not None:
        claim = due_phrase("认领", ticket.claim_due_at, now, tz)
    resolve = ticket.resolve_due_at
    if claim and resolve is not None:
        return f"{claim}，{clock_time(resolve, now, tz)} 前办结。"
    if resolve is not None:
        return due_phrase("办结", resolve, now, tz) + "。"
    return f"{claim}。" if claim else ""


def _change_line(before: Assessment, after: Assessment) -> str:
    old_label, new_label = Category(before.category).label, Category(after.category).label
    old_urgency, new_urgency = urgency_label(before), urgency_label(after)
    category = (
        f"类别：{old_label} → {new_label}" if old_label != new_label else f"类别：{new_label}"
    )
    urgency = f"紧急程度：{new_urgency}"
    if old_urgency != new_urgency:
        urgency = f"紧急程度：{old_urgency} → {new_urgency}"
    if after.severe != before.severe:
        urgency += "（情况严重，期限缩短）" if after.severe else "（期限恢复）"
    return f"{category}；{urgency}"


def more_info(change: Change) -> str:
    """What the worker hears of a rider's addition (or taking one back), as gathered by
    app/services/intake/additions.py in the change's details: a correction when the ticket's
    category or severity changed, else what was added or taken back."""
    ticket, d = change.ticket, change.details
    added = d.get("added") or ([change.note] if "taken_back" not in d else [])
    before, after, taken_back = d.get("before"), d.get("after"), d.get("taken_back", "")
    if before is not None and after is not None and before != after:
        return correction_for_worker(
            ticket,
            added=added,
            before=before,
            after=after,
            now=change.now,
            tz=d["tz"],
            taken_back=taken_back,
        )
    if taken_back:
        text = taken_back_for_worker(ticket, taken_back)
        return text + "\n" + additions_for_worker(ticket, added) if added else text
    return additions_for_worker(ticket, added)


def additions_for_worker(ticket: Ticket, added: Sequence[str]) -> str:
    """What the rider added since the worker last heard (one line each)."""
    head = (
        f"工单 #{ticket.number}（{Category(ticket.category).label}，{_where(ticket)}）"
        "上报人补充了："
    )
    if len(added) == 1:
        return head + added[0]
    return head + "\n" + "\n".join(f"· {what}" for what in added)


def correction_for_worker(
    ticket: Ticket,
    *,
    added: Sequence[str],
    before: Assessment,
    after: Assessment,
    now: datetime,
    tz: ZoneInfo,
    taken_back: str = "",
) -> str:
    """The rider's words changed the ticket's category or urgency: say what it is now and
    by when to act."""
    mark = "【紧急】" if urgency_label(after) == "紧急" else ""
    lines = [f"{mark}【工单 #{ticket.number} 更正】{_where(ticket)}"]
    if taken_back:
        lines.append(f"上报人撤回了补充的{taken_back}。")
    if added:
        lines.append("上报人补充了：" + "；".join(added))
    lines.append(_change_line(before, after))
    deadlines = deadlines_line(ticket, now, tz)
    if deadlines:
        lines.append(deadlines)
    if ticket.claimed_at is None:
        lines.append(f"回复「认领 {ticket.number}」接单。")
    return "\n".join(lines)


def taken_back_for_worker(ticket: Ticket, what: str) -> str:
    return f"工单 #{ticket.number}（{_where(ticket)}）上报人撤回了刚才补充的{what}。"


def photo_unusable_for_worker(ticket: Ticket, why: str) -> str:
    return (
        f"工单 #{ticket.number}（{_where(ticket)}）的照片{why}，上报人也没有文字描述，"
        "已请上报人补充描述或重新拍照，补充后会通知您。"
    )


def describe_please_for_rider(ticket: Ticket, why: str) -> str:
    return (
        f"您上报的工单 #{ticket.number} 的照片{why}，网格员看不到现场情况。"
        f"请用一句话描述问题（或重新拍照发送），会补充到工单 #{ticket.number}。"
    )
