"""Answers that miss WeChat's deadline: acknowledge at once, answer by customer-service message.

WeChat waits 5 seconds for a passive reply, then sends the message again, and after the
third try shows the user "该公众号暂时无法提供服务". When the server cannot answer within
its budget (a storm of reports, a slow database), the webhook *parks* the message — one
committed row holding the message — and answers "success". The handler goes on; its reply,
stored in the inbox as always, is then owed to the user through the outbox, as a
customer-service message (the user has just written, so the 48-hour window is open). Any
copy of a parked message, in any process, answers "" so the user sees the answer once.

The parked row is what makes the early acknowledgement safe: WeChat will not send the
message again, so if this process dies before the handler commits, the leader's sweep
handles the parked message again (the inbox makes that idempotent) and answers it.
Whoever marks the parked row answered owes the answer, so it is owed once (the outbox's
unique `reply_to` makes that a database fact as well); the row stays a day after that, so
that a late copy parked again changes nothing and answers "".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, exists, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from app.services.outbox import enqueue
from bot.inbound import InboundMessage
from models import InboxMessage, ParkedMessage

LATE_KIND = "late_reply"

_TABLE = ParkedMessage.__table__
_PARK = {
    "postgresql": postgresql.insert(_TABLE).on_conflict_do_nothing(index_elements=["dedup_key"]),
    "sqlite": sqlite.insert(_TABLE).on_conflict_do_nothing(index_elements=["dedup_key"]),
}
_ANSWERED = (
    update(_TABLE)
    .where(_TABLE.c.dedup_key == bindparam("key"), _TABLE.c.answered_at.is_(None))
    .values(answered_at=bindparam("now"))
)
KEEP_ANSWERED = timedelta(days=1)
"""WeChat gives up on a message within seconds; a day is far more than any copy needs."""
_STORED_REPLY = select(InboxMessage.reply).where(InboxMessage.dedup_key == bindparam("key"))

# Parking a copy of a message and storing its handler's reply must not interleave: a park
# that commits after the handler has asked "parked?" (INBOX_REPLY's RETURNING) but before
# the handler commits is seen by neither, and the user is answered twice (passively, and
# late). Both take the message's transaction lock first, so one waits for the other's
# commit. SQLite needs none: it has one writer at a time.
_HOLD_ONE = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
_HOLD_MANY = text(
    "SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0)))"
    " FROM unnest(CAST(:keys AS text[])) AS k"
)


def hold(session: Session, key: str) -> None:
    """Take `key`'s message lock until the transaction ends (PostgreSQL; see _HOLD_ONE).
    A handler takes it right before storing its reply, so that a park of a copy elsewhere
    either commits first (the handler sees it) or waits and finds the stored reply."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(_HOLD_ONE, {"key": key})


def _hold_all(session: Session, keys: list[str]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # In key order: two processes parking copies of the same messages in batches
        # take the locks in one order, never in opposite orders (a deadlock).
        session.execute(_HOLD_MANY, {"keys": sorted(set(keys))})


def park(session: Session, msgs: list[InboundMessage], now: datetime) -> list[str | None]:
    """Keep each of `msgs` until its answer is owed (a copy parked already: nothing
    changes): None for it; or the reply it got if another process answered it already."""
    keys = [m.dedup_key for m in msgs]
    _hold_all(session, keys)  # a handler storing a reply to one of them commits first
    stored = {
        key: reply
        for key, reply in session.execute(
            select(InboxMessage.dedup_key, InboxMessage.reply).where(
                InboxMessage.dedup_key.in_(keys)
            )
        )
    }
    parked = set(session.scalars(select(_TABLE.c.dedup_key).where(_TABLE.c.dedup_key.in_(keys))))
    outcomes: list[str | None] = []
    rows: dict[str, dict] = {}
    for msg in msgs:
        key = msg.dedup_key
        if key in stored and key not in parked:
            outcomes.append(stored[key])
            continue
        outcomes.append(None)
        rows[key] = {
            "dedup_key": key,
            "openid": msg.openid,
            "message": to_json(msg),
            "parked_at": now,
        }
    if rows:
        # In key order: two processes parking copies of the same messages in batches take
        # the keys' locks in one order, never in opposite orders (a deadlock).
        ordered = [rows[key] for key in sorted(rows)]
        session.execute(_PARK[session.get_bind().dialect.name], ordered)
    return outcomes


def park_owed(session: Session, msgs: list[tuple[InboundMessage, datetime]]) -> None:
    """Keep each message, parked at the time given, whether or not it was handled already:
    it was acknowledged ("success") while the database was down, so its answer is owed
    however it was handled since (a row parked already stays as it is)."""
    rows = {
        msg.dedup_key: {
            "dedup_key": msg.dedup_key,
            "openid": msg.openid,
            "message": to_json(msg),
            "parked_at": at,
        }
        for msg, at in reversed(msgs)  # the first copy's time wins
    }
    if rows:
        ordered = [rows[key] for key in sorted(rows)]
        session.execute(_PARK[session.get_bind().dialect.name], ordered)


class OwedAlready(str):
    """What the chat engine answers (handle's owe_late) for a message it found parked and
    whose late answer its own transaction owed (see `owe`): "" like any parked message,
    passively, and nothing left to settle, so the caller skips `settle` (a transaction and
    a thread hop). Tell it from another "" with `isinstance`, never by value."""


OWED_ALREADY = OwedAlready("")


def settle(session: Session, msg: InboundMessage, fallback: str, now: datetime) -> bool:
    """Owe `msg`'s sender its stored reply (`fallback` if none was stored: the handler
    failed) unless another process did; True if this did."""
    if session.execute(_ANSWERED, {"key": msg.dedup_key, "now": now}).rowcount != 1:
        return False
    stored = session.scalar(_STORED_REPLY, {"key": msg.dedup_key})
    _enqueue(session, msg, fallback if stored is None else stored, now)
    return True


def owe(session: Session, msg: InboundMessage, reply: str, now: datetime) -> bool:
    """`settle` from inside the handler's transaction, which knows `msg` is parked and has
    just stored `reply`: the answer is owed when that transaction commits (or not at all),
    so no parked message waits for a second transaction. True if this owed it (False:
    another process did already)."""
    if session.execute(_ANSWERED, {"key": msg.dedup_key, "now": now}).rowcount != 1:
        return False
    _enqueue(session, msg, reply, now)
    return True


def _enqueue(session: Session, msg: InboundMessage, reply: str, now: datetime) -> None:
    if reply:
        enqueue(
            session,
            to_openid=msg.openid,
            kind=LATE_KIND,
            text=reply,
            now=now,
            reply_to=msg.dedup_key,
        )


def stale(
    session: Session, now: datetime, older_than: timedelta, limit: int
) -> list[InboundMessage]:
    """Parked messages nobody answered within `older_than`: their process died."""
    rows = session.scalars(
        select(ParkedMessage.message)
        .where(ParkedMessage.answered_at.is_(None), ParkedMessage.parked_at <= now - older_than)
        .order_by(ParkedMessage.parked_at)
        .limit(limit)
    )
    return [from_json(row) for row in rows]


def earlier_unhandled(session: Session, msg: InboundMessage, now: datetime) -> list[InboundMessage]:
    """The same sender's parked messages, not handled yet, parked before `msg` (or before
    now, if `msg` was not parked), oldest first.

    A parked message was acknowledged before the rider sent the next one, so parking order
    is sending order; handling them first keeps a rider's text and location in order even
    when they wait in different processes.
    """
    rows = session.scalars(
        _EARLIER_UNHANDLED, {"openid": msg.openid, "key": msg.dedup_key, "now": now}
    )
    return [from_json(row) for row in rows]


_MINE = aliased(ParkedMessage)
# One statement (built once): when `msg` was parked is a subquery, not a round trip.
_EARLIER_UNHANDLED = (
    select(ParkedMessage.message)
    .where(
        ParkedMessage.openid == bindparam("openid"),
        ParkedMessage.answered_at.is_(None),
        ParkedMessage.dedup_key != bindparam("key"),
        ParkedMessage.parked_at
        < func.coalesce(
            select(_MINE.parked_at).where(_MINE.dedup_key == bindparam("key")).scalar_subquery(),
            bindparam("now", type_=ParkedMessage.__table__.c.parked_at.type),
        ),
        ~exists().where(InboxMessage.dedup_key == ParkedMessage.dedup_key),
    )
    .order_by(ParkedMessage.parked_at)
)


def forget_answered(session: Session, now: datetime) -> int:
    """Drop the rows of messages answered more than KEEP_ANSWERED ago; how many."""
    return session.execute(
        delete(ParkedMessage).where(ParkedMessage.answered_at < now - KEEP_ANSWERED)
    ).rowcount


def to_json(msg: InboundMessage) -> dict:
    fields = {
        name: getattr(msg, name) for name in InboundMessage.__dataclass_fields__ if name != "raw"
    }
    fields["created_at"] = msg.created_at.isoformat()
    return fields


def from_json(data: dict) -> InboundMessage:
    return InboundMessage(**{**data, "created_at": datetime.fromisoformat(data["created_at"])})
