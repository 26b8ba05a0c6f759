"""Shared fixtures: real databases (a SQLite file and PostgreSQL), migrated by Alembic.

The schema is built once per test session on each backend (a migrated SQLite file, a
migrated PostgreSQL template database); a test that uses `sessions` gets a copy of it.
A test that asks only for `db_url` gets an empty database and migrates it itself, so
tests of the migrations still run them for real.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_sessionmaker, unit_of_work
from app.migrate import upgrade

# The kits' fixtures: `chat`, `photos`, the console's `client`, the command line's `cli`.
pytest_plugins = [
    "tests.chatkit",
    "tests.photokit",
    "tests.consolekit",
    "tests.clikit",
    "tests.fakewecom",
]

PG_ADMIN = os.environ.get("GRIDBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BASE = PG_ADMIN.rsplit("/", 1)[0]


def _pg_reachable() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN}: {exc}".strip()


PG_SKIP_REASON = _pg_reachable()
if PG_SKIP_REASON and os.environ.get("GRIDBOT_REQUIRE_PG"):
    raise RuntimeError(PG_SKIP_REASON)


def _wants_schema(request) -> bool:
    """True when the test (directly or through another fixture) uses `sessions`."""
    return "sessions" in request.fixturenames


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated to the head revision, once per test session."""
    path = tmp_path_factory.mktemp("schema") / "gridbot.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    # Fold the WAL into the main file so that copying the one file copies everything.
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A PostgreSQL database migrated to the head revision, once per test session."""
    if PG_SKIP_REASON:
        pytest.skip(PG_SKIP_REASON)
    name = f"gridbot_template_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        upgrade(f"{PG_BASE}/{name}")
        yield name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path) -> Iterator[str]:
    """A fresh database URL on each backend: a copy of the migrated schema when the
    test uses `sessions`, else empty."""
    if request.param == "sqlite":
        path = tmp_path / "gridbot.db"
        if _wants_schema(request):
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    if PG_SKIP_REASON:
        pytest.skip(PG_SKIP_REASON)
    template = request.getfixturevalue("pg_template") if _wants_schema(request) else None
    name = f"gridbot_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        if template:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_BASE}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sessions(db_url) -> Iterator[sessionmaker[Session]]:
    """Sessions on a database that already holds the schema (see `db_url`)."""
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
