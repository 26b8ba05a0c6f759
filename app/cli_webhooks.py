"""`gridbot webhooks ...`: signed outbound deliveries of ticket events to a city's platforms."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from app.cli_common import fail, print_json, start
from app.db import unit_of_work

webhooks_app = typer.Typer(
    help="Webhooks: ticket events POSTed, signed, to outside platforms.", no_args_is_help=True
)


@webhooks_app.command("add")
def webhooks_add(
    url: Annotated[str, typer.Option(help="Where to POST (http or https).")],
    events: Annotated[
        str, typer.Option(help="Comma-separated: ticket.created,ticket.claimed,... or * for all.")
    ],
) -> None:
    """Add a hook and print its signing secret on the last line (shown only once)."""
    from app.services.errors import ServiceError
    from app.services.webhooks import hooks

    runtime = start()
    try:
        with unit_of_work(runtime.sessions) as session:
            hook, secret = hooks.add(
                session,
                url=url,
                events=events,
                now=datetime.now(UTC),
                allow_private=runtime.settings.webhook_allow_private,
            )
            typer.echo(f"webhook {hook.id} -> {hook.url} ({hook.events})")
            typer.echo("signing secret, shown only once:")
    except ServiceError as exc:
        fail(exc.message)
    typer.echo(secret)


@webhooks_app.command("list")
def webhooks_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every hook: URL, events, deliveries pending/sent/dead, and its dead letters."""
    from app.services.webhooks import hooks

    with start().sessions() as session:
        rows = hooks.listing(session)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        state = f"removed {r['removed_at'][:19]}" if r["removed_at"] else "active"
        d = r["deliveries"]
        typer.echo(
            f"{r['id']:<4} {state:<7} {r['url']}  {','.join(r['events'])}  "
            f"pending {d['pending']}, sent {d['sent']}, dead {d['dead']}"
        )
        for dead in r["dead"]:
            typer.echo(
                f"     dead {dead['outbox_id']:<6} {dead['event']:<24} "
                f"ticket {dead['ticket'] or '-'}  try {dead['attempts']}  {dead['error']}"
            )


@webhooks_app.command("test")
def webhooks_test(hook_id: Annotated[int, typer.Argument(help="The hook's id.")]) -> None:
    """Owe the hook a webhook.test delivery and run the outbox once to send it now."""
    from app.jobs import make_sender
    from app.services.errors import ServiceError
    from app.services.webhooks import hooks, ticket_events
    from models import OutboxMessage

    runtime = start()
    try:
        with unit_of_work(runtime.sessions) as session:
            hook = hooks.live(session, hook_id)
            outbox_id = ticket_events.owe_test(
                session, hook, now=datetime.now(UTC), tz=runtime.settings.timezone
            )
    except ServiceError as exc:
        fail(exc.message)
    make_sender(runtime.settings, runtime.sessions).drain()
    with runtime.sessions() as session:
        row = session.get_one(OutboxMessage, outbox_id)
        status, error = row.status, row.last_error
    if status == "sent":
        typer.echo(f"delivered (outbox {outbox_id})")
        return
    fail(f"not delivered yet (outbox {outbox_id}, {status}): {error}; retried with backoff")


@webhooks_app.command("retry")
def webhooks_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Outbox ids of dead deliveries.")] = None,
    hook: Annotated[int | None, typer.Option(help="Only this hook's dead deliveries.")] = None,
) -> None:
    """Queue dead deliveries again with a fresh set of attempts (all dead ones by default)."""
    from app.services.errors import ServiceError
    from app.services.webhooks import hooks
    from models import utcnow

    try:
        with unit_of_work(start().sessions) as session:
            count = hooks.retry(session, ids=list(ids) if ids else None, hook_id=hook, now=utcnow())
    except ServiceError as exc:
        fail(exc.message)
    typer.echo(f"queued {count} delivery(ies) again")
    if ids and count < len(ids):
        fail(f"{len(ids) - count} id(s) are no dead webhook delivery")


@webhooks_app.command("remove")
def webhooks_remove(hook_id: Annotated[int, typer.Argument(help="The hook's id.")]) -> None:
    """Stop delivering to the hook (its pending deliveries become dead letters)."""
    from app.services.errors import ServiceError
    from app.services.webhooks import hooks
    from models import utcnow

    try:
        with unit_of_work(start().sessions) as session:
            dropped = hooks.remove(session, hook_id, now=utcnow())
    except ServiceError as exc:
        fail(exc.message)
    typer.echo(f"webhook {hook_id} removed; {dropped} pending delivery(ies) marked dead")
