"""How far behind the event loop runs: when it lags, handler threads let intake go first.

One process acknowledges messages in its event loop (decrypt, replay check, park) and
handles them in threads; all of them share one GIL. In a storm the handlers' CPU-bound
Python took the GIL from the loop, acknowledging a message took seconds, and waits for the
database looked like a database gone silent. Acknowledging is what WeChat waits for; a
parked message's handling can wait. So while the server is behind (new messages are
parked at once, app/inbox/backlog.py), a handler thread, before it takes the next message,
waits (sleeping, the GIL released) while the loop is behind its own timer, up to a limit
per message, and the loop catches up first. A server keeping up never waits: on a busy
machine the loop lags for want of a CPU, and holding handlers back would not help it.

The lag is read live from a thread: the loop's watcher sets when it is next due to wake;
once that moment has passed without it waking, the loop is that far behind.
"""

from __future__ import annotations

import asyncio
import time

WATCH_EVERY_SECONDS = 0.01
CALM_SECONDS = 0.02
"""A loop this close to its timer is keeping up."""
STEP_SECONDS = 0.002


class LoopLag:
    def __init__(self) -> None:
        self._due = float("inf")
        """When the watcher should next wake (time.monotonic); inf while not watching."""

    def lag(self) -> float:
        """How far behind its timer the loop is now (0 when on time or not watched)."""
        return max(0.0, time.monotonic() - self._due)

    async def watch(self) -> None:
        """Run in the event loop for as long as handlers should yield to it."""
        try:
            while True:
                self._due = time.monotonic() + WATCH_EVERY_SECONDS
                await asyncio.sleep(WATCH_EVERY_SECONDS)
        finally:
            self._due = float("inf")

    def wait_calm(self, longest: float) -> float:
        """In a handler thread: sleep while the loop lags, `longest` seconds at most; how
        long it slept."""
        slept = 0.0
        while slept < longest and self.lag() > CALM_SECONDS:
            time.sleep(STEP_SECONDS)
            slept += STEP_SECONDS
        return slept
