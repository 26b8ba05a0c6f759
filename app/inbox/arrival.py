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
from sqlalchemy.orm.attributes import set_committed_value

from app.db import as_loaded
from app.domain.delivery import OutboxStatus
from app.services.directory.grids import AREA_COLUMNS, STAFF_COLUMNS
from models import (
    Area,
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
# message (no rider row) and a rider who is no staff get the facts all the same. Rows,
# not entities: the objects are made from them (app/db.py as_loaded), at a fraction of
# what the ORM's loading costs.
_OPENID, _KEY = bindparam("openid"), bindparam("dedup_key")
_ONE_ROW = select(literal_column("1").label("one")).subquery("one_row")
_RIDERS, _STAFF, _AREAS = Rider.__table__, Staff.__table__, Area.__table__
RIDER_COLUMNS = tuple(_RIDERS.c)
_R, _S = len(RIDER_COLUMNS), len(RIDER_COLUMNS) + len(STAFF_COLUMNS)
_A = _S + len(AREA_COLUMNS)
ARRIVAL = (
    select(*RIDER_COLUMNS, *STAFF_COLUMNS, *AREA_COLUMNS, *_facts(_OPENID, _KEY))
    .select_from(_ONE_ROW)
    .outerjoin(_RIDERS, _RIDERS.c.openid == _OPENID)
    .outerjoin(_STAFF, (_STAFF.c.openid == _OPENID) & _STAFF.c.active)
    .outerjoin(_AREAS, _AREAS.c.id == _STAFF.c.area_id)
)


def arrival(session: Session, openid: str, dedup_key: str) -> Arrival:
    row = session.connection().execute(ARRIVAL, {"openid": openid, "dedup_key": dedup_key}).one()
    rider = staff = None
    if row[0] is not None:
        rider = as_loaded(session, Rider, RIDER_COLUMNS, row[:_R])
    if row[_R] is not None:
        staff = as_loaded(session, Staff, STAFF_COLUMNS, row[_R:_S])
        if "area" not in staff.__dict__:
            set_committed_value(staff, "area", as_loaded(session, Area, AREA_COLUMNS, row[_S:_A]))
    stored, handled, held, failed, parked, others, station_request = row[_A:]
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
