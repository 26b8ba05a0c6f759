"""Ticket use cases: load, check who may act, apply the transition table, record, notify.

Every function changes the session only; the caller commits once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, or_, select
from sqlalchemy.orm import Session, aliased, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.domain import tickets as lifecycle
from app.domain.tickets import Action, InvalidTransition, Status
from app.services import deadlines, ladder, notices
from app.services import escalation_notices as oversight_notices
from app.services.errors import Conflict, NotAllowed, NotFound
from app.services.grids import area_by_code, responsible_staff
from app.services.outbox import enqueue
from models import Rider, Staff, Ticket, TicketEvent

OPEN = [s.value for s in lifecycle.OPEN_STATUSES]

EVENT_INSERT = insert(TicketEvent.__table__)


def record(
    session: Session,
    ticket: Ticket,
    action: Action,
    *,
    now: datetime,
    actor_openid: str | None,
    actor_role: str,
    note: str = "",
    message_key: str | None = None,
) -> lifecycle.Transition:
    """Apply `action` through the transition table and append the event to the ticket's log."""
    transition = lifecycle.apply(ticket.status, action, note)
    ticket.status = transition.to_status.value
    ticket.updated_at = now
    if transition.to_status is Status.CLAIMED and ticket.claimed_at is None:
        ticket.claimed_at = now
    if transition.to_status is Status.RESOLVED:
        ticket.resolved_at = now
    if transition.to_status in (Status.CLOSED, Status.REJECTED):
        ticket.closed_at = now
    deadlines.track(ticket, transition, now)
    if ticket.id is None:
        # A new ticket: its number is needed for the event. Written once its deadlines
        # are set, so the INSERT carries them (no UPDATE of the row it just wrote).
        _insert_new(session, ticket)
    # One INSERT, not an ORM object for the flush to work out: every change of every
    # ticket passes here. A log loaded in this session is expired to show the new line.
    session.execute(
        EVENT_INSERT,
        {
            "ticket_id": ticket.id,
            "at": now,
            "action": action.value,
            "actor_openid": actor_openid,
            "actor_role": actor_role,
            "from_status": transition.from_status.value if transition.from_status else None,
            "to_status": transition.to_status.value,
            "note": note,
            "message_key": message_key,
        },
    )
    if "events" in ticket.__dict__:
        session.expire(ticket, ["events"])
    return transition


# The whole row comes back: the columns left to their defaults are loaded too.
TICKET_INSERT = insert(Ticket.__table__).returning(*Ticket.__table__.c)
_TICKET_COLUMNS = tuple(c.key for c in Ticket.__table__.c if c.key != "id")
_TICKET_LINKS = {
    "grid_id": "grid",
    "area_id": "area",
    "assignee_id": "assignee",
    "reporter_id": "reporter",
}


def _insert_new(session: Session, ticket: Ticket) -> None:
    """Write a new ticket with one INSERT ... RETURNING and let it join the session as a
    loaded row, relationships included: a flush would work the same INSERT out of the
    object graph at several times the cost, on the path of every report."""
    values = {key: ticket.__dict__[key] for key in _TICKET_COLUMNS if key in ticket.__dict__}
    for column, link in _TICKET_LINKS.items():
        if column not in values:
            related = ticket.__dict__.get(link)
            values[column] = related.id if related is not None else None
    row = session.execute(TICKET_INSERT, values).one()
    for key, value in row._mapping.items():
        setattr(ticket, key, value)
    make_transient_to_detached(ticket)
    set_committed_value(ticket, "photos", [])  # a new ticket has none yet: nothing to load
    session.add(ticket)


def followers(session: Session, ticket: Ticket) -> list[str]:
    """Who hears a ticket's progress: its reporter and the riders of reports merged into it."""
    merged = (
        select(Rider.openid)
        .join(Ticket, Ticket.reporter_id == Rider.id)
        .where(Ticket.merged_into_id == ticket.id)
        .order_by(Ticket.id)
    )
    found = [ticket.reporter.openid]
    for openid in session.scalars(merged):
        if openid not in found:
            found.append(openid)
    return found


def tell_followers(session: Session, ticket: Ticket, *, kind: str, text: str, now: datetime):
    for openid in followers(session, ticket):
        enqueue(session, to_openid=openid, kind=kind, text=text, now=now, ticket_id=ticket.id)


def get_ticket(session: Session, number: int, *, lock: bool = False) -> Ticket:
    """Ticket `number`; with `lock`, its row is locked until the caller's transaction ends.

    The bare row is locked first, then the ticket (re)loaded: under FOR UPDATE with joined
    eager loads, PostgreSQL re-reads only the locked row after waiting for a rival, so the
    joined rows (the assignee) came back as before the wait (NULL once it had changed,
    and the loser of a claim race heard "已由他人认领").
    """
    if lock:
        session.execute(select(Ticket.id).where(Ticket.id == number).with_for_update())
    query = select(Ticket).where(Ticket.id == number).execution_options(populate_existing=True)
    ticket = session.scalars(query).unique().first()
    if ticket is None:
        raise NotFound(f"没有找到工单 #{number}。")
    return ticket


def may_act(staff: Staff, ticket: Ticket) -> bool:
    """Staff may act on tickets assigned to them or routed inside the area they cover."""
    if ticket.assignee_id == staff.id:
        return True
    if staff.role == "department":  # a department works only what it checked in to
        return False
    area = ticket.grid or ticket.area
    return area is not None and staff.area.covers(area)


def _checked(session: Session, staff: Staff, number: int) -> Ticket:
    ticket = get_ticket(session, number, lock=True)
    if not may_act(staff, ticket):
        raise NotAllowed(f"工单 #{number} 不在您负责的网格，无权操作。")
    return ticket


def record_as_staff(session, ticket, staff, action, *, now, note="", message_key=None):
    """`record` for a staff member's action; an action the status does not allow becomes a
    Conflict saying the status, in words the staff member reads."""
    try:
        return record(
            session,
            ticket,
            action,
            now=now,
            actor_openid=staff.openid,
            actor_role=staff.role,
            note=note,
            message_key=message_key,
        )
    except InvalidTransition:
        label = Status(ticket.status).label
        raise Conflict(f"工单 #{ticket.number} 当前状态为「{label}」，不能执行此操作。") from None


def newest_claimable(session: Session, staff: Staff) -> Ticket:
    ticket = session.scalars(
        select(Ticket)
        .where(
            Ticket.assignee_id == staff.id,
            Ticket.status.in_([Status.ASSIGNED.value, Status.REOPENED.value]),
        )
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    ).first()
    if ticket is None:
        raise NotFound("您名下没有待认领的工单。")
    return ticket


def _work_and_tell_rider(
    session: Session,
    ticket: Ticket,
    staff: Staff,
    action: Action,
    *,
    note: str,
    now: datetime,
    message_key: str | None,
    extra: str = "",
) -> Ticket:
    """The worker's own steps (claim, note, resolve): they hold the ticket, the riders hear."""
    record_as_staff(session, ticket, staff, action, now=now, note=note, message_key=message_key)
    ticket.assignee = staff
    kind, text = RIDER_NOTICES[action](ticket, staff, note)
    tell_followers(session, ticket, kind=kind, text=text + extra, now=now)
    return ticket


RIDER_NOTICES = {
    Action.CLAIM: lambda t, s, _n: ("ticket_claimed", notices.claimed_for_rider(t, s)),
    Action.NOTE: lambda t, s, n: ("ticket_note", notices.note_for_rider(t, s, n)),
    Action.RESOLVE: lambda t, s, n: ("ticket_resolved", notices.resolved_for_rider(t, s, n)),
}


def claim(
    session: Session, *, staff: Staff, number: int | None, now: datetime, message_key=None
) -> Ticket:
    if number is None:
        number = newest_claimable(session, staff).id
    ticket = _checked(session, staff, number)
    if ticket.status == Status.CLAIMED.value:
        holder = ticket.assignee
        if holder is not None and holder.id == staff.id:
            raise Conflict(f"工单 #{number} 您已认领，处理完请回复「办结 {number} 处理结果」。")
        raise Conflict(f"工单 #{number} 已由{holder.name if holder else '他人'}认领。")
    return _work_and_tell_rider(
        session, ticket, staff, Action.CLAIM, note="", now=now, message_key=message_key
    )


def add_note(
    session: Session, *, staff: Staff, number: int, note: str, now: datetime, message_key=None
) -> Ticket:
    ticket = _checked(session, staff, number)
    return _work_and_tell_rider(
        session, ticket, staff, Action.NOTE, note=note, now=now, message_key=message_key
    )


def resolve(
    session: Session,
    *,
    staff: Staff,
    number: int,
    note: str,
    now: datetime,
    message_key=None,
    photo_links: Sequence[str] = (),
) -> Ticket:
    ticket = _checked(session, staff, number)
    return _work_and_tell_rider(
        session,
        ticket,
        staff,
        Action.RESOLVE,
        note=note,
        now=now,
        message_key=message_key,
        extra=notices.resolution_photos(photo_links),
    )


def transfer(
    session: Session,
    *,
    staff: Staff,
    number: int,
    grid_code: str,
    now: datetime,
    message_key=None,
) -> Ticket:
    ticket = _checked(session, staff, number)
    grid = area_by_code(session, grid_code)
    if grid is None or grid.level != "grid":
        raise NotFound(f"没有编码为 {grid_code} 的网格。")
    if ticket.grid_id == grid.id:
        raise Conflict(f"工单 #{number} 已在{grid.name}。")
    record_as_staff(
        session,
        ticket,
        staff,
        Action.TRANSFER,
        now=now,
        note=f"转派至 {grid.code} {grid.name}",
        message_key=message_key,
    )
    ticket.grid = grid
    ticket.area = grid
    ticket.assignee = responsible_staff(session, grid)
    ticket.claimed_at = None
    enqueue(
        session,
        to_openid=ticket.assignee.openid if ticket.assignee else None,
        kind="ticket_assigned",
        text=notices.new_ticket_for_worker(ticket, transferred_by=staff),
        now=now,
        ticket_id=ticket.id,
    )
    tell_followers(
        session,
        ticket,
        kind="ticket_transferred",
        text=notices.transferred_for_rider(ticket),
        now=now,
    )
    return ticket


def rider_verdict(
    session: Session,
    *,
    rider: Rider,
    number: int | None,
    satisfied: bool,
    now: datetime,
    message_key=None,
) -> Ticket:
    """A rider who reported it (or a report merged into it) answers 满意 (close) or 不满意
    (reopen to the same worker)."""
    mine = aliased(Ticket)
    confirmed = select(mine.merged_into_id).where(
        mine.reporter_id == rider.id, mine.merged_into_id.is_not(None)
    )
    query = select(Ticket).where(or_(Ticket.reporter_id == rider.id, Ticket.id.in_(confirmed)))
    if number is not None:
        query = query.where(Ticket.id == number)
    else:
        query = query.where(Ticket.status == Status.RESOLVED.value).order_by(
            Ticket.resolved_at.desc(), Ticket.id.desc()
        )
    ticket = session.scalars(query.with_for_update(of=Ticket)).unique().first()
    if ticket is None:
        raise NotFound(
            "您没有待确认的工单。" if number is None else f"没有找到您上报的工单 #{number}。"
        )
    action = Action.CONFIRM if satisfied else Action.REOPEN
    try:
        record(
            session,
            ticket,
            action,
            now=now,
            actor_openid=rider.openid,
            actor_role="rider",
            note="满意" if satisfied else "不满意",
            message_key=message_key,
        )
    except InvalidTransition:
        label = Status(ticket.status).label
        raise Conflict(f"工单 #{ticket.number} 当前状态为「{label}」，无需确认。") from None
    worker = ticket.assignee
    text = notices.closed_for_worker(ticket) if satisfied else notices.reopened_for_worker(ticket)
    enqueue(
        session,
        to_openid=worker.openid if worker else None,
        kind="ticket_closed" if satisfied else "ticket_reopened",
        text=text,
        now=now,
        ticket_id=ticket.id,
    )
    if not satisfied:
        lead = ladder.above(session, ticket, worker)
        enqueue(
            session,
            to_openid=lead.openid if lead else None,
            kind="ticket_reopened_lead",
            text=oversight_notices.reopened_for_lead(ticket),
            now=now,
            ticket_id=ticket.id,
        )
    return ticket


def open_for_staff(session: Session, staff: Staff, limit: int = 20) -> list[Ticket]:
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.assignee_id == staff.id, Ticket.status.in_(OPEN))
            .order_by(Ticket.created_at.desc())
            .limit(limit)
        ).unique()
    )


RIDERS_TICKETS = (
    select(Ticket)
    .where(Ticket.reporter_id == bindparam("rider_id"))
    .order_by(Ticket.created_at.desc())
    .limit(bindparam("limit"))
)


def for_rider(session: Session, rider: Rider, limit: int = 10) -> list[Ticket]:
    return list(session.scalars(RIDERS_TICKETS, {"rider_id": rider.id, "limit": limit}).unique())
