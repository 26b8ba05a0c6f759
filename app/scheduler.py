"""Background jobs (APScheduler): sweeps over the database, safe to run twice."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.outbox_sender import OutboxSender

log = logging.getLogger(__name__)

OUTBOX_JOB = "outbox"
DIGEST_JOB = "digest"


class Jobs:
    """The process's scheduled jobs. `wake_outbox` runs the sender now instead of at its tick."""

    def __init__(
        self,
        sender: OutboxSender,
        *,
        outbox_poll_seconds: float,
        digest_sweep: Callable[[], object] | None = None,
        digest_poll_seconds: float = 60.0,
    ) -> None:
        self.sender = sender
        self._again = threading.Event()
        self._draining = threading.Event()
        self.digest_sweep = digest_sweep
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.scheduler.add_job(
            self._drain,
            "interval",
            seconds=outbox_poll_seconds,
            id=OUTBOX_JOB,
            max_instances=1,
            coalesce=True,
        )
        if digest_sweep is not None:
            # A sweep, not a cron job: it sends what is owed whenever it runs after the
            # digest time, so a restart or a supervisor bound later still gets theirs.
            self.scheduler.add_job(
                self._digests,
                "interval",
                seconds=digest_poll_seconds,
                id=DIGEST_JOB,
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(self.scheduler.timezone),
            )

    def _digests(self) -> None:
        try:
            assert self.digest_sweep is not None
            self.digest_sweep()
        except Exception:  # retried at the next tick
            log.exception("digest sweep failed")
        else:
            self.wake_outbox()

    def _drain(self) -> None:
        # A wake-up during a drain asks for one more pass instead of a second instance.
        while True:
            self._again.clear()
            self._draining.set()
            try:
                self.sender.drain()
            except Exception:  # a failed sweep is retried at the next tick
                log.exception("outbox drain failed")
                return
            finally:
                self._draining.clear()
            if not self._again.is_set():
                return

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def wake_outbox(self) -> None:
        self._again.set()
        if self.scheduler.running and not self._draining.is_set():
            job = self.scheduler.get_job(OUTBOX_JOB)
            if job is not None:
                job.modify(next_run_time=datetime.now(self.scheduler.timezone))
