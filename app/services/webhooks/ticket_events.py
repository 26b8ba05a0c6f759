"""The deliveries a ticket change owes the webhooks subscribed to its event.

Written by `act` (app/services/handling/ticket_actions.py) in the change's own
transaction, as outbox rows addressed "webhook:<id>": a crash loses no event that was
committed and sends none that was not, and the POST itself happens in the outbox sender
(app/delivery/webhook_channel.py), with the notices' retries, backoff and dead letters,
never on the path of the message that caused the change. Which hooks are live is kept
in memory for a few seconds (app/services/webhooks/live_hooks.py: a change of hooks in
this process is seen at once, one in another process within `live_hooks.TTL_SECONDS`).

The body is the event and the ticket as the Open311 API shows it (its public fields:
no reporter, no contact details), frozen at the time of the change.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.domain import open311
from app.domain.webhooks import TEST_EVENT, event_for, subscribed
from app.services.handling.ticket_change import Change
from app.services.open311.open311_views import as_service_requests
from app.services.outbox import enqueue
from app.services.webhooks import live_hooks
from models import Webhook


def owe(session: Session, change: Change) -> list[int]:
    """Owe `change`'s event to every live hook subscribed to it; the outbox ids."""
    event = event_for(change.action)
    if event is None:
        return []
    hooks = [hook_id for hook_id, events in live_hooks.live(session) if subscribed(events, event)]
    if not hooks:
        return []
    body = _dumps(ticket_event(session, change, event))
    ticket = change.ticket
    return [
        outbox_id
        for hook_id in hooks
        if (
            outbox_id := enqueue(
                session,
                to_openid=f"webhook:{hook_id}",
                kind=event,
                text=body,
                now=change.now,
                ticket_id=ticket.id,
            )
        )
        is not None
    ]


def ticket_event(session: Session, change: Change, event: str) -> dict[str, Any]:
    ticket = change.ticket
    tz = ZoneInfo(change.settings.tz)
    (request,) = as_service_requests(
        session, [ticket], links=change.settings.links, now=change.now, tz=tz
    )
    return {
        "event": event,
        "event_id": uuid.uuid4().hex,
        "time": _time(change.now, tz),
        "ticket": ticket.id,
        "status": ticket.status,
        "update_status": open311.update_status(ticket.status, change.action).value,
        "service_request": request,
    }


def owe_test(session: Session, hook: Webhook, *, now: datetime, tz: str) -> int:
    """Owe `hook` a delivery that proves it works (no ticket); its outbox id."""
    body = {"event": TEST_EVENT, "event_id": uuid.uuid4().hex, "time": _time(now, ZoneInfo(tz))}
    outbox_id = enqueue(
        session, to_openid=hook.address, kind=TEST_EVENT, text=_dumps(body), now=now
    )
    assert outbox_id is not None
    return outbox_id


def _time(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).isoformat(timespec="seconds")


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
