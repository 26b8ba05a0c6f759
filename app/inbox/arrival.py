"""What the chat engine must know when a message arrives, asked in one statement.

Was this message handled already (a WeChat retry), who is sending it (rider row, staff
id), are notices held for them, did an earlier attempt at it fail, was it parked? Asked one by one
these were five round trips per message, the largest share of a short message's cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session, aliased

from app.domain.delivery import OutboxStatus
from models import InboxFailure, InboxMessage, OutboxMessage, ParkedMessage, Rider, Staff


@dataclass(frozen=True)
class Arrival:
    rider: Rider | None
    """None on a person's first message."""
    staff_id: int | None
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


def _facts(openid, dedup_key) -> tuple:
    return (
        select(Staff.id)
        .where(Staff.openid == openid, Staff.active)
        .limit(1)
        .scalar_subquery()
        .label("staff_id"),
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
    )


_EARLIER = aliased(ParkedMessage)


# Built once: constructing a statement of this size costs more than running it.
_OPENID, _KEY = bindparam("openid"), bindparam("dedup_key")
KNOWN_RIDER = select(Rider, *_facts(_OPENID, _KEY)).where(Rider.openid == _OPENID)
NEW_PERSON = select(*_facts(_OPENID, _KEY))


def arrival(session: Session, openid: str, dedup_key: str) -> Arrival:
    params = {"openid": openid, "dedup_key": dedup_key}
    row = session.execute(KNOWN_RIDER, params).first()
    if row is None:  # a person's first message: the same facts without a rider row
        row = (None, *session.execute(NEW_PERSON, params).one())
    rider, staff_id, stored, handled, held, failed, parked, others = row
    return Arrival(
        rider,
        staff_id,
        bool(handled),
        stored or "",
        bool(held),
        bool(failed),
        bool(parked),
        bool(others),
    )
