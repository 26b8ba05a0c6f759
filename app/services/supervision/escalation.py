"""The deadline sweeps: reminders and escalation up the ladder, and auto-closure.

Each sweep finds the tickets whose `next_check_at` has come (one index range scan), acts,
records an event, owes notices through the outbox and moves `next_check_at` on, all in
the caller's transaction. Running a sweep twice does nothing the second time; after a
long stop every missed step is caught up at once, each level told once, the holder
reminded once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.policy import Phase, Policy, catch_up, due_steps, phase_of, step_due
from app.domain.ticket_notices import span
from app.domain.tickets import Action, Status
from app.services import policies
from app.services.handling.actors import SYSTEM
from app.services.handling.ticket_actions import act
from app.services.handling.ticket_card import NoticeSettings
from app.services.supervision import escalation_notices as texts
from app.services.supervision.ladder import LEVEL_LABELS, level_person
from models import Ticket

LADDER_STATUSES = [
    s.value
    for s in (Status.ASSIGNED, Status.CLAIMED, Status.REOPENED, Status.SUMMONED, Status.RETURNED)
]
BATCH = 200


@dataclass
class SweepResult:
    tickets: int = 0
    reminders: int = 0
    escalations: int = 0
    closed: int = 0

    def __str__(self) -> str:
        return (
            f"{self.tickets} tickets due: {self.reminders} reminders, "
            f"{self.escalations} escalations, {self.closed} closed"
        )


def _due(session: Session, now: datetime, statuses: list[str], limit: int) -> list[Ticket]:
    """Tickets whose next check has come, locked; rows another sweep holds are skipped."""
    ids = session.scalars(
        select(Ticket.id)
        .where(Ticket.next_check_at <= now, Ticket.status.in_(statuses))
        .order_by(Ticket.next_check_at, Ticket.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not ids:
        return []
    return list(
        session.scalars(select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id)).unique()
    )


def escalate_due(
    session: Session,
    *,
    now: datetime,
    policy: Policy | None = None,
    limit: int = BATCH,
    notice_settings: NoticeSettings | None = None,
) -> SweepResult:
    """Remind and escalate every ticket whose deadline step has come (up to `limit`)."""
    policy = policy or policies.of(session)
    wording = notice_settings or NoticeSettings(tz=policy.calendar.timezone)
    result = SweepResult()
    for ticket in _due(session, now, LADDER_STATUSES, limit):
        result.tickets += 1
        _advance(session, ticket, now, policy, result, wording)
    return result


def _advance(
    session: Session,
    ticket: Ticket,
    now: datetime,
    policy: Policy,
    result: SweepResult,
    wording: NoticeSettings,
) -> None:
    phase = phase_of(ticket.status)
    deadline = ticket.claim_due_at if phase is Phase.CLAIM else ticket.resolve_due_at
    if phase not in (Phase.CLAIM, Phase.RESOLVE) or deadline is None:
        ticket.next_check_at = None
        return
    ladder = policy.for_category(ticket.category).ladder
    add = policy.adder(ticket.category)
    steps = due_steps(ladder, deadline, ticket.ladder_step, now, add)
    for step in catch_up(ladder, steps):
        if ladder.is_reminder(step):
            _remind(session, ticket, phase, deadline, now, policy, wording)
            result.reminders += 1
        elif _escalate(session, ticket, phase, deadline, now, policy, ladder.levels, wording):
            result.escalations += 1
        else:  # nobody left above: the ladder is done for this deadline
            ticket.ladder_step = ladder.steps
            ticket.next_check_at = None
            return
    if steps:
        ticket.ladder_step = steps[-1] + 1
    ticket.next_check_at = step_due(ladder, deadline, ticket.ladder_step, add)


def _remind(session, ticket, phase, deadline, now, policy, wording) -> None:
    verb = texts.PHASE_VERBS[phase]
    tz = policy.calendar.timezone
    act(
        session,
        ticket,
        Action.REMIND,
        SYSTEM,
        now=now,
        note=f"{verb}超时提醒（期限 {texts.local(deadline, tz)}）",
        notice_settings=wording,
        phase=phase,
        deadline=deadline,
    )
    ticket.last_reminded_at = now


def _escalate(session, ticket, phase, deadline, now, policy, levels, wording) -> bool:
    """Tell the next level up that has somebody; False when no level is left."""
    for index in range(ticket.escalation_level, len(levels)):
        level = levels[index]
        person = level_person(session, ticket, level)
        if person is None:
            continue
        verb = texts.PHASE_VERBS[phase]
        late_minutes = (now - deadline).total_seconds() / 60
        act(
            session,
            ticket,
            Action.ESCALATE,
            SYSTEM,
            now=now,
            note=f"{verb}超时 {span(late_minutes)}，升级至{LEVEL_LABELS[level]}{person.name}",
            phase=phase,
            deadline=deadline,
            level=level,
            to=person,
            notice_settings=wording,
        )
        ticket.escalation_level = index + 1
        ticket.last_escalated_at = now
        return True
    ticket.escalation_level = len(levels)
    return False


def auto_close_due(
    session: Session,
    *,
    now: datetime,
    policy: Policy | None = None,
    limit: int = BATCH,
    notice_settings: NoticeSettings | None = None,
) -> SweepResult:
    """Close resolved tickets whose rider did not answer within the policy's time."""
    policy = policy or policies.of(session)
    hours = policy.auto_close_minutes / 60
    result = SweepResult()
    for ticket in _due(session, now, [Status.RESOLVED.value], limit):
        result.tickets += 1
        act(
            session,
            ticket,
            Action.AUTO_CLOSE,
            SYSTEM,
            now=now,
            note=f"上报人 {hours:g} 小时未确认，自动关闭",
            notice_settings=notice_settings,
            hours=hours,
        )
        result.closed += 1
    return result
