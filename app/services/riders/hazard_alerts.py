"""Hazard alerts (issue 19 §3): tell riders seen nearby to ride around a blocked road, and
tell them again once it is open.

Ticket changes only owe an alert (app/services/riders/owed_alerts.py); `send_owed`, run by
the hazard-alert sweep a few seconds later, finds the riders nearby and queues a message
to each. A lead's "预警 <号>" is answered at once with how many riders it will reach and
owed like the rest. Each alert is recorded on the ticket's timeline with how many riders
heard of it. A reopened ticket alerts again; a rider still warned of it is not told twice.
Changes the session only; the caller commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, exists, func, select, union_all
from sqlalchemy.orm import Session

from app.domain import hazards
from app.domain.nearby_riders import METRES_PER_DEGREE_LAT, RiderIndex
from app.domain.people import Role
from app.domain.tickets import Action, Status
from app.services.errors import Conflict, NotAllowed
from app.services.handling.actors import SYSTEM
from app.services.handling.ticket_actions import act
from app.services.handling.tickets import get_ticket
from app.services.notices import where
from app.services.outbox import enqueue
from app.services.riders.owed_alerts import ALERT, CLEAR, owe
from app.services.supervision.ladder import covers
from models import (
    HazardAlert,
    HazardOptOut,
    InboxMessage,
    OwedHazardAlert,
    Rider,
    RiderPosition,
    Staff,
    Ticket,
    TicketEvent,
)

log = logging.getLogger(__name__)

RETRY_LATER = timedelta(minutes=1)
"""How long an owed alert whose sending failed waits before it is tried again."""
CLEARED_FROM = frozenset({Status.RESOLVED, Status.CLOSED})
"""An all-clear still goes out when the rider confirmed the resolution before the sweep ran."""


@dataclass(frozen=True, slots=True)
class Outcome:
    sent: int
    recipients: hazards.Recipients


def send_owed(session: Session, *, now: datetime) -> bool:
    """Send the oldest owed alert or all-clear that is due, if the ticket still calls for
    it; False when nothing is due. One per call: the sweep commits each on its own.

    One that fails is put back RETRY_LATER with the error logged, so that it never stands
    in front of the others (the sweep would otherwise meet it first on every run)."""
    owed = session.scalars(
        select(OwedHazardAlert)
        .where(OwedHazardAlert.owed_at <= now)
        .order_by(OwedHazardAlert.owed_at, OwedHazardAlert.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if owed is None:
        return False
    try:
        with session.begin_nested():
            _settle(session, owed, now)
    except Exception:
        log.exception(
            "hazard alert %s for ticket %s failed; retrying later", owed.id, owed.ticket_id
        )
        owed.owed_at = now + RETRY_LATER
        return True
    session.delete(owed)
    return True


def _settle(session: Session, owed: OwedHazardAlert, now: datetime) -> None:
    ticket = get_ticket(session, owed.ticket_id, lock=True)
    status = Status(ticket.status)
    if owed.kind == ALERT and status.is_open:
        if owed.requested_by is not None:
            alert(session, ticket, now=now, by=owed.requested_by)
        elif hazards.warrants_alert(ticket.category, ticket.severe) and not _alerted(
            session, ticket
        ):
            alert(session, ticket, now=now)
    elif owed.kind == CLEAR and status in CLEARED_FROM:
        clear(session, ticket, now=now)


def _alerted(session: Session, ticket: Ticket) -> bool:
    """An alert was sent since the ticket was last (re)opened."""
    reopened = (
        select(func.coalesce(func.max(TicketEvent.id), 0))
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == Action.REOPEN.value)
        .scalar_subquery()
    )
    done = exists().where(
        TicketEvent.ticket_id == ticket.id,
        TicketEvent.action == Action.HAZARD_ALERT.value,
        TicketEvent.id > reopened,
    )
    return bool(session.scalar(select(done)))


def lead_alert(session: Session, *, staff: Staff, ticket: Ticket, now: datetime) -> Outcome:
    """预警 <号>: a lead covering the ticket asks for the riders nearby who have not heard
    yet to be alerted; the outcome says how many riders that will reach now, and the
    alert is owed to the sweep, which sends it within seconds."""
    if not Role(staff.role).is_lead:
        raise NotAllowed("只有社区、街道或区级负责人可以发送绕行预警。")
    if not covers(staff, ticket):
        raise NotAllowed(f"工单 #{ticket.number} 不在您负责的区域，无权发送预警。")
    if not Status(ticket.status).is_open:
        label = Status(ticket.status).label
        raise Conflict(f"工单 #{ticket.number} 当前状态为「{label}」，不需要预警。")
    recipients = _recipients(session, ticket, now)
    owe(session, ticket, ALERT, now=now, by=staff.name)
    return Outcome(len(recipients.chosen), recipients)


def alert(session: Session, ticket: Ticket, *, now: datetime, by: str | None = None) -> Outcome:
    """Alert the riders seen near `ticket` who may be messaged and are not warned of it
    already; record on the timeline how many were."""
    recipients = _recipients(session, ticket, now)
    place = where(ticket)
    text = hazards.alert_text(
        ticket.category, place, hazards.map_link(ticket.lat, ticket.lng, place)
    )
    _send(session, ticket, recipients.chosen, ALERT, text, now)
    _record(
        session,
        ticket,
        Action.HAZARD_ALERT,
        hazards.timeline_note(len(recipients.chosen), recipients, by),
        now,
    )
    return Outcome(len(recipients.chosen), recipients)


def _recipients(session: Session, ticket: Ticket, now: datetime) -> hazards.Recipients:
    known = _followers(session, ticket) | _staff_riders(session)  # not counted: they know
    nearby = [r for r in _riders_near(session, ticket, now) if r not in known]
    return hazards.choose(
        nearby,
        now=now,
        warned=_warned(session, ticket),
        opted_out=_opted_out(session, nearby),
        last_message=_last_messages(session, nearby),
        alerts_last_hour=_alerts_last_hour(session, nearby, now),
    )


def _warned(session: Session, ticket: Ticket) -> set[int]:
    """The riders whose last word about `ticket` was an alert, not yet its all-clear: they
    are not alerted again, and they are the ones the all-clear is for. A rider told the
    road was open hears again if the ticket is reopened."""
    last: dict[int, str] = dict(
        session.execute(
            select(HazardAlert.rider_id, HazardAlert.kind)
            .where(HazardAlert.ticket_id == ticket.id)
            .order_by(HazardAlert.id)
        ).all()
    )
    return {rider_id for rider_id, kind in last.items() if kind == ALERT}


def clear(session: Session, ticket: Ticket, *, now: datetime) -> int:
    """Tell the riders still warned of `ticket` that the road is open; riders who have
    since unsubscribed or gone quiet for 48 hours are left alone."""
    waiting = sorted(_warned(session, ticket))
    if not waiting:
        return 0
    opted_out = _opted_out(session, waiting)
    spoke = _last_messages(session, waiting)
    chosen = [
        r
        for r in waiting
        if r not in opted_out and r in spoke and now - spoke[r] <= hazards.CHAT_WINDOW
    ]
    _send(session, ticket, chosen, CLEAR, hazards.clear_text(ticket.category, where(ticket)), now)
    # Riders left out are marked too: one all-clear per alert, never a late one.
    for rider_id in waiting:
        if rider_id not in chosen:
            session.add(
                HazardAlert(ticket_id=ticket.id, rider_id=rider_id, kind=CLEAR, sent_at=now)
            )
    _record(
        session, ticket, Action.HAZARD_CLEAR, f"已通知 {len(chosen)} 位收到预警的骑手恢复通行", now
    )
    return len(chosen)


def set_subscribed(session: Session, rider: Rider, subscribed: bool, *, now: datetime) -> bool:
    """订阅预警 / 退订预警; False when it was already so."""
    row = session.get(HazardOptOut, rider.id)
    if subscribed:
        if row is None:
            return False
        session.execute(delete(HazardOptOut).where(HazardOptOut.rider_id == rider.id))
        return True
    if row is not None:
        return False
    session.add(HazardOptOut(rider_id=rider.id, at=now))
    return True


# --- who is near, who may be messaged -----------------------------------------------------


def _riders_near(session: Session, ticket: Ticket, now: datetime) -> list[int]:
    """Riders seen within the radius since `SEEN_WITHIN` ago, nearest first: their last
    position (location messages and LOCATION events) and the places of their reports."""
    since = now - hazards.SEEN_WITHIN
    dlat = hazards.RADIUS_M / METRES_PER_DEGREE_LAT
    dlng = 2 * dlat  # wide enough up to 60° of latitude; the index checks the distance
    box_lat = (ticket.lat - dlat, ticket.lat + dlat)
    box_lng = (ticket.lng - dlng, ticket.lng + dlng)
    # One round trip: the last positions and the recent reports in the box, together.
    seen = union_all(
        select(
            RiderPosition.rider_id, RiderPosition.lat, RiderPosition.lng, RiderPosition.seen_at
        ).where(
            RiderPosition.seen_at >= since,
            RiderPosition.lat.between(*box_lat),
            RiderPosition.lng.between(*box_lng),
        ),
        select(Ticket.reporter_id, Ticket.lat, Ticket.lng, Ticket.created_at).where(
            Ticket.created_at >= since,
            Ticket.lat.between(*box_lat),
            Ticket.lng.between(*box_lng),
        ),
    )
    # No join with riders here (it read the whole table): who may be messaged, subscribed
    # included, is checked for the few found (`_last_messages`).
    rows = session.execute(seen).all()
    index = RiderIndex([(r, lat, lng, _aware(at)) for r, lat, lng, at in rows])
    found: list[int] = []
    for rider_id in index.within(ticket.lat, ticket.lng, hazards.RADIUS_M, seen_since=since):
        if rider_id not in found:
            found.append(rider_id)
    return found


def _followers(session: Session, ticket: Ticket) -> set[int]:
    """The reporter and riders of reports merged into the ticket: they know already."""
    merged = select(Ticket.reporter_id).where(Ticket.merged_into_id == ticket.id)
    return {ticket.reporter_id, *session.scalars(merged)}


def _staff_riders(session: Session) -> set[int]:
    return set(
        session.scalars(
            select(Rider.id).join(Staff, Staff.openid == Rider.openid).where(Staff.active)
        )
    )


def _opted_out(session: Session, rider_ids: list[int]) -> set[int]:
    if not rider_ids:
        return set()
    query = select(HazardOptOut.rider_id).where(HazardOptOut.rider_id.in_(rider_ids))
    return set(session.scalars(query))


def _last_messages(session: Session, rider_ids: list[int]) -> dict[int, datetime]:
    """When each rider still following the account last wrote to it (what opens the chat
    window): a message, not an event (a LOCATION event is sent by the phone, not the
    rider). A rider who unfollowed has no window."""
    if not rider_ids:
        return {}
    rows = session.execute(
        select(Rider.id, func.max(InboxMessage.received_at))
        .join(InboxMessage, InboxMessage.openid == Rider.openid)
        .where(Rider.id.in_(rider_ids), Rider.subscribed, InboxMessage.kind.not_like("event:%"))
        .group_by(Rider.id)
    ).all()
    return {rider_id: _aware(at) for rider_id, at in rows if at is not None}


def _aware(at: datetime | str) -> datetime:
    # SQLite's max() over a datetime column comes back as text
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at


def _alerts_last_hour(session: Session, rider_ids: list[int], now: datetime) -> dict[int, int]:
    if not rider_ids:
        return {}
    rows = session.execute(
        select(HazardAlert.rider_id, func.count())
        .where(
            HazardAlert.rider_id.in_(rider_ids),
            HazardAlert.kind == ALERT,
            HazardAlert.sent_at > now - hazards.ALERT_CAP_WINDOW,
        )
        .group_by(HazardAlert.rider_id)
    ).all()
    return {rider_id: int(n) for rider_id, n in rows}


def _send(
    session: Session, ticket: Ticket, rider_ids: list[int], kind: str, text: str, now: datetime
) -> None:
    if not rider_ids:
        return
    openids = dict(
        session.execute(select(Rider.id, Rider.openid).where(Rider.id.in_(rider_ids))).all()
    )
    for rider_id in rider_ids:
        session.add(HazardAlert(ticket_id=ticket.id, rider_id=rider_id, kind=kind, sent_at=now))
        enqueue(
            session,
            to_openid=openids[rider_id],
            kind=f"hazard_{kind}",
            text=text,
            now=now,
            ticket_id=ticket.id,
        )


def _record(session: Session, ticket: Ticket, action: Action, note: str, now: datetime) -> None:
    act(session, ticket, action, SYSTEM, now=now, note=note)
