"""Leader election: of several processes sharing one PostgreSQL, one runs the sweeps.

The leader holds a session-level advisory lock on a connection of its own. If the
process dies its connection closes, the lock is released, and the next process to ask
becomes the leader. With SQLite there is one process, and it leads.
"""

from __future__ import annotations

import contextlib
import logging
import threading

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

LOCK_KEY = 0x67726964  # "grid"


class Leader:
    def __init__(self, database_url: str, *, key: int = LOCK_KEY) -> None:
        url = make_url(database_url)
        self.postgres = url.get_backend_name() == "postgresql"
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.key = key
        self._conn: psycopg.Connection | None = None
        self._leading = False
        self._lock = threading.Lock()

    def is_leader(self) -> bool:
        """True while this process holds the lock; tries to take it when it does not."""
        if not self.postgres:
            return True
        with self._lock:
            try:
                return self._check()
            except psycopg.Error as exc:
                if self._leading:
                    log.warning("lost the leader lock: %s", exc)
                self._drop()
                return False

    def _check(self) -> bool:
        if self._conn is None or self._conn.closed:
            self._drop()
            self._conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=5)
        if self._leading:
            self._conn.execute("SELECT 1")  # a dead connection means the lock is gone
            return True
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        self._leading = bool(row and row[0])
        if self._leading:
            log.info("this process now runs the scheduled sweeps (leader)")
        return self._leading

    def _drop(self) -> None:
        self._leading = False
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

    def close(self) -> None:
        """Step down: closing the connection releases the lock."""
        with self._lock:
            self._drop()
