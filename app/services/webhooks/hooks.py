"""The webhooks operators add (`gridbot webhooks ...`): a URL, the events it hears, a secret.

A hook's URL is http(s) and, unless the settings allow private targets, must resolve to
public addresses only (the same guard as photo downloads, app/media/fetch_guard.py, which
the sender applies again at every connection). The secret is made here and shown once.
Deliveries are outbox rows addressed to the hook ("webhook:<id>"): listed, retried and
dead-lettered as the notices are. Every write of a hook tells live_hooks, which keeps the
live hooks in memory for the ticket changes.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.delivery import OutboxStatus
from app.domain.webhooks import parse_events
from app.media.fetch_guard import Resolver, is_public, resolve
from app.services import outbox
from app.services.errors import InvalidInput, NotFound
from app.services.webhooks import live_hooks
from models import WEBHOOK_PREFIX, OutboxMessage, Webhook

SECRET_PREFIX = "whsec_"
REMOVED_ERROR = "webhook removed"


def add(
    session: Session,
    *,
    url: str,
    events: str,
    now: datetime,
    allow_private: bool = False,
    resolver: Resolver = resolve,
) -> tuple[Webhook, str]:
    """A new hook and its signing secret (shown to the operator once)."""
    check_url(url, allow_private=allow_private, resolver=resolver)
    try:
        names = parse_events(events)
    except ValueError as exc:
        raise InvalidInput(f"--events: {exc}; see the list in the README (or * for all)") from None
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    hook = Webhook(url=url.strip(), events=",".join(names), secret=secret, created_at=now)
    session.add(hook)
    session.flush()
    live_hooks.written(session)
    return hook, secret


def check_url(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> None:
    url = url.strip()
    if len(url) > 512:
        raise InvalidInput("the URL is longer than 512 characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise InvalidInput(f"not a URL: {url[:80]}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidInput("a webhook URL is http:// or https:// with a host")
    if allow_private:
        return
    try:
        addresses = resolver(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except OSError as exc:
        raise InvalidInput(f"cannot resolve {parsed.host}: {exc}") from None
    inside = [a for a in addresses if not is_public(a)]
    if inside or not addresses:
        raise InvalidInput(
            f"{parsed.host} resolves to a loopback or private address ({', '.join(inside)}); "
            "webhooks go to public addresses only (GRIDBOT_WEBHOOK_ALLOW_PRIVATE=true allows "
            "an intranet target)"
        )


def live(session: Session, hook_id: int) -> Webhook:
    hook = session.get(Webhook, hook_id)
    if hook is None or hook.removed_at is not None:
        raise NotFound(f"no webhook {hook_id} (see gridbot webhooks list)")
    return hook


def remove(session: Session, hook_id: int, *, now: datetime) -> int:
    """Stop delivering to the hook; its pending deliveries become dead (listed, and
    retried only if it is added again). Returns how many were pending."""
    hook = live(session, hook_id)
    hook.removed_at = now
    live_hooks.written(session)
    pending = list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.to_openid == hook.address,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .with_for_update()
        )
    )
    for row in pending:
        row.status = OutboxStatus.DEAD
        row.last_error = REMOVED_ERROR
    return len(pending)


def listing(session: Session, *, dead_limit: int = 20) -> list[dict[str, Any]]:
    """Every hook (removed ones too) with its deliveries by status and its dead letters,
    newest first."""
    counts: dict[str, dict[str, int]] = {}
    for address, status, n in session.execute(
        select(OutboxMessage.to_openid, OutboxMessage.status, func.count())
        .where(OutboxMessage.to_openid.startswith(WEBHOOK_PREFIX))
        .group_by(OutboxMessage.to_openid, OutboxMessage.status)
    ):
        counts.setdefault(address, {})[status] = n
    rows = []
    for hook in session.scalars(select(Webhook).order_by(Webhook.id)):
        dead = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.to_openid == hook.address,
                OutboxMessage.status == OutboxStatus.DEAD,
            )
            .order_by(OutboxMessage.id.desc())
            .limit(dead_limit)
        )
        rows.append(
            {
                "id": hook.id,
                "url": hook.url,
                "events": list(hook.event_names),
                "created_at": hook.created_at.isoformat(),
                "removed_at": hook.removed_at.isoformat() if hook.removed_at else None,
                "deliveries": {
                    s.value: counts.get(hook.address, {}).get(s.value, 0)
                    for s in (OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.DEAD)
                },
                "dead": [
                    {
                        "outbox_id": d.id,
                        "event": d.kind,
                        "ticket": d.ticket_id,
                        "attempts": d.attempts,
                        "error": d.last_error,
                        "created_at": d.created_at.isoformat(),
                    }
                    for d in dead
                ],
            }
        )
    return rows


def retry(
    session: Session, *, ids: list[int] | None, hook_id: int | None = None, now: datetime
) -> int:
    """Queue dead deliveries again with a fresh set of attempts: the given outbox ids, or
    every dead delivery (of one hook when `hook_id` is given). Notices are not touched."""
    if hook_id is not None:
        only = OutboxMessage.to_openid == live(session, hook_id).address
    else:
        only = OutboxMessage.to_openid.startswith(WEBHOOK_PREFIX)
    return outbox.retry(session, ids=ids, now=now, only=only)
