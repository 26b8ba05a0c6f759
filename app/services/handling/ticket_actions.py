"""The one way to change a ticket: `act`.

Chat commands, the deadline sweeps, the duplicate rules (and later the console and the
API) all change tickets through `act`, which
1. checks the actor may take the action (the `WHO_MAY` table in app/domain/tickets.py),
2. applies the transition table,
3. sets what the transition implies: claimed/resolved/closed times, the holder, the
   deadlines and the ladder (app/services/handling/deadlines.py),
4. appends the event to the ticket's log, and
5. owes the notices the change implies (the table in app/domain/ticket_notices.py) and
   the deliveries of its event to the webhooks subscribed to it.

Nothing is written before the checks pass, so a refusal (a ServiceError) leaves the
session as it was. The caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.domain import tickets as lifecycle
from app.domain.people import Role
from app.domain.tickets import (
    CLOSING_STATUSES,
    HOLDER_AFTER,
    WHO_MAY,
    Action,
    Holder,
    InvalidTransition,
    May,
    Status,
)
from app.services import policies
from app.services.directory.grids import responsible_staff
from app.services.errors import Conflict, NotAllowed, NotFound
from app.services.handling import deadlines
from app.services.handling.actors import Actor
from app.services.handling.ticket_card import DEFAULT, NoticeSettings
from app.services.handling.ticket_change import Change
from app.services.handling.ticket_notices import tell
from app.services.supervision.ladder import covers, may_decide
from app.services.webhooks import ticket_events
from models import Area, Staff, Ticket, TicketEvent


def act(
    session: Session,
    ticket: Ticket,
    action: Action,
    actor: Actor,
    *,
    now: datetime,
    note: str = "",
    message_key: str | None = None,
    notify: bool = True,
    notice_settings: NoticeSettings | None = None,
    **details: Any,
) -> Change:
    """Take `action` on `ticket` as `actor`; raise a ServiceError (nothing written) when the
    actor may not or the ticket's status does not allow it.

    `details` carry what the action needs and its notices say: `grid` (the Area a
    transfer goes to), `liaisons` (the summoned department's staff), `photo_links`,
    `to` (the Staff the ladder reached), ... `notify=False` leaves the notices to a later
    `tell(session, change)` (intake decides whether a new report is a duplicate first).
    `notice_settings` (photo links, time zone) come from the caller's wiring.
    """
    previous = ticket.assignee if ticket.id is not None else None
    authorize(session, ticket, action, actor, details)
    try:
        transition = lifecycle.apply(ticket.status, action, note)
    except InvalidTransition:
        raise Conflict(_status_refusal(ticket, actor, action)) from None
    _apply(session, ticket, transition, actor, now, details)
    if ticket.id is None:
        # A new ticket: its number is needed for the event. Written once its deadlines
        # are set, so the INSERT carries them (no UPDATE of the row it just wrote).
        _insert_new(session, ticket)
    _append_event(session, ticket, transition, actor, now, message_key)
    change = Change(ticket, transition, actor, now, previous, details, notice_settings or DEFAULT)
    # Outside platforms hear every change, whoever else is told of it and when.
    ticket_events.owe(session, change)
    if notify:
        tell(session, change)
    return change


def _status_refusal(ticket: Ticket, actor: Actor, action: Action) -> str:
    label = Status(ticket.status).label
    if action is Action.WITHDRAW:
        return f"工单 #{ticket.number} 当前状态为「{label}」，已有人处理，不能撤回。"
    if actor.role is Role.RIDER:
        return f"工单 #{ticket.number} 当前状态为「{label}」，无需确认。"
    return f"工单 #{ticket.number} 当前状态为「{label}」，不能执行此操作。"


# --- who may --------------------------------------------------------------------------


def works(staff: Staff, ticket: Ticket) -> bool:
    """Staff may work tickets they hold or that lie inside the area they cover; a
    department only what it holds and has checked in to (报到)."""
    holds = _holds(staff, ticket)
    if staff.role == Role.DEPARTMENT:
        return holds and ticket.status != Status.SUMMONED
    if holds:
        return True
    area = ticket.grid or ticket.area
    return area is not None and staff.area.covers(area)


def _holds(staff: Staff, ticket: Ticket) -> bool:
    return ticket.assignee is not None and ticket.assignee.id == staff.id


def _summoned_here(staff: Staff, ticket: Ticket) -> bool:
    """`staff` is a liaison of the department this ticket waits for."""
    summoned = ticket.assignee
    return (
        ticket.status == Status.SUMMONED
        and summoned is not None
        and summoned.role == Role.DEPARTMENT
        and summoned.name == staff.name
    )


def _is_follower(session: Session, ticket: Ticket, rider_id: int) -> bool:
    reporter_id = ticket.reporter.id if ticket.reporter is not None else ticket.reporter_id
    if reporter_id == rider_id:
        return True
    if ticket.id is None:
        return False
    merged = exists().where(Ticket.merged_into_id == ticket.id, Ticket.reporter_id == rider_id)
    return bool(session.scalar(select(merged)))


API_MAY = frozenset({May.WORKER, May.FOLLOWER})
"""What an outside platform (an Open311 client with write scope) may do on any ticket:
add notes, resolve, close or reopen. It files its own reports as their reporter."""


def authorize(
    session: Session, ticket: Ticket, action: Action, actor: Actor, details: dict | None = None
) -> None:
    """Raise NotAllowed (or NotFound, Conflict) unless `actor` may take `action`."""
    rule = WHO_MAY[action]
    n = ticket.number
    if (rule is May.SYSTEM) != (actor.role is Role.SYSTEM):
        raise NotAllowed("此操作由系统执行。" if rule is May.SYSTEM else "系统不能执行此操作。")
    if rule is May.SYSTEM:
        return
    if actor.role is Role.API_CLIENT and rule in API_MAY:
        return
    if rule in (May.REPORTER, May.FOLLOWER, May.RIDER):
        rider = actor.rider
        if rider is None:
            raise NotAllowed(f"只有上报人可以对工单 #{n} 执行此操作。")
        if rule is May.RIDER:
            return
        reporter_only = rule is May.REPORTER
        if reporter_only and (ticket.reporter.id if ticket.reporter else ticket.reporter_id) == (
            rider.id
        ):
            return
        if not reporter_only and _is_follower(session, ticket, rider.id):
            return
        raise NotFound(f"没有找到您上报的工单 #{n}。")
    staff = actor.staff
    if staff is None:
        raise NotAllowed("只有网格员和负责人可以处理工单。")
    _authorize_staff(rule, staff, ticket, action, details or {})


def _authorize_staff(
    rule: May, staff: Staff, ticket: Ticket, action: Action, details: dict
) -> None:
    n = ticket.number
    if rule is May.WORKER:
        other = details.get("other")
        if works(staff, ticket) or (other is not None and works(staff, other)):
            _check_department_transfer(staff, action, details)
            return
        if staff.role == Role.DEPARTMENT and _summoned_here(staff, ticket):
            raise Conflict(f"请先回复「报到 {n}」接手工单 #{n}，报到后才能处理。")
        raise NotAllowed(f"工单 #{n} 不在您负责的{_scope(staff)}，无权操作。")
    if rule is May.HOLDER:
        if not _holds(staff, ticket):
            raise NotAllowed(f"工单 #{n} 不在您名下，只有当前负责人可以申请。")
        return
    if rule is May.ABOVE_HOLDER:
        if _holds(staff, ticket):
            raise NotAllowed("不能审批自己的申请，请等待上级答复。")
        if not may_decide(staff, ticket):
            raise NotAllowed(f"只有工单 #{n} 负责人的上级可以审批。")
        return
    if rule is May.LEAD:
        if not Role(staff.role).is_lead:
            raise NotAllowed("只有社区、街道或区级负责人可以吹哨。")
        if not covers(staff, ticket):
            raise NotAllowed(f"工单 #{n} 不在您负责的区域，无权吹哨。")
        return
    if rule is May.SUMMONED:
        if staff.role != Role.DEPARTMENT:
            raise NotAllowed("「报到」是职能部门联络员的指令。")
        if not _summoned_here(staff, ticket):
            raise Conflict(f"工单 #{n} 没有向{staff.name}吹哨，无需报到。")
        return
    raise NotAllowed("无权操作。")  # pragma: no cover - every rule is handled above


def _scope(staff: Staff) -> str:
    """What a refusal calls the place someone is responsible for."""
    return "区域" if Role(staff.role).is_lead else "网格"


def _check_department_transfer(staff: Staff, action: Action, details: dict) -> None:
    """A department passes a ticket on only inside the area it serves."""
    grid: Area | None = details.get("grid")
    department = action is Action.TRANSFER and staff.role == Role.DEPARTMENT
    if department and grid is not None and not staff.area.covers(grid):
        raise NotAllowed(f"{grid.name}不在{staff.name}的服务范围内，不能转派。")


# --- what a transition implies ----------------------------------------------------------


def _apply(
    session: Session,
    ticket: Ticket,
    transition: lifecycle.Transition,
    actor: Actor,
    now: datetime,
    details: dict,
) -> None:
    ticket.status = transition.to_status.value
    ticket.updated_at = now
    holder = HOLDER_AFTER.get(transition.action, Holder.UNCHANGED)
    if holder is Holder.ACTOR and actor.staff is not None:
        # An API client's note or resolution leaves the ticket with its holder.
        ticket.assignee = actor.staff
    elif holder is Holder.GRID:
        grid = details["grid"]
        ticket.grid = grid
        ticket.area = grid
        ticket.assignee = responsible_staff(session, grid)
    elif holder is Holder.DEPARTMENT:
        ticket.assignee = details["liaisons"][0]
    if holder.unclaims:
        ticket.claimed_at = None
    if transition.to_status is Status.CLAIMED and ticket.claimed_at is None:
        ticket.claimed_at = now
    if transition.to_status is Status.RESOLVED:
        ticket.resolved_at = now
    if transition.to_status in CLOSING_STATUSES:
        ticket.closed_at = now
    deadlines.track(ticket, transition, now, policies.of(session))


EVENT_INSERT = insert(TicketEvent.__table__)


def _append_event(
    session: Session,
    ticket: Ticket,
    transition: lifecycle.Transition,
    actor: Actor,
    now: datetime,
    message_key: str | None,
) -> None:
    # One INSERT, not an ORM object for the flush to work out: every change of every
    # ticket passes here. A log loaded in this session is expired to show the new line.
    session.connection().execute(
        EVENT_INSERT,
        {
            "ticket_id": ticket.id,
            "at": now,
            "action": transition.action.value,
            "actor_openid": actor.openid,
            "actor_role": actor.role.value,
            "from_status": transition.from_status.value if transition.from_status else None,
            "to_status": transition.to_status.value,
            "note": transition.note,
            "message_key": message_key,
        },
    )
    if "events" in ticket.__dict__:
        session.expire(ticket, ["events"])


# Only the number comes back: the values the INSERT wrote (the columns left to their
# defaults included) are its parameters. A row of every column costs its description and
# processing per report, most on PostgreSQL.
_TICKETS = Ticket.__table__
TICKET_INSERT = insert(_TICKETS).returning(_TICKETS.c.id)
_TICKET_COLUMNS = tuple(c.key for c in _TICKETS.c if c.key != "id")
_TICKET_LINKS = {
    "grid_id": "grid",
    "area_id": "area",
    "assignee_id": "assignee",
    "reporter_id": "reporter",
}
assert all(c.default is not None for c in _TICKETS.c if c.server_default is not None), (
    "a column the database fills in must come back with RETURNING"
)


def _insert_new(session: Session, ticket: Ticket) -> None:
    """Write a new ticket with one INSERT ... RETURNING id and let it join the session as a
    loaded row, relationships included: a flush would work the same INSERT out of the
    object graph at several times the cost, on the path of every report."""
    values = {key: ticket.__dict__[key] for key in _TICKET_COLUMNS if key in ticket.__dict__}
    for column, link in _TICKET_LINKS.items():
        if column not in values:
            related = ticket.__dict__.get(link)
            values[column] = related.id if related is not None else None
    result = session.connection().execute(TICKET_INSERT, values)
    ticket_id = result.scalar_one()
    written = result.last_inserted_params()
    for key in _TICKET_COLUMNS:
        setattr(ticket, key, written.get(key))  # not written: NULL
    ticket.id = ticket_id
    make_transient_to_detached(ticket)
    set_committed_value(ticket, "photos", [])  # a new ticket has none yet: nothing to load
    session.add(ticket)
