"""The daily digest's figures: SQL aggregates over tickets and the event log for an area.

Figures are SQL aggregates over one local day (indexed by tickets.created_at and
ticket_events.at) plus the open tickets now (indexed by status); only the day's claim
and resolve events come back as rows, for medians and deadline shares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from app.domain.digest import (
    DayTrend,
    DigestFigures,
    GridOverdue,
    OverdueTicket,
    RiderActivity,
    Share,
    day_bounds,
    median_minutes,
)
from app.domain.tickets import OPEN_STATUSES, Status
from app.domain.untracked_deadlines import DEFAULT_POLICY, DeadlinePolicy
from app.services.riders.nicknames import labels
from models import Area, Staff, Ticket, TicketEvent, UTCDateTime

SUPERVISOR_ROLES = ("community_lead", "street_lead", "supervisor")
OPEN = sorted(s.value for s in OPEN_STATUSES)
OVERDUE_KEPT = 50
TOP = 5
TREND_DAYS = 7

# Event -> the figure it counts towards. Explicit actions first: a merge or a rejection
# may also close a ticket, and then it is a merge or a rejection, not a closing.
_ACTION_KINDS = {
    "escalate": "escalations",
    "merge": "merged",
    "confirm_return": "rejected",
    "reopen": "reopened",
}
_UNHELD = [Status.ASSIGNED.value, Status.REOPENED.value]


def _event_kind():
    e = TicketEvent
    return case(
        *[(e.action == action, kind) for action, kind in _ACTION_KINDS.items()],
        (and_(e.to_status == Status.CLAIMED.value, e.from_status.in_(_UNHELD)), "claimed"),
        (
            and_(e.to_status == Status.RESOLVED.value, e.from_status != Status.RESOLVED.value),
            "resolved",
        ),
        (and_(e.to_status == Status.CLOSED.value, e.from_status != Status.CLOSED.value), "closed"),
        else_=None,
    )


def _at(value: datetime):
    return literal(value, UTCDateTime())


def _scope(area: Area):
    """Tickets routed to `area` or anywhere under it (a report its rider withdrew is no
    case: it counts nowhere)."""
    inside = Ticket.area_id.in_(select(Area.id).where(Area.path.startswith(area.path)))
    return and_(inside, Ticket.status != Status.WITHDRAWN.value)


def _overdue(policy: DeadlinePolicy, now: datetime):
    """Overdue as a SQL condition on open tickets: past the ticket's own deadlines (set by
    the escalation policy, extensions included), or, for a ticket filed before deadlines
    were tracked, past the default policy's."""
    tracked = or_(
        and_(Ticket.claimed_at.is_(None), Ticket.claim_due_at < _at(now)),
        Ticket.resolve_due_at < _at(now),
    )
    return or_(
        and_(Ticket.resolve_due_at.is_not(None), tracked),
        and_(Ticket.resolve_due_at.is_(None), _legacy_overdue(policy, now)),
    )


def _legacy_overdue(policy: DeadlinePolicy, now: datetime):
    cutoffs = policy.cutoffs(now)
    fallback = policy.cutoffs_for("", now)
    claim = case(
        {c: _at(v.claim) for c, v in cutoffs.items()},
        value=Ticket.category,
        else_=_at(fallback.claim),
    )
    resolve = case(
        {c: _at(v.resolve) for c, v in cutoffs.items()},
        value=Ticket.category,
        else_=_at(fallback.resolve),
    )
    return or_(
        and_(Ticket.claimed_at.is_(None), Ticket.created_at < claim), Ticket.created_at < resolve
    )


def compute(
    session: Session,
    area: Area,
    day: date,
    *,
    now: datetime,
    tz: tzinfo,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> DigestFigures:
    """The digest of local day `day` for `area` and everything under it; "now" figures
    (open, overdue) as of `now`."""
    start, end = day_bounds(day, tz)
    scope = _scope(area)
    f = DigestFigures(
        area_code=area.code, area_name=area.name, day=day.isoformat(), generated_at=now.isoformat()
    )
    created_today = and_(scope, Ticket.created_at >= _at(start), Ticket.created_at < _at(end))

    f.by_category = {
        c: n
        for c, n in session.execute(
            select(Ticket.category, func.count()).where(created_today).group_by(Ticket.category)
        )
    }
    f.new = sum(f.by_category.values())

    reports = func.count(Ticket.id)
    active = session.execute(
        select(Ticket.reporter_id, reports)
        .where(created_today)
        .group_by(Ticket.reporter_id)
        .order_by(reports.desc(), Ticket.reporter_id)
        .limit(TOP)
    ).all()
    names = labels(session, (rider_id for rider_id, _ in active))
    f.riders = [RiderActivity(rider=names[rider_id], reports=n) for rider_id, n in active]

    _event_figures(session, f, scope, start, end, policy)
    _open_figures(session, f, scope, now, policy)
    f.trend = _trend(session, scope, day, tz)
    # The chart's last point is this day: the text's figures, not a second count of them.
    f.trend[-1] = DayTrend(day=f.day, new=f.new, resolved=f.resolved)
    return f


def _events_between(scope, start: datetime, end: datetime) -> Select:
    return (
        select()
        .select_from(TicketEvent)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.at >= _at(start), TicketEvent.at < _at(end), scope)
    )


def _event_figures(session, f: DigestFigures, scope, start, end, policy) -> None:
    kind = _event_kind().label("kind")
    counted = (
        _events_between(scope, start, end)
        .add_columns(kind, func.count(func.distinct(TicketEvent.ticket_id)), func.count())
        .group_by(kind)
    )
    for name, tickets, events in session.execute(counted):
        if name is not None:
            setattr(f, name, events if name == "escalations" else tickets)

    # The day's first claim and first resolve of each ticket, for medians and deadlines.
    progress = _event_kind()
    rows = session.execute(
        _events_between(scope, start, end)
        .add_columns(
            TicketEvent.ticket_id,
            progress,
            TicketEvent.at,
            Ticket.created_at,
            Ticket.category,
            Ticket.claim_due_at,
            Ticket.resolve_due_at,
        )
        .where(progress.in_(["claimed", "resolved"]))
        .order_by(TicketEvent.at, TicketEvent.id)
    )
    first: dict[tuple[int, str], _Progress] = {}
    for ticket_id, what, at, created_at, category, claim_due, resolve_due in rows:
        due = claim_due if what == "claimed" else resolve_due
        first.setdefault((ticket_id, what), _Progress(at, created_at, category, due))
    claims = [v for (_, what), v in first.items() if what == "claimed"]
    resolves = [v for (_, what), v in first.items() if what == "resolved"]
    f.median_claim_minutes = median_minutes([p.at - p.created_at for p in claims])
    f.median_resolve_minutes = median_minutes([p.at - p.created_at for p in resolves])
    f.claimed_in_time = Share(sum(p.in_time(policy.claimed_in_time) for p in claims), len(claims))
    f.resolved_in_time = Share(
        sum(p.in_time(policy.resolved_in_time) for p in resolves), len(resolves)
    )


@dataclass(frozen=True, slots=True)
class _Progress:
    """A ticket's first claim (or resolve) of the day, and the deadline it had."""

    at: datetime
    created_at: datetime
    category: str
    due: datetime | None

    def in_time(self, legacy: Callable[[str, datetime, datetime], bool]) -> bool:
        """By the ticket's own deadline (the escalation policy's, as the worker was told
        and the dashboard counts); `legacy` for a ticket filed before deadlines were kept."""
        if self.due is None:
            return legacy(self.category, self.created_at, self.at)
        return self.at <= self.due


def _open_figures(session, f: DigestFigures, scope, now: datetime, policy) -> None:
    is_open = and_(scope, Ticket.status.in_(OPEN))
    overdue = _overdue(policy, now)
    open_now, overdue_now = session.execute(
        select(func.count(), func.coalesce(func.sum(case((overdue, 1), else_=0)), 0)).where(is_open)
    ).one()
    f.open_now, f.overdue_now = int(open_now), int(overdue_now)
    if not f.overdue_now:
        return
    late = and_(is_open, overdue)
    n = func.count(Ticket.id)
    f.top_grids = [
        GridOverdue(code=code, name=name, overdue=count)
        for code, name, count in session.execute(
            select(Area.code, Area.name, n)
            .join(Area, Area.id == Ticket.area_id)
            .where(late)
            .group_by(Area.code, Area.name)
            .order_by(n.desc(), Area.code)
            .limit(TOP)
        )
    ]
    f.overdue = [
        OverdueTicket(
            number=number,
            category=category,
            place=place or "",
            age_minutes=int((now - created_at).total_seconds() // 60),
            holder=(holder or "值班台") + ("" if claimed_at else "（未认领）"),
        )
        for number, category, place, created_at, claimed_at, holder in session.execute(
            select(
                Ticket.id,
                Ticket.category,
                Ticket.place,
                Ticket.created_at,
                Ticket.claimed_at,
                Staff.name,
            )
            .select_from(Ticket)
            .outerjoin(Staff, Staff.id == Ticket.assignee_id)
            .where(late)
            .order_by(Ticket.created_at, Ticket.id)
            .limit(OVERDUE_KEPT)
        )
    ]


def _trend(session, scope, day: date, tz: tzinfo) -> list[DayTrend]:
    days = [day - timedelta(days=i) for i in range(TREND_DAYS - 1, -1, -1)]
    bounds = [day_bounds(d, tz) for d in days]
    first, last = bounds[0][0], bounds[-1][1]

    def buckets(column):
        return [
            func.coalesce(func.sum(case((and_(column >= _at(s), column < _at(e)), 1), else_=0)), 0)
            for s, e in bounds
        ]

    new = session.execute(
        select(*buckets(Ticket.created_at)).where(
            scope, Ticket.created_at >= _at(first), Ticket.created_at < _at(last)
        )
    ).one()
    # Tickets resolved each day, as the day's figure counts them: a ticket resolved,
    # reopened and resolved again the same day is one.
    resolved = session.execute(
        _events_between(scope, first, last)
        .add_columns(
            *[
                func.count(
                    func.distinct(
                        case(
                            (
                                and_(TicketEvent.at >= _at(s), TicketEvent.at < _at(e)),
                                TicketEvent.ticket_id,
                            )
                        )
                    )
                )
                for s, e in bounds
            ]
        )
        .where(_event_kind() == "resolved")
    ).one()
    return [
        DayTrend(day=d.isoformat(), new=int(n), resolved=int(r))
        for d, n, r in zip(days, new, resolved, strict=True)
    ]


# -- stored digests and delivery -------------------------------------------------------------
