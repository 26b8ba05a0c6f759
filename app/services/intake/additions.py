"""What a rider adds to a ticket just filed, and takes back (取消).

An addition (a photo, more words) is logged on the ticket. Words may change what the
ticket is (see `app.domain.urgency`): a photo-only report that "井盖没了，很危险" is a
severe manhole cover, with that category's deadlines from filing. The worker then gets a
correction at once saying the category, the urgency and by when to act. Other additions
reach the worker at most once per interval: the first at once, the next ones gathered
into one notice sent when the interval has passed.

"取消" right after an addition takes it back: its words and photo leave the ticket, what
they changed is judged again, and a worker who already heard of it is told.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.domain.delivery import OutboxStatus
from app.domain.duplicates import Severity, severity_for
from app.domain.people import Role
from app.domain.photos import PhotoRole
from app.domain.policy import Policy
from app.domain.tickets import Action
from app.domain.urgency import Assessment, assess
from app.services import policies
from app.services.handling import deadlines
from app.services.handling.actors import Actor
from app.services.handling.ticket_actions import act
from app.services.handling.ticket_change import Change
from app.services.handling.ticket_notices import tell
from models import OutboxMessage, Rider, Ticket, TicketEvent, TicketPhoto

MORE_INFO = "ticket_more_info"
"""The outbox kind of the notice table's ADD_INFO and REMOVE_INFO notices."""


@dataclass(frozen=True)
class AdditionRules:
    interval: timedelta = timedelta(minutes=5)
    """The worker hears of a ticket's additions at most once per interval."""
    window: timedelta = timedelta(minutes=5)
    """How long after an addition "取消" takes it back."""
    timezone: str = "Asia/Shanghai"


def add(
    session: Session,
    ticket: Ticket,
    rider: Rider,
    *,
    text: str = "",
    photo: TicketPhoto | None = None,
    now: datetime,
    rules: AdditionRules,
    message_key: str | None = None,
    policy: Policy | None = None,
) -> bool:
    """Add the rider's words and/or photo (a row already made for this ticket) to it;
    whether the words changed its category or severity (the worker got a correction)."""
    policy = policy or policies.of(session)
    what = []
    if photo is not None:
        what.append("1 张照片")
    if text:
        what.append(f"描述「{text}」")
    note = "、".join(what)
    change = act(
        session,
        ticket,
        Action.ADD_INFO,
        Actor.of_rider(rider),
        now=now,
        note=note,
        message_key=message_key,
        notify=False,  # at most once per interval: decided below
    )
    if text:
        ticket.description = f"{ticket.description}；{text}" if ticket.description else text
    # Words or another photo: the report is no longer empty (a photo that fails too asks
    # again), so later messages need not wait for this ticket.
    ticket.details_requested_at = None
    before, after = _reassess(ticket, now, policy)
    last = ticket.more_info_noticed_at
    if before != after or last is None or now >= last + rules.interval:
        _tell_now(session, change, rules=rules, before=before, after=after)
    else:
        _reschedule(session, change, rules=rules, current=note)
    return before != after


def take_back_last(
    session: Session,
    rider: Rider,
    *,
    now: datetime,
    rules: AdditionRules,
    message_key: str | None = None,
    policy: Policy | None = None,
) -> tuple[Ticket, str] | None:
    """ "取消" with no draft: take back the rider's addition of the last few minutes, if it
    is still the last thing that happened to its ticket. (ticket, what was taken back)."""
    ticket_id = session.scalar(
        select(TicketEvent.ticket_id)
        .where(
            TicketEvent.actor_openid == rider.openid,
            TicketEvent.action == Action.ADD_INFO.value,
            TicketEvent.at >= now - rules.window,
        )
        .order_by(TicketEvent.id.desc())
        .limit(1)
    )
    ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
    if ticket is None:
        return None
    what = take_back(
        session, ticket, rider, now=now, rules=rules, message_key=message_key, policy=policy
    )
    return (ticket, what) if what is not None else None


def take_back(
    session: Session,
    ticket: Ticket,
    rider: Rider,
    *,
    now: datetime,
    rules: AdditionRules,
    message_key: str | None = None,
    policy: Policy | None = None,
) -> str | None:
    """Take back the rider's last addition to `ticket` if it was made within the window;
    what was taken back ("描述「…」"), or None when there is nothing to take back."""
    last = _last_event(session, ticket)
    if (
        last is None
        or last.action != Action.ADD_INFO.value
        or last.actor_openid != rider.openid
        or last.at < now - rules.window
    ):
        return None
    policy = policy or policies.of(session)
    told = _was_told(ticket, last.at, now, rules)
    change = act(
        session,
        ticket,
        Action.REMOVE_INFO,
        Actor.of_rider(rider),
        now=now,
        note=f"撤回补充：{last.note}",
        message_key=message_key,
        notify=False,  # only a worker who heard of it (or whose ticket it changed) is told
    )
    text = _added_text(last.note)
    if text is not None:
        ticket.description = _without_suffix(ticket.description, text)
    session.execute(
        delete(TicketPhoto).where(
            TicketPhoto.ticket_id == ticket.id,
            TicketPhoto.sender_openid == rider.openid,
            TicketPhoto.role == PhotoRole.REPORT,
            TicketPhoto.created_at == last.at,
        )
    )
    session.expire(ticket, ["photos"])
    before, after = _reassess(ticket, now, policy)
    if told or before != after:
        _tell_now(
            session,
            change,
            rules=rules,
            before=before,
            after=after,
            taken_back=last.note,
        )
    else:
        _reschedule(session, change, rules=rules)
    return last.note


# --- what the words make of the ticket --------------------------------------------------


def _reassess(ticket: Ticket, now: datetime, policy: Policy) -> tuple[Assessment, Assessment]:
    """Judge the ticket's category and severity again from its words; when either changed,
    its confirmation level and deadlines follow. (before, after)."""
    before = Assessment(ticket.category, ticket.severe)
    confirmed = Severity(ticket.severity) is not Severity.NORMAL
    after = assess(ticket.category, ticket.description, policy=policy, confirmed_severe=confirmed)
    if after != before:
        ticket.category, ticket.severe = after.category, after.severe
        ticket.severity = severity_for(ticket.category, ticket.confirmations).value
        if ticket.merged_into_id is None:
            deadlines.reassess(ticket, now, policy)
    return before, after


# --- telling the worker, at most once per interval ----------------------------------------


def _tell_now(
    session: Session,
    change: Change,
    *,
    rules: AdditionRules,
    before: Assessment,
    after: Assessment,
    taken_back: str = "",
) -> None:
    """Tell the worker now, through the ticket's notice table, everything they have not
    heard yet: a notice waiting for the interval is folded into this one."""
    ticket, now = change.ticket, change.now
    since = _told_until(ticket, now, rules)
    _drop_scheduled(session, ticket, now)
    current = "" if taken_back else change.note
    ticket.more_info_noticed_at = now
    change.details.update(
        added=_untold(session, ticket, since, current),
        before=before,
        after=after,
        tz=ZoneInfo(rules.timezone),
        taken_back=taken_back,
    )
    tell(session, change)


def _reschedule(
    session: Session, change: Change, *, rules: AdditionRules, current: str = ""
) -> None:
    """The notice waiting for the interval says everything added since the last one (or,
    when everything was taken back, goes): the change's notice from the table, gathering
    what the worker has not heard yet and held in the outbox until the interval has
    passed."""
    ticket, now = change.ticket, change.now
    since = _told_until(ticket, now, rules)
    _drop_scheduled(session, ticket, now)
    added = _untold(session, ticket, since, current)
    if not added:
        ticket.more_info_noticed_at = since
        return
    assert since is not None  # never told: the addition was told at once
    due = since + rules.interval
    ticket.more_info_noticed_at = due
    change.details["added"] = added
    tell(session, change, not_before=due)


def _told_until(ticket: Ticket, now: datetime, rules: AdditionRules) -> datetime | None:
    """Until when the worker heard of this ticket's additions (None: never). A notice
    still waiting for its time was due one interval after the one before it."""
    last = ticket.more_info_noticed_at
    if last is None:
        return None
    return last - rules.interval if last > now else last


def _was_told(ticket: Ticket, at: datetime, now: datetime, rules: AdditionRules) -> bool:
    told_until = _told_until(ticket, now, rules)
    return told_until is not None and at <= told_until


def _drop_scheduled(session: Session, ticket: Ticket, now: datetime) -> None:
    session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.ticket_id == ticket.id,
            OutboxMessage.kind == MORE_INFO,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.attempts == 0,
            OutboxMessage.next_attempt_at > now,
        )
    )


def _additions_since(session: Session, ticket: Ticket, since: datetime | None) -> list[str]:
    """What the rider added after `since` (None: ever) and did not take back, oldest
    first."""
    added: list[str] = []
    query = select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id,
        TicketEvent.action.in_([Action.ADD_INFO.value, Action.REMOVE_INFO.value]),
    )
    if since is not None:
        query = query.where(TicketEvent.at > since)
    events = session.scalars(query.order_by(TicketEvent.id))
    for event in events:
        if event.action == Action.ADD_INFO.value:
            added.append(event.note)
        elif added:
            added.pop()
    return added


def _untold(session: Session, ticket: Ticket, since: datetime | None, current: str) -> list[str]:
    """The additions after `since`, with the `current` one even when it was made in the
    same instant as the last notice (a clock that does not move, as in tests)."""
    added = _additions_since(session, ticket, since)
    if current and (not added or added[-1] != current):
        added.append(current)
    return added


def _last_event(session: Session, ticket: Ticket) -> TicketEvent | None:
    """The ticket's last change by a person: what gridbot did on its own since (a hazard
    alert the words set off) does not stand between a rider and their 取消."""
    return session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.actor_role != Role.SYSTEM.value)
        .order_by(TicketEvent.id.desc())
        .limit(1)
    ).first()


_ADDED_TEXT = re.compile(r"描述「(.*)」$", re.S)


def _added_text(note: str) -> str | None:
    m = _ADDED_TEXT.search(note)
    return m.group(1) if m else None


def _without_suffix(description: str, text: str) -> str:
    if description == text:
        return ""
    if description.endswith("；" + text):
        return description[: -len(text) - 1]
    return description
