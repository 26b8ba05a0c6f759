"""A client's retried POST requests answers the request it already filed.

An integrator whose connection drops after posting cannot know whether the request was
filed, so it posts again. A POST with the same API key and the same `Idempotency-Key`
header, or (without that header) the same `device_id`, `description` and position
(lat/long to about 10 cm), within `GRIDBOT_OPEN311_REPEAT_MINUTES` is that retry: it
gets the first request's service_request_id, and no second ticket.

As with chat messages (the inbox's unique dedup key), the request's key is written in the
same transaction as its ticket under a unique constraint (client, key): two copies that
race both pass the lookup, and the second fails at the constraint, rolls back everything
it did, and on its second try finds the first. Once the window is over the key is freed,
and the same words at the same place make a new request (duplicates are then merged by
the chat's rules).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import ApiRequest


def request_key(
    *, idempotency_key: str, device_id: str, description: str, lat: float, lng: float
) -> str | None:
    """What makes copies of one request the same: the client's Idempotency-Key when it
    sends one, else its device_id with the words and the point; None without either (two
    callers reporting the same thing in the same words are two requests, merged as
    duplicates by the chat's rules)."""
    if idempotency_key.strip():
        text = f"key\n{idempotency_key.strip()}"
    elif device_id.strip():
        text = f"device\n{device_id.strip()}\n{description.strip()}\n{lat:.6f},{lng:.6f}"
    else:
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def earlier(
    session: Session, *, client_id: int, key: str, now: datetime, window: timedelta
) -> int | None:
    """The ticket an earlier copy of this request filed inside the window, else None (an
    older request under the same key gives its key up)."""
    mine = (ApiRequest.client_id == client_id, ApiRequest.request_key == key)
    row = session.execute(
        select(ApiRequest.ticket_id, ApiRequest.created_at).where(*mine).with_for_update()
    ).first()
    if row is None:
        return None
    if now - row.created_at <= window:
        return row.ticket_id
    session.execute(update(ApiRequest).where(*mine).values(request_key=None))
    return None
