"""Messages in and out: the inbox (dedup), the outbox (notices owed) and the sandbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class InboxMessage(Base):
    """Every inbound message once, keyed by its dedup key, with the reply it got."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(160), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    body: Mapped[str] = mapped_column(Text, default="")
    reply: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMessage(Base):
    """A notice owed to someone other than the sender, written with the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_openid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    image: Mapped[bytes | None] = mapped_column(LargeBinary)
    """A PNG to send as an image message instead of `text` (which then describes it)."""
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    reply_to: Mapped[str | None] = mapped_column(String(160), unique=True)
    """The dedup key of the message this answers late (see app/inbox/late_answers.py):
    unique, so a message gets at most one late answer."""
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """pending -> sent; dead after too many failed attempts; held when WeChat's
    customer-service window is closed (delivered inside the user's next passive reply)."""
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str] = mapped_column(String(256), default="")
    last_errcode: Mapped[int | None] = mapped_column()
    """WeChat's errcode of the last failed attempt (-1 transport failure), for operators."""
    delivered_via: Mapped[str] = mapped_column(String(16), default="")
    """custom (customer-service message), template, or reply (inside a passive reply)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ParkedMessage(Base):
    """A message acknowledged before its answer was ready; the answer is owed by
    customer-service message."""

    __tablename__ = "inbox_parked"

    dedup_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    message: Mapped[dict] = mapped_column(JSON)
    """The InboundMessage's fields, to handle it again if this process dies first."""
    parked_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When its answer was put in the outbox. The row stays a day after, so that a late
    copy of the message still knows it was acknowledged (and answers "")."""


class SandboxMessage(Base):
    """What the sandbox channel 'sent': WeChat's place in the demo."""

    __tablename__ = "sandbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_openid: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    outbox_id: Mapped[int | None] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChannelPause(Base):
    """A channel-wide pause after a rate limit, shared by every process draining the outbox."""

    __tablename__ = "channel_pauses"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    paused_until: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(128), default="")


class InboxFailure(Base):
    """An inbound message whose handler failed (its inbox row rolled back), kept for operators."""

    __tablename__ = "inbox_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(160), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    body: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(default=1)
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Set when a later attempt (a WeChat retry) handled the message after all."""


class SeenDelivery(Base):
    """A webhook request's (timestamp, nonce, signature), kept while its timestamp is inside
    the signature window: a second request under the same three is a replay, whichever
    process or restart it reaches."""

    __tablename__ = "seen_deliveries"

    timestamp: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    dedup_key: Mapped[str | None] = mapped_column(String(160))
    """The message the request carried: a spooled message whose check timed out (its row
    was written after all) is not taken for a replay of itself."""
