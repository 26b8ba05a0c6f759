"""Riders' points for reports that led to action: a month's points, ranks and boards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from app.domain.recognition import (
    Earned,
    PointsRules,
    Report,
    Standing,
    board,
    earned,
    home_area,
)
from app.domain.tickets import Status
from app.services.errors import InvalidInput, NotFound
from app.services.riders.nicknames import labels
from models import Area, Rider, Ticket


def parse_month(text: str) -> date:
    """'2026-11' -> date(2026, 11, 1); InvalidInput otherwise."""
    try:
        year, month = (int(p) for p in text.strip().split("-"))
        return date(year, month, 1)
    except ValueError:
        raise InvalidInput(f"月份「{text}」应写成 2026-11 这样的格式") from None


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def _utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def month_earned(
    session: Session, first: date, *, tz: ZoneInfo, rules: PointsRules
) -> list[Earned]:
    """Every rider's capped points earned in the local month starting `first`."""
    start, end = _utc(first, tz), _utc(_next_month(first), tz)
    target = aliased(Ticket)
    query = (
        select(Ticket, target.reporter_id, target.status, Area.path)
        .outerjoin(target, Ticket.merged_into_id == target.id)
        .outerjoin(Area, Ticket.area_id == Area.id)
        .where(
            or_(
                and_(
                    Ticket.status == Status.CLOSED,
                    Ticket.closed_at >= start,
                    Ticket.closed_at < end,
                ),
                and_(
                    Ticket.status == Status.MERGED,
                    Ticket.merged_at >= start,
                    Ticket.merged_at < end,
                ),
            )
        )
    )
    reports = []
    for t, target_reporter, target_status, path in session.execute(query):
        at = t.merged_at if t.status == Status.MERGED else t.closed_at
        reports.append(
            Report(
                rider_id=t.reporter_id,
                ticket_id=t.id,
                status=t.status,
                resolved=t.resolved_at is not None,
                earned_at=at.astimezone(tz).replace(tzinfo=None) if at else None,
                area_path=path or "",
                merged_into_reporter_id=target_reporter,
                merged_into_status=target_status,
            )
        )
    return earned(reports, rules)


@dataclass(frozen=True)
class MyPoints:
    month: date
    points: int
    street: Area | None
    """Where the rider earned most this month; None without points."""
    standing: Standing | None
    riders_ranked: int


def my_points(
    session: Session, rider: Rider, *, now: datetime, tz: ZoneInfo, rules: PointsRules
) -> MyPoints:
    first = now.astimezone(tz).date().replace(day=1)
    items = month_earned(session, first, tz=tz, rules=rules)
    points = sum(i.points for i in items if i.rider_id == rider.id)
    streets = list(session.scalars(select(Area).where(Area.level == "street")))
    path = home_area(items, rider.id, [s.path for s in streets])
    if path is None:
        return MyPoints(first, points, None, None, 0)
    standings = board(items, path)
    mine = next(s for s in standings if s.rider_id == rider.id)
    street = next(s for s in streets if s.path == path)
    return MyPoints(first, points, street, mine, len(standings))


@dataclass(frozen=True)
class BoardLine:
    rank: int
    rider: str
    """The nickname with the rider number, or the number alone; never an openid."""
    points: int


def top(
    session: Session,
    *,
    area_code: str,
    month: str,
    tz: ZoneInfo,
    rules: PointsRules,
    limit: int = 10,
) -> tuple[Area, list[BoardLine]]:
    """The area's leaderboard for a month: the first `limit` riders by points earned there."""
    area = session.scalar(select(Area).where(Area.code == area_code))
    if area is None:
        raise NotFound(f"没有编码为 {area_code} 的区域")
    return area, _board(session, area, parse_month(month), tz=tz, rules=rules, limit=limit)


def _board(
    session: Session, area: Area, first: date, *, tz: ZoneInfo, rules: PointsRules, limit: int
) -> list[BoardLine]:
    items = month_earned(session, first, tz=tz, rules=rules)
    standings = board(items, area.path)[:limit]
    names = labels(session, (s.rider_id for s in standings))
    return [BoardLine(s.rank, names[s.rider_id], s.points) for s in standings]


def month_board_text(
    session: Session, area: Area, first: date, *, tz: ZoneInfo, rules: PointsRules, limit: int = 10
) -> str:
    """The month's leaderboard of `area` as a lead reads it with the digest on the 1st."""
    lines = _board(session, area, first, tz=tz, rules=rules, limit=limit)
    head = f"【{first.month}月骑手积分榜】{area.name}"
    if not lines:
        return f"{head}\n{first.month}月还没有骑手因上报得分。"
    how = (
        f"上报的问题处理完并关闭得 {rules.resolved_closed} 分，"
        f"确认别人已上报的问题得 {rules.confirmation} 分。"
    )
    return "\n".join([head, *(f"{b.rank}. {b.rider}  {b.points} 分" for b in lines), how])
