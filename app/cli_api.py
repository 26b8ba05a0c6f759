"""`gridbot api-key ...`: keys of outside systems calling the Open311 API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from app.cli_common import fail, print_json, start
from app.db import unit_of_work

api_key_app = typer.Typer(help="API keys for outside systems (Open311).", no_args_is_help=True)


@api_key_app.command("create")
def api_key_create(
    name: Annotated[str, typer.Option(help="Who calls with it, e.g. 12345热线.")],
    scope: Annotated[str, typer.Option(help="read (GET only) or write.")] = "write",
) -> None:
    """Create a client and print its key on the last line (shown once, stored hashed)."""
    from app.services.directory import api_keys
    from app.services.errors import ServiceError

    try:
        with unit_of_work(start().sessions) as session:
            client, key = api_keys.create(session, name=name, scope=scope, now=datetime.now(UTC))
            typer.echo(f"API client {client.name} ({client.scope}); the key is shown only once:")
    except ServiceError as exc:
        fail(exc.message)
    typer.echo(key)


@api_key_app.command("list")
def api_key_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every client: name, scope, key prefix, created, revoked."""
    from app.services.directory import api_keys

    with unit_of_work(start().sessions) as session:
        rows = [
            {
                "name": c.name,
                "scope": c.scope,
                "key_prefix": c.key_prefix,
                "created_at": c.created_at.isoformat(),
                "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
            }
            for c in api_keys.all_clients(session)
        ]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        state = f"revoked {r['revoked_at']}" if r["revoked_at"] else "active"
        typer.echo(f"{r['name']}\t{r['scope']}\t{r['key_prefix']}…\t{state}")


@api_key_app.command("revoke")
def api_key_revoke(name: Annotated[str, typer.Argument(help="The client's name.")]) -> None:
    """Refuse the client's key from now on (its tickets and events stay)."""
    from app.services.directory import api_keys
    from app.services.errors import ServiceError

    try:
        with unit_of_work(start().sessions) as session:
            api_keys.revoke(session, name=name, now=datetime.now(UTC))
    except ServiceError as exc:
        fail(exc.message)
    typer.echo(f"revoked: {name}")
