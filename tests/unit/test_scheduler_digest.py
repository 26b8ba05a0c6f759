"""The digest sweep is scheduled with the outbox drain, runs at start, and survives errors."""

import threading

from app.scheduler import DIGEST_JOB, Jobs


class IdleSender:
    def drain(self):
        return None


def test_the_digest_sweep_runs_when_the_jobs_start_and_after_a_failure():
    calls = []
    ran_twice = threading.Event()

    def sweep():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")
        ran_twice.set()

    jobs = Jobs(IdleSender(), outbox_poll_seconds=60, digest_sweep=sweep, digest_poll_seconds=0.2)
    assert jobs.scheduler.get_job(DIGEST_JOB) is not None
    jobs.start()
    try:
        assert ran_twice.wait(timeout=10)
    finally:
        jobs.shutdown()


def test_without_a_sweep_there_is_no_digest_job():
    jobs = Jobs(IdleSender(), outbox_poll_seconds=60)
    assert jobs.scheduler.get_job(DIGEST_JOB) is None
