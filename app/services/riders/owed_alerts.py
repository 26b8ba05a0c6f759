"""What a ticket change owes the riders nearby (issue 19 §3), recorded in the change's
transaction and sent a few seconds later by the hazard-alert sweep
(`hazard_alerts.send_owed`, app/jobs.py).

The change only writes a row: finding the riders nearby and queueing a message to each
is the sweep's work, so a worker's 办结 or a rider's report never waits for the fan-out.
Changes the session only; the caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.domain import hazards
from app.domain.tickets import Action, Status
from app.services.handling.ticket_change import Change
from models import OwedHazardAlert, Ticket

ALERT, CLEAR = "alert", "clear"
RECORDS = frozenset({Action.HAZARD_ALERT, Action.HAZARD_CLEAR})
"""The sweep's own records on the timeline: they owe nothing."""


def follow(session: Session, change: Change) -> None:
    """Owe an alert while a road-blocking ticket is severe and open, and the all-clear when
    it is resolved. A merged report speaks for its ticket (several confirmations can make
    it severe). The sweep decides whether riders still need to hear it."""
    if change.action in RECORDS:
        return
    ticket = change.ticket
    if ticket.status == Status.MERGED and ticket.merged_into is not None:
        ticket = ticket.merged_into
    status = Status(ticket.status)
    if status.is_open and hazards.warrants_alert(ticket.category, ticket.severe):
        owe(session, ticket, ALERT, now=change.now)
    elif _resolves(change):
        owe(session, ticket, CLEAR, now=change.now)


def _resolves(change: Change) -> bool:
    moved = change.transition
    return moved.to_status is Status.RESOLVED and moved.from_status is not Status.RESOLVED


def owe(
    session: Session, ticket: Ticket, kind: str, *, now: datetime, by: str | None = None
) -> None:
    """Record that `ticket` owes riders an alert or all-clear (`by`: the lead who asked).
    The ticket's own owed alert is recorded once until the sweep takes it."""
    if by is None:
        pending = exists().where(
            OwedHazardAlert.ticket_id == ticket.id,
            OwedHazardAlert.kind == kind,
            OwedHazardAlert.requested_by.is_(None),
        )
        if session.scalar(select(pending)):
            return
    session.add(OwedHazardAlert(ticket_id=ticket.id, kind=kind, requested_by=by, owed_at=now))
