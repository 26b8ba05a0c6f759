"""Parking in batches: the messages parked within a few milliseconds share one transaction.

Parking happens when the server is too busy to answer in time, so it must cost little:
under load a transaction of its own per message spent most of its time queueing for the
GIL between its statements. One batch is one thread hand-off and one commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import anyio

from bot.inbound import InboundMessage

ParkMany = Callable[[list[InboundMessage]], list[str | None]]


class Parking:
    def __init__(
        self, park_many: ParkMany, limiter: anyio.CapacityLimiter, *, gather_seconds: float = 0.01
    ) -> None:
        self.park_many = park_many
        self.limiter = limiter
        self.gather = gather_seconds
        self._waiting: list[tuple[InboundMessage, asyncio.Future[str | None]]] = []
        self._gathering: asyncio.Task[None] | None = None

    async def park(self, msg: InboundMessage) -> str | None:
        """Park `msg` with whatever else is parked now; see ChatEngine.park."""
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((msg, future))
        if self._gathering is None:
            self._gathering = asyncio.ensure_future(self._park_batch())
        return await future

    async def _park_batch(self) -> None:
        await asyncio.sleep(self.gather)
        batch, self._waiting = self._waiting, []
        self._gathering = None  # the next message starts the next batch, even while this
        try:  # one is written
            outcomes = await anyio.to_thread.run_sync(
                self.park_many, [msg for msg, _ in batch], limiter=self.limiter
            )
        except Exception as exc:
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            future.set_result(outcome)
