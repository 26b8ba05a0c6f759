from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from app.domain.ticket_notices import clock_time
from app.services.intake.intake_notices import deadlines_line

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai


@pytest.mark.parametrize(
    ("later", "shown"),
    [
        (timedelta(minutes=25), "10:25"),
        (timedelta(hours=15), "明天 01:00"),
        (timedelta(days=3, hours=1), "11月23日 11:00"),
    ],
)
def test_local_time_reads_as_people_say_it(later, shown):
    assert clock_time(NOW + later, NOW, TZ) == shown


def _ticket(claim: timedelta | None, resolve: timedelta | None, claimed: bool = False):
    return SimpleNamespace(
        claimed_at=NOW if claimed else None,
        claim_due_at=NOW + claim if claim is not None else None,
        resolve_due_at=NOW + resolve if resolve is not None else None,
    )


def test_deadlines_line_says_by_when_to_claim_and_resolve():
    line = deadlines_line(_ticket(timedelta(minutes=10), timedelta(hours=1)), NOW, TZ)
    assert line == "请于 10:10 前认领（10 分钟内），11:00 前办结。"


def test_a_deadline_already_here_says_now_not_zero_minutes():
    line = deadlines_line(_ticket(timedelta(0), timedelta(hours=5)), NOW, TZ)
    # In the words of every other notice at the deadline (it said 请立即认领 alone before).
    assert line == "应于 10:00 前认领，期限已到，请立即认领，15:00 前办结。"
    assert "0 分钟" not in line


def test_a_claimed_ticket_is_only_told_when_to_resolve():
    line = deadlines_line(_ticket(timedelta(0), timedelta(minutes=50), claimed=True), NOW, TZ)
    assert line == "请于 10:50 前办结（50 分钟内）。"
