"""Ticket use cases from chat: load the ticket, check what the command needs, then change
it through `act` (app/services/handling/ticket_actions.py), the one call that checks who may act,
applies the transition table, records the event and owes the notices.

Every function changes the session only; the caller commits once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, or_, select
from sqlalchemy.orm import Session, aliased, lazyload

from app.domain import tickets as lifecycle
from app.domain.tickets import Action, Status
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.handling.actors import SYSTEM, Actor
from app.services.handling.ticket_actions import act, authorize, works
from app.services.handling.ticket_card import NoticeSettings
from app.services.handling.ticket_change import Change
from app.services.handling.ticket_notices import followers, tell
from app.services.handling.transfer_targets import find_grid
from models import Area, Rider, Staff, Ticket

__all__ = ["SYSTEM", "Actor", "Change", "act", "authorize", "followers", "tell", "works"]

OPEN = [s.value for s in lifecycle.OPEN_STATUSES]


LOCK_TICKET = select(Ticket.id).where(Ticket.id == bindparam("number")).with_for_update()
TICKET = (
    select(Ticket)
    .where(Ticket.id == bindparam("number"))
    .options(lazyload(Ticket.photos))
    .execution_options(populate_existing=True)
)


def get_ticket(session: Session, number: int, *, lock: bool = False) -> Ticket:
    """Ticket `number`; with `lock`, its row is locked until the caller's transaction ends.

    The bare row is locked first, then the ticket (re)loaded: under FOR UPDATE with joined
    eager loads, PostgreSQL re-reads only the locked row after waiting for a rival, so the
    joined rows (the assignee) came back as before the wait (NULL once it had changed,
    and the loser of a claim race heard "已由他人认领").

    Its photos are read when first used (a new-ticket card, an Open311 view), not with it:
    most commands never look at them.
    """
    if lock:
        session.execute(LOCK_TICKET, {"number": number})
    ticket = session.scalars(TICKET, {"number": number}).unique().first()
    if ticket is None:
        raise NotFound(f"没有找到工单 #{number}。")
    return ticket


NEWEST_CLAIMABLE = (
    select(Ticket.id)
    .where(
        Ticket.assignee_id == bindparam("staff_id"),
        Ticket.status.in_([Status.ASSIGNED.value, Status.REOPENED.value]),
    )
    .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    .limit(1)
)


def newest_claimable(session: Session, staff: Staff) -> int:
    """The number of the newest ticket `staff` may claim ("认领" without a number): the
    number alone, as the claim locks and loads the ticket itself."""
    number = session.scalar(NEWEST_CLAIMABLE, {"staff_id": staff.id})
    if number is None:
        raise NotFound("您名下没有待认领的工单。")
    return number


ONLY_OPEN = (
    select(Ticket.id)
    .where(Ticket.assignee_id == bindparam("staff_id"), Ticket.status.in_(OPEN))
    .limit(2)
)


def only_open(session: Session, staff: Staff) -> int:
    """The number of the one open ticket assigned to `staff` ("办结 结果" without a
    number); with none or several, the worker hears which and what to send instead."""
    numbers = session.scalars(ONLY_OPEN, {"staff_id": staff.id}).all()
    if not numbers:
        raise NotFound("您名下没有未办结的工单。")
    if len(numbers) > 1:
        raise Conflict(
            "您名下有多个未办结的工单，请写明工单号，例如「办结 12 积水已排除」；"
            "回复「我的工单」查看工单号。"
        )
    return numbers[0]


def locked_for(session: Session, number: int, action: Action, actor: Actor) -> Ticket:
    """Ticket `number`, locked, once `actor` may take `action` on it: a command's checks of
    the ticket's state come after, so someone who may not act hears that first."""
    ticket = get_ticket(session, number, lock=True)
    authorize(session, ticket, action, actor)
    return ticket


def claim(
    session: Session,
    *,
    staff: Staff,
    number: int | None,
    now: datetime,
    message_key=None,
    notice_settings: NoticeSettings | None = None,
) -> Ticket:
    if number is None:
        number = newest_claimable(session, staff)
    actor = Actor.of_staff(staff)
    ticket = locked_for(session, number, Action.CLAIM, actor)
    if ticket.status == Status.CLAIMED.value:
        holder = ticket.assignee
        if holder is not None and holder.id == staff.id:
            raise Conflict(f"工单 #{number} 您已认领，处理完请回复「办结 {number} 处理结果」。")
        raise Conflict(f"工单 #{number} 已由{holder.name if holder else '他人'}认领。")
    act(
        session,
        ticket,
        Action.CLAIM,
        actor,
        now=now,
        notice_settings=notice_settings,
        message_key=message_key,
    )
    return ticket


def add_note(
    session: Session,
    *,
    staff: Staff,
    number: int,
    note: str,
    now: datetime,
    message_key=None,
    notice_settings: NoticeSettings | None = None,
) -> Ticket:
    ticket = get_ticket(session, number, lock=True)
    actor = Actor.of_staff(staff)
    act(
        session,
        ticket,
        Action.NOTE,
        actor,
        now=now,
        notice_settings=notice_settings,
        note=note,
        message_key=message_key,
    )
    return ticket


def resolve(
    session: Session,
    *,
    staff: Staff,
    number: int,
    note: str,
    now: datetime,
    message_key=None,
    photo_links: Sequence[str] = (),
    notice_settings: NoticeSettings | None = None,
) -> Ticket:
    """办结: needs a result in words or an after photo; the riders hear the result."""
    actor = Actor.of_staff(staff)
    ticket = locked_for(session, number, Action.RESOLVE, actor)
    if not note.strip() and not photo_links:
        raise InvalidInput(
            f"请写明处理结果，例如「办结 {number} 积水已排除」；"
            f"也可以先发一张办结照片，再回复「办结 {number}」。"
        )
    act(
        session,
        ticket,
        Action.RESOLVE,
        actor,
        now=now,
        notice_settings=notice_settings,
        note=note,
        message_key=message_key,
        photo_links=photo_links,
    )
    return ticket


def transfer(
    session: Session,
    *,
    staff: Staff,
    number: int,
    grid_code: str,
    now: datetime,
    message_key=None,
    notice_settings: NoticeSettings | None = None,
) -> Ticket:
    actor = Actor.of_staff(staff)
    ticket = locked_for(session, number, Action.TRANSFER, actor)
    grid = find_grid(session, staff, grid_code)
    if ticket.grid_id == grid.id:
        raise Conflict(f"工单 #{number} 已在{grid.name}。")
    act(
        session,
        ticket,
        Action.TRANSFER,
        actor,
        now=now,
        notice_settings=notice_settings,
        note=f"转派至 {grid.code} {grid.name}",
        message_key=message_key,
        grid=grid,
    )
    return ticket


def rider_verdict(
    session: Session,
    *,
    rider: Rider,
    number: int | None,
    satisfied: bool,
    reason: str = "",
    now: datetime,
    message_key=None,
    notice_settings: NoticeSettings | None = None,
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
    act(
        session,
        ticket,
        Action.CONFIRM if satisfied else Action.REOPEN,
        Actor.of_rider(rider),
        now=now,
        notice_settings=notice_settings,
        note="满意" if satisfied else "不满意" + (f"：{reason}" if reason else ""),
        message_key=message_key,
        reason=reason,
    )
    return ticket


def withdraw(
    session: Session,
    *,
    rider: Rider,
    number: int,
    now: datetime,
    message_key=None,
    notice_settings: NoticeSettings | None = None,
) -> Ticket:
    """取消 <号>: the rider takes back a report filed minutes ago; its worker is told."""
    actor = Actor.of_rider(rider)
    ticket = locked_for(session, number, Action.WITHDRAW, actor)
    window = timedelta(minutes=lifecycle.WITHDRAW_MINUTES)
    if ticket.status == Status.MERGED.value:
        raise Conflict(f"工单 #{number} 已作为确认并入其他工单，无需撤回。")
    if ticket.confirmations:
        raise Conflict(f"已有其他骑手确认工单 #{number} 的问题，不能撤回。")
    if ticket.status == Status.ASSIGNED.value and now - ticket.created_at > window:
        raise Conflict(
            f"工单 #{number} 受理已超过 {lifecycle.WITHDRAW_MINUTES} 分钟，不能撤回。"
            "如问题已不存在，可回复「我的上报」查看处理进度。"
        )
    act(
        session,
        ticket,
        Action.WITHDRAW,
        actor,
        now=now,
        note="上报人撤回",
        message_key=message_key,
        notice_settings=notice_settings,
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


def open_in_area(session: Session, staff: Staff, limit: int = 20) -> list[Ticket]:
    """A lead's to-do list: the open tickets routed inside their area, most overdue first
    (by the deadline the ticket now waits for: to be claimed, or to be resolved)."""
    waiting_for_claim = Ticket.status.in_([Status.ASSIGNED.value, Status.SUMMONED.value])
    due = case((waiting_for_claim, Ticket.claim_due_at), else_=Ticket.resolve_due_at)
    inside = select(Area.id).where(Area.path.startswith(staff.area.path))
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.status.in_(OPEN), Ticket.area_id.in_(inside))
            .order_by(due.is_(None), due, Ticket.id)
            .limit(limit)
        ).unique()
    )


RIDERS_TICKETS = (
    select(Ticket)
    .where(Ticket.reporter_id == bindparam("rider_id"))
    .order_by(Ticket.created_at.desc())
    .limit(bindparam("limit"))
    # A rider's list shows the tickets' own columns: their grid, worker, reporter and
    # photos are read only if something asks for them.
    .options(lazyload("*"))
)


def for_rider(session: Session, rider: Rider, limit: int = 10) -> list[Ticket]:
    """The rider's newest tickets (their own columns loaded; related rows on use)."""
    return list(session.scalars(RIDERS_TICKETS, {"rider_id": rider.id, "limit": limit}))
