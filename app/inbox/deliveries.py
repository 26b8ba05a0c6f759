"""Replay protection shared by every process: the deliveries seen within the window.

A webhook request is signed over (token, timestamp, nonce) only; in plaintext mode the
body is not covered at all. So a request's (timestamp, nonce, signature), once seen, must
never be accepted again while its timestamp is inside the signature window — not by this
process (bot.security.ReplayGuard answers that from memory, first), and not by another
process or after a restart: this table answers that. WeChat's own retries carry a fresh
timestamp and nonce and pass; deduplicating them is the inbox's job.

A delivery is recorded as the first write of the transaction of the message it carries
(`Check`, in app/inbox/chat.py): a normal message costs no write, transaction or thread hop
of its own for it. The others are written on their own, batched (`SeenDeliveries`: requests
arriving together share one INSERT): a copy of a message whose first copy is being handled
in this process (it joins that attempt and has no transaction), and a message parked
before its handler got to it (its answer must not wait for the handler).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass

import anyio
from sqlalchemy import Connection, Engine, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from models import SeenDelivery

_TABLE = SeenDelivery.__table__
_INSERT = {
    name: dialect.insert(_TABLE)
    .on_conflict_do_nothing()
    .returning(_TABLE.c.timestamp, _TABLE.c.nonce, _TABLE.c.signature)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
PRUNE_EVERY_SECONDS = 10.0
FORGET_JOB = "forget_deliveries"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook request's signed query: (timestamp, nonce, signature)."""

    timestamp: int
    nonce: str
    signature: str

    @classmethod
    def of(cls, query: dict[str, str]) -> Delivery:
        """From a query string the codec has verified (the timestamp is an integer)."""
        return cls(int(query["timestamp"]), query["nonce"], query["signature"].lower())

    def row(self) -> dict[str, object]:
        return {"timestamp": self.timestamp, "nonce": self.nonce, "signature": self.signature}


def record(
    session: Session | Connection,
    deliveries: dict[Delivery, str],
    *,
    forget_before: int | None = None,
) -> set[Delivery]:
    """Record `deliveries` (each with the dedup key of the message it carried); those
    seen for the first time (the others are replays). Rows whose timestamp is before
    `forget_before` are dropped first."""
    if forget_before is not None:
        forget(session, forget_before)
    if not deliveries:
        return set()
    # Sorted: two processes inserting overlapping batches lock keys in one order.
    rows = [
        {**d.row(), "dedup_key": deliveries[d]}
        for d in sorted(deliveries, key=lambda d: (d.timestamp, d.nonce, d.signature))
    ]
    bind = session if isinstance(session, Connection) else session.get_bind()
    insert = _INSERT[bind.dialect.name]
    return {Delivery(*row) for row in session.execute(insert, rows)}


def forget(session: Session | Connection, before: int) -> int:
    """Drop the deliveries whose timestamp is before `before` (out of the window); how many."""
    return session.execute(delete(_TABLE).where(_TABLE.c.timestamp < before)).rowcount


class Replayed(Exception):
    """The request's delivery was seen before, by this process or another: a replay."""


FirstTime = Callable[[Delivery, str], Awaitable[bool]]


class Check:
    """The replay check of the request that started handling a message: its delivery is
    recorded by the message's own transaction (`record_in`, the first write there), unless
    the message must be parked before its handler got that far (`before_parking`): then it
    is written on its own and the handler waits for that verdict instead. Either way the
    message is never parked, nor handled, for a replayed request.

    One window is left: a message parked while its handler's transaction holds the row
    (inserted, not committed) is acknowledged before the row is durable; if the process
    dies before that commit, the row is lost (the message itself is answered, from its
    parked row) and the request could be accepted once more within the window. The row
    cannot be written alone meanwhile: that write would wait for the handler's commit."""

    def __init__(self, delivery: Delivery, dedup_key: str) -> None:
        self.delivery = delivery
        self.dedup_key = dedup_key
        self._lock = threading.Lock()
        self._in_handler = False
        self._alone: Future[bool] | None = None
        self._verdict: Future[bool] = Future()
        """The handler's first insert: True new, False a replay."""

    def record_in(self, session: Session) -> None:
        """In the handler thread, first in the message's transaction (again on each retry
        of it): record the delivery; Replayed if it was seen before."""
        with self._lock:
            alone, self._in_handler = self._alone, self._alone is None
        if alone is not None:
            try:
                fresh = alone.result()
            except BaseException:  # it could not be written alone: this transaction does
                fresh = None
            if fresh is not None:
                if not fresh:
                    raise Replayed
                return
        try:
            fresh = bool(record(session, {self.delivery: self.dedup_key}))
        except BaseException as exc:
            if not self._verdict.done():
                self._verdict.set_exception(exc)
            raise
        if not self._verdict.done():
            self._verdict.set_result(fresh)
        if not fresh:
            raise Replayed

    def record_alone(self, sessions: sessionmaker[Session]) -> None:
        """For an attempt that ends without committing the message's transaction (a failed
        handler, an answer stored by another process): record it in a transaction of its
        own; Replayed if it was seen before."""
        with sessions() as session, session.begin():
            self.record_in(session)

    async def before_parking(self, first_time: FirstTime) -> bool:
        """In the event loop, before the message is parked (and its request answered
        before it is handled): whether the delivery is new. Waits for the handler's insert
        if it is under way; otherwise writes it alone with `first_time`."""
        with self._lock:
            handler_has_it = self._in_handler
            if not handler_has_it:
                self._alone = alone = Future[bool]()
        if handler_has_it:
            return await asyncio.wrap_future(self._verdict)
        try:
            fresh = await first_time(self.delivery, self.dedup_key)
        except BaseException as exc:
            alone.set_exception(exc)
            raise
        alone.set_result(fresh)
        return fresh


def carried(session: Session, deliveries: list[Delivery]) -> dict[Delivery, str | None]:
    """The dedup key each recorded delivery carried."""
    if not deliveries:
        return {}
    key = tuple_(_TABLE.c.timestamp, _TABLE.c.nonce, _TABLE.c.signature)
    rows = session.execute(
        select(_TABLE.c.timestamp, _TABLE.c.nonce, _TABLE.c.signature, _TABLE.c.dedup_key).where(
            key.in_([(d.timestamp, d.nonce, d.signature) for d in deliveries])
        )
    )
    return {Delivery(ts, nonce, sig): owner for ts, nonce, sig, owner in rows}


class SeenDeliveries:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        window_seconds: int,
        limiter: anyio.CapacityLimiter,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = sessions
        self._engine: Engine = sessions.kw["bind"]
        self.window = window_seconds
        self.limiter = limiter
        self.clock = clock
        self._waiting: list[tuple[Delivery, str, asyncio.Future[bool]]] = []
        self._writing: asyncio.Task[None] | None = None
        self._pruned_at = 0.0

    async def first_time(self, delivery: Delivery, dedup_key: str) -> bool:
        """True the first time `delivery` (carrying message `dedup_key`) is seen by any
        process; False for a replay. Raises what the database raised when it could not be
        recorded."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery, dedup_key, future))
        if self._writing is None:
            self._writing = asyncio.ensure_future(self._write_batches())
        return await future

    async def _write_batches(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                carried = {}
                for delivery, key, _ in batch:
                    carried.setdefault(delivery, key)
                try:
                    fresh = await anyio.to_thread.run_sync(
                        self._record, carried, limiter=self.limiter
                    )
                except Exception as exc:
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for delivery, _, future in batch:
                    if not future.done():
                        future.set_result(delivery in fresh)
                    fresh.discard(delivery)  # a second copy in the same batch is a replay
        finally:
            self._writing = None

    def _record(self, deliveries: dict[Delivery, str]) -> set[Delivery]:
        now = self.clock()
        forget = None
        if now - self._pruned_at >= PRUNE_EVERY_SECONDS:  # see also app.jobs FORGET_JOB
            forget, self._pruned_at = int(now) - self.window - 1, now
        # A connection, not an ORM session: nothing here is an object, and the session's
        # own bookkeeping cost as much as the INSERT.
        with self._engine.begin() as connection:
            return record(connection, deliveries, forget_before=forget)
