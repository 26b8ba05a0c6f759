"""Duplicate reports: a report of a problem that already has an open ticket joins it.

The repeat keeps its own ticket row (its number, reporter, place, words and photos) in
status `merged`, pointing at the ticket it confirms. Nothing is lost, the confirmation is
counted on the open ticket, and a wrong merge is undone by flipping the row back
(拆分 <号>). The riders of merged reports hear the open ticket's progress.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.domain import duplicates as rules
from app.domain.duplicates import DuplicatePolicy, Match, Report, Severity
from app.domain.photos import PhotoRole
from app.domain.tickets import Action, Status, Transition
from app.services import notices, policies
from app.services.errors import Conflict
from app.services.handling import deadlines
from app.services.handling.actors import SYSTEM, Actor
from app.services.handling.ticket_actions import act, authorize
from app.services.handling.ticket_card import NoticeSettings
from app.services.handling.ticket_change import Change
from app.services.handling.ticket_notices import tell
from app.services.handling.tickets import OPEN, get_ticket
from models import Staff, Ticket, TicketPhoto

METRES_PER_DEGREE = 111_320.0


def _report(ticket: Ticket, hashes: tuple[str, ...]) -> Report:
    return Report(ticket.id, ticket.category, ticket.lat, ticket.lng, ticket.created_at, hashes)


def _hashes(session: Session, ticket_ids: list[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    if not ticket_ids:
        return {}
    rows = session.execute(
        select(TicketPhoto.ticket_id, TicketPhoto.dhash).where(
            TicketPhoto.ticket_id.in_(ticket_ids),
            TicketPhoto.role == PhotoRole.REPORT,
            TicketPhoto.dhash.is_not(None),
        )
    )
    for ticket_id, dhash in rows:
        found.setdefault(ticket_id, []).append(dhash)
    return {k: tuple(v) for k, v in found.items()}


def find_duplicate(session: Session, ticket: Ticket, policy: DuplicatePolicy) -> Match | None:
    """The open ticket this new report repeats, by place and time or by photo, if any."""
    if ticket.no_merge or ticket.status != Status.ASSIGNED.value or ticket.confirmations:
        return None
    # The ticket's own photos are in memory when it was just filed; their hashes exist
    # only once the photo pipeline has run (so at filing time there usually are none).
    own = tuple(p.dhash for p in ticket.photos if p.role == PhotoRole.REPORT and p.dhash)
    conditions = []
    if policy.distance_m > 0:
        since = ticket.created_at - policy.window
        dlat = policy.distance_m / METRES_PER_DEGREE
        dlng = dlat / max(0.01, math.cos(math.radians(ticket.lat)))
        conditions.append(
            and_(
                Ticket.created_at >= since,
                Ticket.lat.between(ticket.lat - dlat, ticket.lat + dlat),
                Ticket.lng.between(ticket.lng - dlng, ticket.lng + dlng),
            )
        )
    if own:
        # Any open ticket with photos may hold the same picture, wherever it was filed.
        with_photos = select(TicketPhoto.ticket_id).where(
            TicketPhoto.dhash.is_not(None), TicketPhoto.role == PhotoRole.REPORT
        )
        conditions.append(Ticket.id.in_(with_photos))
    if not conditions:
        return None  # matching by place is off and there is no picture to compare
    # Only the columns the rules read: loading whole tickets (with their eager joins)
    # cost more than the search in a storm of nearby reports.
    candidates = session.execute(
        select(Ticket.id, Ticket.category, Ticket.lat, Ticket.lng, Ticket.created_at).where(
            or_(*conditions), Ticket.status.in_(OPEN), Ticket.id < ticket.id
        )
    ).all()
    if not candidates:
        return None
    hashes = _hashes(session, [row.id for row in candidates]) if own else {}
    others = [Report(*row, hashes.get(row.id, ())) for row in candidates]
    return rules.best_match(_report(ticket, own), others, policy)


def merge(
    session: Session,
    ticket: Ticket,
    match: Match,
    *,
    now: datetime,
    policy: DuplicatePolicy,
    message_key: str | None = None,
    announced: bool = False,
    notice_settings: NoticeSettings | None = None,
) -> Ticket:
    """Make `ticket` a confirmation of the open ticket `match` names; returns that ticket.

    `announced`: the report's worker already heard of it as a new ticket and is told it
    was merged. The rider is told by the caller (a passive reply or a notice).
    """
    target = get_ticket(session, match.ticket_id, lock=True)
    why = "位置相近" if match.reason == "place" else "照片相同"
    merge_change = act(
        session,
        ticket,
        Action.MERGE,
        SYSTEM,
        now=now,
        notice_settings=notice_settings,
        note=f"与工单 #{target.number} 为同一问题（{why}，相距 {match.distance_m:.0f} 米），已合并",
        message_key=message_key,
        notify=False,
        target=target,
        announced=announced,
    )
    ticket.merged_into = target
    ticket.merged_at = now
    act(
        session,
        target,
        Action.JOIN,
        Actor.of_rider(ticket.reporter),
        now=now,
        notice_settings=notice_settings,
        note=f"骑手上报同一问题（#{ticket.number}，{why}）",
        message_key=message_key,
    )
    session.flush()
    _recount(session, target, raise_only=True)
    tell(session, merge_change)  # after the recount: the rider hears how many confirmed it
    more_reports_notice(session, target, now=now, policy=policy)
    return target


def _recount(session: Session, target: Ticket, *, raise_only: bool) -> None:
    confirmers = session.scalar(
        select(func.count(func.distinct(Ticket.reporter_id))).where(
            Ticket.merged_into_id == target.id, Ticket.reporter_id != target.reporter_id
        )
    )
    target.confirmations = int(confirmers or 0)
    level = rules.severity_for(target.category, target.confirmations)
    target.severity = (rules.higher(target.severity, level) if raise_only else level).value
    if target.severity != Severity.NORMAL.value and target.status in OPEN:
        # Several riders confirming it makes it severe: the shorter deadlines apply.
        deadlines.make_severe(target, policies.of(session))


def more_reports_notice(
    session: Session, target: Ticket, *, now: datetime, policy: DuplicatePolicy
) -> bool:
    """Tell the worker about reports merged since the last such notice, at most once per
    interval; reports held back are told by the next notice (see `more_reports_sweep`).

    The notice table's JOIN notice, told by gridbot: it speaks for every join since the
    last one (each logged when its report joined), not for the rider whose came last."""
    last = target.more_reports_noticed_at
    if last is not None and now - last < policy.notice_interval:
        return False
    query = select(Ticket.id).where(Ticket.merged_into_id == target.id)
    if last is not None:
        query = query.where(Ticket.merged_at > last)
    numbers = list(session.scalars(query.order_by(Ticket.id)))
    if not numbers or target.assignee is None:
        return False
    target.more_reports_noticed_at = now
    status = Status(target.status)
    joins = Change(
        target,
        Transition(Action.JOIN, status, status),
        SYSTEM,
        now,
        previous=target.assignee,
        details={"gathered": numbers},
    )
    tell(session, joins)
    return True


def more_reports_sweep(session: Session, *, now: datetime, policy: DuplicatePolicy) -> int:
    """Send the 'more reports' notices held back by the interval; safe to run any time."""
    merged = aliased(Ticket)
    due = select(Ticket).where(
        Ticket.status.in_(OPEN),
        Ticket.more_reports_noticed_at.is_not(None),
        Ticket.more_reports_noticed_at <= now - policy.notice_interval,
        select(merged.id)
        .where(
            merged.merged_into_id == Ticket.id, merged.merged_at > Ticket.more_reports_noticed_at
        )
        .exists(),
    )
    sent = 0
    for target in session.scalars(due.with_for_update(of=Ticket)).unique():
        sent += more_reports_notice(session, target, now=now, policy=policy)
    return sent


def joined_text(ticket: Ticket) -> str:
    """What the rider of a merged report is told."""
    assert ticket.merged_into is not None
    return notices.joined_for_rider(ticket, ticket.merged_into)


def split(
    session: Session,
    *,
    staff: Staff,
    number: int,
    now: datetime,
    message_key: str | None = None,
    notice_settings: NoticeSettings | None = None,
) -> Ticket:
    """拆分: a merged report becomes its own ticket again, routed as it was filed."""
    ticket = get_ticket(session, number, lock=True)
    target = ticket.merged_into
    if ticket.status != Status.MERGED.value or target is None:
        raise Conflict(f"工单 #{number} 不是合并的上报，无需拆分。")
    actor = Actor.of_staff(staff)
    authorize(session, ticket, Action.SPLIT, actor, {"other": target})
    if target.status not in (*OPEN, Status.RESOLVED.value):
        raise Conflict(f"工单 #{target.number} 已关闭，不能再拆分。")
    ticket.merged_into = None
    ticket.merged_at = None
    ticket.no_merge = True
    for t, other, note in (
        (ticket, target, f"从工单 #{target.number} 拆分为独立工单"),
        (target, ticket, f"拆分出 #{ticket.number}，不是同一问题"),
    ):
        act(
            session,
            t,
            Action.SPLIT,
            actor,
            now=now,
            notice_settings=notice_settings,
            note=note,
            message_key=message_key,
            other=other,
        )
    session.flush()
    _recount(session, target, raise_only=False)
    return ticket
