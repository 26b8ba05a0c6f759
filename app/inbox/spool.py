"""Messages kept on local disk while the database is down, replayed once it is back.

When the database refuses connections, drops them or hangs past the ack budget, the
webhook cannot record a message, park it or answer it - and after WeChat's three tries the
message would be gone. Instead it is written here (one file, fsynced, renamed into place)
and WeChat hears "success" at once; the answer follows by customer-service message, as
for any parked message (app/inbox/late_answers.py).

Replay is in arrival order (file names start with the arrival time in nanoseconds) and
once each: a kept message is first parked in the database (its answer owed) and its file
removed, then it is handled and its answer owed - a crash in between leaves it parked,
for the leader's sweep to answer (app/inbox/late_answers.py), and only repeats steps
the inbox's dedup key and the parked row make idempotent. While anything is
kept, later messages are kept too, behind it, so that a rider's messages keep their order.
The directory is shared by the processes of one machine; one at a time replays it (an
flock), and files another process left (it died) are replayed too.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.inbox.deliveries import Delivery
from app.inbox.late_answers import from_json, to_json
from bot.inbound import InboundMessage
from bot.metrics import METRICS

if TYPE_CHECKING:
    from app.inbox.chat import ChatEngine

log = logging.getLogger(__name__)

SUFFIX = ".json"
LOCK_NAME = ".replay.lock"
BATCH = 100


@dataclass(frozen=True)
class Kept:
    """One message in the spool."""

    path: Path
    msg: InboundMessage
    arrived_at: datetime
    unverified: Delivery | None
    """Its delivery, when the replay table could not be asked (the database was down)."""


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._writing = 0
        self._waiting = any(self._names())
        """Something is kept and not replayed yet: later messages queue behind it."""

    @property
    def waiting(self) -> bool:
        return self._waiting

    def keep(self, msg: InboundMessage, *, arrived_ns: int, unverified: Delivery | None) -> None:
        """Write `msg` durably (it fsyncs: call it in a worker thread)."""
        self.expect()
        self.write(msg, arrived_ns=arrived_ns, unverified=unverified)

    def expect(self) -> None:
        """A message is about to be kept: from now on later ones queue behind it (call it
        in the event loop, before handing `write` to a thread, so that no message that
        arrives after it slips past while it is being written)."""
        with self._lock:
            self._writing += 1
            self._waiting = True

    def write(self, msg: InboundMessage, *, arrived_ns: int, unverified: Delivery | None) -> None:
        """The second half of `keep`, after `expect`."""
        try:
            name = f"{arrived_ns:020d}-{os.getpid()}-{next(self._seq):08d}"
            record = {
                "message": to_json(msg),
                "arrived_ns": arrived_ns,
                "delivery": None if unverified is None else unverified.row(),
            }
            tmp = self.directory / f".{name}.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(record, f, ensure_ascii=False)
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, self.directory / f"{name}{SUFFIX}")
            _fsync_dir(self.directory)
        finally:
            with self._lock:
                self._writing -= 1
        METRICS.inc("gridbot_messages_spooled_total")

    def look(self) -> bool:
        """Whether anything is kept (also by another process); updates `waiting`."""
        found = any(self._names())
        with self._lock:
            if found:
                self._waiting = True
            elif self._writing == 0:
                self._waiting = False
        return found

    def oldest(self, limit: int) -> list[Kept]:
        kept = []
        for name in sorted(self._names())[:limit]:
            path = self.directory / name
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                delivery = record["delivery"]
                kept.append(
                    Kept(
                        path,
                        from_json(record["message"]),
                        datetime.fromtimestamp(record["arrived_ns"] / 1e9, UTC),
                        None if delivery is None else Delivery(**delivery),
                    )
                )
            except FileNotFoundError:
                continue
            except (ValueError, KeyError, TypeError):
                log.error("spool: %s is unreadable; moved aside", name)
                path.rename(path.with_suffix(".bad"))
        return kept

    @contextlib.contextmanager
    def replaying(self) -> Iterator[bool]:
        """True while this process alone replays the spool; False if another one does."""
        with open(self.directory / LOCK_NAME, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _names(self) -> Iterator[str]:
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if entry.name.endswith(SUFFIX) and not entry.name.startswith("."):
                    yield entry.name


def replay(spool: Spool, chat: ChatEngine) -> int:
    """Replay what `spool` keeps, oldest first: park each (its answer owed), handle it,
    owe its answer, remove its file. How many were replayed. Raises (leaving the rest
    kept) when the database fails again."""
    done = 0
    with spool.replaying() as mine:
        if not mine:
            return 0
        # First everything kept goes into the database, parked (its answer owed), and off
        # the disk: parking is quick, and while anything is kept every new message is kept
        # behind it, so a spool emptied only as fast as messages are handled took over all
        # intake in a storm. A parked message is as safe as a kept one: if this process
        # dies before handling it, the leader's sweep answers it (late_answers.stale).
        owed: list[InboundMessage] = []
        while kept := spool.oldest(BATCH):
            owed += chat.take_over([(k.msg, k.arrived_at, k.unverified) for k in kept])
            for k in kept:
                k.path.unlink(missing_ok=True)
            done += len(kept)
            METRICS.inc("gridbot_spool_replayed_total", len(kept))
        spool.look()
        for msg in owed:  # in arrival order, as they were kept
            chat.answer_late(msg, chat.handle(msg, owe_late=True))
    return done


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
