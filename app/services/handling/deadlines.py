"""Keep a ticket's deadlines and ladder position in step with its status.

`track` runs inside `act()` after every transition: it sets the claim and resolve
deadlines when they start (filing, transfer, 吹哨, 报到, reopening) and restarts the
ladder whenever the ticket starts waiting for something new.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.domain.policy import Phase, Policy, phase_of, step_due
from app.domain.tickets import Action, Transition
from models import Ticket


def _start_claim(ticket: Ticket, now: datetime, policy: Policy) -> None:
    d = policy.for_category(ticket.category).deadlines(ticket.severe)
    ticket.claim_due_at = policy.adder(ticket.category)(now, d.claim)


def _create(ticket: Ticket, now: datetime, policy: Policy) -> None:
    ticket.severe = policy.is_severe(ticket.description or "")
    d = policy.for_category(ticket.category).deadlines(ticket.severe)
    add = policy.adder(ticket.category)
    ticket.claim_due_at = add(now, d.claim)
    ticket.resolve_due_at = add(now, d.resolve)


def _check_in(ticket: Ticket, now: datetime, policy: Policy) -> None:
    d = policy.for_category(ticket.category).deadlines(ticket.severe)
    ticket.resolve_due_at = policy.adder(ticket.category)(now, d.resolve)


def _reopen(ticket: Ticket, now: datetime, policy: Policy) -> None:
    """不满意: the same worker gets a shorter deadline than the first time."""
    d = policy.for_category(ticket.category).deadlines(ticket.severe)
    add = policy.adder(ticket.category)
    ticket.claim_due_at = add(now, d.claim * policy.reopen_factor)
    ticket.resolve_due_at = add(now, d.resolve * policy.reopen_factor)


NEW_DEADLINES = {
    Action.CREATE: _create,
    Action.TRANSFER: _start_claim,
    Action.SUMMON: _start_claim,
    Action.CHECK_IN: _check_in,
    Action.REOPEN: _reopen,
}


def current_deadline(ticket: Ticket, policy: Policy) -> datetime | None:
    """What the ticket's next ladder is measured from, given its status."""
    phase = phase_of(ticket.status)
    if phase is Phase.CLAIM:
        return ticket.claim_due_at
    if phase is Phase.RESOLVE:
        return ticket.resolve_due_at
    if phase is Phase.CONFIRM and ticket.resolved_at is not None:
        return ticket.resolved_at + timedelta(minutes=policy.auto_close_minutes)
    return None


def restart(ticket: Ticket, policy: Policy) -> None:
    """Start the ladder afresh from the current deadline; a pending extension request was
    about the old one and lapses."""
    ticket.request_minutes = None
    ticket.ladder_step = 0
    ticket.escalation_level = 0
    deadline = current_deadline(ticket, policy)
    if deadline is None or phase_of(ticket.status) is Phase.CONFIRM:
        ticket.next_check_at = deadline
        return
    ladder = policy.for_category(ticket.category).ladder
    ticket.next_check_at = step_due(ladder, deadline, 0, policy.adder(ticket.category))


def track(ticket: Ticket, transition: Transition, now: datetime, policy: Policy) -> None:
    new_deadlines = NEW_DEADLINES.get(transition.action)
    if new_deadlines is not None:
        new_deadlines(ticket, now, policy)
    before = phase_of(transition.from_status) if transition.from_status else None
    if new_deadlines is not None or before != phase_of(transition.to_status):
        restart(ticket, policy)


def extend(ticket: Ticket, minutes: int, now: datetime, policy: Policy) -> datetime:
    """Move the current deadline by `minutes` (of the category's kind); the ladder restarts."""
    add = policy.adder(ticket.category)
    phase = phase_of(ticket.status)
    old = ticket.claim_due_at if phase is Phase.CLAIM else ticket.resolve_due_at
    new = add(max(old, now) if old else now, minutes)
    if phase is Phase.CLAIM:
        ticket.claim_due_at = new
    else:
        ticket.resolve_due_at = new
    restart(ticket, policy)
    return new


def make_severe(ticket: Ticket, policy: Policy) -> bool:
    """Confirmations showed the problem is serious: use the severe deadlines from filing,
    where they are earlier. A ladder that has not yet notified anyone restarts from the
    new deadline; one already under way keeps its place (nobody is told twice)."""
    if ticket.severe:
        return False
    ticket.severe = True
    d = policy.for_category(ticket.category).deadlines(True)
    add = policy.adder(ticket.category)
    moved = False
    for attr, span in (("claim_due_at", d.claim), ("resolve_due_at", d.resolve)):
        due = add(ticket.created_at, span)
        current = getattr(ticket, attr)
        if current is None or due < current:
            setattr(ticket, attr, due)
            moved = True
    if moved and not ticket.ladder_step and not ticket.escalation_level:
        restart(ticket, policy)
    return moved


def reassess(ticket: Ticket, now: datetime, policy: Policy) -> None:
    """The ticket's category or severity changed after filing (the rider's later words):
    its deadlines become those it would have had from filing, never earlier than now. A
    ladder that has not yet notified anyone restarts from them; one under way keeps its
    place (nobody is told twice)."""
    d = policy.for_category(ticket.category).deadlines(ticket.severe)
    add = policy.adder(ticket.category)
    if ticket.claimed_at is None:
        ticket.claim_due_at = max(add(ticket.created_at, d.claim), now)
    ticket.resolve_due_at = max(add(ticket.created_at, d.resolve), now)
    if not ticket.ladder_step and not ticket.escalation_level:
        restart(ticket, policy)
