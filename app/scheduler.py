"""Background jobs (APScheduler): sweeps over the database, safe to run twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.outbox_sender import OutboxSender

log = logging.getLogger(__name__)

OUTBOX_JOB = "outbox"


class Jobs:
    """The process's scheduled jobs. `wake_outbox` runs the sender now instead of at its tick."""

    def __init__(self, sender: OutboxSender, *, outbox_poll_seconds: float) -> None:
        self.sender = sender
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.scheduler.add_job(
            self._drain,
            "interval",
            seconds=outbox_poll_seconds,
            id=OUTBOX_JOB,
            max_instances=1,
            coalesce=True,
        )

    def _drain(self) -> None:
        try:
            self.sender.drain()
        except Exception:  # a failed sweep is retried at the next tick
            log.exception("outbox drain failed")

    def add_sweep(self, job_id: str, sweep: Callable[[], object], *, seconds: float) -> None:
        """Run `sweep` every `seconds` (one at a time); a failure is logged and retried."""

        def run() -> None:
            try:
                sweep()
            except Exception:
                log.exception("%s sweep failed", job_id)

        self.scheduler.add_job(
            run, "interval", seconds=seconds, id=job_id, max_instances=1, coalesce=True
        )

    def wake(self, job_id: str) -> None:
        if self.scheduler.running:
            job = self.scheduler.get_job(job_id)
            if job is not None:
                job.modify(next_run_time=datetime.now(self.scheduler.timezone))

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def wake_outbox(self) -> None:
        if self.scheduler.running:
            job = self.scheduler.get_job(OUTBOX_JOB)
            if job is not None:
                job.modify(next_run_time=datetime.now(self.scheduler.timezone))
