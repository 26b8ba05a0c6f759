"""The console dashboard's indicators (the national digital city-management assessment),
computed from tickets and the event log for an area and any period.

The figures the daily digest also states (filed, claimed, resolved, reopened, medians,
按时认领, open and overdue now) come from the digest's own queries
(app/services/digest/digests.py), so a one-day period shows exactly the digest's figures for
that day. The caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from app.domain.digest import DigestFigures, Share, day_bounds
from app.domain.tickets import Action, Status
from app.domain.untracked_deadlines import DEFAULT_POLICY, DeadlinePolicy
from app.services.digest.digests import OPEN, _at, _event_figures, _open_figures, _overdue, _scope
from models import Area, Ticket, TicketEvent

TREND_DAYS = 30
WORST_GRIDS = 10
# Tickets that never count as due to close: merged into another, refused as not valid,
# or withdrawn by their rider.
_NOT_CASES = [Status.MERGED.value, Status.REJECTED.value, Status.WITHDRAWN.value]
_FINISHED = [Status.RESOLVED.value, Status.CLOSED.value]


@dataclass
class Indicators:
    """One area's indicators over [start, end); open and overdue as of `now`."""

    area: Area
    figures: DigestFigures
    due: int = 0
    finished: int = 0
    finished_in_time: int = 0
    extended: int = 0

    @property
    def close_rate(self) -> Share:
        """结案率: of the tickets whose resolve deadline fell in the period, those done."""
        return Share(self.finished, self.due)

    @property
    def on_time_close_rate(self) -> Share:
        return Share(self.finished_in_time, self.due)

    @property
    def rework_rate(self) -> Share:
        return Share(self.figures.reopened, self.figures.resolved)

    @property
    def extension_rate(self) -> Share:
        return Share(self.extended, self.figures.new)


@dataclass
class TrendDay:
    day: date
    new: int
    resolved: int


@dataclass
class WorstGrid:
    code: str
    name: str
    open: int
    overdue: int


@dataclass
class Dashboard:
    start: date
    end: date
    """Inclusive local days."""
    overall: Indicators
    parts: list[Indicators] = field(default_factory=list)
    trend: list[TrendDay] = field(default_factory=list)
    worst: list[WorstGrid] = field(default_factory=list)


def period_bounds(first: date, last: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """UTC [start, end) of the local days first..last inclusive."""
    return day_bounds(first, tz)[0], day_bounds(last, tz)[1]


def indicators(
    session: Session,
    area: Area,
    first: date,
    last: date,
    *,
    now: datetime,
    tz: tzinfo,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> Indicators:
    start, end = period_bounds(first, last, tz)
    scope = _scope(area)
    f = DigestFigures(
        area_code=area.code, area_name=area.name, day=first.isoformat(), generated_at=""
    )
    f.new = int(
        session.scalar(
            select(func.count()).where(
                scope, Ticket.created_at >= _at(start), Ticket.created_at < _at(end)
            )
        )
        or 0
    )
    _event_figures(session, f, scope, start, end, policy)
    _open_figures(session, f, scope, now, policy)
    out = Indicators(area, f)
    # Due to close: the resolve deadline (extensions included) fell in the period and
    # has passed by now.
    due_end = min(end, now)
    finished = Ticket.status.in_(_FINISHED)
    in_time = and_(finished, Ticket.resolved_at <= Ticket.resolve_due_at)
    due, done, done_in_time = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((finished, 1), else_=0)), 0),
            func.coalesce(func.sum(case((in_time, 1), else_=0)), 0),
        ).where(
            scope,
            Ticket.status.not_in(_NOT_CASES),
            Ticket.resolve_due_at >= _at(start),
            Ticket.resolve_due_at < _at(due_end),
        )
    ).one()
    out.due, out.finished, out.finished_in_time = int(due), int(done), int(done_in_time)
    out.extended = int(
        session.scalar(
            select(func.count(func.distinct(TicketEvent.ticket_id)))
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(
                scope,
                TicketEvent.action == Action.APPROVE_EXTENSION.value,
                TicketEvent.at >= _at(start),
                TicketEvent.at < _at(end),
            )
        )
        or 0
    )
    return out


def trend(session: Session, area: Area, last: date, *, tz: tzinfo) -> list[TrendDay]:
    """Filed and resolved per local day, the TREND_DAYS days ending with `last`."""
    days = [last - timedelta(days=i) for i in range(TREND_DAYS - 1, -1, -1)]
    bounds = [day_bounds(d, tz) for d in days]
    first, end = bounds[0][0], bounds[-1][1]
    scope = _scope(area)

    def per_day(column):
        return [
            func.coalesce(func.sum(case((and_(column >= _at(s), column < _at(e)), 1), else_=0)), 0)
            for s, e in bounds
        ]

    new = session.execute(
        select(*per_day(Ticket.created_at)).where(
            scope, Ticket.created_at >= _at(first), Ticket.created_at < _at(end)
        )
    ).one()
    # A resolve as the digest counts it: a ticket reaching 已办结 from another status.
    resolved = session.execute(
        select(*per_day(TicketEvent.at))
        .select_from(TicketEvent)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(
            scope,
            TicketEvent.at >= _at(first),
            TicketEvent.at < _at(end),
            TicketEvent.to_status == Status.RESOLVED.value,
            TicketEvent.from_status != Status.RESOLVED.value,
        )
    ).one()
    return [TrendDay(d, int(n), int(r)) for d, n, r in zip(days, new, resolved, strict=True)]


def worst_grids(
    session: Session, area: Area, *, now: datetime, policy: DeadlinePolicy = DEFAULT_POLICY
) -> list[WorstGrid]:
    """The grids with the most overdue open tickets now (then the most open)."""
    overdue = func.coalesce(func.sum(case((_overdue(policy, now), 1), else_=0)), 0)
    n = func.count(Ticket.id)
    rows = session.execute(
        select(Area.code, Area.name, n, overdue)
        .join(Area, Area.id == Ticket.grid_id)
        .where(_scope(area), Ticket.status.in_(OPEN))
        .group_by(Area.code, Area.name)
        .order_by(overdue.desc(), n.desc(), Area.code)
        .limit(WORST_GRIDS)
    )
    return [WorstGrid(code, name, int(o), int(late)) for code, name, o, late in rows]


def dashboard(
    session: Session,
    area: Area,
    first: date,
    last: date,
    *,
    now: datetime,
    tz: tzinfo,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> Dashboard:
    """`area`'s indicators, each area directly under it, the trend and the worst grids."""
    children = session.scalars(
        select(Area).where(Area.parent_id == area.id).order_by(Area.code)
    ).all()
    return Dashboard(
        start=first,
        end=last,
        overall=indicators(session, area, first, last, now=now, tz=tz, policy=policy),
        parts=[
            indicators(session, child, first, last, now=now, tz=tz, policy=policy)
            for child in children
        ],
        trend=trend(session, area, last, tz=tz),
        worst=worst_grids(session, area, now=now, policy=policy),
    )
