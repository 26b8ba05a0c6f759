"""Replay protection shared by every process: the deliveries seen within the window.

A webhook request is signed over (token, timestamp, nonce) only; in plaintext mode the
body is not covered at all. So a request's (timestamp, nonce, signature), once seen, must
never be accepted again while its timestamp is inside the signature window — not by this
process (bot.security.ReplayGuard answers that from memory, first), and not by another
process or after a restart: this table answers that. WeChat's own retries carry a fresh
timestamp and nonce and pass; deduplicating them is the inbox's job.

Recording costs one INSERT per request, so requests arriving together share one: while
one batch is written, the next gathers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
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
        session.execute(delete(_TABLE).where(_TABLE.c.timestamp < forget_before))
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
        if now - self._pruned_at >= PRUNE_EVERY_SECONDS:
            forget, self._pruned_at = int(now) - self.window - 1, now
        # A connection, not an ORM session: nothing here is an object, and the session's
        # own bookkeeping cost as much as the INSERT.
        with self._engine.begin() as connection:
            return record(connection, deliveries, forget_before=forget)
