"""Outbound webhooks: which ticket action is which event, and how a delivery is signed.

Event names are derived from the actions of the transition table (app/domain/tickets.py):
one name per action that changes what an outside platform knows of the ticket. Hazard
alerts to riders nearby are left out (they are no update of the request, as in the
Open311 updates feed).

A delivery is signed the way Stripe and GitHub users know: the header
`X-Gridbot-Timestamp` carries the Unix time of the attempt, and `X-Gridbot-Signature`
the hex HMAC-SHA256 of the hook's secret over `timestamp + "." + body`.
"""

from __future__ import annotations

import hashlib
import hmac

from app.domain.tickets import Action

EVENTS: dict[Action, str] = {
    Action.CREATE: "ticket.created",
    Action.CLAIM: "ticket.claimed",
    Action.NOTE: "ticket.noted",
    Action.RESOLVE: "ticket.resolved",
    Action.TRANSFER: "ticket.transferred",
    Action.CONFIRM: "ticket.closed",
    Action.AUTO_CLOSE: "ticket.closed",
    Action.REOPEN: "ticket.reopened",
    Action.ADD_INFO: "ticket.info_added",
    Action.REMOVE_INFO: "ticket.info_removed",
    Action.REQUEST_DETAILS: "ticket.details_requested",
    Action.REMIND: "ticket.reminded",
    Action.ESCALATE: "ticket.escalated",
    Action.SUMMON: "ticket.summoned",
    Action.CHECK_IN: "ticket.checked_in",
    Action.REQUEST_EXTENSION: "ticket.extension_requested",
    Action.APPROVE_EXTENSION: "ticket.extension_approved",
    Action.REFUSE_EXTENSION: "ticket.extension_refused",
    Action.RETURN: "ticket.returned",
    Action.PASS_ON: "ticket.passed_on",
    Action.CONFIRM_RETURN: "ticket.rejected",
    Action.REFUSE_RETURN: "ticket.return_refused",
    Action.MERGE: "ticket.merged",
    Action.JOIN: "ticket.joined",
    Action.SPLIT: "ticket.split",
    Action.WITHDRAW: "ticket.withdrawn",
    Action.RESOLUTION_PHOTO: "ticket.resolution_photo",
    Action.FLAG_OLD_PHOTO: "ticket.old_photo",
}
"""The event each action is delivered as; an action missing here is never delivered."""

TEST_EVENT = "webhook.test"
"""What `gridbot webhooks test` sends: no ticket, just proof that the hook works."""
ALL = "*"
"""A subscription to every event."""
EVENT_NAMES = tuple(sorted(set(EVENTS.values())))

TIMESTAMP_HEADER = "X-Gridbot-Timestamp"
SIGNATURE_HEADER = "X-Gridbot-Signature"


def event_for(action: Action | str) -> str | None:
    """The event name of `action`, or None when it is not delivered."""
    try:
        return EVENTS.get(Action(action))
    except ValueError:
        return None


def parse_events(text: str) -> tuple[str, ...]:
    """The subscribed events from "ticket.created,ticket.claimed" (or "*"); ValueError
    naming the first unknown one."""
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if not names:
        raise ValueError("no events given")
    if ALL in names:
        return (ALL,)
    for name in names:
        if name not in EVENT_NAMES:
            raise ValueError(f"unknown event {name[:40]!r}")
    return names


def subscribed(events: tuple[str, ...] | list[str], event: str) -> bool:
    return ALL in events or event in events or event == TEST_EVENT


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """hex HMAC-SHA256 of `secret` over `timestamp + "." + body`."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
