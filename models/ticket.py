"""The ticket aggregate: the ticket, its photos and its event log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.area import Area
from models.base import Base, UTCDateTime, utcnow
from models.people import Rider, Staff

_OPEN = "status IN ('reopened', 'returned', 'assigned', 'summoned', 'claimed')"


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
        # The console's "overdue only": open tickets past a deadline, without reading
        # every open ticket (migration 0016).
        Index(
            "ix_tickets_open_claim_due",
            "claim_due_at",
            postgresql_where=text(f"claimed_at IS NULL AND {_OPEN}"),
            sqlite_where=text(f"claimed_at IS NULL AND {_OPEN}"),
        ),
        Index(
            "ix_tickets_open_resolve_due",
            "resolve_due_at",
            postgresql_where=text(_OPEN),
            sqlite_where=text(_OPEN),
        ),
        # The console's list: an area's tickets by status (counts, pages), and sorted by
        # deadline (migration 0017).
        Index("ix_tickets_area_status_created", "area_id", "status", "created_at"),
        Index("ix_tickets_due_order", text("coalesce(resolve_due_at, claim_due_at)"), "id"),
        # PostgreSQL only (migration 0022): a lead's tickets counted and ordered from the
        # index alone; a district's list of one status by date; the word search's GIN
        # over (area, two-character pieces of description and place).
        Index(
            "ix_tickets_scope_list",
            "area_id",
            "created_at",
            "id",
            postgresql_include=[
                "status",
                "category",
                "grid_id",
                "claimed_at",
                "claim_due_at",
                "resolve_due_at",
                "updated_at",
            ],
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_tickets_status_created",
            "status",
            "created_at",
            "id",
            postgresql_include=["area_id"],
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_tickets_words",
            "area_id",
            # As PostgreSQL prints it back, so that the schema test compares equal.
            text("gridbot_bigrams((description || ' '::text) || place::text)"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
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
    location_source: Mapped[str] = mapped_column(String(16), default="chat", server_default="chat")
    """'chat' (a location message) or 'photo' (EXIF GPS of a recent photo)."""
    old_photo: Mapped[bool] = mapped_column(default=False, server_default=false())
    """A photo of this report was taken long before it was sent."""
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    """Set while this report is a confirmation of another, open ticket (status merged)."""
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    no_merge: Mapped[bool] = mapped_column(default=False, server_default=false())
    """A worker split this report off: never merge it again."""
    confirmations: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    """Other riders who reported the same problem (reports merged into this one)."""
    severity: Mapped[str] = mapped_column(String(16), default="normal", server_default="normal")
    more_reports_noticed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    more_info_noticed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the worker was (or, if later than now, will be) last told what the rider added:
    at most one such notice per interval."""
    details_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the rider was asked to describe the problem (the ticket's only photo could not
    be used): their words within the follow-up window after it add to this ticket."""

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
    merged_into: Mapped[Ticket | None] = relationship(remote_side=[id])
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
    """A photo someone sent, from arrival (pending) through the download pipeline.

    `ticket_id` is None while the photo belongs to a rider's draft, or to a worker's
    resolution photo sent just before 办结.
    """

    __tablename__ = "ticket_photos"
    __table_args__ = (Index("ix_ticket_photos_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    media_id: Mapped[str] = mapped_column(String(128))
    pic_url: Mapped[str] = mapped_column(String(512), default="")
    sender_openid: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    role: Mapped[str] = mapped_column(String(16), default="report", server_default="report")
    """'report' (the problem) or 'resolution' (the worker's after photo)."""
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    """pending -> stored, or refused (not an acceptable image), or failed (gave up)."""
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str] = mapped_column(String(256), default="", server_default="")
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    """Address of the stored, re-encoded JPEG (metadata stripped)."""
    thumb_sha256: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    dhash: Mapped[str | None] = mapped_column(String(16))
    """64-bit difference hash of the picture, 16 hex digits."""
    exif_lat: Mapped[float | None]
    exif_lng: Mapped[float | None]
    """WGS-84, from the original's EXIF GPS."""
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """EXIF DateTimeOriginal."""
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    ticket: Mapped[Ticket | None] = relationship(back_populates="photos")

    @property
    def exif_gps(self) -> bool:
        return self.exif_lat is not None and self.exif_lng is not None


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
