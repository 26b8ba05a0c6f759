"""Rider rest stations (暖"新"驿站) and where riders were last seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class Station(Base):
    """A rest station; imported from GeoJSON or CSV, updated in place by `code`."""

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(String(256), default="")
    lat: Mapped[float]
    lng: Mapped[float]
    """WGS-84."""
    hours: Mapped[str] = mapped_column(String(128))
    """As written in the import ('08:00-22:00', '07:00-11:00,17:00-23:00', '24h')."""
    amenities: Mapped[str] = mapped_column(String(128), default="")
    """Space-separated words from app.domain.stations.AMENITIES."""
    phone: Mapped[str] = mapped_column(String(32), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RiderPosition(Base):
    """Where a rider was last seen (a location message or a LOCATION event), WGS-84."""

    __tablename__ = "rider_positions"
    __table_args__ = (
        # The hazard fan-out's box (lat range, then lng, then recency) read from the index
        # alone: about 0.1 ms among 10,000 riders, where seen_at alone read two thirds.
        Index("ix_rider_positions_place", "lat", "lng", "seen_at", "rider_id"),
    )

    rider_id: Mapped[int] = mapped_column(ForeignKey("riders.id"), primary_key=True)
    lat: Mapped[float]
    lng: Mapped[float]
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    source: Mapped[str] = mapped_column(String(16))
    """'message' (a location the rider sent) or 'event' (WeChat's LOCATION report)."""


class StationRequest(Base):
    """A rider asked for stations before we knew where they are: answered when a location
    arrives within the request window."""

    __tablename__ = "station_requests"

    rider_id: Mapped[int] = mapped_column(ForeignKey("riders.id"), primary_key=True)
    amenity: Mapped[str] = mapped_column(String(16), default="")
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
