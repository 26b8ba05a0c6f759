"""Parking in batches: messages parked together share one call (one transaction)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import anyio

from app.inbox.parking import Parking
from bot.inbound import InboundMessage


def _msg(i: int) -> InboundMessage:
    return InboundMessage("text", f"rider-{i}", "gh", datetime(2026, 11, 22, tzinfo=UTC), str(i))


def test_messages_parked_within_the_gathering_pause_share_one_call():
    calls: list[list[str]] = []

    def park_many(msgs):
        calls.append([m.msg_id for m in msgs])
        return [None if int(m.msg_id) % 2 else "已回复" for m in msgs]

    async def main():
        parking = Parking(park_many, anyio.CapacityLimiter(1), gather_seconds=0.02)
        first = await asyncio.gather(*(parking.park(_msg(i)) for i in range(5)))
        later = await parking.park(_msg(7))
        return first, later

    first, later = asyncio.run(main())
    assert first == ["已回复", None, "已回复", None, "已回复"]  # each its own outcome
    assert later is None
    assert calls == [["0", "1", "2", "3", "4"], ["7"]]


def test_a_failed_batch_fails_every_message_in_it():
    def park_many(msgs):
        raise RuntimeError("database unreachable")

    async def main():
        parking = Parking(park_many, anyio.CapacityLimiter(1), gather_seconds=0.01)
        return await asyncio.gather(
            *(parking.park(_msg(i)) for i in range(3)), return_exceptions=True
        )

    outcomes = asyncio.run(main())
    assert [type(o) for o in outcomes] == [RuntimeError] * 3
