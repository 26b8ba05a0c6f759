"""When this process last heard the database answer: a hung database, or a busy server?

The webhook gives the database the ack budget to record a delivery or park a message;
past it, the message goes to the local spool, as when the database is down
(app/inbox/spool.py). But a server behind on its CPU misses the budget too, while the
database answers every statement it gets: spooling then makes things worse (while
anything is kept, every later message is kept behind it and replayed one at a time), and
in a storm the spool took over all intake. So a wait that runs out is given more time
while the database has answered this process recently, up to a limit short of WeChat's
5 seconds; only a silent database sends messages to the spool after the budget.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")

BUSY_WAIT_SECONDS = 3.0
"""The longest a message waits for a database that answers, but slowly (WeChat retries
after 5 s: the rest is for the spool, should it come to that)."""


class Pulse:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._last = -math.inf

    def beat(self) -> None:
        """The database has just answered (a commit, a batch recorded)."""
        self._last = self.clock()

    def beating(self, call: Callable[P, T]) -> Callable[P, T]:
        """`call`, beating whenever it returns (in whatever thread it runs: the database
        answered it, even while the event loop is too busy to notice yet)."""

        def beat_after(*args: P.args, **kwargs: P.kwargs) -> T:
            result = call(*args, **kwargs)
            self.beat()
            return result

        return beat_after

    def silent_for(self) -> float:
        return self.clock() - self._last

    async def within(self, awaitable: Awaitable[T], seconds: float | None) -> T:
        """`awaitable`'s result, or TimeoutError after `seconds` (None or 0: no limit) when
        the database has been silent that long, or after BUSY_WAIT_SECONDS in all; the
        work itself goes on (it is shielded), only the wait ends."""
        if not seconds or seconds <= 0:
            return await awaitable
        work = asyncio.ensure_future(awaitable)
        work.add_done_callback(lambda t: t.cancelled() or t.exception())  # nobody may wait
        loop = asyncio.get_running_loop()
        give_up = loop.time() + max(BUSY_WAIT_SECONDS, seconds)
        wait = seconds
        while True:
            try:
                return await asyncio.wait_for(asyncio.shield(work), wait)
            except TimeoutError:
                left = give_up - loop.time()
                if left <= 0 or self.silent_for() >= seconds:
                    raise
                wait = min(left, seconds / 4)
