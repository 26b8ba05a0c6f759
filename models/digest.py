"""Digests sent: one row per (staff member, local day reported), holding the figures sent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class Digest(Base):
    """The daily digest of `day` for `staff_id`'s area. The unique (staff, day) row is
    claimed in the same transaction as the messages it owes, so each is sent once."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("staff_id", "day", name="uq_digests_staff_id_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    """The local calendar day the digest reports on."""
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When its messages were handed to the outbox."""
