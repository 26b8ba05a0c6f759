"""Engine and sessions. The caller owns the transaction: one commit per message or job run."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Column, Engine, create_engine, event
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.util import identity_key

T = TypeVar("T")


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long the app waits for PostgreSQL: to connect (also for a pooled connection),
    for one statement, and for a lock. A database that hangs then fails the message fast,
    and the webhook keeps it in the spool instead of holding WeChat (app/inbox/spool.py)."""

    connect_seconds: float = 5.0
    statement_seconds: float = 30.0
    lock_seconds: float = 10.0

    @classmethod
    def of(cls, settings) -> DatabaseTimeouts:
        return cls(
            settings.database_connect_timeout_seconds,
            settings.database_statement_timeout_seconds,
            settings.database_lock_timeout_seconds,
        )

    def connect_args(self) -> dict[str, object]:
        return {
            "connect_timeout": max(2, round(self.connect_seconds)),  # libpq: whole seconds
            "options": f"-c statement_timeout={round(self.statement_seconds * 1000)}"
            f" -c lock_timeout={round(self.lock_seconds * 1000)}",
            # A peer that vanished (no RST) is noticed within seconds, not hours.
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
            "tcp_user_timeout": round(self.connect_seconds * 2000),
        }


def make_engine(url: str, *, timeouts: DatabaseTimeouts | None = None, **kwargs) -> Engine:
    """An engine tuned for its backend.

    SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE, so concurrent writers
    queue up instead of failing halfway through a transaction. Errors never show the
    statement's parameters (what people wrote), in logs or in failure records.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _tune_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # No pre-ping: it is a round trip before every message. A connection the server has
    # dropped fails its first statement instead; SQLAlchemy then empties the pool, and
    # the message is retried (app/inbox/chat.py) or the job runs again on its next tick.
    if timeouts is not None:
        kwargs.setdefault("connect_args", timeouts.connect_args())
        kwargs.setdefault("pool_timeout", timeouts.connect_seconds)
    return create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800, **kwargs)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits at the end of the block, or rolls back on error."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def as_loaded(
    session: Session, cls: type[T], columns: Sequence[Column], values: Sequence[Any]
) -> T:
    """The object of mapped `cls` whose `columns` hold `values` (a row read with a Core
    statement), in `session` as if a query had loaded it: a change to it is flushed as
    an UPDATE, an attribute left out (a relationship, a deferred column) loads on first
    use. When the session holds that row's object already, that object (the session's
    state wins, as with a query). Loading through the ORM costs several times the
    statement itself on the paths every message takes."""
    ident = values[next(i for i, c in enumerate(columns) if c.primary_key)]
    held = session.identity_map.get(identity_key(cls, ident))
    if held is not None:
        return held  # type: ignore[return-value]
    obj = cls(**{c.key: v for c, v in zip(columns, values, strict=True)})
    make_transient_to_detached(obj)
    session.add(obj)
    return obj
