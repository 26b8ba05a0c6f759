"""Handler threads: at most `count` calls at once, results and errors back to the caller."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from app.inbox import threads as threads_module
from app.inbox.threads import HandlerThreads

who = contextvars.ContextVar("who", default="nobody")


def test_calls_run_on_at_most_count_threads_and_give_back_results_and_errors():
    running, most = 0, 0
    lock = threading.Lock()

    def work(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        if n == 3:
            raise ValueError("three")
        return n * 2

    async def main():
        pool = HandlerThreads(2)
        results = await asyncio.gather(
            *(pool.run(work, n) for n in range(8)), return_exceptions=True
        )
        return results, threading.current_thread()

    results, _ = asyncio.run(main())
    assert most == 2
    assert [r for i, r in enumerate(results) if i != 3] == [0, 2, 4, 8, 10, 12, 14]
    assert isinstance(results[3], ValueError)


def test_the_callers_context_is_visible_and_a_cancelled_caller_does_not_stop_the_work():
    done = threading.Event()

    def slow() -> str:
        time.sleep(0.05)
        done.set()
        return who.get()

    async def main():
        pool = HandlerThreads(1)
        who.set("rider-1")
        seen = await pool.run(who.get)
        task = asyncio.ensure_future(pool.run(slow))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        after = await pool.run(lambda: "next")  # the thread is free again afterwards
        return seen, after

    seen, after = asyncio.run(main())
    assert seen == "rider-1"
    assert done.is_set()
    assert after == "next"


def test_idle_threads_end_and_the_next_call_starts_one(monkeypatch):
    monkeypatch.setattr(threads_module, "IDLE_SECONDS", 0.05)

    def alive() -> int:
        return sum(t.name.startswith("idle-test") for t in threading.enumerate())

    async def main():
        pool = HandlerThreads(2, name="idle-test")
        await asyncio.gather(pool.run(time.sleep, 0.02), pool.run(time.sleep, 0.02))
        started = alive()
        await asyncio.sleep(0.3)
        ended = alive()
        again = await pool.run(lambda: "again")
        return started, ended, again

    started, ended, again = asyncio.run(main())
    assert started == 2
    assert ended == 0
    assert again == "again"
