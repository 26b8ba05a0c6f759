"""`gridbot tickets list|show`: tickets as an operator reads them (Chinese names, local
times, what needs attention); `--json` keeps the raw fields for scripts."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import select

from app.cli_common import fail as _fail
from app.cli_common import print_json as _print_json
from app.cli_common import start as _start
from app.cli_table import clip, local, table
from app.domain.categories import category_label
from app.domain.duplicates import Severity
from app.domain.tickets import Status, status_label
from app.domain.untracked_deadlines import is_late
from models import Ticket, utcnow

tickets_app = typer.Typer(help="Tickets.", no_args_is_help=True)

HEADERS = ("工单", "状态", "类别", "提醒", "网格", "处理人", "上报时间", "地点")


def parse_status(given: str) -> Status:
    """A status by its code (`claimed`) or its Chinese name (`处理中`)."""
    for status in Status:
        if given.strip().lower() in (status.value, status.label):
            return status
    known = "、".join(f"{s.value}（{s.label}）" for s in Status)
    _fail(f"unknown status {given!r}; one of: {known}")
    raise AssertionError  # unreachable: _fail exits


def severity_text(ticket: Ticket) -> str:
    """One line for how serious it is: confirmations by other riders, or the words."""
    if ticket.severity and ticket.severity != Severity.NORMAL.value:
        return f"{Severity(ticket.severity).label}（{ticket.confirmations} 位骑手确认）"
    if ticket.severe:
        return "严重（按严重情形的期限处理）"
    return "一般"


def flags(ticket: Ticket, now) -> str:
    """What needs an operator's attention, in words."""
    found = []
    if is_late(
        status=ticket.status,
        category=ticket.category,
        created_at=ticket.created_at,
        claimed_at=ticket.claimed_at,
        claim_due_at=ticket.claim_due_at,
        resolve_due_at=ticket.resolve_due_at,
        now=now,
    ):
        found.append("超时")
    if ticket.escalation_level:
        found.append("已升级")
    if ticket.severe or (ticket.severity and ticket.severity != Severity.NORMAL.value):
        found.append("严重")
    return "、".join(found) or "-"


@tickets_app.command("list")
def tickets_list(
    status: Annotated[
        str | None, typer.Option(help="Only tickets in this status (code or Chinese name).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
) -> None:
    """List tickets, newest first: status, category, overdue/escalated/severe, local times."""
    from app.services.handling.views import ticket_dict

    wanted = parse_status(status) if status else None
    runtime = _start()
    tz, now = ZoneInfo(runtime.settings.timezone), utcnow()
    with runtime.sessions() as session:
        query = select(Ticket).order_by(Ticket.id.desc()).limit(limit)
        if wanted is not None:
            query = query.where(Ticket.status == wanted.value)
        tickets = list(session.scalars(query).unique())
        if as_json:
            _print_json([ticket_dict(t) for t in tickets])
            return
        rows = [
            (
                f"#{t.number}",
                status_label(t.status),
                category_label(t.category),
                flags(t, now),
                clip(t.grid.name if t.grid else "-", 12),
                t.assignee.name if t.assignee else "-",
                local(t.created_at, tz),
                clip(t.place or "-", 24),
            )
            for t in tickets
        ]
    if not rows:
        typer.echo("没有工单。" if wanted is None else f"没有状态为「{wanted.label}」的工单。")
        return
    for line in table(HEADERS, rows):
        typer.echo(line)


@tickets_app.command("show")
def tickets_show(
    number: int,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One ticket with its timeline and photos, in local time."""
    from app.photo_jobs import media_store
    from app.services.directory import api_keys
    from app.services.handling.views import ticket_dict

    runtime = _start()
    tz, now = ZoneInfo(runtime.settings.timezone), utcnow()
    store = media_store(runtime.settings)
    with runtime.sessions() as session:
        ticket = session.get(Ticket, number)
        if ticket is None:
            _fail(f"no ticket #{number}")
        source = api_keys.ticket_source(session, ticket.id)
        if as_json:
            _print_json({**ticket_dict(ticket, with_events=True, store=store), "source": source})
            return
        for line in _describe(ticket, tz, now, store, source):
            typer.echo(line)


def _describe(ticket: Ticket, tz, now, store, source: str = "微信") -> list[str]:
    def person(staff) -> str:
        return f"{staff.name}（{staff.openid or '未绑定'}）" if staff else "-"

    grid = f"{ticket.grid.name}（{ticket.grid.code}）" if ticket.grid else "-"
    fields = [
        ("状态", status_label(ticket.status)),
        ("类别", category_label(ticket.category)),
        ("提醒", flags(ticket, now)),
        ("严重程度", severity_text(ticket)),
        ("描述", ticket.description or "-"),
        ("地点", f"{ticket.place or '-'}（{ticket.lat:.6f}, {ticket.lng:.6f}）"),
        ("网格", grid),
        ("处理人", person(ticket.assignee)),
        ("上报人", ticket.reporter.openid),
        ("来源", source),
        ("上报时间", local(ticket.created_at, tz)),
        ("认领期限", local(ticket.claim_due_at, tz)),
        ("办结期限", local(ticket.resolve_due_at, tz)),
        ("认领时间", local(ticket.claimed_at, tz)),
        ("办结时间", local(ticket.resolved_at, tz)),
        ("关闭时间", local(ticket.closed_at, tz)),
    ]
    if ticket.merged_into_id:
        fields.append(("并入", f"#{ticket.merged_into_id}"))
    if ticket.old_photo:
        fields.append(("照片", "拍摄时间较早（旧照片）"))
    lines = [f"工单 #{ticket.number}", *table(("", ""), fields)[1:]]
    lines = [lines[0], *("  " + line for line in lines[1:])]
    if ticket.photos:
        lines.append("照片：")
        for p in ticket.photos:
            size = f"{p.width}x{p.height}" if p.width else "-"
            gps = " exif-gps" if p.exif_gps else ""
            path = store.locate(p.sha256) if p.sha256 else None
            lines.append(f"  {p.id} {p.role} {p.status} {size}{gps} {path or ''}".rstrip())
    lines.append("时间线：")
    events = [
        (local(e.at, tz), e.action, e.actor_role, status_label(e.to_status), e.note or "")
        for e in ticket.events
    ]
    lines += ["  " + line for line in table(("时间", "动作", "角色", "状态", "说明"), events)]
    return lines
