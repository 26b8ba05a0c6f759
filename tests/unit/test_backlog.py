"""The wait a new message would have for a handler thread decides whether it parks at once."""

from __future__ import annotations

import asyncio
import threading
import time

from app.inbox.backlog import Backlog
from app.inbox.threads import HandlerThreads


def test_a_queue_longer_than_the_budget_parks_at_once_and_none_is_no_parking():
    async def main():
        threads = HandlerThreads(1)
        backlog = Backlog(threads, weight=1.0)  # the average is the last handling time
        backlog.timed(time.sleep)(0.2)
        quiet = backlog.budget(1.0)
        release = threading.Event()
        held = asyncio.ensure_future(threads.run(release.wait, 10))  # the one thread is busy
        waiting = [asyncio.ensure_future(threads.run(time.sleep, 0)) for _ in range(6)]
        await asyncio.sleep(0.05)  # ... and six messages wait for it: about 1.2 s
        busy, off = backlog.budget(1.0), backlog.budget(0)
        release.set()
        await asyncio.gather(held, *waiting)
        return quiet, busy, off

    quiet, busy, off = asyncio.run(main())
    assert quiet == 1.0  # nobody waits: the whole budget
    assert busy == 0.0  # would wait longer than the budget: park now
    assert off is None  # GRIDBOT_ACK_BUDGET_SECONDS=0: wait for every answer


def test_handlers_behind_a_parked_backlog_let_the_lagging_loop_acknowledge_first():
    class Lagging:
        """A loop that stays behind: each wait runs to its limit."""

        def __init__(self) -> None:
            self.waits: list[float] = []

        def wait_calm(self, longest: float) -> float:
            self.waits.append(longest)
            return longest

    async def main():
        threads = HandlerThreads(1)
        lagging = Lagging()
        backlog = Backlog(threads, weight=1.0, yield_to=lagging)  # type: ignore[arg-type]
        handle = backlog.timed(time.sleep)
        backlog.budget(1.0)
        await threads.run(handle, 0.2)  # keeping up: straight to work
        keeping_up = list(lagging.waits)
        release = threading.Event()
        held = asyncio.ensure_future(threads.run(release.wait, 10))
        waiting = [asyncio.ensure_future(threads.run(time.sleep, 0)) for _ in range(6)]
        await asyncio.sleep(0.05)
        parked_at_once = backlog.budget(1.0) == 0.0
        release.set()
        await asyncio.gather(held, *waiting)
        await threads.run(handle, 0)  # behind: the loop goes first
        return keeping_up, parked_at_once, lagging.waits

    keeping_up, parked_at_once, waits = asyncio.run(main())
    assert keeping_up == [] and parked_at_once
    assert len(waits) == 1 and waits[0] > 0
