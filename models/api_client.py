"""Outside systems that call the Open311 API (a 12345 hotline, a city-operations platform).

Only the SHA-256 of a key is stored: a copy of the database calls nothing. Each client
reports under a rider row of its own (openid `api:<id>`, never a WeChat openid, so no
notice is ever sent to it) and acts on tickets as an actor of its own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow
from models.people import Rider

API_OPENID_PREFIX = "api:"
"""WeChat openids never contain a colon: a rider whose openid starts so is an API client."""


class ApiClient(Base):
    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    """The key's first characters, to tell keys apart in listings."""
    scope: Mapped[str] = mapped_column(String(8), default="write")
    """'read' (GET only) or 'write' (also POST requests and updates)."""
    rider_id: Mapped[int] = mapped_column(ForeignKey("riders.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    rider: Mapped[Rider] = relationship(lazy="joined")


class ApiRequest(Base):
    """What an outside platform sent with a service request beyond the ticket's own
    fields: who asked (contact fields, device, account) and the media_url. Staff only:
    never shown in the API's public answers."""

    __tablename__ = "api_requests"
    __table_args__ = (UniqueConstraint("client_id", "request_key"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(128), default="")
    account_id: Mapped[str] = mapped_column(String(128), default="")
    first_name: Mapped[str] = mapped_column(String(64), default="")
    last_name: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(128), default="")
    media_url: Mapped[str] = mapped_column(String(512), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    request_key: Mapped[str | None] = mapped_column(String(64))
    """What makes a retried POST the same request (app/services/open311/repeats.py);
    unique per client, so two copies racing cannot both file. Cleared once the repeat
    window is over, when the same words at the same place make a new request."""

    client: Mapped[ApiClient] = relationship(lazy="joined")
