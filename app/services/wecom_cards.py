"""The new-ticket notice as a WeCom (企业微信) template card: what a worker needs at a
glance (category, place, urgency, deadline) and two buttons, 认领 and 查看位置.

Pressing 认领 sends back the button's key "claim:<ticket id>"; its handler (handlers/
wecom_card.py) runs the chat command 认领 so it goes through the one ticket-changing call
with the same permissions as a typed one. The pressed card is owed an update ("已由 X 认领"
in place of its buttons) in the same transaction, through the outbox like any notice:
retried with backoff, dead-lettered, never holding up or undoing the claim, and owed
however late the claim's answer goes (a press whose answer missed WeCom's 5 seconds).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.domain.coords import wgs84_to_gcj02
from app.domain.ticket_notices import is_urgent, map_link
from app.services.handling.ticket_card import deadline_line, place_label
from app.services.notices import category_label
from app.services.outbox import enqueue
from models import WECOM_PREFIX, OutboxMessage, Ticket, utcnow

CLAIM_KEY = "claim:"
CARD_KINDS = frozenset({"ticket_assigned"})
"""The outbox kind of the new-ticket notice to the grid worker (the notice table's)."""
CARD_UPDATE_KIND = "card_update"
"""An outbox row that updates a pressed card (update_template_card) instead of a message."""


def pressed_claim(event_key: str) -> int | None:
    """The ticket number of a pressed 认领 button's key, else None."""
    number = event_key.removeprefix(CLAIM_KEY)
    if number == event_key or not number.isdigit() or len(number) >= 12:
        return None
    return int(number)


def claimed_line(name: str) -> str:
    return f"已由{name}认领"


def ticket_card(ticket: Ticket, *, task_id: str, now: datetime, tz: str) -> dict[str, Any]:
    lat, lng = wgs84_to_gcj02(ticket.lat, ticket.lng)
    label = place_label(ticket)
    area = ticket.grid or ticket.area
    urgent = is_urgent(ticket.category, ticket.severe, ticket.severity)
    deadline = deadline_line(ticket, now, tz).rstrip("。") or "无"
    return {
        "card_type": "button_interaction",
        "main_title": {
            "title": f"{'【紧急】' if urgent else ''}新工单 #{ticket.number}",
            "desc": (ticket.description or "")[:40],
        },
        "horizontal_content_list": [
            {"keyname": "类别", "value": category_label(ticket)},
            {"keyname": "地点", "value": label + (f"（{area.name}）" if area else "")},
            {"keyname": "紧急程度", "value": "紧急" if urgent else "一般"},
            {"keyname": "期限", "value": deadline},
        ],
        "task_id": task_id,
        "button_list": [
            {"text": "认领", "style": 1, "key": f"{CLAIM_KEY}{ticket.number}"},
            {"text": "查看位置", "style": 2, "type": 1, "url": map_link(lat, lng, label)},
        ],
    }


def owe_card_update(
    session: Session, *, userid: str, response_code: str, number: int, press: str, now: datetime
) -> int | None:
    """Owe the card `userid` pressed (its `response_code`) the line "已由X认领", naming whoever
    holds ticket `number` now. `press` identifies the press (its dedup key): WeCom's retries
    of one press owe one update. None when nobody holds the ticket (the buttons stay) or
    the press is owed one already."""
    ticket = session.get(Ticket, number)  # a ticket's number is its id
    if not response_code or ticket is None or ticket.claimed_at is None or ticket.assignee is None:
        return None
    key = f"card:{press}"[:160]
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.reply_to == key)) is not None:
        return None
    update = {"response_code": response_code, "replace_name": claimed_line(ticket.assignee.name)}
    return enqueue(
        session,
        to_openid=WECOM_PREFIX + userid,
        kind=CARD_UPDATE_KIND,
        text=json.dumps(update, ensure_ascii=False),
        now=now,
        ticket_id=ticket.id,
        reply_to=key,
    )


class CardMaker:
    """outbox id -> what WeCom message that notice is: ("template_card", card) for a new
    ticket, ("update_template_card", {"response_code", "replace_name"}) for a pressed card,
    or None (it goes as text)."""

    def __init__(self, sessions: sessionmaker[Session], tz: str) -> None:
        self.sessions = sessions
        self.tz = tz

    def __call__(self, outbox_id: int) -> tuple[str, dict[str, Any]] | None:
        with self.sessions() as session:
            row = session.get(OutboxMessage, outbox_id)
            if row is None:
                return None
            if row.kind == CARD_UPDATE_KIND:
                return "update_template_card", json.loads(row.text)
            if row.kind not in CARD_KINDS or row.ticket_id is None:
                return None
            ticket = session.get(Ticket, row.ticket_id)
            if ticket is None:
                return None
            # task_id is unique per card: one per outbox row
            card = ticket_card(ticket, task_id=f"gridbot-{outbox_id}", now=utcnow(), tz=self.tz)
            return "template_card", card
