"""One applied ticket action, as `act` (app/services/handling/ticket_actions.py) hands it to the
notices and to its caller.

Its own module so that what reads a change (the notices' words, intake's notices) does
not import `act`, which owes those notices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.domain import tickets as lifecycle
from app.domain.tickets import Action
from app.services.handling.actors import Actor
from app.services.handling.ticket_card import DEFAULT, NoticeSettings
from models import Staff, Ticket


@dataclass
class Change:
    """One applied action: what `act` did, for the notices and the caller's reply."""

    ticket: Ticket
    transition: lifecycle.Transition
    actor: Actor
    now: datetime
    previous: Staff | None
    """The holder before the change."""
    details: dict[str, Any] = field(default_factory=dict)
    settings: NoticeSettings = DEFAULT
    """What the notices' words depend on (photo links, time zone)."""
    told: list[str] = field(default_factory=list)
    """The openids owed a notice of this change."""

    @property
    def action(self) -> Action:
        return self.transition.action

    @property
    def note(self) -> str:
        return self.transition.note
