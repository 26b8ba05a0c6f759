"""What the chat engine must know when a message arrives, asked in one statement.

Was this message handled already (a WeChat retry), who is sending it (rider row, staff
row), are notices held for them, did an earlier attempt at it fail, was it parked, does
the rider wait for an answer to "驿站"? Asked one by one these were seven round trips per
message, the largest share of a short message's cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, exists, literal_column, select
from sqlalchemy.orm import Session, aliased

from app.domain.delivery import OutboxStatus
from models import (
    InboxFailure,
    InboxMessage,
    OutboxMessage,
    ParkedMessage,
    Rider,
    Staff,
    StationRequest,
)


@dataclass(frozen=True)
class Arrival:
    rider: Rider | None
    """None on a person's first message."""
    staff: Staff | None
    """The sender's active staff record (its area loaded), if they are staff."""
    handled: bool
    """An earlier attempt at this very message has committed."""
    stored_reply: str
    held_notices: bool
    failed_before: bool
    """An earlier attempt failed and is kept in inbox_failures, not yet recovered."""
    parked: bool
    """Acknowledged already ("success"): its answer goes by customer-service message."""
    others_parked: bool
    """Other messages of this sender were parked and are not handled yet: those sent
    earlier must be handled first (see late_answers.earlier_unhandled)."""
    station_request: bool
    """The rider asked for stations (驿站) before their location was known: a location
    may answer it (app/services/riders/stations.py take_request)."""


def _facts(openid, dedup_key) -> tuple:
    return (
        select(InboxMessage.reply)
        .where(InboxMessage.dedup_key == dedup_key)
        .scalar_subquery()
        .label("stored_reply"),
        exists().where(InboxMessage.dedup_key == dedup_key).label("handled"),
        exists()
        .where(OutboxMessage.to_openid == openid, OutboxMessage.status == OutboxStatus.HELD)
        .label("held"),
        exists()
        .where(InboxFailure.dedup_key == dedup_key, InboxFailure.recovered_at.is_(None))
        .label("failed"),
        exists().where(ParkedMessage.dedup_key == dedup_key).label("parked"),
        exists()
        .where(
            _EARLIER.openid == openid,
            _EARLIER.answered_at.is_(None),
            _EARLIER.dedup_key != dedup_key,
            ~exists().where(InboxMessage.dedup_key == _EARLIER.dedup_key),
        )
        .label("parked_unhandled"),
        exists().where(StationRequest.rider_id == Rider.id).label("station_request"),
    )


_EARLIER = aliased(ParkedMessage)


# Built once: constructing a statement of this size costs more than running it. The
# rider and the staff record are outer-joined to one row, so that a person's first
# message (no rider row) and a rider who is no staff get the facts all the same.
_OPENID, _KEY = bindparam("openid"), bindparam("dedup_key")
_ONE_ROW = select(literal_column("1").label("one")).subquery("one_row")
ARRIVAL = (
    select(Rider, Staff, *_facts(_OPENID, _KEY))
    .select_from(_ONE_ROW)
    .outerjoin(Rider, Rider.openid == _OPENID)
    .outerjoin(Staff, (Staff.openid == _OPENID) & Staff.active)
)


def arrival(session: Session, openid: str, dedup_key: str) -> Arrival:
    row = session.execute(ARRIVAL, {"openid": openid, "dedup_key": dedup_key}).one()
    rider, staff, stored, handled, held, failed, parked, others, station_request = row
    return Arrival(
        rider,
        staff,
        bool(handled),
        stored or "",
        bool(held),
        bool(failed),
        bool(parked),
        bool(others),
        bool(station_request),
    )
