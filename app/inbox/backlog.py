"""How long a message arriving now would wait for a handler thread.

When that is already longer than the ack budget, waiting the budget out only holds WeChat's
connection for nothing: the message is parked at once (see app/inbox/inflight.py). And
while that is so, the handlers work on messages acknowledged already: before each one they
let a lagging event loop acknowledge the next ones first (app/inbox/loop_lag.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from app.inbox.loop_lag import LoopLag
from app.inbox.threads import HandlerThreads
from bot.metrics import METRICS

T = TypeVar("T")


YIELD_SECONDS = 0.5
"""The longest a handler, while behind, waits for a lagging event loop before each message
(so that a loop slow for another reason delays handling, never stops it)."""


class Backlog:
    def __init__(
        self,
        threads: HandlerThreads,
        *,
        weight: float = 0.05,
        yield_to: LoopLag | None = None,
    ) -> None:
        self.threads = threads
        self.weight = weight
        self.yield_to = yield_to
        """While behind, handlers let this loop catch up before each message (see
        app/inbox/loop_lag.py)."""
        self.behind = False
        """New messages are parked at once (the last `budget` was 0): what the handlers
        work on was acknowledged already, and acknowledging the next ones comes first."""
        self.seconds_per_message = 0.0
        """A moving average of how long one message keeps a handler thread."""

    def timed(self, handle: Callable[..., T]) -> Callable[..., T]:
        """`handle`, measured into the average and the handler-time summary (call it in
        the handler thread)."""

        def run(*args, **kwargs) -> T:
            if self.behind and self.yield_to and self.yield_to.wait_calm(YIELD_SECONDS):
                METRICS.inc("gridbot_handler_yields_total")
            t0 = time.perf_counter()
            try:
                return handle(*args, **kwargs)
            finally:
                took = time.perf_counter() - t0
                self.seconds_per_message += self.weight * (took - self.seconds_per_message)
                METRICS.observe("gridbot_handler_seconds", took)

        return run

    def budget(self, ack_budget_seconds: float) -> float | None:
        """How long the next message may wait for its answer before it is parked: the
        ack budget; 0 behind a queue longer than that; None when parking is off (0)."""
        if ack_budget_seconds <= 0:
            return None
        self.behind = self.expected_wait() > ack_budget_seconds
        return 0.0 if self.behind else ack_budget_seconds

    def expected_wait(self) -> float:
        return self.threads.waiting * self.seconds_per_message / self.threads.count
