"""Concurrent copies of one message: handled once, every copy gets the same reply."""

from __future__ import annotations

import asyncio

import pytest

from app.inbox.inflight import InFlight


async def _finished(inflight: InFlight) -> None:
    """Until every attempt has ended, its late answer settled."""
    while inflight:
        await asyncio.sleep(0.01)


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


def _slow_answer():
    """A handler held until the test releases it, and what parking and settling saw."""
    release = asyncio.Event()
    seen: dict[str, list] = {"handled": [], "parked": [], "settled": []}

    async def handle():
        seen["handled"].append(1)
        await release.wait()
        return "您的上报已登记"

    async def park():
        seen["parked"].append(1)

    async def settle(reply):
        seen["settled"].append(reply)

    return release, seen, handle, park, settle


def test_an_answer_not_ready_within_the_budget_is_parked_and_settled_once():
    async def main():
        inflight = InFlight()
        release, seen, handle, park, settle = _slow_answer()

        def deliver():
            return inflight.run("msg-3", handle, park=park, settle=settle, budget=0.05)

        first = asyncio.create_task(deliver())
        await asyncio.sleep(0.02)
        copy = asyncio.create_task(deliver())  # a WeChat retry while the first waits
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        acked = await first
        waited = loop.time() - t0
        late_copy = asyncio.create_task(deliver())  # arrives after the first was parked
        await asyncio.sleep(0)
        release.set()
        replies = [acked, await copy, await late_copy]
        await _finished(inflight)
        return replies, waited, seen

    replies, waited, seen = asyncio.run(main())
    assert replies == ["", "", ""]  # "success": no copy shows the user a second answer
    assert waited < 0.5
    assert seen == {"handled": [1], "parked": [1], "settled": ["您的上报已登记"]}


def test_an_answer_ready_within_the_budget_is_a_passive_reply_and_nothing_is_parked():
    async def main():
        inflight = InFlight()
        release, seen, handle, park, settle = _slow_answer()
        release.set()
        reply = await inflight.run("msg-4", handle, park=park, settle=settle, budget=5)
        return reply, seen

    reply, seen = asyncio.run(main())
    assert reply == "您的上报已登记"
    assert seen["parked"] == [] and seen["settled"] == []


def test_when_parking_fails_the_copy_waits_for_the_answer():
    async def main():
        inflight = InFlight()
        release, seen, handle, _, settle = _slow_answer()

        async def broken_park():
            raise RuntimeError("database unreachable")

        task = asyncio.create_task(
            inflight.run("msg-5", handle, park=broken_park, settle=settle, budget=0.02)
        )
        await asyncio.sleep(0.1)
        assert not task.done()  # not acknowledged: nothing would keep the message
        release.set()
        return await task, seen

    reply, seen = asyncio.run(main())
    assert reply == "您的上报已登记"
    assert seen["settled"] == []


def test_a_message_answered_elsewhere_meanwhile_gets_that_answer_not_success():
    async def main():
        inflight = InFlight()
        release, seen, handle, _, settle = _slow_answer()

        async def answered_elsewhere():
            return "另一进程的回复"

        reply = await inflight.run(
            "msg-6", handle, park=answered_elsewhere, settle=settle, budget=0.02
        )
        release.set()
        await _finished(inflight)
        return reply, seen

    reply, seen = asyncio.run(main())
    assert reply == "另一进程的回复"
    assert seen["settled"] == []


def test_behind_a_long_queue_a_message_is_parked_at_once():
    async def main():
        inflight = InFlight()
        release, seen, handle, park, settle = _slow_answer()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        reply = await inflight.run("msg-7", handle, park=park, settle=settle, budget=0)
        waited = loop.time() - t0
        release.set()
        await _finished(inflight)
        return reply, waited, seen

    reply, waited, seen = asyncio.run(main())
    assert reply == "" and seen["parked"] == [1]
    assert seen["settled"] == ["您的上报已登记"]
    assert waited < 1.0  # the handler was held until after the answer


def test_a_parked_answer_the_handler_owed_itself_is_not_settled_again():
    from app.inbox.late_answers import OWED_ALREADY

    async def main():
        inflight = InFlight()
        release, seen, _, park, settle = _slow_answer()

        async def handle():  # found the message parked and owed its answer in its commit
            seen["handled"].append(1)
            await release.wait()
            return OWED_ALREADY

        acked = await inflight.run("msg-9", handle, park=park, settle=settle, budget=0)
        release.set()
        await _finished(inflight)
        return acked, seen

    acked, seen = asyncio.run(main())
    assert acked == ""
    assert seen == {"handled": [1], "parked": [1], "settled": []}
