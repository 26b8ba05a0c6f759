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
from app.services.errors import Conflict, InvalidInput, NotAllowed
from app.services.ladder import above, covers, department_names, departments, is_lead, may_decide
from app.services.outbox import enqueue
from app.services.tickets import get_ticket, record_as_staff
from models import Staff, Ticket


def _tell(session: Session, who: Staff | None, kind: str, text: str, ticket: Ticket, now) -> None:
    enqueue(
        session,
        to_openid=who.openid if who else None,
        kind=kind,
        text=text,
        now=now,
        ticket_id=ticket.id,
    )


def _decided(
    session: Session,
    ticket: Ticket,
    staff: Staff,
    holder: Staff | None,
    action: Action,
    *,
    note: str,
    kind: str,
    text: str,
    now: datetime,
    message_key: str | None,
) -> None:
    """Record a lead's decision on the holder's request and tell the holder."""
    record_as_staff(session, ticket, staff, action, now=now, note=note, message_key=message_key)
    _tell(session, holder, kind, text, ticket, now)


def _held_by(session: Session, staff: Staff, number: int) -> Ticket:
    ticket = get_ticket(session, number, lock=True)
    if ticket.assignee_id != staff.id:
        raise NotAllowed(f"工单 #{number} 不在您名下，只有当前负责人可以申请。")
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
) -> tuple[Ticket, list[Staff]]:
    """A lead over the ticket summons a department; its liaisons are asked to check in."""
    ticket = get_ticket(session, number, lock=True)
    if not is_lead(staff):
        raise NotAllowed("只有社区、街道或区级负责人可以吹哨。")
    if not covers(staff, ticket):
        raise NotAllowed(f"工单 #{number} 不在您负责的区域，无权吹哨。")
    liaisons = departments(session, ticket, department)
    if not liaisons:
        known = "、".join(department_names(session, ticket)) or "（尚未登记部门）"
        raise InvalidInput(f"没有找到部门「{department}」。可吹哨的部门：{known}。")
    name = liaisons[0].name
    previous = ticket.assignee
    record_as_staff(
        session,
        ticket,
        staff,
        Action.SUMMON,
        now=now,
        note=f"吹哨：请{name}报到",
        message_key=message_key,
    )
    ticket.assignee = liaisons[0]
    ticket.claimed_at = None
    for liaison in liaisons:
        _tell(
            session,
            liaison,
            "ticket_summoned",
            texts.summoned_for_department(ticket, staff),
            ticket,
            now,
        )
    if previous is not None and previous.id != staff.id and previous.role != "department":
        _tell(
            session,
            previous,
            "ticket_summoned",
            texts.summoned_for_holder(ticket, name, staff),
            ticket,
            now,
        )
    return ticket, liaisons


def check_in(
    session: Session, *, staff: Staff, number: int, now: datetime, message_key: str | None = None
) -> Ticket:
    """报到: a liaison of the summoned department takes the ticket and works it."""
    ticket = get_ticket(session, number, lock=True)
    summoned = ticket.assignee
    if staff.role != "department":
        raise NotAllowed("「报到」是职能部门联络员的指令。")
    if ticket.status != Status.SUMMONED.value or summoned is None or summoned.name != staff.name:
        raise Conflict(f"工单 #{number} 没有向{staff.name}吹哨，无需报到。")
    summoner = _last_actor(session, ticket, Action.SUMMON)
    record_as_staff(
        session,
        ticket,
        staff,
        Action.CHECK_IN,
        now=now,
        note=f"{staff.name}报到",
        message_key=message_key,
    )
    ticket.assignee = staff
    ticket.claimed_at = now
    enqueue(
        session,
        to_openid=ticket.reporter.openid,
        kind="ticket_claimed",
        text=texts.checked_in_for_rider(ticket, staff),
        now=now,
        ticket_id=ticket.id,
    )
    if summoner is not None:
        enqueue(
            session,
            to_openid=summoner,
            kind="ticket_checked_in",
            text=texts.checked_in_for_summoner(ticket, staff),
            now=now,
            ticket_id=ticket.id,
        )
    return ticket


def _last_actor(session: Session, ticket: Ticket, action: Action) -> str | None:
    for event in reversed(ticket.events):
        if event.action == action.value:
            return event.actor_openid
    return None


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
) -> Request:
    ticket = _held_by(session, staff, number)
    policy = policies.active()
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
    record_as_staff(
        session,
        ticket,
        staff,
        Action.REQUEST_EXTENSION,
        now=now,
        note=f"申请延期 {duration}：{reason}",
        message_key=message_key,
    )
    ticket.request_minutes = minutes
    ticket.request_reason = reason
    lead = above(session, ticket, staff)
    _tell(
        session,
        lead,
        "extension_request",
        texts.extension_request(ticket, staff, duration, reason),
        ticket,
        now,
    )
    return Request(ticket, lead)


def send_back(
    session: Session,
    *,
    staff: Staff,
    number: int,
    reason: str,
    now: datetime,
    message_key: str | None = None,
) -> Request:
    """退回: the holder says the ticket is not valid or not theirs; the level above decides."""
    ticket = _held_by(session, staff, number)
    if not reason:
        raise InvalidInput(f"请写明退回原因，例如「退回 {number} 不在本网格范围」。")
    record_as_staff(
        session, ticket, staff, Action.RETURN, now=now, note=reason, message_key=message_key
    )
    ticket.request_reason = reason
    lead = above(session, ticket, staff)
    _tell(session, lead, "return_request", texts.return_request(ticket, staff, reason), ticket, now)
    return Request(ticket, lead)


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
) -> Decision:
    """同意 / 驳回 the pending request on a ticket: a send-back first, else an extension."""
    ticket = get_ticket(session, number, lock=True)
    holder = ticket.assignee
    if holder is not None and holder.id == staff.id:
        raise NotAllowed("不能审批自己的申请，请等待上级答复。")
    if not may_decide(staff, ticket):
        raise NotAllowed(f"只有工单 #{number} 负责人的上级可以审批。")
    if ticket.status == Status.RETURNED.value:
        return _decide_return(session, ticket, staff, holder, approve, note, now, message_key)
    if ticket.request_minutes is None or Action.APPROVE_EXTENSION not in allowed_actions(
        ticket.status
    ):
        raise Conflict(f"工单 #{number} 没有待审批的延期或退回申请。")
    minutes = ticket.request_minutes
    ticket.request_minutes = None
    if not approve:
        _decided(
            session,
            ticket,
            staff,
            holder,
            Action.REFUSE_EXTENSION,
            note=note,
            kind="extension_refused",
            text=texts.extension_refused(ticket, staff, note),
            now=now,
            message_key=message_key,
        )
        return Decision(ticket, "extension", False)
    policy = policies.active()
    due = deadlines.extend(ticket, minutes, now, policy)
    tz = policy.calendar.timezone
    _decided(
        session,
        ticket,
        staff,
        holder,
        Action.APPROVE_EXTENSION,
        note=f"批准延期，新期限 {texts.local(due, tz)}" + (f"：{note}" if note else ""),
        kind="extension_approved",
        text=texts.extension_approved(ticket, staff, due, tz),
        now=now,
        message_key=message_key,
    )
    return Decision(ticket, "extension", True, due)


def _decide_return(session, ticket, staff, holder, approve, note, now, message_key) -> Decision:
    reason = ticket.request_reason
    if approve:
        record_as_staff(
            session,
            ticket,
            staff,
            Action.CONFIRM_RETURN,
            now=now,
            note=f"确认退回：{reason}",
            message_key=message_key,
        )
        enqueue(
            session,
            to_openid=ticket.reporter.openid,
            kind="ticket_rejected",
            text=texts.return_confirmed_for_rider(ticket, reason),
            now=now,
            ticket_id=ticket.id,
        )
        _tell(
            session,
            holder,
            "return_confirmed",
            texts.return_confirmed_for_worker(ticket, staff),
            ticket,
            now,
        )
        return Decision(ticket, "return", True)
    _decided(
        session,
        ticket,
        staff,
        holder,
        Action.REFUSE_RETURN,
        note=note,
        kind="return_refused",
        text=texts.return_refused_for_worker(ticket, staff, note),
        now=now,
        message_key=message_key,
    )
    return Decision(ticket, "return", False)
