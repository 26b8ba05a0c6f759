"""The words of reminders, escalations, 吹哨, extensions, send-backs and auto-closure."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.domain.policy import Phase
from app.domain.ticket_notices import clock_time, due_phrase
from app.services.handling import ticket_card as card
from app.services.handling.ticket_card import DEFAULT, NoticeSettings
from app.services.notices import category_label, ticket_card, where
from app.services.supervision.ladder import LEVEL_LABELS
from models import Staff, Ticket

ROLE_NAMES = {
    "grid_worker": "网格员",
    "department": "部门",
    "community_lead": "社区",
    "street_lead": "街道",
    "supervisor": "区级督办",
}
PHASE_VERBS = {Phase.CLAIM: "认领", Phase.RESOLVE: "办结"}


def local(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M")


def holder_line(ticket: Ticket) -> str:
    holder = ticket.assignee
    if holder is None:
        return "当前无人负责"
    return f"当前负责人：{holder.name}（{ROLE_NAMES.get(holder.role, holder.role)}）"


def _head(tag: str, ticket: Ticket) -> str:
    return f"【{tag} #{ticket.number}】{category_label(ticket)}，{where(ticket)}"


def reminder(
    ticket: Ticket,
    phase: Phase,
    deadline: datetime,
    now: datetime,
    tz: str,
    settings: NoticeSettings = DEFAULT,
) -> str:
    n = ticket.number
    verb = PHASE_VERBS[phase]
    head = f"【催办 #{n}】{category_label(ticket)}"
    lines = ticket_card(ticket, head, now=now, settings=settings, description=False, deadline=False)
    lines.append(due_phrase(verb, deadline, now, tz) + "。")
    if phase is Phase.CLAIM:
        lines.append(f"请尽快回复「认领 {n}」接单。")
    else:
        lines.append(
            f"处理完请回复「办结 {n} 处理结果」；需要更多时间请回复「延期 {n} 时长 原因」，"
            f"不属于您处理请回复「退回 {n} 原因」。"
        )
    return "\n".join(lines)


def escalation(
    ticket: Ticket,
    phase: Phase,
    deadline: datetime,
    now: datetime,
    level: str,
    tz: str,
    settings: NoticeSettings = DEFAULT,
) -> str:
    n = ticket.number
    verb = PHASE_VERBS[phase]
    head = f"【督办·{LEVEL_LABELS[level]} #{n}】{category_label(ticket)}"
    lines = ticket_card(ticket, head, now=now, settings=settings, deadline=False)
    lines += [
        f"{due_phrase(verb, deadline, now, tz)}。{holder_line(ticket)}。",
        f"您可以回复：「认领 {n}」亲自接手；「转派 {n} 网格名称」转给其他网格；"
        f"「吹哨 {n} 部门名称」请职能部门报到。",
    ]
    return "\n".join(lines)


def auto_closed_for_rider(ticket: Ticket, hours: float) -> str:
    return (
        f"您上报的工单 #{ticket.number}（{category_label(ticket)}）办结后 {hours:g} 小时未收到您的确认，"
        "已自动关闭。如问题仍在，欢迎重新上报。"
    )


def auto_closed_for_worker(ticket: Ticket, hours: float) -> str:
    return f"工单 #{ticket.number} 上报人 {hours:g} 小时未确认，已自动关闭。"


def reopened_for_lead(
    ticket: Ticket, *, now: datetime, settings: NoticeSettings = DEFAULT, reason: str = ""
) -> str:
    holder = ticket.assignee.name if ticket.assignee else "负责人"
    head = f"【重新打开 #{ticket.number}】{category_label(ticket)}"
    lines = ticket_card(ticket, head, now=now, settings=settings)
    why = f"（原因：{reason}）" if reason else ""
    lines.append(
        f"上报人对{holder}的处理不满意{why}，工单已重新打开，办结时限缩短。"
        f"如需协调，可回复「吹哨 {ticket.number} 部门名称」。"
    )
    return "\n".join(lines)


def summoned_for_department(
    ticket: Ticket, by: Staff, *, now: datetime, settings: NoticeSettings = DEFAULT
) -> str:
    lines = ticket_card(
        ticket,
        f"【吹哨 #{ticket.number}】{category_label(ticket)}",
        now=now,
        settings=settings,
        deadline=False,
    )
    lines += [
        f"{by.name}（{ROLE_NAMES.get(by.role, by.role)}）请贵部门报到处理。",
        card.deadline_line(ticket, now, settings.tz, claim_verb="报到")
        + f"请回复「报到 {ticket.number}」接手；处理完回复「办结 {ticket.number} 处理结果」。",
    ]
    return "\n".join(lines)


def summoned_for_holder(ticket: Ticket, department: str, by: Staff) -> str:
    return f"工单 #{ticket.number} 已由{by.name}吹哨，请{department}报到处理。"


def checked_in_for_rider(ticket: Ticket, staff: Staff) -> str:
    return f"您上报的工单 #{ticket.number}（{category_label(ticket)}）已由{staff.name}接手处理。"


def checked_in_for_summoner(ticket: Ticket, staff: Staff) -> str:
    return f"工单 #{ticket.number}：{staff.name}已报到，正在处理。"


def extension_request(ticket: Ticket, staff: Staff, duration: str, reason: str) -> str:
    n = ticket.number
    return (
        f"{_head('延期申请', ticket)}\n{staff.name}申请延期 {duration}，原因：{reason}。\n"
        f"回复「同意 {n}」批准，或「驳回 {n} 理由」不批准。"
    )


def extension_approved(ticket: Ticket, by: Staff, due: datetime, now: datetime, tz: str) -> str:
    when = clock_time(due, now, tz)
    return f"工单 #{ticket.number} 的延期申请已由{by.name}批准，新的期限为 {when}。"


def extension_refused(ticket: Ticket, by: Staff, note: str) -> str:
    why = f"，理由：{note}" if note else ""
    return f"工单 #{ticket.number} 的延期申请未获{by.name}批准{why}。请按原期限办结。"


def return_request(
    ticket: Ticket, staff: Staff, reason: str, *, now: datetime, settings: NoticeSettings = DEFAULT
) -> str:
    """退回 as not valid: the lead judges it, so the notice shows the place and photos."""
    n = ticket.number
    lines = ticket_card(
        ticket,
        f"【退回申请 #{n}】{category_label(ticket)}",
        now=now,
        settings=settings,
        deadline=False,
    )
    lines += [
        f"{staff.name}申请退回：问题不存在或不属实，说明：{reason}。",
        f"回复「同意 {n}」确认退回（工单关闭，告知上报人原因），或「驳回 {n} 理由」交回继续处理。",
    ]
    return "\n".join(lines)


def pass_on_request(
    ticket: Ticket, staff: Staff, reason: str, *, now: datetime, settings: NoticeSettings = DEFAULT
) -> str:
    """退回 as not ours: the problem is real; the lead sends it on."""
    n = ticket.number
    lines = ticket_card(
        ticket,
        f"【退回·需转办 #{n}】{category_label(ticket)}",
        now=now,
        settings=settings,
        deadline=False,
    )
    lines += [
        f"{staff.name}退回：不归本网格处理，说明：{reason}。",
        f"请回复「转派 {n} 网格名称」或「吹哨 {n} 部门」；仍由{staff.name}处理请回复「驳回 {n} 理由」。",
    ]
    return "\n".join(lines)


def passed_on_for_rider(ticket: Ticket) -> str:
    area = ticket.grid or ticket.area
    where_ = area.name if area is not None else "原网格"
    return (
        f"您上报的工单 #{ticket.number}（{category_label(ticket)}）不归{where_}处理，"
        "已转交上级协调相关单位处理，进展会继续通知您。"
    )


def return_confirmed_for_rider(ticket: Ticket, reason: str) -> str:
    return (
        f"您上报的工单 #{ticket.number}（{category_label(ticket)}）经现场核实，问题不存在或不属实，"
        f"不予受理。处理人员说明：{reason}。感谢您的关注，如有疑问可重新上报并补充说明。"
    )


def return_confirmed_for_worker(ticket: Ticket, by: Staff) -> str:
    return f"工单 #{ticket.number} 的退回申请已由{by.name}确认，工单已关闭。"


def return_refused_for_worker(ticket: Ticket, by: Staff, note: str) -> str:
    why = f"，理由：{note}" if note else ""
    return (
        f"工单 #{ticket.number} 的退回申请未获{by.name}同意{why}。请继续处理，"
        f"完成后回复「办结 {ticket.number} 处理结果」。"
    )
