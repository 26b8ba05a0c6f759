"""Digests delivered: stored figures, the rendered messages and chart, requests in chat,
and the morning sweep that sends each (supervisor, day) digest exactly once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.domain.digest import DigestFigures, format_digest
from app.domain.recognition import PointsRules
from app.domain.untracked_deadlines import DEFAULT_POLICY, DeadlinePolicy
from app.services.digest.digests import SUPERVISOR_ROLES, compute
from app.services.directory.grids import area_by_code
from app.services.errors import NotAllowed, NotFound
from app.services.outbox import enqueue
from app.services.riders.recognition import month_board_text
from app.settings import Settings
from models import Area, Digest, Staff, utcnow

log = logging.getLogger(__name__)


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
    points: PointsRules | None = None,
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
            sessions,
            staff_id,
            day,
            now=now,
            tz=tz,
            chart=chart,
            policy=policy,
            cache=cache,
            points=points,
        ):
            result.sent += 1
        else:
            result.skipped += 1
    return result


def daily_sweep(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime | None = None,
    points: PointsRules | None = None,
) -> SweepResult:
    """The scheduled job: `send_due` with the configured time zone, time and chart;
    `points`, the job's policy's riders' points (default: the shipped ones), for the
    board on the 1st of a month."""
    from app.services import policies
    from app.services.digest.digest_chart import render_chart

    send_at = settings.digest_send_at
    if send_at is None:
        return SweepResult()  # GRIDBOT_DIGEST_TIME=off
    return send_due(
        sessions,
        now=now or utcnow(),
        tz=ZoneInfo(settings.timezone),
        send_at=send_at,
        chart=render_chart,
        points=points if points is not None else policies.SHIPPED().points,
    )


def _send_one(sessions, staff_id, day, *, now, tz, chart, policy, cache, points=None) -> bool:
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
                if points is not None and (day + timedelta(days=1)).day == 1:
                    # The digest sent on the 1st closes a month: the riders' board follows.
                    board = month_board_text(
                        session, staff.area, day.replace(day=1), tz=tz, rules=points
                    )
                    rendered.messages.append(board)
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
