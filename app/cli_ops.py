"""Operator commands: scheduled jobs, the outbox, failed inbound messages."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from app.cli_common import fail as _fail
from app.cli_common import print_json as _print_json
from app.cli_common import settings as _settings
from app.cli_common import start as _start
from app.db import unit_of_work

jobs_app = typer.Typer(help="Scheduled jobs (sweeps over the database).", no_args_is_help=True)
outbox_app = typer.Typer(help="Notices owed: list, retry dead letters.", no_args_is_help=True)
inbox_app = typer.Typer(help="Inbound messages whose handling failed.", no_args_is_help=True)


@jobs_app.command("list")
def jobs_list() -> None:
    """One line per job: its name, how often it runs, what it does."""
    from app.jobs import JOBS

    settings = _settings()
    for spec in JOBS:
        where = "leader only" if spec.leader_only else "every process"
        typer.echo(f"{spec.name:<12} every {spec.every(settings):g}s ({where})  {spec.description}")


@jobs_app.command("run")
def jobs_run(name: Annotated[str, typer.Argument(help="A name from `gridbot jobs list`.")]) -> None:
    """Run one job once, now, in this process (whoever the leader is)."""
    from app.jobs import JOBS, JobContext, job

    spec = job(name)
    if spec is None:
        _fail(f"no job named {name!r}; jobs: {', '.join(j.name for j in JOBS)}")
    runtime = _start()
    context = JobContext(
        sessions=runtime.sessions, settings=runtime.settings, policy=runtime.policy
    )
    result = spec.run(context)
    typer.echo(f"{spec.name}: {summary(spec.name, result)}")


def _n(count: int, thing: str, things: str | None = None) -> str:
    return f"{count} {thing if count == 1 else things or thing + 's'}"


def summary(name: str, result) -> str:
    """What a job run did, in a sentence."""
    if name == "escalation":
        if not result.tickets:
            return "nothing due"
        return (
            f"{_n(result.tickets, 'ticket')} past a deadline: "
            f"{_n(result.reminders, 'reminder')} to holders, "
            f"{_n(result.escalations, 'escalation')} up the ladder"
        )
    if name == "auto_close":
        if not result.tickets:
            return "nothing due"
        return f"{_n(result.closed, 'resolved ticket')} closed (the rider did not answer in time)"
    if name == "outbox":
        text = (
            f"{_n(result.sent, 'notice')} sent, {result.failed} failed (tried again later), "
            f"{result.dead} dead, {result.held} held for the person's next message"
        )
        return text + ("; the channel is paused (rate limit)" if result.paused else "")
    if name == "digest":
        if result.day is None:
            return "no digest due yet (before GRIDBOT_DIGEST_TIME, or digests are off)"
        raced = f", {result.skipped} sent by another process" if result.skipped else ""
        return f"{_n(result.sent, 'digest')} of {result.day} sent{raced}"
    if name == "photos":
        return (
            f"{_n(result.stored, 'photo')} stored, {result.refused} refused, "
            f"{result.retrying} to retry, {result.failed} failed"
        )
    if name == "more_reports":
        return f"{_n(result, 'notice')} to workers about reports merged into their tickets"
    if name == "hazard_alerts":
        if not result["handled"]:
            return "nothing due"
        return f"{_n(result['handled'], 'owed hazard alert')} handled (alerts or all-clears)"
    if name == "forget_deliveries":
        return f"{_n(result['forgotten'], 'webhook delivery', 'webhook deliveries')} forgotten"
    if name == "late_answers":
        return f"{_n(result['answered'], 'parked message')} answered late"
    return str(result)


@outbox_app.command("list")
def outbox_list(
    status: Annotated[
        str | None, typer.Option(help="pending, sent, held or dead; default all.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
) -> None:
    """List notices owed and sent, newest first, with their last error."""
    from app.services import outbox
    from models import utcnow

    with _start().sessions() as session:
        rows = outbox.listing(session, status=status, limit=limit)
        summary = outbox.backlog(session, now=utcnow())
    if as_json:
        _print_json(rows)
        return
    for r in rows:
        error = f"[{r['errcode']}] {r['error']}" if r["errcode"] is not None else ""
        text = r["text"].replace("\n", " ")[:40]
        typer.echo(
            f"{r['id']:<6} {r['status']:<7} {r['to']:<14} {r['kind']:<18} "
            f"try {r['attempts']:<2} {text}  {error}".rstrip()
        )
    typer.echo(
        f"pending {summary['pending']}, held {summary['held']}, dead {summary['dead']}, "
        f"oldest pending {summary['oldest_pending_age_seconds']:.0f} s",
        err=True,
    )


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Outbox ids (dead or held).")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Every dead notice.")] = False,
) -> None:
    """Queue dead (or held) notices again with a fresh set of attempts."""
    from app.services import outbox
    from models import utcnow

    if bool(ids) == all_dead:
        _fail("give outbox ids or --all-dead (not both)")
    with unit_of_work(_start().sessions) as session:
        count = outbox.retry(session, ids=None if all_dead else list(ids or []), now=utcnow())
    typer.echo(f"queued {count} notice(s) again")
    if ids and count < len(ids):
        _fail(f"{len(ids) - count} id(s) not found or not dead/held")


@inbox_app.command("failed")
def inbox_failed(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    all_: Annotated[
        bool, typer.Option("--all", help="Include messages a later retry handled.")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
) -> None:
    """Inbound messages whose handler failed (the sender was told 系统繁忙), with the error."""
    from models import InboxFailure

    with _start().sessions() as session:
        query = select(InboxFailure).order_by(InboxFailure.last_failed_at.desc()).limit(limit)
        if not all_:
            query = query.where(InboxFailure.recovered_at.is_(None))
        rows = [
            {
                "dedup_key": f.dedup_key,
                "openid": f.openid,
                "kind": f.kind,
                "body": f.body,
                "error": f.error,
                "attempts": f.attempts,
                "first_failed_at": f.first_failed_at.isoformat(),
                "last_failed_at": f.last_failed_at.isoformat(),
                "recovered_at": f.recovered_at.isoformat() if f.recovered_at else None,
            }
            for f in session.scalars(query)
        ]
    if as_json:
        _print_json(rows)
        return
    for r in rows:
        typer.echo(
            f"{r['last_failed_at'][:19]} {r['openid']:<14} {r['kind']:<10} x{r['attempts']} "
            f"{r['body'][:30]!r}  {r['error'].splitlines()[0][:80] if r['error'] else ''}"
        )
