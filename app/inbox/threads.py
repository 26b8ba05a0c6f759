"""The threads that run message handlers (and other database work) for the event loop.

A fixed number of threads fed by one queue; a result comes back to the waiting coroutine
by `call_soon_threadsafe`. This is what `anyio.to_thread.run_sync` with a CapacityLimiter
does too, but that costs a checkpoint, the limiter's acquire and release, a cancel scope
and a worker lookup per call: about 90 µs of CPU per hop on this machine against 10 µs
here, and the hop is paid by every webhook request (measured in bench webhook, row (c)).

As with anyio's default, a call is not abandoned when its caller is cancelled: the work
runs to its end on its thread (only its result is dropped), and holds that thread until
then. The caller's context variables are visible to the work, as with anyio.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

IDLE_SECONDS = 60.0
"""A thread with nothing to do for this long ends (another starts on the next call): an
app that is never shut down, as in tests, leaves no threads behind for long."""

_Item = tuple[asyncio.AbstractEventLoop, asyncio.Future, contextvars.Context, Callable, tuple]


class HandlerThreads:
    def __init__(self, count: int, *, name: str = "handler") -> None:
        if count < 1:
            raise ValueError("at least one thread")
        self.count = count
        self.name = name
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._alive = 0

    @property
    def waiting(self) -> int:
        """Calls queued for a thread, not started yet."""
        return self._queue.qsize()

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """`func(*args)` on one of the threads; its result, or what it raised."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((loop, future, contextvars.copy_context(), func, args))
        # Always, under the lock: a thread ending for idleness may have found the queue
        # empty just before this call was queued, and not lowered its count yet.
        self._start()
        return await future

    def _start(self) -> None:
        with self._lock:
            if self._alive >= self.count:
                return
            self._alive += 1
        threading.Thread(target=self._work, name=f"{self.name}-{self._alive}", daemon=True).start()

    def _work(self) -> None:
        get = self._queue.get
        while True:
            try:
                loop, future, context, func, args = get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    # Under the lock: a call queued after this look starts a new thread
                    # (`run` calls `_start`, which waits for this lock).
                    if self._queue.empty():
                        self._alive -= 1
                        return
                continue
            try:
                result, error = context.run(func, *args), None
            except BaseException as exc:  # handed to the caller, as anyio does
                result, error = None, exc
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_resolve, future, result, error)
            del future, context, func, args, result, error


def _resolve(future: asyncio.Future, result: object, error: BaseException | None) -> None:
    if future.done():  # the caller was cancelled
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)
