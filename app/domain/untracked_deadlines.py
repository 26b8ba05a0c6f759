"""Deadlines for tickets that have none stored: those filed before deadlines were kept
(migration 0003). Every later ticket carries its own claim and resolve deadlines, set
by the escalation policy (app/domain/policy.py, kept by app/services/handling/deadlines.py),
and every figure judges it by those; this table is only their fallback.

The fallback depends only on the category (urgent problems — flooding, a fallen tree,
a missing manhole cover, a safety hazard — within 15 minutes and 4 hours; everything
else within 2 and 24 hours). Both clocks start when the ticket is filed.

A ticket is overdue while it is open and
- nobody holds it (never claimed, or transferred since) past its claim deadline, or
- it is past its resolve deadline, whoever holds it.

`DeadlinePolicy.cutoffs(now)` turns the same rule into per-category instants, so a
database query can apply it with plain comparisons (`created_at < cutoff`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.domain.categories import URGENT, Category
from app.domain.tickets import OPEN_STATUSES, Status


@dataclass(frozen=True, slots=True)
class Deadline:
    claim: timedelta
    resolve: timedelta


URGENT_DEADLINE = Deadline(claim=timedelta(minutes=15), resolve=timedelta(hours=4))
NORMAL_DEADLINE = Deadline(claim=timedelta(hours=2), resolve=timedelta(hours=24))


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Instants before which a ticket filed is late (for a given `now`)."""

    claim: datetime
    resolve: datetime


def _default_table() -> dict[Category, Deadline]:
    return {c: URGENT_DEADLINE if c in URGENT else NORMAL_DEADLINE for c in Category}


@dataclass(frozen=True)
class DeadlinePolicy:
    deadlines: Mapping[Category, Deadline] = field(default_factory=_default_table)
    fallback: Deadline = NORMAL_DEADLINE

    def deadline(self, category: str) -> Deadline:
        try:
            return self.deadlines.get(Category(category), self.fallback)
        except ValueError:  # a category this build does not know
            return self.fallback

    def claimed_in_time(self, category: str, created_at: datetime, claimed_at: datetime) -> bool:
        return claimed_at - created_at <= self.deadline(category).claim

    def resolved_in_time(self, category: str, created_at: datetime, resolved_at: datetime) -> bool:
        return resolved_at - created_at <= self.deadline(category).resolve

    def is_overdue(
        self,
        *,
        status: str,
        category: str,
        created_at: datetime,
        claimed_at: datetime | None,
        now: datetime,
    ) -> bool:
        if Status(status) not in OPEN_STATUSES:
            return False
        c = self.cutoffs_for(category, now)
        unheld = claimed_at is None
        return (unheld and created_at < c.claim) or created_at < c.resolve

    def cutoffs_for(self, category: str, now: datetime) -> Cutoffs:
        d = self.deadline(category)
        return Cutoffs(claim=now - d.claim, resolve=now - d.resolve)

    def cutoffs(self, now: datetime, categories: Iterable[str] = ()) -> dict[str, Cutoffs]:
        """Cutoffs for every known category (and any extra `categories`), by value."""
        names = {c.value for c in Category} | set(categories)
        return {name: self.cutoffs_for(name, now) for name in sorted(names)}


DEFAULT_POLICY = DeadlinePolicy()


def is_late(
    *,
    status: str,
    category: str,
    created_at: datetime,
    claimed_at: datetime | None,
    claim_due_at: datetime | None,
    resolve_due_at: datetime | None,
    now: datetime,
    fallback: DeadlinePolicy = DEFAULT_POLICY,
) -> bool:
    """Overdue as the digest counts it: against the ticket's own deadlines (extensions
    and severity included), or `fallback` for a ticket filed before deadlines were kept."""
    if Status(status) not in OPEN_STATUSES:
        return False
    if resolve_due_at is None:
        return fallback.is_overdue(
            status=status, category=category, created_at=created_at, claimed_at=claimed_at, now=now
        )
    unheld_late = claimed_at is None and claim_due_at is not None and claim_due_at < now
    return unheld_late or resolve_due_at < now
