"""What the command-line modules share: the checked configuration, refusals, output."""

from __future__ import annotations

import json
import sys

import typer

from app.bootstrap import ConfigurationError, Database, Runtime
from app.bootstrap import configure as _configure
from app.bootstrap import start as _start
from app.settings import Settings


def start(database: Database = Database.EXISTING, **overrides) -> Runtime:
    """The runtime a command works on: settings, policy and (as `database` says) an
    existing, migrated database. A configuration that cannot work ends the command
    with one message naming every problem."""
    try:
        return _start(database, **overrides)
    except ConfigurationError as exc:
        _refuse(exc)
        raise  # unreachable: _refuse exits


def settings() -> Settings:
    """The checked settings, for commands that need no database."""
    try:
        return _configure(Database.NONE)[0]
    except ConfigurationError as exc:
        _refuse(exc)
        raise


def _refuse(exc: ConfigurationError) -> None:
    typer.echo(exc.report(), err=True)
    raise typer.Exit(2)


def fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def print_json(rows) -> None:
    json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
    typer.echo()
