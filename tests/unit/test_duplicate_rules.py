"""The pure duplicate rules: compatibility, matching, severity policy."""

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.duplicates import DuplicatePolicy, Report, best_match, compatible, severity_for

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
HERE = (31.19225, 121.432625)


def _r(id, category="flooding", dlat=0.0, minutes=0, hashes=()):
    return Report(id, category, HERE[0] + dlat, HERE[1], T0 + timedelta(minutes=minutes), hashes)


@pytest.mark.parametrize(
    ("a", "b", "ok"),
    [
        ("flooding", "flooding", True),
        ("flooding", "other", True),
        ("bulky_waste", "blocked_passage", True),
        ("flooding", "street_light", False),
        ("traffic_signal", "street_light", True),
    ],
)
def test_compatible_categories(a, b, ok):
    assert compatible(a, b) is ok and compatible(b, a) is ok


def test_the_nearest_compatible_recent_ticket_wins_over_a_photo_match():
    policy = DuplicatePolicy()
    new = _r(9, minutes=30, hashes=("ffff000000000000",))
    near = _r(1, dlat=0.0008)  # about 90 m
    nearer = _r(2, dlat=0.0003)
    same_photo = _r(3, dlat=0.05, hashes=("ffff000000000001",))
    assert best_match(new, [near, nearer, same_photo], policy).ticket_id == 2
    assert best_match(new, [same_photo], policy).reason == "photo"
    assert best_match(new, [_r(4, dlat=0.0012)], policy) is None  # 130 m
    assert best_match(new, [_r(5, minutes=-400)], policy) is None  # 7 h earlier
    assert best_match(new, [_r(6, "street_light")], policy) is None
    assert best_match(new, [_r(7, dlat=0.05, hashes=("00ff000000000000",))], policy) is None


def test_confirmations_raise_severity_sooner_for_dangerous_problems():
    assert [severity_for("bulky_waste", n) for n in (0, 1, 2, 5)] == [
        "normal",
        "normal",
        "high",
        "urgent",
    ]
    assert [severity_for("manhole_cover", n) for n in (0, 1, 3)] == ["normal", "high", "urgent"]
