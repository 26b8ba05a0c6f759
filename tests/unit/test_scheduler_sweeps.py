"""Sweeps are scheduled beside the outbox drain, run at start, survive errors, and run
only in the leader process."""

import logging
import threading
import time

from app.scheduler import Jobs, Sweep


class IdleSender:
    def drain(self):
        return None


class Follower:
    def is_leader(self):
        return False

    def close(self):
        pass


def test_a_sweep_runs_when_the_jobs_start_and_again_after_a_failure():
    calls = []
    ran_twice = threading.Event()

    def sweep():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")
        ran_twice.set()

    jobs = Jobs(IdleSender(), outbox_poll_seconds=60, sweeps=[Sweep("digest", 0.2, sweep)])
    assert jobs.scheduler.get_job("digest") is not None
    jobs.start()
    try:
        assert ran_twice.wait(timeout=10)
    finally:
        jobs.shutdown()


def test_a_follower_process_does_not_run_sweeps():
    ran = threading.Event()
    jobs = Jobs(
        IdleSender(),
        outbox_poll_seconds=60,
        sweeps=[Sweep("digest", 0.1, ran.set)],
        leader=Follower(),
    )
    jobs.start()
    try:
        assert not ran.wait(timeout=0.5)
    finally:
        jobs.shutdown()


def test_a_burst_of_wake_ups_is_drained_once_after_the_gathering_pause():
    import time

    class CountingSender:
        def __init__(self):
            self.drains = []
            self.drained = threading.Event()

        def drain(self):
            self.drains.append(time.monotonic())
            self.drained.set()

    sender = CountingSender()
    jobs = Jobs(sender, outbox_poll_seconds=60, outbox_gather_seconds=0.3)
    jobs.start()
    try:
        first = time.monotonic()
        for _ in range(20):  # twenty messages that each owe a notice, at once
            jobs.wake_outbox()
        assert sender.drained.wait(timeout=5)
        time.sleep(0.5)
    finally:
        jobs.shutdown()
    assert len(sender.drains) == 1
    assert sender.drains[0] - first >= 0.25


def test_a_drain_slower_than_its_tick_does_not_warn_the_operator(caplog):
    """Under load a drain outlasts its 0.05 s tick and APScheduler skips ticks: routine,
    so the operator's log (INFO and up) shows no warning for it."""

    class SlowSender:
        def __init__(self):
            self.drains = 0

        def drain(self):
            self.drains += 1
            time.sleep(0.3)

    sender = SlowSender()
    jobs = Jobs(sender, outbox_poll_seconds=0.05)
    with caplog.at_level(logging.INFO):
        jobs.start()
        try:
            time.sleep(1.2)
        finally:
            jobs.shutdown()
    assert sender.drains >= 2
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
