"""Working time: weekday hours, public holidays and make-up working days (调休).

Pure arithmetic over aware datetimes; results are in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

MAX_DAYS = 3660
"""No deadline is further than ten years of calendar away; stops a calendar with no work."""


@dataclass(frozen=True)
class WorkCalendar:
    timezone: str = "Asia/Shanghai"
    hours: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13), time(18)))
    """Working intervals of a working day, in local time, sorted, not overlapping."""
    workdays: frozenset[int] = frozenset(range(5))
    """Weekday numbers (Monday 0) that are working days unless they are holidays."""
    holidays: frozenset[date] = field(default_factory=frozenset)
    makeup_workdays: frozenset[date] = field(default_factory=frozenset)
    """Weekend days worked to make up for a holiday (调休): working days whatever the weekday."""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def minutes_per_day(self) -> int:
        return sum(_minutes(start, end) for start, end in self.hours)

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() in self.workdays

    def add(self, start: datetime, minutes: float) -> datetime:
        """The moment `minutes` of working time after `start` (`start` itself for 0).

        Time outside working hours does not count: 60 working minutes after Friday 17:30
        with hours 09:00-18:00 is Monday 09:30 (when Monday is a working day).
        """
        if minutes <= 0:
            return start
        if not self.hours:
            raise ValueError("a working calendar needs working hours")
        tz = self.tz
        local = start.astimezone(tz)
        left = timedelta(minutes=minutes)
        day = local.date()
        for _ in range(MAX_DAYS):
            if self.is_working_day(day):
                for begin, end in self.hours:
                    open_at = datetime.combine(day, begin, tzinfo=tz)
                    close_at = datetime.combine(day, end, tzinfo=tz)
                    if local >= close_at:
                        continue
                    frm = max(local, open_at)
                    available = close_at - frm
                    if left <= available:
                        return (frm + left).astimezone(UTC)
                    left -= available
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), tzinfo=tz)
        raise ValueError("no working time within ten years: check the calendar")


def _minutes(start: time, end: time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


def parse_hours(spans: list[str]) -> tuple[tuple[time, time], ...]:
    """["09:00-12:00", "13:00-18:00"] -> intervals; raises ValueError naming the bad span."""
    out: list[tuple[time, time]] = []
    for span in spans:
        try:
            a, b = (time.fromisoformat(part.strip()) for part in span.split("-"))
        except ValueError:
            raise ValueError(f"bad working hours {span!r}, expected like 09:00-12:00") from None
        if b <= a or (out and a < out[-1][1]):
            raise ValueError(f"working hours {span!r} are empty, unsorted or overlapping")
        out.append((a, b))
    return tuple(out)


def parse_weekdays(names: list[str]) -> frozenset[int]:
    try:
        return frozenset(WEEKDAYS.index(n.strip().lower()[:3]) for n in names)
    except ValueError:
        raise ValueError(f"bad weekday in {names!r}, use {', '.join(WEEKDAYS)}") from None
