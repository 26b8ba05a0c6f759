"""The path of one message: dedup in the inbox, route to a handler, commit once, reply.

Everything a message changes (ticket, events, draft, notices owed to others) commits in
one transaction with its inbox row, so a WeChat retry either finds the stored reply or
runs cleanly again.

The engine knows no chat flow: the wiring (app/bootstrap.py) hands it the dispatcher,
the factory of what a handler is given, and the reply for a message that failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, exists, insert, select, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from app.inbox import deliveries, failures, late_answers
from app.inbox.arrival import Arrival, arrival
from app.inbox.deliveries import Check, Delivery, Replayed
from app.services.directory import people
from app.services.outbox import PENDING_FLAG, deliver_held
from app.services.policies import PolicySource, with_policy
from bot.inbound import InboundMessage
from bot.metrics import METRICS, type_label
from models import InboxMessage, ParkedMessage, Rider, Staff, utcnow

log = logging.getLogger(__name__)

CONFLICT_RETRIES = 3

UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout)
"""What a database that refuses, drops or starves connections raises (also a deadlock or a
statement timeout: those are retried while the database still answers)."""


class DatabaseUnavailable(Exception):
    """The database could not be reached: the message was not handled. The webhook keeps
    it in the spool (app/inbox/spool.py) and it is handled once the database is back."""


REPLY_LIMIT_BYTES = 2000
"""WeChat cuts passive text replies at about 2048 bytes; stop short at a line break."""

INBOX_INSERT = insert(InboxMessage.__table__)
_INBOX = InboxMessage.__table__
INBOX_REPLY = (
    update(_INBOX)
    .where(_INBOX.c.dedup_key == bindparam("key"))
    .values(reply=bindparam("reply"))
    # Parked meanwhile by another process's copy? Then that one answers, late.
    .returning(exists().where(ParkedMessage.dedup_key == bindparam("key")))
)

STORED_REPLY = select(
    _INBOX.c.reply, exists().where(ParkedMessage.dedup_key == bindparam("key"))
).where(_INBOX.c.dedup_key == bindparam("key"))

NO_REPLY_EVENTS = frozenset({"location", "unsubscribe", "view"})
"""Events whose passive reply the user never sees: held notices must not ride on them."""


def fit_reply(text: str, limit: int = REPLY_LIMIT_BYTES) -> str:
    if len(text.encode()) <= limit:
        return text
    kept: list[str] = []
    used = len("……".encode())
    for line in text.split("\n"):
        size = len(line.encode()) + 1
        if used + size > limit:
            break
        kept.append(line)
        used += size
    return (
        "\n".join(kept) + "\n……"
        if kept
        else text.encode()[: limit - 6].decode(errors="ignore") + "……"
    )


class Dispatcher(Protocol):
    def dispatch(self, ctx: Any) -> str:
        """The passive reply to the message in `ctx` ("" for none)."""


class ContextFactory(Protocol):
    def __call__(
        self,
        *,
        msg: InboundMessage,
        session: Session,
        now: datetime,
        rider: Rider,
        staff: Staff | None,
        station_request: bool,
    ) -> Any:
        """What the dispatcher's handlers are given for `msg`."""


class ChatEngine:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        policy: PolicySource,
        dispatcher: Dispatcher,
        context: ContextFactory,
        busy_reply: str,
        clock: Callable[[], datetime] = utcnow,
        on_outbox: Callable[[], None] = lambda: None,
    ) -> None:
        self.policy = policy
        # Every message is handled under the policy this engine was built with.
        self.sessions = with_policy(sessions, self.policy)
        self.clock = clock
        self.on_outbox = on_outbox
        self.dispatcher = dispatcher
        self.context = context
        self.busy_reply = busy_reply
        """The answer to a message whose handling failed (nothing it did was kept)."""

    def handle(
        self, msg: InboundMessage, check: Check | None = None, *, owe_late: bool = False
    ) -> str:
        """The passive reply for `msg` ("" for none), handling each message once.

        A message that was parked (acknowledged early, see late_answers) gets "": its
        reply, stored in the inbox, goes by customer-service message instead, owed by
        `answer_late`. With `owe_late`, a handling that finds the message parked owes that
        answer in its own transaction and its "" is a late_answers.OwedAlready: nothing
        is left for `answer_late` to do (the webhook then skips it: a transaction and a
        thread hop per parked message, when parked messages are what the server is
        already behind on).

        With `check` (the webhook's), the delivery of the request that carried it is
        recorded in the message's transaction; Replayed (nothing done) when it was seen
        before, also when the message itself was handled already.
        """
        METRICS.inc("gridbot_messages_in_total", type=type_label(msg.kind, msg.event))
        return self._handle(msg, earlier_first=True, owe_late=owe_late, check=check)

    def _handle(
        self,
        msg: InboundMessage,
        *,
        earlier_first: bool,
        owe_late: bool,
        check: Check | None = None,
    ) -> str:
        conflict = "no attempt"
        for _ in range(CONFLICT_RETRIES):
            try:
                reply, notify = self._handle_once(msg, earlier_first, owe_late, check)
            except Replayed:
                raise
            except _EarlierFirst as first:
                # The rider's earlier messages wait, parked, maybe in another process:
                # handle them here first (once each: the inbox decides), then this one.
                for earlier in first.messages:
                    self._handle(earlier, earlier_first=False, owe_late=owe_late)
                earlier_first = False
                continue
            except (IntegrityError, StaleDataError, *UNREACHABLE) as exc:
                conflict = f"{type(exc).__name__}: {exc}"
                # Either this message was handled already (a WeChat retry) or it raced
                # another message from the same person over some row (a new rider's first
                # two messages; a photo arriving while its draft becomes a ticket) - or
                # the database is gone, and asking it for the stored reply fails too.
                try:
                    earlier = self._stored_reply(msg, check)
                except SQLAlchemyError as down:
                    raise DatabaseUnavailable(f"{type(down).__name__}: {down}") from exc
                if earlier is not None:
                    return earlier
                continue
            except Exception as exc:
                log.exception("handler failed for %s", msg.dedup_key)
                return self._failed(msg, f"{type(exc).__name__}: {exc}", check)
            if notify:
                self.on_outbox()
            return reply
        log.error("gave up on %s after %d conflicts: %s", msg.dedup_key, CONFLICT_RETRIES, conflict)
        error = f"gave up after {CONFLICT_RETRIES} write conflicts; {conflict}"
        return self._failed(msg, error, check)

    def _failed(self, msg: InboundMessage, error: str, check: Check | None) -> str:
        """The busy reply of a message whose handling failed, kept for `gridbot inbox
        failed`; its request's delivery, rolled back with the rest, is recorded alone
        (Replayed if it was seen before)."""
        failures.keep(self.sessions, msg, error, self.clock())
        if check is not None:
            try:
                check.record_alone(self.sessions)
            except SQLAlchemyError as down:
                raise DatabaseUnavailable(f"{type(down).__name__}: {down}") from down
        return self.busy_reply

    def park(self, msgs: list[InboundMessage]) -> list[str | None]:
        """Keep `msgs` (committed, in one transaction) so that they can be acknowledged
        before they are answered: None for each kept, or its stored reply when it was
        answered already (nothing kept)."""
        with self.sessions() as session, session.begin():
            return late_answers.park(session, msgs, self.clock())

    def take_over(
        self, kept: list[tuple[InboundMessage, datetime, Delivery | None]]
    ) -> list[InboundMessage]:
        """Park messages acknowledged while the database was down (each with the time it
        arrived, and its delivery if that could not be checked for a replay then), whether
        or not a copy was handled meanwhile: each owes its answer by customer-service
        message. Returns those parked, in order; a replayed delivery's message is not."""
        unverified = {d: m.dedup_key for m, _, d in reversed(kept) if d is not None}
        with self.sessions() as session, session.begin():
            fresh = deliveries.record(session, unverified)
            # Its check timed out but its row was written after all: not a replay.
            owners: dict[Delivery, str | None] = deliveries.carried(
                session, [d for d in unverified if d not in fresh]
            )
            owed: list[tuple[InboundMessage, datetime]] = []
            owners |= {d: unverified[d] for d in fresh}
            for msg, arrived_at, delivery in kept:
                if delivery is not None and owners.get(delivery) != msg.dedup_key:
                    log.warning("dropped %s: its delivery was replayed", msg.dedup_key)
                    continue
                owed.append((msg, arrived_at))
            late_answers.park_owed(session, owed)
        return [msg for msg, _ in owed]

    def answer_late(self, msg: InboundMessage, fallback: str = "") -> bool:
        """Owe the sender of parked `msg` its stored reply by customer-service message,
        once; `fallback` (the handler's answer) when nothing was stored (it failed)."""
        if isinstance(fallback, late_answers.OwedAlready):
            return False  # the handling owed it (handle's owe_late)
        with self.sessions() as session, session.begin():
            owed = late_answers.settle(session, msg, fallback, self.clock())
            notify = bool(session.info.pop(PENDING_FLAG, False))
        if notify:
            self.on_outbox()
        return owed

    def answer_stale(self, older_than: timedelta, limit: int = 200) -> int:
        """Handle and answer parked messages whose process died first; how many."""
        with self.sessions() as session, session.begin():
            late_answers.forget_answered(session, self.clock())
            stale = late_answers.stale(session, self.clock(), older_than, limit)
        for msg in stale:
            log.warning("answering %s: parked over %s ago, unanswered", msg.dedup_key, older_than)
            self.answer_late(msg, self.handle(msg, owe_late=True))
        return len(stale)

    def _handle_once(
        self, msg: InboundMessage, earlier_first: bool, owe_late: bool, check: Check | None
    ) -> tuple[str, bool]:
        now = self.clock()
        with self.sessions() as session:
            try:
                if check is not None:  # first: a replayed request gets nothing, not even
                    check.record_in(session)  # the stored reply of the message it copies
                known = arrival(session, msg.openid, msg.dedup_key)
                if known.handled:  # a WeChat retry of a message handled already
                    if known.parked and owe_late:  # a copy parked here, handled elsewhere
                        return self._owe_handled(session, msg, known.stored_reply, now)
                    session.commit()  # (its delivery recorded)
                    return ("" if known.parked else known.stored_reply), False
                if earlier_first and known.others_parked:
                    earlier = late_answers.earlier_unhandled(session, msg, now)
                    if earlier:
                        session.rollback()
                        raise _EarlierFirst(earlier)
                # The inbox row goes in before any handler runs: a copy of this message
                # being handled at the same time (another process) waits here until this
                # one commits, then fails on the key and gets the stored reply, without
                # doing the work twice.
                session.connection().execute(
                    INBOX_INSERT,
                    {
                        "dedup_key": msg.dedup_key,
                        "openid": msg.openid,
                        "kind": failures.kind(msg),
                        "body": msg.text[:2000],
                        "reply": "",
                        "received_at": now,
                    },
                )
                ctx = self._context(session, msg, now, known)
                reply = fit_reply(self.dispatcher.dispatch(ctx))
                if known.held_notices:
                    reply = self._with_held_notices(session, msg, reply, now)
                if known.failed_before:
                    failures.mark_recovered(session, msg, now)
                parked = known.parked
                if reply:
                    late_answers.hold(session, msg.dedup_key)  # no park slips in before commit
                    params = {"key": msg.dedup_key, "reply": reply}
                    parked = (
                        session.connection().execute(INBOX_REPLY, params).scalar_one() or parked
                    )
                owed = parked and owe_late
                if owed:  # its late answer is owed by this transaction, not another
                    late_answers.owe(session, msg, reply, now)
                notify = bool(session.info.pop(PENDING_FLAG, False))
                session.commit()
            except BaseException:
                session.rollback()
                raise
            if owed:
                return late_answers.OWED_ALREADY, notify
            return ("" if parked else reply), notify

    def _owe_handled(
        self, session: Session, msg: InboundMessage, stored: str, now: datetime
    ) -> tuple[str, bool]:
        """What `answer_late` does for a parked message another attempt handled (it owes
        the stored reply unless that attempt did), in the session that found it handled:
        no second session, thread hop or read of the stored reply."""
        late_answers.owe(session, msg, stored, now)
        notify = bool(session.info.pop(PENDING_FLAG, False))
        session.commit()
        return late_answers.OWED_ALREADY, notify

    def _with_held_notices(
        self, session: Session, msg: InboundMessage, reply: str, now: datetime
    ) -> str:
        """`reply` plus the notices held for this user (see outbox.deliver_held)."""
        if msg.kind == "event" and msg.event in NO_REPLY_EVENTS:
            return reply
        budget = REPLY_LIMIT_BYTES - len(reply.encode()) - 2
        held = deliver_held(session, openid=msg.openid, now=now, budget_bytes=budget)
        if not held:
            return reply
        return f"{reply}\n\n{held}" if reply else held

    def _context(self, session: Session, msg: InboundMessage, now: datetime, known: Arrival):
        rider = people.register_rider(session, known.rider, msg.openid, now, qr_scene=msg.qr_scene)
        return self.context(
            msg=msg,
            session=session,
            now=now,
            rider=rider,
            staff=known.staff,
            station_request=known.station_request,
        )

    def _stored_reply(self, msg: InboundMessage, check: Check | None = None) -> str | None:
        """The reply of an earlier, committed attempt at `msg`, if there was one ("" when
        the message is parked: its answer goes late); the delivery of `check` is then
        recorded with the read (Replayed if it was seen before).

        A duplicate insert fails only once the first attempt has committed (PostgreSQL
        makes the second insert wait for it; SQLite serialises writers), so the row is
        visible here without polling.
        """
        with self.sessions() as session, session.begin():
            row = session.execute(STORED_REPLY, {"key": msg.dedup_key}).first()
            if row is not None and check is not None:
                check.record_in(session)
        if row is None:
            return None
        reply, parked = row
        return "" if parked else reply


class _EarlierFirst(Exception):
    def __init__(self, messages: list[InboundMessage]) -> None:
        self.messages = messages
