"""A wait for the database past the ack budget: a silent database ends it, a busy one not."""

from __future__ import annotations

import asyncio

import pytest

from app.inbox.pulse import BUSY_WAIT_SECONDS, Pulse


async def _answer_after(seconds: float, beating: Pulse | None = None) -> str:
    """The database's answer after `seconds`; meanwhile it answers others (`beating`)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        if beating is not None:
            beating.beat()
        await asyncio.sleep(0.01)
    return "recorded"


def test_a_database_that_answers_others_is_waited_for_past_the_budget():
    async def main():
        pulse = Pulse()
        return await pulse.within(_answer_after(0.3, beating=pulse), 0.1)

    assert asyncio.run(main()) == "recorded"


def test_a_silent_database_ends_the_wait_at_the_budget():
    async def main():
        pulse = Pulse()
        pulse.beat()  # it answered once, long before the budget ran out
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(TimeoutError):
            await pulse.within(_answer_after(5.0), 0.1)
        return loop.time() - t0

    assert asyncio.run(main()) < 0.5


def test_a_busy_database_is_not_waited_for_longer_than_wechat_allows():
    async def main():
        pulse = Pulse()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(TimeoutError):
            await pulse.within(_answer_after(BUSY_WAIT_SECONDS + 2, beating=pulse), 0.5)
        return loop.time() - t0

    assert BUSY_WAIT_SECONDS - 0.1 < asyncio.run(main()) < BUSY_WAIT_SECONDS + 0.5
