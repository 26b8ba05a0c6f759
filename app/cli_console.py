"""`gridbot console ...`: sign-in links and sign-outs for the operations console."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from app.cli_common import fail, start
from app.db import unit_of_work
from app.services.directory import console_access
from app.services.errors import ServiceError

console_app = typer.Typer(help="The operations console (/console).", no_args_is_help=True)


@console_app.command("link")
def link(openid: Annotated[str, typer.Option(help="The lead's WeChat openid.")]) -> None:
    """Print a one-time sign-in URL (valid 10 minutes) on the last line."""
    runtime = start()
    settings = runtime.settings
    try:
        with unit_of_work(runtime.sessions) as session:
            url = console_access.link_for_openid(
                session, openid, now=datetime.now(UTC), public_url=settings.public_url
            )
    except ServiceError as exc:
        fail(exc.message)
    typer.echo(f"one-time sign-in link, valid {console_access.LINK_MINUTES} minutes:")
    typer.echo(url)


@console_app.command("logout")
def logout(openid: Annotated[str, typer.Option(help="The staff member's WeChat openid.")]) -> None:
    """End every console session (and unused link) of this staff member."""
    try:
        with unit_of_work(start().sessions) as session:
            ended = console_access.revoke_all(session, openid, now=datetime.now(UTC))
    except ServiceError as exc:
        fail(exc.message)
    typer.echo(f"signed out {openid}: {ended} session(s) ended.")


def console_tour(session_factory, base_url: str) -> str:
    """For `gridbot demo`: a sign-in link to the console as the district's supervisor."""
    with unit_of_work(session_factory) as session:
        url = console_access.link_for_openid(
            session, "supervisor", now=datetime.now(UTC), public_url=base_url
        )
    return (
        "The operations console (the district supervisor; valid 10 minutes, or send 登录 in "
        f"chat as supervisor / lead-1 for a new one):\n\n  {url}\n"
    )
