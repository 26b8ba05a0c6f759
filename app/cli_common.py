"""What the command-line modules share: a migrated database, refusals, JSON output."""

from __future__ import annotations

import json
import sys

import typer
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_sessionmaker
from app.settings import Settings, get_settings


def sessions(settings: Settings | None = None) -> sessionmaker[Session]:
    """Sessions on the configured database, migrated to the newest schema first."""
    from app.migrate import upgrade

    settings = settings or get_settings()
    upgrade(settings.database_url)
    return make_sessionmaker(make_engine(settings.database_url))


def fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def print_json(rows) -> None:
    json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
    typer.echo()
