"""Escalation policy: deadlines per category and severity, the reminder and escalation
ladder, closure rules. Pure data read from a dict (the TOML files) and pure functions.

A deadline "phase" is what the ticket is waiting for: someone to claim it, someone to
resolve it, or the rider to confirm it. Each phase has a deadline; after it the ladder's
steps fall due one by one: `reminders` reminders to the holder, `reminder_every` apart,
then one escalation per level, `grace` apart (the first `grace` after the last reminder).
Step offsets are in the category's time kind: clock minutes or working minutes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from app.domain.calendar import WorkCalendar, parse_hours, parse_weekdays
from app.domain.recognition import PointsRules
from app.domain.tickets import Status


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the key."""


class TimeKind(StrEnum):
    CLOCK = "clock"
    WORKING = "working"


class Phase(StrEnum):
    CLAIM = "claim"
    RESOLVE = "resolve"
    CONFIRM = "confirm"


PHASES: dict[Status, Phase] = {
    Status.ASSIGNED: Phase.CLAIM,
    Status.SUMMONED: Phase.CLAIM,
    Status.CLAIMED: Phase.RESOLVE,
    Status.REOPENED: Phase.RESOLVE,
    Status.RETURNED: Phase.RESOLVE,
    Status.RESOLVED: Phase.CONFIRM,
}
"""What a ticket in each status waits for; closed and rejected tickets wait for nothing."""


def phase_of(status: Status | str) -> Phase | None:
    return PHASES.get(Status(status))


LEVELS = ("backup", "community_lead", "street_lead", "supervisor")
"""Ladder levels: the grid's backup worker, then the leads up the area tree."""


@dataclass(frozen=True)
class Ladder:
    reminders: int = 1
    reminder_every: int = 5
    grace: int = 10
    levels: tuple[str, ...] = LEVELS

    @property
    def steps(self) -> int:
        return self.reminders + len(self.levels)

    def is_reminder(self, step: int) -> bool:
        return step < self.reminders

    def offset(self, step: int) -> int | None:
        """Minutes after the deadline when step `step` (0-based) falls due; None past the end."""
        if step < 0 or step >= self.steps:
            return None
        if step < self.reminders:
            return step * self.reminder_every
        last_reminder = max(self.reminders - 1, 0) * self.reminder_every
        first = self.grace if self.reminders else 0
        return last_reminder + first + (step - self.reminders) * self.grace


@dataclass(frozen=True)
class Deadlines:
    claim: int
    resolve: int


@dataclass(frozen=True)
class CategoryPolicy:
    time: TimeKind
    normal: Deadlines
    severe: Deadlines
    ladder: Ladder

    def deadlines(self, severe: bool) -> Deadlines:
        return self.severe if severe else self.normal


@dataclass(frozen=True)
class Policy:
    calendar: WorkCalendar
    categories: dict[str, CategoryPolicy]
    default: CategoryPolicy
    severe_keywords: tuple[str, ...]
    auto_close_minutes: int
    reopen_factor: float
    points: PointsRules = field(default_factory=PointsRules)
    """Recognition: what a rider's report earns (app/domain/recognition.py)."""

    def for_category(self, category: str) -> CategoryPolicy:
        return self.categories.get(category, self.default)

    def is_severe(self, text: str) -> bool:
        lowered = text.lower()
        return any(k in lowered for k in self.severe_keywords)

    def add(self, kind: TimeKind, start: datetime, minutes: float) -> datetime:
        """`minutes` of clock or working time after `start`."""
        if kind is TimeKind.WORKING:
            return self.calendar.add(start, minutes)
        return start + timedelta(minutes=minutes)

    def adder(self, category: str) -> Callable[[datetime, float], datetime]:
        kind = self.for_category(category).time
        return lambda start, minutes: self.add(kind, start, minutes)

    def day_minutes(self, kind: TimeKind) -> int:
        """How many minutes '1 天' is: a calendar day, or one working day."""
        return self.calendar.minutes_per_day if kind is TimeKind.WORKING else 24 * 60


def step_due(ladder: Ladder, deadline: datetime, step: int, add) -> datetime | None:
    offset = ladder.offset(step)
    return None if offset is None else add(deadline, offset)


def due_steps(ladder: Ladder, deadline: datetime, done: int, now: datetime, add) -> list[int]:
    """The steps from `done` on whose time has come by `now`, in order."""
    out = []
    step = done
    while (due := step_due(ladder, deadline, step, add)) is not None and due <= now:
        out.append(step)
        step += 1
    return out


def catch_up(ladder: Ladder, steps: list[int]) -> list[int]:
    """Of several steps due at once (after a stop), the ones worth acting on:
    every escalation, and only the last of the holder's reminders."""
    reminders = [s for s in steps if ladder.is_reminder(s)]
    return reminders[-1:] + [s for s in steps if not ladder.is_reminder(s)]


# --- durations in chat ("延期 12 2小时 等配件") -----------------------------------------

_DURATION = re.compile(
    r"^(\d+(?:\.\d+)?)\s*(分钟|分|min|m|小时|个小时|时|h|天|日|d|个工作日|工作日)$", re.I
)
_UNIT_MINUTES = {"分钟": 1, "分": 1, "min": 1, "m": 1, "小时": 60, "个小时": 60, "时": 60, "h": 60}


def parse_duration(text: str, *, day_minutes: int) -> int | None:
    """'30分钟' -> 30, '2小时' -> 120, '1天' -> day_minutes; None when it is not a duration."""
    m = _DURATION.match(text.strip())
    if not m:
        return None
    amount, unit = float(m.group(1)), m.group(2).lower()
    minutes = amount * _UNIT_MINUTES.get(unit, day_minutes)
    return round(minutes) if minutes >= 1 else None


# --- reading the policy files -------------------------------------------------------------


def merge(base: dict, override: dict) -> dict:
    """`override` on top of `base`, table by table; lists and values are replaced whole."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def policy_from_dict(data: dict) -> Policy:
    """Build a Policy from the merged TOML data; raises PolicyError naming the bad key."""
    try:
        return _build(data)
    except PolicyError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyError(f"bad policy: {exc}") from None


def _minutes_key(table: dict, key: str, where: str) -> int:
    value = table.get(key)
    if not isinstance(value, int | float) or value < 0:
        raise PolicyError(f"{where}.{key} must be a number of minutes >= 0, got {value!r}")
    return round(value)


def _build(data: dict) -> Policy:
    cal = data.get("calendar", {})
    calendar = WorkCalendar(
        timezone=cal.get("timezone", "Asia/Shanghai"),
        hours=parse_hours(cal.get("hours", ["09:00-12:00", "13:00-18:00"])),
        workdays=parse_weekdays(cal.get("workdays", ["mon", "tue", "wed", "thu", "fri"])),
        holidays=frozenset(_date(d, "calendar.holidays") for d in cal.get("holidays", [])),
        makeup_workdays=frozenset(
            _date(d, "calendar.makeup_workdays") for d in cal.get("makeup_workdays", [])
        ),
    )
    ladders = {}
    for name, table in data.get("ladders", {}).items():
        where = f"ladders.{name}"
        levels = tuple(table.get("levels", LEVELS))
        unknown = [level for level in levels if level not in LEVELS]
        if unknown:
            raise PolicyError(f"{where}.levels: unknown {unknown}, use {', '.join(LEVELS)}")
        ladders[name] = Ladder(
            reminders=_minutes_key(table, "reminders", where),
            reminder_every=_minutes_key(table, "reminder_every_minutes", where),
            grace=_minutes_key(table, "grace_minutes", where),
            levels=levels,
        )
    tables = data.get("categories", {})
    if "default" not in tables:
        raise PolicyError("categories.default is required")
    base = tables["default"]
    categories = {}
    for name, table in tables.items():
        where = f"categories.{name}"
        table = merge(base, table) if name != "default" else table
        try:
            kind = TimeKind(table.get("time", "working"))
        except ValueError:
            raise PolicyError(f"{where}.time must be 'clock' or 'working'") from None
        normal = Deadlines(
            _minutes_key(table, "claim_minutes", where),
            _minutes_key(table, "resolve_minutes", where),
        )
        severe = Deadlines(
            _minutes_key(table, "severe_claim_minutes", where)
            if "severe_claim_minutes" in table
            else normal.claim,
            _minutes_key(table, "severe_resolve_minutes", where)
            if "severe_resolve_minutes" in table
            else normal.resolve,
        )
        ladder_name = table.get("ladder", "standard")
        if ladder_name not in ladders:
            raise PolicyError(f"{where}.ladder: no ladder named {ladder_name!r}")
        categories[name] = CategoryPolicy(kind, normal, severe, ladders[ladder_name])
    closure = data.get("closure", {})
    factor = closure.get("reopen_factor", 0.5)
    if not isinstance(factor, int | float) or not 0 < factor <= 1:
        raise PolicyError(f"closure.reopen_factor must be in (0, 1], got {factor!r}")
    hours = closure.get("auto_close_hours", 24)
    if not isinstance(hours, int | float) or hours <= 0:
        raise PolicyError(f"closure.auto_close_hours must be > 0, got {hours!r}")
    return Policy(
        calendar=calendar,
        categories={k: v for k, v in categories.items() if k != "default"},
        default=categories["default"],
        severe_keywords=tuple(k.lower() for k in data.get("severity", {}).get("keywords", [])),
        auto_close_minutes=round(hours * 60),
        reopen_factor=float(factor),
        points=_points(data.get("recognition", {})),
    )


def _points(table: dict) -> PointsRules:
    values = {}
    for key in ("resolved_closed", "confirmation", "daily_cap"):
        value = table.get(key, getattr(PointsRules(), key))
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise PolicyError(f"recognition.{key} must be a whole number >= 0, got {value!r}")
        values[key] = value
    return PointsRules(**values)


def _date(value, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise PolicyError(f"{where}: bad date {value!r}, expected YYYY-MM-DD") from None
