"""Rider rest stations (暖"新"驿站): opening hours, amenities, and which to suggest.

Pure rules, no I/O. Hours are local wall-clock times; the caller passes a local time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from app.domain.coords import distance_m, wgs84_to_gcj02

AMENITIES = ("饮水", "充电", "微波炉", "雨伞", "工具箱", "休息", "卫生间", "医药箱")
"""The fixed vocabulary a station's amenities are written in (and riders filter by)."""

AMENITY_WORDS = {
    **{a: a for a in AMENITIES},
    "喝水": "饮水",
    "热水": "饮水",
    "水": "饮水",
    "电": "充电",
    "充电宝": "充电",
    "换电": "充电",
    "热饭": "微波炉",
    "加热": "微波炉",
    "伞": "雨伞",
    "借伞": "雨伞",
    "工具": "工具箱",
    "修车": "工具箱",
    "歇脚": "休息",
    "厕所": "卫生间",
    "洗手间": "卫生间",
    "药": "医药箱",
    "药箱": "医药箱",
}
"""What riders say -> the amenity it means."""

SEARCH_RADIUS_M = 5000.0
"""Stations farther than this are not suggested: nobody rides 5 km for a rest."""

SUGGESTED = 3
RIDE_METRES_PER_MINUTE = 250.0
"""An e-bike in city traffic, about 15 km/h."""
ROAD_FACTOR = 1.3
"""Roads are longer than the straight line; a common urban detour factor."""

DAY = 24 * 60


class HoursError(ValueError):
    """Opening hours that cannot be read; the message says what is wrong, in Chinese."""


_RANGE = re.compile(r"^(\d{1,2})[:：](\d{2})\s*[-–—~～－至到]\s*(\d{1,2})[:：](\d{2})$")
_ALWAYS = {"24h", "24H", "24小时", "全天", "00:00-24:00", "0:00-24:00"}


@dataclass(frozen=True)
class Hours:
    """Opening hours as minute ranges of a day; `end` may pass midnight (end > 1440)."""

    ranges: tuple[tuple[int, int], ...]
    text: str

    @property
    def always(self) -> bool:
        return self.ranges == ((0, DAY),)

    def _intervals(self, day_start: datetime) -> Iterable[tuple[datetime, datetime]]:
        for start, end in self.ranges:
            yield day_start + timedelta(minutes=start), day_start + timedelta(minutes=end)

    def _around(self, at: datetime) -> list[tuple[datetime, datetime]]:
        """The open intervals of yesterday, today and tomorrow (local, naive-safe)."""
        midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
        spans: list[tuple[datetime, datetime]] = []
        for days in (-1, 0, 1):
            spans.extend(self._intervals(midnight + timedelta(days=days)))
        return sorted(spans)

    def open_until(self, at: datetime) -> datetime | None:
        """When the station closes if it is open at `at` (joined ranges count as one);
        None when closed."""
        if self.always:
            return None
        spans = self._around(at)
        until: datetime | None = None
        for start, end in spans:
            if until is None and start <= at < end:
                until = end
            elif until is not None and start <= until:
                until = max(until, end)
        return until

    def is_open(self, at: datetime) -> bool:
        return self.always or self.open_until(at) is not None

    def next_opening(self, at: datetime) -> datetime | None:
        """The next time it opens after `at` (None when open now or never)."""
        if self.is_open(at):
            return None
        later = [start for start, _ in self._around(at) if start > at]
        return min(later) if later else None


def parse_hours(text: str) -> Hours:
    """'08:00-22:00', '07:00-11:00,17:00-23:00', '22:00-06:00' (past midnight), '24h'."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise HoursError("营业时间为空")
    if cleaned in _ALWAYS:
        return Hours(((0, DAY),), "24小时")
    ranges: list[tuple[int, int]] = []
    for part in re.split(r"[,，、;；]", cleaned):
        part = part.strip()
        m = _RANGE.match(part)
        if not m:
            raise HoursError(f"营业时间「{part}」看不懂，应写成 08:00-22:00 或 24h")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
            raise HoursError(f"营业时间「{part}」的时刻不存在")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end == start:
            raise HoursError(f"营业时间「{part}」开始和结束相同")
        if end < start:
            end += DAY  # open past midnight
        ranges.append((start, end))
    ranges.sort()
    if ranges == [(0, DAY)]:
        return Hours(((0, DAY),), "24小时")
    return Hours(tuple(ranges), ",".join(p.strip() for p in re.split(r"[,，、;；]", cleaned)))


def parse_amenities(values: Sequence[str] | str) -> tuple[str, ...]:
    """A station's amenities from a list or a string split by spaces, commas or 、.

    Raises ValueError naming a word outside the vocabulary."""
    if isinstance(values, str):
        values = [v for v in re.split(r"[\s,，、;；|]+", values) if v]
    out: list[str] = []
    for value in values:
        if not isinstance(value, str) or value.strip() not in AMENITIES:
            raise ValueError(f"设施「{value}」不在清单内（{' '.join(AMENITIES)}）")
        if value.strip() not in out:
            out.append(value.strip())
    return tuple(out)


def amenity_for(word: str) -> str | None:
    """The amenity a rider's word asks for ('充电', '厕所' -> '卫生间'), or None."""
    return AMENITY_WORDS.get(word.strip())


@dataclass(frozen=True)
class Place:
    """A station as the rules see it: WGS-84 point, hours, amenities."""

    code: str
    name: str
    lat: float
    lng: float
    hours: Hours
    amenities: tuple[str, ...]
    address: str = ""


@dataclass(frozen=True)
class Suggestion:
    place: Place
    distance_m: float
    open_until: datetime | None
    """Closing time when open (None: open round the clock)."""
    opens_at: datetime | None
    """When closed: the next opening."""

    @property
    def is_open(self) -> bool:
        return self.opens_at is None

    @property
    def ride_minutes(self) -> int:
        return ride_minutes(self.distance_m)


def ride_minutes(distance: float) -> int:
    return max(1, math.ceil(distance * ROAD_FACTOR / RIDE_METRES_PER_MINUTE))


@dataclass(frozen=True)
class Nearby:
    open: list[Suggestion]
    closed: list[Suggestion]
    """Nearest closed stations, offered only when none is open."""
    any_in_reach: bool
    """Some station (any amenity) lies within the search radius."""


def nearby(
    places: Iterable[Place],
    lat: float,
    lng: float,
    at_local: datetime,
    *,
    amenity: str | None = None,
    limit: int = SUGGESTED,
    radius_m: float = SEARCH_RADIUS_M,
) -> Nearby:
    """The nearest `limit` stations open at `at_local` within `radius_m` (with `amenity`);
    when none is open, the nearest closed ones with their next opening."""
    in_reach: list[tuple[float, Place]] = []
    for place in places:
        d = distance_m(lat, lng, place.lat, place.lng)
        if d <= radius_m:
            in_reach.append((d, place))
    in_reach.sort(key=lambda pair: (pair[0], pair[1].code))
    wanted = [(d, p) for d, p in in_reach if amenity is None or amenity in p.amenities]
    open_now: list[Suggestion] = []
    closed: list[Suggestion] = []
    for d, p in wanted:
        if p.hours.is_open(at_local):
            open_now.append(Suggestion(p, d, p.hours.open_until(at_local), None))
        else:
            closed.append(Suggestion(p, d, None, p.hours.next_opening(at_local)))
    return Nearby(
        open=open_now[:limit],
        closed=[] if open_now else closed[: max(1, limit - 1)],
        any_in_reach=bool(in_reach),
    )


def navigation_link(place: Place) -> str:
    """An Amap riding-navigation URI to the station, in GCJ-02 as Amap expects."""
    glat, glng = wgs84_to_gcj02(place.lat, place.lng)
    name = quote(place.name, safe="")
    return (
        f"https://uri.amap.com/navigation?to={glng:.6f},{glat:.6f},{name}"
        "&mode=ride&coordinate=gaode&callnative=1"
    )
