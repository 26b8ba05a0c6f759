"""Copies of one message handled once per process: WeChat's retries join the first attempt.

WeChat retries a message it got no answer for within 5 seconds, often while the first
attempt is still running — that is, exactly when the server is slow. Without this, every
copy costs a database round trip that waits on the first attempt's inbox row, then a
rerun to read the stored reply: the busier the server, the more work it gets. A copy that
arrives while the same dedup key is in flight in this process waits for that attempt's
reply instead. Across processes the inbox's unique key still decides.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable


class InFlight:
    def __init__(self) -> None:
        self._running: dict[str, asyncio.Future[str]] = {}

    def __len__(self) -> int:
        return len(self._running)

    async def run(self, key: str, handle: Callable[[], Awaitable[str]]) -> str:
        """The reply of `handle()`, or of the attempt at `key` already running here."""
        first = self._running.get(key)
        if first is not None:
            with contextlib.suppress(Exception):
                return await asyncio.shield(first)
            return await handle()  # the first attempt failed: the inbox decides again
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            reply = await handle()
        except BaseException as exc:
            future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
            future.exception()  # marked retrieved: no warning when nobody was waiting
            raise
        else:
            future.set_result(reply)
            return reply
        finally:
            del self._running[key]
