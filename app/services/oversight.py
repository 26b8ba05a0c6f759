"""Oversight in chat: 吹哨 a department and its 报到, 延期 requests, 退回 requests, and the
level above deciding them (同意 / 驳回). The caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.domain.policy import parse_duration
from app.domain.tickets import Action, Status, allowed_actions
from app.services import deadlines, policies
from app.services import escalation_notices as texts
from app.services.actors import Actor
from app.services.errors import Conflict, InvalidInput
from app.services.ladder import above, department_names, departments
from app.services.ticket_actions import act, authorize
from app.services.ticket_card import NoticeSettings
from app.services.tickets import get_ticket
from models import Staff, Ticket


def _locked(session: Session, staff: Staff, number: int, action: Action) -> Ticket:
    """Ticket `number`, locked, once `staff` may take `action` on it."""
    ticket = get_ticket(session, number, lock=True)
    authorize(session, ticket, action, Actor.of_staff(staff))
    return ticket


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
    ticket = _locked(session, staff, number, Action.SUMMON)
    liaisons = departments(session, ticket, department)
    if not liaisons:
        known = "、".join(department_names(session, ticket)) or "（尚未登记部门）"
        raise InvalidInput(f"没有找到部门「{department}」。可吹哨的部门：{known}。")
    act(
        session,
        ticket,
        Action.SUMMON,
        Actor.of_staff(staff),
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
    ticket = _locked(session, staff, number, Action.REQUEST_EXTENSION)
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
        Actor.of_staff(staff),
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
    """退回: the holder says the ticket is not valid or not theirs; the level above decides."""
    ticket = _locked(session, staff, number, Action.RETURN)
    if not reason:
        raise InvalidInput(f"请写明退回原因，例如「退回 {number} 不在本网格范围」。")
    ticket.request_reason = reason
    act(
        session,
        ticket,
        Action.RETURN,
        Actor.of_staff(staff),
        now=now,
        notice_settings=notice_settings,
        note=reason,
        message_key=message_key,
    )
    return Request(ticket, above(session, ticket, staff))


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
    ticket = _locked(session, staff, number, Action.APPROVE_EXTENSION)
    actor = Actor.of_staff(staff)
    if ticket.status == Status.RETURNED.value:
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
