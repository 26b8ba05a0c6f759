"""Oversight in chat: 吹哨 a department and its 报到, 延期 requests, 退回 requests, and the
level above deciding them (同意 / 驳回). The caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.domain import send_back as returns
from app.domain.policy import parse_duration
from app.domain.send_back import ReturnKind
from app.domain.tickets import Action, Status, allowed_actions
from app.services import policies
from app.services.errors import Conflict, InvalidInput
from app.services.handling import deadlines
from app.services.handling.actors import Actor
from app.services.handling.ticket_actions import act
from app.services.handling.ticket_card import NoticeSettings
from app.services.handling.tickets import get_ticket, locked_for
from app.services.supervision import escalation_notices as texts
from app.services.supervision.ladder import above, department_names, departments
from models import Staff, Ticket

# --- 吹哨 / 报到 ---------------------------------------------------------------------------


def summon(
    session: Session,
    *,
    staff: Staff,
    number: int,
    department: str,
    now: datetime,
    message_key: str | None = None,
    notice_settings: NoticeSettings | None = None,
) -> tuple[Ticket, list[Staff]]:
    """A lead over the ticket summons a department; its liaisons are asked to check in."""
    actor = Actor.of_staff(staff)
    ticket = locked_for(session, number, Action.SUMMON, actor)
    liaisons = departments(session, ticket, department)
    if not liaisons:
        known = "、".join(department_names(session, ticket)) or "（尚未登记部门）"
        raise InvalidInput(f"没有找到部门「{department}」。可吹哨的部门：{known}。")
    act(
        session,
        ticket,
        Action.SUMMON,
        actor,
        now=now,
        notice_settings=notice_settings,
        note=f"吹哨：请{liaisons[0].name}报到",
        message_key=message_key,
        liaisons=liaisons,
    )
    return ticket, liaisons


def check_in(
    session: Session,
    *,
    staff: Staff,
    number: int,
    now: datetime,
    message_key: str | None = None,
    notice_settings: NoticeSettings | None = None,
) -> Ticket:
    """报到: a liaison of the summoned department takes the ticket and works it."""
    ticket = get_ticket(session, number, lock=True)
    act(
        session,
        ticket,
        Action.CHECK_IN,
        Actor.of_staff(staff),
        now=now,
        notice_settings=notice_settings,
        note=f"{staff.name}报到",
        message_key=message_key,
    )
    return ticket


# --- 延期 / 退回 and the decision above ------------------------------------------------


@dataclass(frozen=True)
class Request:
    ticket: Ticket
    lead: Staff | None
    """Who was asked to decide; None when nobody is above (the request waits anyway)."""
    kind: ReturnKind | None = None
    """For a send-back: not valid, or not ours."""


def request_extension(
    session: Session,
    *,
    staff: Staff,
    number: int,
    duration: str,
    reason: str,
    now: datetime,
    message_key: str | None = None,
    notice_settings: NoticeSettings | None = None,
) -> Request:
    actor = Actor.of_staff(staff)
    ticket = locked_for(session, number, Action.REQUEST_EXTENSION, actor)
    policy = policies.of(session)
    kind = policy.for_category(ticket.category).time
    minutes = parse_duration(duration, day_minutes=policy.day_minutes(kind))
    if minutes is None:
        raise InvalidInput("时长的写法如「30分钟」「2小时」「1天」。")
    if not reason:
        raise InvalidInput(f"请写明原因，例如「延期 {number} {duration} 等待配件」。")
    if ticket.request_minutes is not None:
        raise Conflict(f"工单 #{number} 已有待审批的延期申请，请等待上级答复。")
    if ticket.status == Status.ASSIGNED.value:
        raise Conflict(f"工单 #{number} 尚未认领，请先回复「认领 {number}」。")
    act(
        session,
        ticket,
        Action.REQUEST_EXTENSION,
        actor,
        now=now,
        notice_settings=notice_settings,
        note=f"申请延期 {duration}：{reason}",
        message_key=message_key,
        duration=duration,
        reason=reason,
    )
    ticket.request_minutes = minutes
    ticket.request_reason = reason
    return Request(ticket, above(session, ticket, staff))


def send_back(
    session: Session,
    *,
    staff: Staff,
    number: int,
    reason: str,
    now: datetime,
    message_key: str | None = None,
    notice_settings: NoticeSettings | None = None,
) -> Request:
    """退回: the holder says the ticket is not valid (the level above may close it as
    rejected) or not theirs (it stays open; the level above transfers it or summons a
    department, and the riders hear it was passed on)."""
    actor = Actor.of_staff(staff)
    ticket = locked_for(session, number, Action.RETURN, actor)
    if not reason:
        raise InvalidInput(
            f"请写明退回原因，例如「退回 {number} 无效 现场无积水」或「退回 {number} 转办 属于小区物业」。"
        )
    kind, why = returns.read(reason)
    if kind is None:
        raise InvalidInput(
            f"请说明是哪一种退回：问题不存在或不属实，回复「退回 {number} 无效 {reason}」；"
            f"问题存在但不归您处理，回复「退回 {number} 转办 {reason}」。"
        )
    act(
        session,
        ticket,
        Action.RETURN if kind is ReturnKind.NOT_VALID else Action.PASS_ON,
        actor,
        now=now,
        notice_settings=notice_settings,
        note=f"{RETURN_WORDS[kind]}：{why}",
        message_key=message_key,
        reason=why,
    )
    ticket.request_reason = why  # after act: a refused send-back changes nothing
    return Request(ticket, above(session, ticket, staff), kind)


RETURN_WORDS = {ReturnKind.NOT_VALID: "问题不存在或不属实", ReturnKind.NOT_OURS: "不归本网格处理"}


def pending_return(ticket: Ticket) -> ReturnKind | None:
    """What the send-back the ticket waits on says, from its log."""
    for event in reversed(ticket.events):
        if event.action == Action.RETURN.value:
            return ReturnKind.NOT_VALID
        if event.action == Action.PASS_ON.value:
            return ReturnKind.NOT_OURS
    return None


@dataclass(frozen=True)
class Decision:
    ticket: Ticket
    what: str
    """'extension' or 'return'."""
    approved: bool
    new_deadline: datetime | None = None


def decide(
    session: Session,
    *,
    staff: Staff,
    number: int,
    approve: bool,
    note: str = "",
    now: datetime,
    message_key: str | None = None,
    notice_settings: NoticeSettings | None = None,
) -> Decision:
    """同意 / 驳回 the pending request on a ticket: a send-back first, else an extension."""
    actor = Actor.of_staff(staff)
    ticket = locked_for(session, number, Action.APPROVE_EXTENSION, actor)
    if ticket.status == Status.RETURNED.value:
        if approve and pending_return(ticket) is ReturnKind.NOT_OURS:
            holder = ticket.assignee.name if ticket.assignee else "原负责人"
            raise Conflict(
                f"工单 #{number} 的问题存在、只是不归{holder}处理，不能关闭。"
                f"请回复「转派 {number} 网格名称」或「吹哨 {number} 部门」；"
                f"仍由{holder}处理请回复「驳回 {number} 理由」。"
            )
        action = Action.CONFIRM_RETURN if approve else Action.REFUSE_RETURN
        reason = ticket.request_reason
        act(
            session,
            ticket,
            action,
            actor,
            now=now,
            notice_settings=notice_settings,
            note=f"确认退回：{reason}" if approve else note,
            message_key=message_key,
            reason=note,
        )
        return Decision(ticket, "return", approve)
    if ticket.request_minutes is None or Action.APPROVE_EXTENSION not in allowed_actions(
        ticket.status
    ):
        raise Conflict(f"工单 #{number} 没有待审批的延期或退回申请。")
    if not approve:
        act(
            session,
            ticket,
            Action.REFUSE_EXTENSION,
            actor,
            now=now,
            notice_settings=notice_settings,
            note=note,
            message_key=message_key,
            reason=note,
        )
        ticket.request_minutes = None
        return Decision(ticket, "extension", False)
    policy = policies.of(session)
    due = deadlines.extend(ticket, ticket.request_minutes, now, policy)
    tz = policy.calendar.timezone
    act(
        session,
        ticket,
        Action.APPROVE_EXTENSION,
        actor,
        now=now,
        notice_settings=notice_settings,
        note=f"批准延期，新期限 {texts.local(due, tz)}" + (f"：{note}" if note else ""),
        message_key=message_key,
        due=due,
        tz=tz,
    )
    ticket.request_minutes = None
    return Decision(ticket, "extension", True, due)
