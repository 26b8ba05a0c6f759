"""Shared fixtures: real databases (a SQLite file and PostgreSQL), migrated by Alembic."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_sessionmaker, unit_of_work
from app.migrate import upgrade

PG_ADMIN = os.environ.get("GRIDBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_reachable() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN}: {exc}".strip()


PG_SKIP_REASON = _pg_reachable()
if PG_SKIP_REASON and os.environ.get("GRIDBOT_REQUIRE_PG"):
    raise RuntimeError(PG_SKIP_REASON)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gridbot.db'}"
        return
    if PG_SKIP_REASON:
        pytest.skip(PG_SKIP_REASON)
    name = f"gridbot_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sessions(db_url) -> Iterator[sessionmaker[Session]]:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


@pytest.fixture
def demo_sessions(sessions) -> sessionmaker[Session]:
    """A database holding the bundled demo district and its staff."""
    from app.demo.seed import seed

    with unit_of_work(sessions) as session:
        seed(session)
    return sessions


class Clock:
    """A controllable clock: tests move time instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 20, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()
