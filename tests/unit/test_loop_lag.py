"""Handlers let a lagging event loop (acknowledging messages) catch up first."""

from __future__ import annotations

import asyncio
import threading
import time

from app.inbox.loop_lag import CALM_SECONDS, LoopLag
from app.inbox.pulse import Pulse


def _while_watched(lag: LoopLag, body) -> object:
    async def main():
        watching = asyncio.ensure_future(lag.watch())
        await asyncio.sleep(0.05)
        try:
            return await body()
        finally:
            watching.cancel()

    return asyncio.run(main())


def test_a_handler_waits_while_the_loop_is_busy_and_not_when_it_keeps_up():
    lag = LoopLag()
    waits: dict[str, float] = {}

    async def body():
        waits["calm"] = await asyncio.to_thread(lag.wait_calm, 1.0)  # the loop is idle
        busy = threading.Thread(target=lambda: waits.update(busy=lag.wait_calm(1.0)))
        time.sleep(0.06)  # the loop blocked (acknowledging a burst, say) ...
        busy.start()
        time.sleep(0.2)  # ... for 0.2 s more while the handler wants to start
        await asyncio.to_thread(busy.join)  # the loop runs again

    _while_watched(lag, body)
    assert waits["calm"] == 0.0
    assert 0.1 < waits["busy"] < 0.5  # it waited until the loop ran again, not the limit


def test_a_handler_waits_no_longer_than_its_limit():
    lag = LoopLag()

    async def body():
        time.sleep(0.05)  # the loop is late from here on
        t0 = time.perf_counter()
        slept = lag.wait_calm(0.1)  # here, in the loop's own thread: it cannot catch up
        return slept, time.perf_counter() - t0

    slept, took = _while_watched(lag, body)
    assert slept >= 0.1 and took < 0.3
    assert LoopLag().lag() == 0.0 and LoopLag().wait_calm(1.0) == 0.0  # nothing watched


def test_the_database_answering_a_thread_counts_while_the_loop_lags():
    pulse = Pulse()
    beat = pulse.beating(lambda: "committed")
    assert pulse.silent_for() > 1e9  # never heard
    thread = threading.Thread(target=beat)
    thread.start()
    thread.join()
    assert pulse.silent_for() < CALM_SECONDS  # heard in the thread, no loop involved
