"""When two reports are one problem, and how confirmations raise a ticket's severity.

Pure rules: the caller loads candidate tickets and photo hashes, these functions judge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.categories import Category
from app.domain.coords import distance_m


class Severity(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def label(self) -> str:
        return SEVERITY_LABELS[self]


SEVERITY_LABELS = {Severity.NORMAL: "一般", Severity.HIGH: "较急", Severity.URGENT: "紧急"}
SEVERITY_ORDER = [Severity.NORMAL, Severity.HIGH, Severity.URGENT]

# Confirmations (other riders reporting the same problem) needed for each level.
# Dangerous problems rise sooner: several riders at an open manhole is an emergency.
DEFAULT_THRESHOLDS: dict[Severity, int] = {Severity.HIGH: 2, Severity.URGENT: 5}
CATEGORY_THRESHOLDS: dict[Category, dict[Severity, int]] = {
    Category.MANHOLE_COVER: {Severity.HIGH: 1, Severity.URGENT: 3},
    Category.FLOODING: {Severity.HIGH: 1, Severity.URGENT: 4},
    Category.FALLEN_TREE: {Severity.HIGH: 1, Severity.URGENT: 4},
    Category.TRAFFIC_SIGNAL: {Severity.HIGH: 1, Severity.URGENT: 4},
}

# Categories a rider's words easily confuse; a report in one may confirm a ticket in another.
RELATED: tuple[frozenset[Category], ...] = (
    frozenset({Category.BLOCKED_PASSAGE, Category.BULKY_WASTE}),
    frozenset({Category.FLOODING, Category.MANHOLE_COVER}),
    frozenset({Category.ROAD_DAMAGE, Category.MANHOLE_COVER}),
    frozenset({Category.STREET_LIGHT, Category.TRAFFIC_SIGNAL}),
    frozenset({Category.FALLEN_TREE, Category.BLOCKED_PASSAGE}),
)


def compatible(a: str, b: str) -> bool:
    """Same category, related categories, or either unknown (a photo without words)."""
    ca, cb = Category(a), Category(b)
    if ca == cb or Category.OTHER in (ca, cb):
        return True
    return any(ca in group and cb in group for group in RELATED)


def severity_for(category: str, confirmations: int) -> Severity:
    thresholds = CATEGORY_THRESHOLDS.get(Category(category), DEFAULT_THRESHOLDS)
    level = Severity.NORMAL
    for severity in SEVERITY_ORDER[1:]:
        if confirmations >= thresholds[severity]:
            level = severity
    return level


def higher(a: str, b: str) -> Severity:
    return max(Severity(a), Severity(b), key=SEVERITY_ORDER.index)


def hamming(a: str, b: str) -> int:
    """Bits that differ between two 64-bit hashes written as 16 hex digits."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


@dataclass(frozen=True)
class DuplicatePolicy:
    distance_m: float = 100.0
    """Reports this close to an open ticket join it; 0 turns matching by place off."""
    window: timedelta = timedelta(hours=6)
    max_hamming: int = 6
    notice_interval: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class Report:
    """What the rules need to know about a report or an open ticket."""

    id: int
    category: str
    lat: float
    lng: float
    created_at: datetime
    photo_hashes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Match:
    ticket_id: int
    reason: str
    """'place' (near, same kind of problem) or 'photo' (nearly the same picture)."""
    distance_m: float
    hamming: int | None = None


def best_match(new: Report, open_tickets: list[Report], policy: DuplicatePolicy) -> Match | None:
    """The open ticket `new` most likely repeats: the nearest compatible one within the
    distance and time window, else the one with the closest photo within the Hamming limit
    (a photo match needs neither: the same picture is the same problem)."""
    by_place: list[Match] = []
    by_photo: list[Match] = []
    for other in open_tickets:
        if other.id == new.id:
            continue
        metres = distance_m(new.lat, new.lng, other.lat, other.lng)
        recent = abs(new.created_at - other.created_at) <= policy.window
        near = policy.distance_m > 0 and metres <= policy.distance_m  # 0 turns it off
        if recent and near and compatible(new.category, other.category):
            by_place.append(Match(other.id, "place", metres))
        bits = min(
            (hamming(a, b) for a in new.photo_hashes for b in other.photo_hashes), default=None
        )
        if bits is not None and bits <= policy.max_hamming:
            by_photo.append(Match(other.id, "photo", metres, bits))
    if by_place:
        return min(by_place, key=lambda m: (m.distance_m, m.ticket_id))
    if by_photo:
        return min(by_photo, key=lambda m: (m.hamming, m.distance_m, m.ticket_id))
    return None
