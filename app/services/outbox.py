"""Notices owed to other people, written in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models import OutboxMessage

PENDING_FLAG = "outbox_pending"


def enqueue(
    session: Session,
    *,
    to_openid: str | None,
    kind: str,
    text: str,
    now: datetime,
    ticket_id: int | None = None,
    image: bytes | None = None,
) -> OutboxMessage | None:
    """Owe `to_openid` a notice (an image when `image` holds PNG bytes); sent after the
    caller commits. No openid, no notice."""
    if not to_openid:
        return None
    row = OutboxMessage(
        to_openid=to_openid,
        kind=kind,
        text=text,
        ticket_id=ticket_id,
        image=image,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    # Lets the caller wake the sender once the transaction has committed.
    session.info[PENDING_FLAG] = True
    return row
