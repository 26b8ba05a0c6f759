"""Rest stations for riders: where a rider is, what they asked for, which stations to offer."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.stations import HoursError, Nearby, Place, nearby, parse_hours
from models import Rider, RiderPosition, Station, StationRequest

POSITION_FRESH = timedelta(minutes=10)
"""A position older than this is not where the rider is now: ask again."""
REQUEST_WINDOW = timedelta(minutes=10)
"""A "驿站" asked without a position is answered by a location arriving this soon after."""


def record_position(
    session: Session, rider: Rider, lat: float, lng: float, *, now: datetime, source: str
) -> None:
    """Remember where `rider` is (WGS-84); only the latest position is kept."""
    position = session.get(RiderPosition, rider.id)
    if position is None:
        session.add(RiderPosition(rider_id=rider.id, lat=lat, lng=lng, seen_at=now, source=source))
        return
    if position.seen_at > now:  # a late copy of an older message
        return
    position.lat, position.lng, position.seen_at, position.source = lat, lng, now, source


def recent_position(session: Session, rider: Rider, *, now: datetime) -> tuple[float, float] | None:
    position = session.get(RiderPosition, rider.id)
    if position is None or now - position.seen_at > POSITION_FRESH:
        return None
    return position.lat, position.lng


def ask_later(session: Session, rider: Rider, amenity: str | None, *, now: datetime) -> None:
    """Remember that `rider` wants stations once their location arrives."""
    request = session.get(StationRequest, rider.id)
    if request is None:
        session.add(StationRequest(rider_id=rider.id, amenity=amenity or "", asked_at=now))
        return
    request.amenity, request.asked_at = amenity or "", now


def take_request(session: Session, rider: Rider, *, now: datetime) -> str | None:
    """The amenity ('' for any) of the rider's pending station request, consumed; None
    when there is none or it is too old."""
    request = session.get(StationRequest, rider.id)
    if request is None:
        return None
    session.delete(request)
    if now - request.asked_at > REQUEST_WINDOW:
        return None
    return request.amenity


def places(session: Session) -> list[Place]:
    found = []
    for s in session.scalars(select(Station).order_by(Station.code)):
        try:
            hours = parse_hours(s.hours)
        except HoursError:  # imported rows are checked; an edited row is skipped, not fatal
            continue
        amenities = tuple(s.amenities.split())
        found.append(Place(s.code, s.name, s.lat, s.lng, hours, amenities, s.address))
    return found


def near(
    session: Session,
    lat: float,
    lng: float,
    *,
    now: datetime,
    tz: ZoneInfo,
    amenity: str | None = None,
) -> Nearby:
    """The stations to offer a rider at (lat, lng) now, judged on local opening hours."""
    local = now.astimezone(tz).replace(tzinfo=None)
    return nearby(places(session), lat, lng, local, amenity=amenity)
