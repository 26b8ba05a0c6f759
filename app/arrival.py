"""What the chat engine must know when a message arrives, asked in one statement.

Was this message handled already (a WeChat retry), who is sending it (rider row, staff
id), are notices held for them, and did an earlier attempt at it fail? Asked one by one
these were five round trips per message, the largest share of a short message's cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from models import InboxFailure, InboxMessage, OutboxMessage, Rider, Staff


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
        .where(OutboxMessage.to_openid == openid, OutboxMessage.status == "held")
        .label("held"),
        exists()
        .where(InboxFailure.dedup_key == dedup_key, InboxFailure.recovered_at.is_(None))
        .label("failed"),
    )


# Built once: constructing a statement of this size costs more than running it.
_OPENID, _KEY = bindparam("openid"), bindparam("dedup_key")
KNOWN_RIDER = select(Rider, *_facts(_OPENID, _KEY)).where(Rider.openid == _OPENID)
NEW_PERSON = select(*_facts(_OPENID, _KEY))


def arrival(session: Session, openid: str, dedup_key: str) -> Arrival:
    params = {"openid": openid, "dedup_key": dedup_key}
    row = session.execute(KNOWN_RIDER, params).first()
    if row is None:  # a person's first message: the same facts without a rider row
        row = (None, *session.execute(NEW_PERSON, params).one())
    rider, staff_id, stored, handled, held, failed = row
    return Arrival(rider, staff_id, bool(handled), stored or "", bool(held), bool(failed))
