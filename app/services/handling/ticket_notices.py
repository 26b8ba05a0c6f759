"""Owe the notices a ticket change implies: the notice table's audiences turned into people
and its text keys into words.

One notice per person per change: someone in two audiences hears once (the first entry of
the table that names them), and the actor hears nothing of what they just did (their
answer is the reply to their own message).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.domain.people import Role
from app.domain.ticket_notices import Audience, When, notices_for
from app.domain.tickets import Action, Status
from app.services import notices
from app.services.directory.grids import responsible_staff
from app.services.handling.ticket_change import Change
from app.services.intake import intake_notices
from app.services.outbox import enqueue
from app.services.riders import owed_alerts
from app.services.supervision import escalation_notices as oversight
from app.services.supervision.ladder import above
from models import Rider, Staff, Ticket

MERGED_REPORTERS = (
    select(Rider.openid)
    .join(Ticket, Ticket.reporter_id == Rider.id)
    .where(Ticket.merged_into_id == bindparam("ticket_id"))
    .order_by(Ticket.id)
)


def followers(session: Session, ticket: Ticket) -> list[str]:
    """Who hears a ticket's progress: its reporter and the riders of reports merged into it."""
    found = [ticket.reporter.openid]
    if not ticket.confirmations:
        # No other rider's report is merged into it: `confirmations` counts them, and is
        # counted again whenever a report is merged or split off (duplicates._recount).
        return found
    for openid in session.scalars(MERGED_REPORTERS, {"ticket_id": ticket.id}):
        if openid not in found:
            found.append(openid)
    return found


def summoner(ticket: Ticket) -> str | None:
    """The openid of whoever last summoned a department to this ticket."""
    for event in reversed(ticket.events):
        if event.action == Action.SUMMON.value:
            return event.actor_openid
    return None


def _department_holds(ticket: Ticket) -> bool:
    return ticket.assignee is not None and ticket.assignee.role == Role.DEPARTMENT


def _openid(staff: Staff | None) -> list[str | None]:
    return [staff.openid if staff is not None else None]


def audience(session: Session, change: Change, who: Audience) -> list[str | None]:
    """The openids `who` means for this change (None for someone not bound)."""
    ticket = change.ticket
    if who is Audience.FOLLOWERS:
        return list(followers(session, ticket))
    if who is Audience.REPORTER:
        return [ticket.reporter.openid]
    if who is Audience.HOLDER:
        return _openid(ticket.assignee)
    if who is Audience.WORKER:
        return _openid((ticket.merged_into or ticket).assignee)
    if who is Audience.PREVIOUS_HOLDER:
        before, now = change.previous, ticket.assignee
        return _openid(before) if before is not None and before is not now else []
    if who is Audience.LEAD_ABOVE:
        return _openid(above(session, ticket, ticket.assignee))
    if who is Audience.SUMMONER:
        if change.action is not Action.CHECK_IN and not _department_holds(ticket):
            return []
        return [summoner(ticket)]
    if who is Audience.SUMMONED:
        return [s.openid for s in change.details.get("liaisons", ())]
    if who is Audience.GRID_WORKER:
        if not _department_holds(ticket):
            return []
        return _openid(responsible_staff(session, ticket.grid or ticket.area))
    if who is Audience.LADDER:
        return _openid(change.details.get("to"))
    raise ValueError(who)  # pragma: no cover


CONDITIONS: dict[When, Callable[[Change], bool]] = {
    When.ANNOUNCED: lambda c: bool(c.details.get("announced")),
    When.SPLIT_OFF: lambda c: c.transition.from_status is Status.MERGED,
    When.GATHERED: lambda c: bool(c.details.get("gathered")),
}


def tell(session: Session, change: Change, *, not_before: datetime | None = None) -> list[str]:
    """Owe every person the change concerns its notice; the openids told. `not_before`
    holds the notices in the outbox until then (a notice told at most once per interval)."""
    ticket = change.ticket
    actor = change.actor.openid
    for notice in notices_for(change.action):
        if notice.when is not None and not CONDITIONS[notice.when](change):
            continue
        text: str | None = None
        for openid in audience(session, change, notice.audience):
            if not openid or openid == actor or openid in change.told:
                continue
            if text is None:
                text = TEXTS[notice.text](change)
            enqueue(
                session,
                to_openid=openid,
                kind=notice.kind,
                text=text,
                now=change.now,
                ticket_id=ticket.id,
                not_before=not_before,
            )
            change.told.append(openid)
    owed_alerts.follow(session, change)  # riders nearby, sent by the hazard-alert sweep
    return change.told


# --- the texts, by the keys the notice table uses ----------------------------------------


def _staff(c: Change) -> Staff:
    staff = c.actor.staff
    if staff is None and c.actor.role is Role.API_CLIENT:
        # The texts name who acted: an outside platform by its name (never added).
        return Staff(name=c.actor.name, role=Role.API_CLIENT.value)
    assert staff is not None
    return staff


def _d(c: Change, key: str):
    return c.details[key]


TEXTS: dict[str, Callable[[Change], str]] = {
    "new_ticket": lambda c: notices.new_ticket_for_worker(
        c.ticket, now=c.now, settings=c.settings, photo_links=c.details.get("photo_links")
    ),
    "more_info": lambda c: intake_notices.more_info(c),
    "info_taken_back": lambda c: intake_notices.more_info(c),
    "describe_please": lambda c: intake_notices.describe_please_for_rider(c.ticket, _d(c, "why")),
    "photo_unusable": lambda c: intake_notices.photo_unusable_for_worker(c.ticket, _d(c, "why")),
    "claimed": lambda c: notices.claimed_for_rider(c.ticket, _staff(c)),
    "note": lambda c: notices.note_for_rider(c.ticket, _staff(c), c.note),
    "resolved": lambda c: (
        notices.resolved_for_rider(c.ticket, _staff(c), c.note)
        + notices.resolution_photos(c.details.get("photo_links", ()))
    ),
    "resolved_by_department": lambda c: notices.resolved_by_department(c.ticket, _staff(c), c.note),
    "transferred_to_worker": lambda c: notices.new_ticket_for_worker(
        c.ticket, now=c.now, settings=c.settings, transferred_by=_staff(c)
    ),
    "transferred_away": lambda c: notices.transferred_away(c.ticket, _staff(c)),
    "transferred": lambda c: notices.transferred_for_rider(c.ticket),
    "confirmed_for_worker": lambda c: notices.closed_for_worker(c.ticket),
    "confirmed_for_rider": lambda c: notices.confirmed_for_follower(c.ticket),
    "reopened_for_worker": lambda c: notices.reopened_for_worker(
        c.ticket, now=c.now, settings=c.settings, reason=c.details.get("reason", "")
    ),
    "reopened_for_lead": lambda c: oversight.reopened_for_lead(
        c.ticket, now=c.now, settings=c.settings, reason=c.details.get("reason", "")
    ),
    "reopened_for_rider": lambda c: notices.reopened_for_follower(
        c.ticket, c.details.get("reason", "")
    ),
    "auto_closed_for_rider": lambda c: oversight.auto_closed_for_rider(c.ticket, _d(c, "hours")),
    "auto_closed_for_worker": lambda c: oversight.auto_closed_for_worker(c.ticket, _d(c, "hours")),
    "reminder": lambda c: oversight.reminder(
        c.ticket, _d(c, "phase"), _d(c, "deadline"), c.now, c.settings.tz, c.settings
    ),
    "escalation": lambda c: oversight.escalation(
        c.ticket,
        _d(c, "phase"),
        _d(c, "deadline"),
        c.now,
        _d(c, "level"),
        c.settings.tz,
        c.settings,
    ),
    "summoned_for_department": lambda c: oversight.summoned_for_department(
        c.ticket, _staff(c), now=c.now, settings=c.settings
    ),
    "summoned_for_holder": lambda c: oversight.summoned_for_holder(
        c.ticket, _d(c, "liaisons")[0].name, _staff(c)
    ),
    "checked_in_for_rider": lambda c: oversight.checked_in_for_rider(c.ticket, _staff(c)),
    "checked_in_for_summoner": lambda c: oversight.checked_in_for_summoner(c.ticket, _staff(c)),
    "extension_request": lambda c: oversight.extension_request(
        c.ticket, _staff(c), _d(c, "duration"), _d(c, "reason")
    ),
    "extension_approved": lambda c: oversight.extension_approved(
        c.ticket, _staff(c), _d(c, "due"), c.now, _d(c, "tz")
    ),
    "extension_refused": lambda c: oversight.extension_refused(
        c.ticket, _staff(c), c.details.get("reason", "")
    ),
    "return_request": lambda c: oversight.return_request(
        c.ticket, _staff(c), _d(c, "reason"), now=c.now, settings=c.settings
    ),
    "pass_on_request": lambda c: oversight.pass_on_request(
        c.ticket, _staff(c), _d(c, "reason"), now=c.now, settings=c.settings
    ),
    "passed_on_for_rider": lambda c: oversight.passed_on_for_rider(c.ticket),
    "rejected_for_rider": lambda c: oversight.return_confirmed_for_rider(
        c.ticket, c.ticket.request_reason
    ),
    "return_confirmed": lambda c: oversight.return_confirmed_for_worker(c.ticket, _staff(c)),
    "return_refused": lambda c: oversight.return_refused_for_worker(
        c.ticket, _staff(c), c.details.get("reason", "")
    ),
    "more_reports": lambda c: notices.more_reports_for_worker(c.ticket, _d(c, "gathered")),
    "merged_for_worker": lambda c: notices.merged_for_worker(c.ticket, _d(c, "target")),
    "joined_for_rider": lambda c: notices.joined_for_rider(c.ticket, _d(c, "target")),
    "withdrawn_for_worker": lambda c: notices.withdrawn_for_worker(c.ticket),
    "resolution_photo": lambda c: notices.resolution_photo_for_rider(
        c.ticket, c.details.get("photo_links", ())
    ),
    "old_photo": lambda c: notices.old_photo_for_worker(c.ticket, _d(c, "taken")),
    "split_for_worker": lambda c: notices.new_ticket_for_worker(
        c.ticket, now=c.now, settings=c.settings
    ),
    "split_for_rider": lambda c: notices.split_for_rider(c.ticket, _d(c, "other")),
}
