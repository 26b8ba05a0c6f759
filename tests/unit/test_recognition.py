"""Points for riders' reports: what earns, the daily cap, and the leaderboard."""

from datetime import datetime

import pytest

from app.domain.policy import PolicyError, policy_from_dict
from app.domain.recognition import (
    Earned,
    PointsRules,
    Report,
    board,
    earned,
    home_area,
    points_for,
)
from app.services.policies import DEFAULTS, _read

RULES = PointsRules(resolved_closed=10, confirmation=2, daily_cap=20)
STREET = "/310199/310199001/"


def report(ticket_id=1, rider_id=1, status="closed", resolved=True, hour=10, day=20, **kw):
    at = datetime(2026, 11, day, hour)
    return Report(rider_id, ticket_id, status, resolved, at, STREET + "g/", **kw)


@pytest.mark.parametrize(
    ("r", "points"),
    [
        (report(), 10),  # resolved and closed
        (report(resolved=False), 0),  # closed without being resolved
        (report(status="rejected", resolved=False), 0),
        (report(status="claimed"), 0),  # still open: nothing yet
        (report(status="merged", merged_into_reporter_id=2, merged_into_status="claimed"), 2),
        (report(status="merged", merged_into_reporter_id=1, merged_into_status="claimed"), 0),
        (report(status="merged", merged_into_reporter_id=2, merged_into_status="rejected"), 0),
    ],
)
def test_what_a_report_earns(r, points):
    assert points_for(r, RULES) == points


def test_the_daily_cap_counts_in_the_order_points_were_earned():
    reports = [report(ticket_id=i, hour=8 + i) for i in range(1, 4)] + [report(ticket_id=9, day=21)]
    got = [(e.ticket_id, e.points) for e in earned(reports, RULES)]
    assert got == [(1, 10), (2, 10), (9, 10)]  # the third on the 20th is over the cap


def test_the_cap_can_leave_part_of_a_report():
    rules = PointsRules(resolved_closed=10, confirmation=2, daily_cap=15)
    got = [e.points for e in earned([report(ticket_id=1), report(ticket_id=2, hour=11)], rules)]
    assert got == [10, 5]


def item(rider, points, path=STREET, day=20, ticket=1):
    return Earned(rider, ticket, points, datetime(2026, 11, day).date(), path)


def test_board_ranks_with_shared_places_within_the_area():
    items = [item(1, 10), item(2, 12), item(3, 10), item(4, 30, path="/310199/310199002/")]
    standings = board(items, STREET)
    assert [(s.rider_id, s.points, s.rank) for s in standings] == [
        (2, 12, 1),
        (1, 10, 2),
        (3, 10, 2),
    ]
    assert board(items)[0].rider_id == 4


def test_home_street_is_where_the_rider_earned_most():
    other = "/310199/310199002/"
    items = [item(1, 10), item(1, 2, path=other), item(1, 2, path=other, ticket=2)]
    assert home_area(items, 1, [STREET, other]) == STREET
    assert home_area(items, 2, [STREET, other]) is None


def test_points_rules_come_from_the_policy_file():
    data = _read(DEFAULTS)
    assert policy_from_dict(data).points == PointsRules(10, 2, 20)
    data["recognition"] = {"daily_cap": 30}
    assert policy_from_dict(data).points.daily_cap == 30
    data["recognition"] = {"confirmation": -1}
    with pytest.raises(PolicyError, match=r"recognition\.confirmation"):
        policy_from_dict(data)
