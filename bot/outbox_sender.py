"""Sends what the outbox owes, off the request path, with retries and backoff.

Rows are leased (claimed for a while) in one short transaction, sent outside any
transaction, then marked in another: a slow WeChat never holds a database lock, and a
crash mid-send only means the lease runs out and the row is tried again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)


class Channel(Protocol):
    def send_text(self, openid: str, text: str, *, outbox_id: int) -> None:
        """Deliver or raise; any exception counts as a failed attempt."""

    def send_image(self, openid: str, png: bytes, *, outbox_id: int) -> None:
        """Deliver an image (PNG bytes) or raise."""


@dataclass
class DrainResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0


def backoff(attempt: int, *, base: float = 2.0, cap: float = 600.0) -> timedelta:
    """Exponential backoff with full jitter: attempt 1 waits up to 2 s, then 4 s, 8 s, ..."""
    return timedelta(seconds=random.uniform(0.5, 1.0) * min(cap, base**attempt))


class OutboxSender:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        channel: Channel,
        *,
        max_attempts: int = 8,
        batch: int = 50,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.channel = channel
        self.max_attempts = max_attempts
        self.batch = batch
        self.clock = clock

    def drain(self) -> DrainResult:
        """Send everything due now; returns what happened."""
        result = DrainResult()
        while leased := self._lease():
            for row_id, openid, text, image in leased:
                try:
                    if image is not None:
                        self.channel.send_image(openid, image, outbox_id=row_id)
                    else:
                        self.channel.send_text(openid, text, outbox_id=row_id)
                except Exception as exc:
                    log.warning("outbox %s to %s failed: %s", row_id, openid, exc)
                    if self._failed(row_id, exc):
                        result.dead += 1
                    else:
                        result.failed += 1
                else:
                    self._sent(row_id)
                    result.sent += 1
        return result

    def _lease(self) -> list[tuple[int, str, str, bytes | None]]:
        now = self.clock()
        with self.sessions() as session, session.begin():
            rows = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.attempts += 1
                row.next_attempt_at = now + LEASE
            return [(r.id, r.to_openid, r.text, r.image) for r in rows]

    def _sent(self, row_id: int) -> None:
        with self.sessions() as session, session.begin():
            row = session.get(OutboxMessage, row_id)
            row.status = "sent"
            row.sent_at = self.clock()
            row.last_error = ""

    def _failed(self, row_id: int, exc: Exception) -> bool:
        with self.sessions() as session, session.begin():
            row = session.get(OutboxMessage, row_id)
            row.last_error = f"{type(exc).__name__}: {exc}"[:250]
            if row.attempts >= self.max_attempts:
                row.status = "dead"
                return True
            row.next_attempt_at = self.clock() + backoff(row.attempts)
            return False
