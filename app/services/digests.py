"""The daily digest: figures from tickets and the event log, stored digests, the morning sweep.

Figures are SQL aggregates over one local day (indexed by tickets.created_at and
ticket_events.at) plus the open tickets now (indexed by status); only the day's claim
and resolve events come back as rows, for medians and deadline shares.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.domain.deadlines import DEFAULT_POLICY, DeadlinePolicy
from app.domain.digest import (
    DayTrend,
    DigestFigures,
    GridOverdue,
    OverdueTicket,
    RiderActivity,
    Share,
    day_bounds,
    format_digest,
    median_minutes,
)
from app.domain.tickets import OPEN_STATUSES, Status
from app.services.errors import NotAllowed, NotFound
from app.services.grids import area_by_code
from app.services.outbox import enqueue
from app.settings import Settings
from models import Area, Digest, Rider, Staff, Ticket, TicketEvent, UTCDateTime, utcnow

log = logging.getLogger(__name__)

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
    """Tickets routed to `area` or anywhere under it."""
    return Ticket.area_id.in_(select(Area.id).where(Area.path.startswith(area.path)))


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
    f.riders = [
        RiderActivity(openid=openid, reports=n)
        for openid, n in session.execute(
            select(Rider.openid, reports)
            .join(Rider, Rider.id == Ticket.reporter_id)
            .where(created_today)
            .group_by(Rider.openid)
            .order_by(reports.desc(), Rider.openid)
            .limit(TOP)
        )
    ]

    _event_figures(session, f, scope, start, end, policy)
    _open_figures(session, f, scope, now, policy)
    f.trend = _trend(session, scope, day, tz)
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
            TicketEvent.ticket_id, progress, TicketEvent.at, Ticket.created_at, Ticket.category
        )
        .where(progress.in_(["claimed", "resolved"]))
        .order_by(TicketEvent.at, TicketEvent.id)
    )
    first: dict[tuple[int, str], tuple[datetime, datetime, str]] = {}
    for ticket_id, what, at, created_at, category in rows:
        first.setdefault((ticket_id, what), (at, created_at, category))
    claims = [v for (_, what), v in first.items() if what == "claimed"]
    resolves = [v for (_, what), v in first.items() if what == "resolved"]
    f.median_claim_minutes = median_minutes([at - created for at, created, _ in claims])
    f.median_resolve_minutes = median_minutes([at - created for at, created, _ in resolves])
    f.claimed_in_time = Share(
        sum(policy.claimed_in_time(c, created, at) for at, created, c in claims), len(claims)
    )
    f.resolved_in_time = Share(
        sum(policy.resolved_in_time(c, created, at) for at, created, c in resolves),
        len(resolves),
    )


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
    resolved_kind = and_(
        TicketEvent.to_status == Status.RESOLVED.value,
        TicketEvent.from_status != Status.RESOLVED.value,
    )
    resolved = session.execute(
        _events_between(scope, first, last)
        .add_columns(*buckets(TicketEvent.at))
        .where(resolved_kind)
    ).one()
    return [
        DayTrend(day=d.isoformat(), new=int(n), resolved=int(r))
        for d, n, r in zip(days, new, resolved, strict=True)
    ]


# -- stored digests and delivery -------------------------------------------------------------


def previous_figures(session: Session, area_id: int, day: date) -> DigestFigures | None:
    """The figures stored for the day before `day` in the same area, if any were sent."""
    data = session.scalar(
        select(Digest.figures)
        .where(Digest.area_id == area_id, Digest.day == day - timedelta(days=1))
        .order_by(Digest.id.desc())
        .limit(1)
    )
    return DigestFigures.from_json(data) if data else None


@dataclass
class Rendered:
    figures: DigestFigures
    messages: list[str]
    chart: bytes | None


Charter = Callable[[DigestFigures], bytes]


def render(
    session: Session,
    area: Area,
    day: date,
    *,
    now: datetime,
    tz: tzinfo,
    chart: Charter | None = None,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> Rendered:
    figures = compute(session, area, day, now=now, tz=tz, policy=policy)
    messages = format_digest(figures, previous_figures(session, area.id, day))
    return Rendered(figures, messages, chart(figures) if chart else None)


def for_area_code(session: Session, code: str) -> Area:
    area = area_by_code(session, code)
    if area is None:
        raise NotFound(f"区域 {code} 不存在")
    return area


def on_request(
    session: Session,
    staff: Staff,
    day: date,
    *,
    now: datetime,
    tz: tzinfo,
    chart: Charter | None = None,
) -> list[str]:
    """A digest asked for in chat: the messages, the first for the passive reply; the rest
    and the chart are owed to the asker through the outbox."""
    if staff.role not in SUPERVISOR_ROLES:
        raise NotAllowed("日报仅供社区、街道和区级负责人查看。")
    rendered = render(session, staff.area, day, now=now, tz=tz, chart=chart)
    _owe(session, staff, rendered, now=now, skip_first=True)
    return rendered.messages


def _owe(
    session: Session, staff: Staff, rendered: Rendered, *, now: datetime, skip_first: bool
) -> None:
    texts = rendered.messages[1:] if skip_first else rendered.messages
    for text in texts:
        enqueue(session, to_openid=staff.openid, kind="digest", text=text, now=now)
    if rendered.chart is not None:
        f = rendered.figures
        enqueue(
            session,
            to_openid=staff.openid,
            kind="digest_chart",
            text=f"[图表] {f.area_name} {f.day} 工单日报",
            now=now,
            image=rendered.chart,
        )


@dataclass
class SweepResult:
    day: date | None = None
    sent: int = 0
    skipped: int = 0


def due_day(now: datetime, tz: tzinfo, send_at: time) -> date | None:
    """The day whose digests are due at `now`: yesterday, once `send_at` has passed today."""
    local = now.astimezone(tz)
    if local.time() < send_at:
        return None
    return local.date() - timedelta(days=1)


def send_due(
    sessions: sessionmaker[Session],
    *,
    now: datetime,
    tz: tzinfo,
    send_at: time,
    chart: Charter | None = None,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> SweepResult:
    """The morning sweep: every supervisor-level staff member bound to WeChat who has not
    had the digest of the due day gets it. Each (staff, day) row is inserted in the same
    transaction as the outbox rows it owes; a second process racing for the same row
    fails on the unique key and skips it, so each digest is sent once."""
    day = due_day(now, tz, send_at)
    result = SweepResult(day=day)
    if day is None:
        return result
    with sessions() as session:
        done = select(Digest.staff_id).where(Digest.day == day)
        staff_ids = session.scalars(
            select(Staff.id)
            .where(
                Staff.role.in_(SUPERVISOR_ROLES),
                Staff.active,
                Staff.openid.is_not(None),
                Staff.id.not_in(done),
            )
            .order_by(Staff.id)
        ).all()
    cache: dict[int, Rendered] = {}
    for staff_id in staff_ids:
        if _send_one(
            sessions, staff_id, day, now=now, tz=tz, chart=chart, policy=policy, cache=cache
        ):
            result.sent += 1
        else:
            result.skipped += 1
    return result


def daily_sweep(
    sessions: sessionmaker[Session], settings: Settings, *, now: datetime | None = None
) -> SweepResult:
    """The scheduled job: `send_due` with the configured time zone, time and chart."""
    from app.services.digest_chart import render_chart

    return send_due(
        sessions,
        now=now or utcnow(),
        tz=ZoneInfo(settings.timezone),
        send_at=settings.digest_send_at,
        chart=render_chart,
    )


def _send_one(sessions, staff_id, day, *, now, tz, chart, policy, cache) -> bool:
    with sessions() as session:
        try:
            staff = session.get(Staff, staff_id)
            row = Digest(
                staff_id=staff.id, area_id=staff.area_id, day=day, figures={}, created_at=now
            )
            session.add(row)
            session.flush()  # claims (staff, day); a racing process waits here, then fails
            rendered = cache.get(staff.area_id)
            if rendered is None:
                rendered = render(
                    session, staff.area, day, now=now, tz=tz, chart=chart, policy=policy
                )
                cache[staff.area_id] = rendered
            row.figures = rendered.figures.to_json()
            row.sent_at = now
            _owe(session, staff, rendered, now=now, skip_first=False)
            session.commit()
            return True
        except IntegrityError:
            session.rollback()
            return False
        except Exception:
            session.rollback()
            log.exception(
                "digest of %s for staff %s failed; retried at the next run", day, staff_id
            )
            return False
