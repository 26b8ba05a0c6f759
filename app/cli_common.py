"""What the command-line modules share: the checked configuration, refusals, output."""

from __future__ import annotations

import errno
import json
import socket
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


def require_free_port(host: str, port: int, command: str) -> None:
    """Refuse at once, in one line, to listen where something already does (instead of
    starting, printing a tour and then failing in the web server's bind)."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        reason = (
            "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
        )
        typer.echo(
            f"port {port} on {host} {reason}; is another gridbot running there? "
            f"Stop it or pick another: gridbot {command} --port {port + 1}",
            err=True,
        )
        raise typer.Exit(2) from None


def print_json(rows) -> None:
    json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
    typer.echo()
