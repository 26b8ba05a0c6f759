"""Concurrent copies of one message: handled once, every copy gets the same reply."""

from __future__ import annotations

import asyncio

import pytest

from app.web.inflight import InFlight


def test_copies_arriving_during_the_first_attempt_share_its_reply():
    calls = []

    async def main():
        inflight = InFlight()
        release = asyncio.Event()

        async def handle():
            calls.append(1)
            await release.wait()
            return f"reply {len(calls)}"

        tasks = [asyncio.create_task(inflight.run("msg-1", handle)) for _ in range(3)]
        await asyncio.sleep(0)
        release.set()
        replies = await asyncio.gather(*tasks)
        later = await inflight.run("msg-1", handle)  # a retry after the fact runs again
        return replies, later, len(inflight)

    replies, later, left = asyncio.run(main())
    assert replies == ["reply 1"] * 3
    assert later == "reply 2" and len(calls) == 2
    assert left == 0


def test_a_copy_handles_the_message_itself_when_the_first_attempt_fails():
    async def main():
        inflight = InFlight()
        started = asyncio.Event()

        async def failing():
            started.set()
            await asyncio.sleep(0.01)
            raise RuntimeError("database went away")

        async def working():
            return "ok"

        first = asyncio.create_task(inflight.run("msg-2", failing))
        await started.wait()
        copy = await inflight.run("msg-2", working)
        with pytest.raises(RuntimeError):
            await first
        return copy, len(inflight)

    assert asyncio.run(main()) == ("ok", 0)
