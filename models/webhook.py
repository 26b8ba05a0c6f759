"""Outbound webhooks: a city platform's URL told of ticket events, signed with a secret.

The secret is kept as it was given out: signing needs it (an HMAC cannot be made from a
hash). It is shown once, by `gridbot webhooks add`, and never listed again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow

WEBHOOK_PREFIX = "webhook:"
"""The outbox address of a hook's deliveries ("webhook:<id>"): WeChat openids never
contain a colon, so no notice is mistaken for a delivery or the other way round."""


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(512))
    events: Mapped[str] = mapped_column(String(1024))
    """Comma-separated event names (app/domain/webhooks.py), or "*" for all."""
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """A removed hook is owed nothing more; its deliveries stay listed."""

    @property
    def address(self) -> str:
        return f"{WEBHOOK_PREFIX}{self.id}"

    @property
    def event_names(self) -> tuple[str, ...]:
        return tuple(e for e in self.events.split(",") if e)
