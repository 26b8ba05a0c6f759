"""Messages whose handling failed: kept for `gridbot inbox failed` (each attempt counted),
marked recovered once a later attempt handles them."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.inbound import InboundMessage
from bot.metrics import METRICS, type_label
from models import InboxFailure

log = logging.getLogger(__name__)


def kind(msg: InboundMessage) -> str:
    """The message's kind as the inbox stores it."""
    return f"event:{msg.event}" if msg.kind == "event" else msg.kind


def keep(sessions: sessionmaker[Session], msg: InboundMessage, error: str, now: datetime) -> None:
    """Record a message whose handling failed, for `gridbot inbox failed`; never raises."""
    METRICS.inc("gridbot_handler_errors_total", type=type_label(msg.kind, msg.event))
    for _ in range(2):
        try:
            with sessions() as session, session.begin():
                failure = session.scalar(
                    select(InboxFailure)
                    .where(InboxFailure.dedup_key == msg.dedup_key)
                    .with_for_update()
                )
                if failure is None:
                    session.add(
                        InboxFailure(
                            dedup_key=msg.dedup_key,
                            openid=msg.openid,
                            kind=kind(msg),
                            body=msg.text[:2000],
                            error=error[:4000],
                            first_failed_at=now,
                            last_failed_at=now,
                        )
                    )
                else:
                    failure.attempts += 1
                    failure.error = error[:4000]
                    failure.last_failed_at = now
                    failure.recovered_at = None
            return
        except IntegrityError:
            continue  # a concurrent retry recorded it first: count this one on it
        except Exception:
            log.exception("could not record the failure of %s", msg.dedup_key)
            return


def mark_recovered(session: Session, msg: InboundMessage, now: datetime) -> None:
    session.execute(
        update(InboxFailure)
        .where(InboxFailure.dedup_key == msg.dedup_key, InboxFailure.recovered_at.is_(None))
        .values(recovered_at=now)
    )
