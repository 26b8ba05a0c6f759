"""Builds gridbot's object graph for the web app, the command line and the jobs.

The environment is read here and only here: the settings, the escalation policy and the
database built by this module are handed down (to the chat engine, the jobs, the web
routes), so what an app or a command was built with is what it uses.

Configuration is checked as a whole: `configure` collects every wrong or missing setting
(bad values, the wechat channel's secrets, an unreadable policy file, a database that
cannot be reached or does not exist) and raises one `ConfigurationError` naming them all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from app.db import DatabaseTimeouts, make_engine, make_sessionmaker
from app.domain.policy import PolicyError
from app.services.policies import PolicySource, with_policy
from app.settings import Settings
from models import utcnow

if TYPE_CHECKING:
    from app.inbox.chat import ChatEngine
    from app.services.intake.reports import IntakeRules


class ConfigurationError(Exception):
    """Settings gridbot cannot run with; `problems` has one line per wrong setting."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems

    def report(self) -> str:
        """What an operator reads: every problem at once, no traceback."""
        n = len(self.problems)
        head = (
            "gridbot: the configuration has a problem:"
            if n == 1
            else (f"gridbot: the configuration has {n} problems:")
        )
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


class Database(Enum):
    """What a command needs of the database."""

    NONE = "none"
    """Nothing (`jobs list`, `chat`)."""
    EXISTING = "existing"
    """A gridbot database that exists; one behind the newest schema is migrated."""
    CREATE = "create"
    """Created or migrated as needed (`demo`, `db upgrade`)."""


class _Unchecked(Settings):
    """Settings read without the checks across fields, so that those can be listed with
    every other problem instead of stopping at the first."""

    def problems(self) -> list[str]:
        return []


def _settings(overrides: dict[str, Any]) -> tuple[Settings, list[str]]:
    found: list[str] = []
    try:
        unchecked: Settings = _Unchecked(**overrides)
    except ValidationError as exc:
        bad = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            bad[name] = Settings.model_fields[name].default if name else None
            got = repr(error["input"])
            got = got if len(got) <= 40 else got[:37] + "..."
            found.append(f"GRIDBOT_{name.upper()}: {error['msg']} (got {got})")
        # Read the rest with the defaults in place of the bad values.
        unchecked = _Unchecked(**{**overrides, **bad})
    return unchecked, found + Settings.problems(unchecked)


def _policy(source: PolicySource) -> list[str]:
    try:
        source()
    except (PolicyError, OSError) as exc:
        return [f"GRIDBOT_POLICY_FILE: {exc}"]
    return []


def shown(url: str) -> str:
    """The URL as an operator may see it (no password)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


@dataclass(frozen=True)
class Probe:
    problem: str | None = None
    """Why the database cannot be used at all (unreachable, not a database URL)."""
    has_schema: bool = False
    """A gridbot database is there (it has been migrated at least once)."""
    missing_server_database: str | None = None
    """The name of a PostgreSQL database the server does not have (it is never created
    by gridbot: `createdb` it first)."""


def probe(url: str) -> Probe:
    """Look at the database without creating anything."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return Probe(f"GRIDBOT_DATABASE_URL: not a database URL: {url!r}")
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or path == ":memory:":
            return Probe(has_schema=False)
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
                row = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'"
                ).fetchone()
        except sqlite3.Error:
            return Probe(has_schema=False)
        return Probe(has_schema=row is not None)
    if parsed.get_backend_name() != "postgresql":
        return Probe(
            f"GRIDBOT_DATABASE_URL: {parsed.get_backend_name()} is not supported "
            "(use sqlite:///path or postgresql://user@host/db)"
        )
    import psycopg

    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, connect_timeout=5) as conn:
            row = conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "does not exist" in reason and f'database "{parsed.database}"' in reason:
            return Probe(missing_server_database=parsed.database)
        return Probe(f"GRIDBOT_DATABASE_URL: cannot connect to {shown(url)}: {reason}")
    return Probe(has_schema=bool(row and row[0]))


def configure(
    database: Database = Database.EXISTING, **overrides: Any
) -> tuple[Settings, PolicySource]:
    """The settings (environment, `.env`, then `overrides`) and the policy they name,
    checked as a whole; ConfigurationError lists everything that is wrong."""
    settings, found = _settings(overrides)
    policy = PolicySource(settings.policy_file)
    found += _policy(policy)
    if database is not Database.NONE:
        checked = probe(settings.database_url)
        if checked.problem:
            found.append(checked.problem)
        elif checked.missing_server_database and database is Database.CREATE:
            found.append(
                f"GRIDBOT_DATABASE_URL: the server has no database "
                f'"{checked.missing_server_database}"; create it first '
                f"(createdb {checked.missing_server_database})"
            )
        elif database is Database.EXISTING and not checked.has_schema:
            found.append(
                f"GRIDBOT_DATABASE_URL: there is no gridbot database at "
                f"{shown(settings.database_url)}; create it with `gridbot db upgrade` "
                "(or try everything on a demo database: `gridbot demo`)"
            )
    if found:
        raise ConfigurationError(found)
    return Settings(**overrides), policy


@dataclass
class Runtime:
    """What the app, a command or a job runs on: its settings, its policy, its database."""

    settings: Settings
    policy: PolicySource
    engine: Engine
    sessions: sessionmaker[Session]
    """Sessions that carry `policy` (see app/services/policies.py)."""

    def close(self) -> None:
        self.engine.dispose()


def build(
    settings: Settings,
    policy: PolicySource | None = None,
    *,
    timeouts: DatabaseTimeouts | None = None,
) -> Runtime:
    """The object graph for `settings` (already checked, or made by a test); the web app
    adds the server's database `timeouts`."""
    policy = policy or PolicySource(settings.policy_file)
    engine = make_engine(settings.database_url, timeouts=timeouts)
    sessions = with_policy(make_sessionmaker(engine), policy)
    return Runtime(settings=settings, policy=policy, engine=engine, sessions=sessions)


def start(database: Database = Database.EXISTING, **overrides: Any) -> Runtime:
    """Check the configuration, migrate the database as `database` allows, build."""
    settings, policy = configure(database, **overrides)
    if database is not Database.NONE:
        from app.migrate import upgrade

        try:
            upgrade(settings.database_url)
        except Exception as exc:  # a server that went away, a file we may not write
            raise ConfigurationError(
                [f"GRIDBOT_DATABASE_URL: cannot migrate {shown(settings.database_url)}: {exc}"]
            ) from None
    return build(settings, policy)


def intake_rules(settings: Settings) -> IntakeRules:
    """How reports are taken in and placed, as `settings` say (one grid index each)."""
    from app.services.directory.grids import GridLocator
    from app.services.intake.reports import IntakeRules

    return IntakeRules.from_settings(settings, GridLocator(settings.nearest_grid_max_m))


def chat_engine(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    rules: IntakeRules | None = None,
    policy: PolicySource | None = None,
    clock: Callable[[], datetime] = utcnow,
    on_outbox: Callable[[], None] = lambda: None,
) -> ChatEngine:
    """The chat engine with gridbot's chat flows: the handlers' dispatcher, and handler
    contexts made with `settings` and the intake `rules` (by default those the settings
    give), under `policy` (by default the one the settings name)."""
    from app.inbox.chat import ChatEngine
    from handlers import build_dispatcher
    from handlers.context import ChatContext
    from handlers.texts import BUSY

    return ChatEngine(
        sessions=sessions,
        policy=policy or PolicySource(settings.policy_file),
        dispatcher=build_dispatcher(),
        context=partial(ChatContext, settings=settings, rules=rules or intake_rules(settings)),
        busy_reply=BUSY,
        clock=clock,
        on_outbox=on_outbox,
    )
