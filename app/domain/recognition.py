"""Recognition for riders: points for reports that led to action, and the leaderboard.

Pure rules. A report earns when what it led to happens: a report resolved and closed
earns `resolved_closed` points at its closing; a confirmation merged into someone else's
open ticket earns `confirmation` points when it joined. Rejected reports, reports merged
into the rider's own ticket and anything else earn nothing. No rider earns more than
`daily_cap` points in one local day; items are counted in the order they were earned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from app.domain.tickets import Status


@dataclass(frozen=True)
class PointsRules:
    resolved_closed: int = 10
    confirmation: int = 2
    daily_cap: int = 20


@dataclass(frozen=True)
class Report:
    """One of a rider's reports as the rules see it."""

    rider_id: int
    ticket_id: int
    status: str
    """The ticket's status: 'closed', 'merged', 'rejected', ..."""
    resolved: bool
    """It was resolved before it closed (not closed as rejected or otherwise)."""
    earned_at: datetime | None
    """Local time of what earns: the closing, or the joining for a confirmation."""
    area_path: str
    """Where the report was routed (its area's path), for per-street boards."""
    merged_into_reporter_id: int | None = None
    merged_into_status: str | None = None


@dataclass(frozen=True)
class Earned:
    rider_id: int
    ticket_id: int
    points: int
    day: date
    area_path: str


def points_for(report: Report, rules: PointsRules) -> int:
    """What one report is worth before the daily cap."""
    if report.earned_at is None:
        return 0
    if report.status == Status.CLOSED and report.resolved:
        return rules.resolved_closed
    if report.status == Status.MERGED:
        if report.merged_into_reporter_id in (None, report.rider_id):
            return 0  # a duplicate of the rider's own report
        if report.merged_into_status == "rejected":
            return 0
        return rules.confirmation
    return 0


def earned(reports: Iterable[Report], rules: PointsRules) -> list[Earned]:
    """Every report that earns, with its points after each rider's daily cap."""
    ordered = sorted(
        (r for r in reports if points_for(r, rules) > 0),
        key=lambda r: (r.earned_at, r.ticket_id),
    )
    used: dict[tuple[int, date], int] = defaultdict(int)
    out: list[Earned] = []
    for r in ordered:
        assert r.earned_at is not None
        day = r.earned_at.date()
        room = max(0, rules.daily_cap - used[(r.rider_id, day)])
        points = min(points_for(r, rules), room)
        if points:
            used[(r.rider_id, day)] += points
            out.append(Earned(r.rider_id, r.ticket_id, points, day, r.area_path))
    return out


@dataclass(frozen=True)
class Standing:
    rider_id: int
    points: int
    rank: int


def board(items: Iterable[Earned], area_path: str | None = None) -> list[Standing]:
    """Riders by points earned under `area_path` (all when None), highest first.

    Equal points share a rank (1, 2, 2, 4); ties are listed by rider id."""
    totals: dict[int, int] = defaultdict(int)
    for item in items:
        if area_path is None or item.area_path.startswith(area_path):
            totals[item.rider_id] += item.points
    ordered = sorted(totals.items(), key=lambda pair: (-pair[1], pair[0]))
    standings: list[Standing] = []
    for i, (rider_id, points) in enumerate(ordered):
        rank = standings[-1].rank if standings and standings[-1].points == points else i + 1
        standings.append(Standing(rider_id, points, rank))
    return standings


def home_area(items: Iterable[Earned], rider_id: int, areas: Iterable[str]) -> str | None:
    """Of the area paths `areas` (e.g. the streets), the one where the rider earned most
    this period; the more recent wins a tie. None when they earned nowhere in them."""
    candidates = list(areas)
    totals: dict[str, int] = defaultdict(int)
    last: dict[str, tuple[date, int]] = {}
    for item in items:
        if item.rider_id != rider_id:
            continue
        for path in candidates:
            if item.area_path.startswith(path):
                totals[path] += item.points
                last[path] = max(last.get(path, (item.day, 0)), (item.day, item.ticket_id))
    if not totals:
        return None
    return max(totals, key=lambda p: (totals[p], last[p]))
