"""The ticket aggregate: the ticket, its photos and its event log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.area import Area
from models.base import Base, UTCDateTime, utcnow
from models.people import Rider, Staff


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_updated", "status", "updated_at"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        Index("ix_tickets_reporter_created", "reporter_id", "created_at"),
        # The deadline sweeps read only tickets with something pending: a partial index
        # keeps the 90% of closed tickets out of it.
        Index(
            "ix_tickets_next_check_at",
            "next_check_at",
            postgresql_where=text("next_check_at IS NOT NULL"),
            sqlite_where=text("next_check_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float]
    lng: Mapped[float]
    """WGS-84, whatever system the rider's phone sent."""
    place: Mapped[str] = mapped_column(String(256), default="")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    """The area the ticket was routed in: its grid, or the enclosing area's duty desk."""
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("riders.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Deadlines and the escalation ladder (see app/domain/policy.py).
    severe: Mapped[bool] = mapped_column(default=False, server_default=false())
    claim_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolve_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ladder_step: Mapped[int] = mapped_column(default=0, server_default="0")
    """Steps of the ladder done since the current deadline was set."""
    escalation_level: Mapped[int] = mapped_column(default=0, server_default="0")
    """How far up the ladder's levels this deadline has gone (0: nobody above told)."""
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When a sweep must next look at this ticket; None when nothing is pending."""
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    request_minutes: Mapped[int | None]
    """A pending extension request (延期), in the category's kind of minutes."""
    request_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    """Why the holder asked for the pending extension or sent the ticket back (退回)."""

    grid: Mapped[Area | None] = relationship(foreign_keys=[grid_id], lazy="joined")
    area: Mapped[Area | None] = relationship(foreign_keys=[area_id], lazy="joined")
    assignee: Mapped[Staff | None] = relationship(lazy="joined")
    reporter: Mapped[Rider] = relationship(lazy="joined")
    photos: Mapped[list[TicketPhoto]] = relationship(
        back_populates="ticket", order_by="TicketPhoto.id", lazy="selectin"
    )
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", lazy="select"
    )

    @property
    def number(self) -> int:
        return self.id


class TicketPhoto(Base):
    __tablename__ = "ticket_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    media_id: Mapped[str] = mapped_column(String(128))
    pic_url: Mapped[str] = mapped_column(String(512), default="")
    sender_openid: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="photos")


class TicketEvent(Base):
    """One line of a ticket's timeline: who did what, when, from which message."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor_openid: Mapped[str | None] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    message_key: Mapped[str | None] = mapped_column(String(128))
    """The inbox dedup key of the chat message that caused this, if any."""

    ticket: Mapped[Ticket] = relationship(back_populates="events")
