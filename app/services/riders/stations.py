"""Rest stations for riders: where a rider is, what they asked for, which stations to offer."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.domain.stations import HoursError, Nearby, Place, nearby, parse_hours
from models import Rider, RiderPosition, Station, StationRequest

POSITION_FRESH = timedelta(minutes=10)
"""A position older than this is not where the rider is now: ask again."""
REQUEST_WINDOW = timedelta(minutes=10)
"""A "驿站" asked without a position is answered by a location arriving this soon after."""


def _position_upsert(dialect):
    table = RiderPosition.__table__
    insert = dialect.insert(table)
    fresh = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=[table.c.rider_id],
        set_={"lat": fresh.lat, "lng": fresh.lng, "seen_at": fresh.seen_at, "source": fresh.source},
        # A late copy of an older message does not move the position back.
        where=table.c.seen_at <= fresh.seen_at,
    )


POSITION_UPSERT = {
    name: _position_upsert(d) for name, d in (("postgresql", postgresql), ("sqlite", sqlite))
}


def record_position(
    session: Session, rider: Rider, lat: float, lng: float, *, now: datetime, source: str
) -> None:
    """Remember where `rider` is (WGS-84); only the latest position is kept.

    One INSERT ... ON CONFLICT DO UPDATE, not a load and a flush: every location a rider
    sends passes here."""
    upsert = POSITION_UPSERT[session.get_bind().dialect.name]
    values = {"rider_id": rider.id, "lat": lat, "lng": lng, "seen_at": now, "source": source}
    session.connection().execute(upsert, values)
    loaded = session.identity_map.get(session.identity_key(RiderPosition, rider.id))
    if loaded is not None:  # read earlier in this session: show the row as it is now
        session.expire(loaded)


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
