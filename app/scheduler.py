"""Background jobs (APScheduler): sweeps over the database, safe to run twice."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from app.delivery.outbox_sender import OutboxSender

log = logging.getLogger(__name__)


class _OverlapIsExpected(logging.Filter):
    """Every job runs one instance at a time on purpose (a drain or sweep that outlasts its
    tick makes the next tick wait), so APScheduler's warning that a tick was skipped is
    routine: it is logged at DEBUG instead of alarming an operator under load."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances" not in record.getMessage():
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


logging.getLogger("apscheduler.scheduler").addFilter(_OverlapIsExpected())

OUTBOX_JOB = "outbox"


@dataclass(frozen=True)
class Sweep:
    """A periodic sweep run by the leader process only."""

    name: str
    every_seconds: float
    run: Callable[[], object]


class Leadership:
    def is_leader(self) -> bool:
        return True

    def close(self) -> None:
        pass


class Jobs:
    """The process's scheduled jobs. `wake_outbox` runs the sender now instead of at its tick."""

    def __init__(
        self,
        sender: OutboxSender,
        *,
        outbox_poll_seconds: float,
        sweeps: Sequence[Sweep] = (),
        leader: Leadership | None = None,
        outbox_gather_seconds: float = 0.05,
    ) -> None:
        self.sender = sender
        self.outbox_gather = timedelta(seconds=outbox_gather_seconds)
        self.leader = leader or Leadership()
        self._again = threading.Event()
        self._draining = threading.Event()
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.scheduler.add_job(
            self._drain,
            "interval",
            seconds=outbox_poll_seconds,
            id=OUTBOX_JOB,
            max_instances=1,
            coalesce=True,
        )
        for sweep in sweeps:
            self._schedule(sweep)

    def _schedule(self, sweep: Sweep) -> None:
        self.scheduler.add_job(
            self._sweep,
            "interval",
            args=[sweep],
            seconds=sweep.every_seconds,
            id=sweep.name,
            max_instances=1,
            coalesce=True,
            # Sweeps also run at start: a restart catches up at once, and a supervisor
            # bound after the digest time gets theirs at the next run.
            next_run_time=datetime.now(self.scheduler.timezone),
        )

    def _sweep(self, sweep: Sweep) -> None:
        if not self.leader.is_leader():
            return
        try:
            result = sweep.run()
            log.debug("%s: %s", sweep.name, result)
        except Exception:  # a failed sweep is retried at the next tick
            log.exception("%s sweep failed", sweep.name)
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

    def add_sweep(self, sweep: Sweep) -> None:
        """Schedule one more leader-only sweep (for sweeps wired after construction)."""
        self._schedule(sweep)

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.leader.close()

    def wake_outbox(self) -> None:
        """Drain soon: within `outbox_gather_seconds`, so that the notices of a burst of
        messages go out in one lease rather than one drain (four transactions) each."""
        self._again.set()
        if self.scheduler.running and not self._draining.is_set():
            job = self.scheduler.get_job(OUTBOX_JOB)
            soon = datetime.now(self.scheduler.timezone) + self.outbox_gather
            if job is not None and (job.next_run_time is None or job.next_run_time > soon):
                job.modify(next_run_time=soon)
