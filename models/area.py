"""Areas: district -> street -> community -> grid. A grid carries its polygon."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow

LEVELS = ("district", "street", "community", "grid")


class Area(Base):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    path: Mapped[str] = mapped_column(String(512), index=True)
    """Codes from the root down, '/'-joined with a trailing '/': a cheap ancestor test."""
    geometry: Mapped[str | None] = mapped_column(Text, deferred=True)
    """GeoJSON geometry in WGS-84, or None for an area without a polygon. Deferred: a
    ticket loads its grid and area with it, and only the grid index reads polygons."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    parent: Mapped[Area | None] = relationship(remote_side=[id])

    def covers(self, other: Area) -> bool:
        """True when `other` is this area or lies inside it."""
        return other.path.startswith(self.path)
