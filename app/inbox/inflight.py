"""Copies of one message handled once per process, each answered within a budget.

WeChat retries a message it got no answer for within 5 seconds, often while the first
attempt is still running — that is, exactly when the server is slow. Without this, every
copy costs a database round trip that waits on the first attempt's inbox row, then a
rerun to read the stored reply: the busier the server, the more work it gets. A copy that
arrives while the same dedup key is in flight in this process waits for that attempt's
reply instead. Across processes the inbox's unique key still decides.

With a budget, no copy waits longer than that: when the answer is not ready in time the
message is parked (`park`, a committed row) and the copy answers "" ("success"); every
later copy does too, and once the handler is done its reply goes to `settle`, which owes
it to the user by customer-service message (app/inbox/late_answers.py), unless the
handler found the message parked already and owed that answer itself (an OwedAlready
reply). If another process has answered the message meanwhile, `park` returns that answer instead and the
copies give it. If parking fails (or is refused: `NotParked`) the copies wait for the
answer as they would without a budget. The message is parked by the `park` of the copy
that started the attempt, whichever copy's budget ran out: that copy's request is the one
whose replay check the attempt carries (see app/inbox/deliveries.py Check).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.inbox.late_answers import OwedAlready
from bot.metrics import METRICS

log = logging.getLogger(__name__)

Park = Callable[[], Awaitable[str | None]]
"""Parks the message: None when parked, or the stored reply when another process has
answered it already (then there is nothing to park: that reply is the answer)."""
Settle = Callable[[str], Awaitable[object]]


class NotParked(Exception):
    """Raised by `park` when the message must not be parked: the copies wait for the
    attempt's answer instead."""


@dataclass(eq=False)
class _Attempt:
    task: asyncio.Future[str] | None = None
    park: Park | None = None
    parking: asyncio.Future[object] | None = None
    """Set once, by the first copy whose budget ran out: resolves to what `park` gave,
    or to _FAILED."""


class InFlight:
    def __init__(self) -> None:
        self._running: dict[str, _Attempt] = {}

    def __len__(self) -> int:
        return len(self._running)

    def __contains__(self, key: str) -> bool:
        """Whether an attempt at `key` is running here (a copy arriving now joins it)."""
        return key in self._running

    async def run(
        self,
        key: str,
        handle: Callable[[], Awaitable[str]],
        *,
        park: Park | None = None,
        settle: Settle | None = None,
        budget: float | None = None,
    ) -> str:
        """The reply of `handle()` (or of the attempt at `key` already running here), or ""
        when the message was parked because the reply was not ready within `budget`
        seconds (0 parks at once; None, or no `park`, waits for the reply)."""
        attempt = self._running.get(key)
        mine = attempt is None
        if attempt is None:
            attempt = self._start(key, handle, settle)
            attempt.park = park
        assert attempt.task is not None
        if park is None:
            budget = None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(attempt.task), budget)
        # A timeout can land in the same turn of the loop as the answer: check the task.
        if not attempt.task.done() and attempt.parking is None and park is not None:
            attempt.parking = asyncio.ensure_future(_parked(attempt.park or park, key))
        if attempt.parking is not None:
            outcome = await asyncio.shield(attempt.parking)
            if outcome is None:
                return ""
            if isinstance(outcome, str):
                return outcome
            with contextlib.suppress(Exception):  # could not park: wait for the answer
                await asyncio.shield(attempt.task)
        if attempt.task.exception() is not None and not mine:
            return await handle()  # the first attempt failed: the inbox decides again
        return attempt.task.result()

    def _start(
        self, key: str, handle: Callable[[], Awaitable[str]], settle: Settle | None
    ) -> _Attempt:
        attempt = _Attempt()

        async def answer() -> str:
            try:
                reply = await handle()
                parked = attempt.parking is not None and await attempt.parking is None
                # OwedAlready: the handler found the message parked and owed its answer.
                if parked and settle is not None and not isinstance(reply, OwedAlready):
                    try:
                        await settle(reply)
                    except Exception:  # still parked: the leader's sweep answers it later
                        log.exception("could not owe the late answer to %s", key)
                return reply
            finally:
                del self._running[key]

        attempt.task = asyncio.ensure_future(answer())
        # Nobody may be waiting when it fails (every copy was answered ""): no warning.
        attempt.task.add_done_callback(lambda t: t.cancelled() or t.exception())
        self._running[key] = attempt
        return attempt


_FAILED = object()


async def _parked(park: Park, key: str) -> object:
    try:
        answered = await park()
    except NotParked:
        return _FAILED
    except Exception:
        log.exception("could not park %s: waiting for its answer instead", key)
        return _FAILED
    if answered is None:
        METRICS.inc("gridbot_messages_parked_total")
    return answered
