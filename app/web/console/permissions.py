"""Which actions the ticket page offers: exactly those the one ticket-changing call would
allow this person in chat (app/services/handling/ticket_actions.authorize), for the ticket's status."""

from __future__ import annotations

from app.domain.tickets import Action, Status, allowed_actions
from app.services.errors import ServiceError
from app.services.handling.actors import Actor
from app.services.handling.ticket_actions import authorize
from app.services.supervision.oversight import ReturnKind, pending_return
from models import Staff, Ticket

# console action -> the domain action it takes
CONSOLE_ACTIONS = {
    "claim": Action.CLAIM,
    "note": Action.NOTE,
    "resolve": Action.RESOLVE,
    "transfer": Action.TRANSFER,
    "summon": Action.SUMMON,
}


def _may(staff: Staff, ticket: Ticket, action: Action) -> bool:
    if action not in allowed_actions(ticket.status):
        return False
    try:
        # Staff rules read only the ticket and the person: no session needed.
        authorize(None, ticket, action, Actor.of_staff(staff))  # type: ignore[arg-type]
    except ServiceError:
        return False
    return True


def pending_decision(ticket: Ticket) -> str:
    """'return' (a send-back as not valid waits), 'pass_on' (a ticket that is not the
    grid's waits to be transferred or summoned), 'extension' (an extension request waits)
    or ''."""
    if ticket.status == Status.RETURNED.value:
        return "pass_on" if pending_return(ticket) is ReturnKind.NOT_OURS else "return"
    if ticket.request_minutes is not None and Action.APPROVE_EXTENSION in allowed_actions(
        ticket.status
    ):
        return "extension"
    return ""


def available_actions(staff: Staff, ticket: Ticket) -> set[str]:
    offered = {name for name, action in CONSOLE_ACTIONS.items() if _may(staff, ticket, action)}
    if ticket.status == Status.CLAIMED.value and ticket.assignee_id == staff.id:
        offered.discard("claim")
    decision = pending_decision(ticket)
    check = {
        "return": Action.CONFIRM_RETURN,
        "pass_on": Action.REFUSE_RETURN,  # the lead transfers or summons; or hands it back
    }.get(decision, Action.APPROVE_EXTENSION)
    if decision and _may(staff, ticket, check):
        offered.add("decide")
    return offered
