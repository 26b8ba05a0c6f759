"""Working-time arithmetic: weekday hours, lunch breaks, weekends, holidays and 调休."""

from datetime import UTC, date, datetime, time

import pytest

from app.domain.calendar import WorkCalendar, parse_hours, parse_weekdays
from app.services.policies import load

CAL = WorkCalendar(
    holidays=frozenset({date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 5)}),
    makeup_workdays=frozenset({date(2026, 10, 10)}),
)


def sh(*args) -> datetime:
    """Shanghai wall-clock time as an aware UTC datetime."""
    return datetime(*args, tzinfo=CAL.tz).astimezone(UTC)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        (sh(2026, 11, 20, 10, 0), 60, sh(2026, 11, 20, 11, 0)),  # inside the morning
        (sh(2026, 11, 20, 11, 30), 60, sh(2026, 11, 20, 13, 30)),  # across lunch
        (sh(2026, 11, 20, 17, 0), 480, sh(2026, 11, 23, 17, 0)),  # Friday -> Monday
        (sh(2026, 11, 20, 18, 0), 1, sh(2026, 11, 23, 9, 1)),  # after hours
        (sh(2026, 11, 21, 3, 0), 60, sh(2026, 11, 23, 10, 0)),  # from a Saturday night
        (sh(2026, 11, 20, 7, 0), 0, sh(2026, 11, 20, 7, 0)),  # nothing to add
        (sh(2026, 9, 30, 17, 0), 120, sh(2026, 10, 6, 10, 0)),  # holidays and weekend skipped
        (sh(2026, 10, 9, 17, 0), 120, sh(2026, 10, 10, 10, 0)),  # Saturday make-up day worked
        (sh(2026, 11, 20, 9, 0), 480 * 5, sh(2026, 11, 26, 18, 0)),  # five working days
    ],
)
def test_add_working_minutes(start, minutes, due):
    assert CAL.add(start, minutes) == due


def test_a_day_is_the_sum_of_its_working_spans():
    assert CAL.minutes_per_day == 480
    assert WorkCalendar(hours=((time(8, 30), time(17, 30)),)).minutes_per_day == 540


def test_the_shipped_calendar_knows_national_day_2026():
    cal = load().calendar
    assert not cal.is_working_day(date(2026, 10, 7))
    assert cal.is_working_day(date(2026, 10, 10))  # Saturday, worked for the holiday
    assert cal.is_working_day(date(2026, 10, 8))
    assert not cal.is_working_day(date(2026, 11, 21))  # an ordinary Saturday


def test_bad_hours_and_weekdays_are_refused_with_the_culprit_named():
    with pytest.raises(ValueError, match="9-12"):
        parse_hours(["9-12"])
    with pytest.raises(ValueError, match="overlapping"):
        parse_hours(["09:00-12:00", "11:00-13:00"])
    with pytest.raises(ValueError, match="weekday"):
        parse_weekdays(["mon", "funday"])
    assert parse_weekdays(["Mon", "saturday"]) == frozenset({0, 5})


def test_a_calendar_without_working_days_fails_instead_of_looping():
    with pytest.raises(ValueError):
        WorkCalendar(workdays=frozenset()).add(sh(2026, 1, 5, 9, 0), 1)
