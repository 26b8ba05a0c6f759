"""The life of a notice owed to someone (an outbox row): its statuses and what they allow."""

from __future__ import annotations

from enum import StrEnum


class OutboxStatus(StrEnum):
    """The values stored in outbox.status."""

    PENDING = "pending"
    """Waiting to be sent (or leased by a sender right now)."""
    SENT = "sent"
    """Delivered: by customer-service message, template, or inside a passive reply."""
    HELD = "held"
    """WeChat's window for this person is closed: goes out in the reply to their next message."""
    DEAD = "dead"
    """Failed too often; waits for an operator's retry."""

    @property
    def may_retry(self) -> bool:
        """An operator may queue it again (`gridbot outbox retry`)."""
        return self in (OutboxStatus.DEAD, OutboxStatus.HELD)
