"""CSV export of the ticket list (/console/tickets.csv, the list's query parameters) and
of those tickets' events (/console/events.csv, the same parameters).

UTF-8 with a BOM so Excel opens the Chinese correctly; streamed in batches from the
database, so a large area never sits in memory. Scoped like the list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from app.web.console import queries
from app.web.console.auth import signed_in_area
from app.web.console.templating import (
    ROLE_LABELS,
    action_label,
    category_label,
    status_label,
)
from models import Area, Staff, Ticket, TicketEvent

router = APIRouter(prefix="/console", tags=["console"])

HEADER = [
    "工单号",
    "类别",
    "状态",
    "超时",
    "严重",
    "升级级数",
    "地点",
    "描述",
    "网格",
    "负责人",
    "上报时间",
    "认领时间",
    "办结时间",
    "认领期限",
    "办结期限",
]
BATCH = 1000


def _rows(sessions, area_id: int, f: queries.Filters, tz: ZoneInfo) -> Iterator[str]:
    now = datetime.now(UTC)

    def local(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""

    with sessions() as session:
        area = session.get(Area, area_id)
        grid = Area.__table__.alias("grid")
        query = (
            queries.filtered(area, f, now=now, tz=tz)
            .with_only_columns(
                Ticket.id,
                Ticket.category,
                Ticket.status,
                queries.overdue_condition(now),
                Ticket.severe,
                Ticket.escalation_level,
                Ticket.place,
                Ticket.description,
                grid.c.name,
                Staff.name,
                Ticket.created_at,
                Ticket.claimed_at,
                Ticket.resolved_at,
                Ticket.claim_due_at,
                Ticket.resolve_due_at,
            )
            .outerjoin(grid, grid.c.id == Ticket.grid_id)
            .outerjoin(Staff, Staff.id == Ticket.assignee_id)
            .order_by(*queries.ORDER[f.sort])
            .execution_options(yield_per=BATCH)
        )
        yield from _csv(HEADER, _ticket_rows(session.execute(query), local))


def _ticket_rows(result, local) -> Iterator[list]:
    for row in result:
        (n, cat, status, late, severe, level, place, text, grid_name, holder, *times) = row
        yield [
            n,
            category_label(cat),
            status_label(status),
            "是" if late else "",
            "是" if severe else "",
            level,
            place,
            text,
            grid_name or "",
            holder or "",
            *(local(t) for t in times),
        ]


def _csv(header: list[str], rows: Iterator[list]) -> Iterator[str]:
    """UTF-8 CSV text with a BOM, in chunks of about 64 kB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@router.get("/tickets.csv")
def tickets_csv(request: Request):
    # No request-long session (the `DB` dependency): on SQLite its transaction would
    # hold the lock the stream's own session waits for.
    area_id = signed_in_area(request)
    f = queries.Filters.parse(request.query_params)
    tz = ZoneInfo(request.app.state.settings.timezone)
    stamp = datetime.now(tz).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        _rows(request.app.state.sessions, area_id, f, tz),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="tickets-{stamp}.csv"'},
    )


EVENT_HEADER = ["工单号", "时间", "操作", "操作人", "身份", "原状态", "新状态", "说明"]


def _event_rows(sessions, area_id: int, f: queries.Filters, tz: ZoneInfo) -> Iterator[str]:
    """The events of the tickets the list shows, oldest first. Riders appear as 上报人,
    never by openid."""
    now = datetime.now(UTC)
    with sessions() as session:
        area = session.get(Area, area_id)
        numbers = queries.filtered(area, f, now=now, tz=tz).with_only_columns(Ticket.id)
        query = (
            select(
                TicketEvent.ticket_id,
                TicketEvent.at,
                TicketEvent.action,
                Staff.name,
                TicketEvent.actor_role,
                TicketEvent.from_status,
                TicketEvent.to_status,
                TicketEvent.note,
            )
            .outerjoin(Staff, Staff.openid == TicketEvent.actor_openid)
            .where(TicketEvent.ticket_id.in_(numbers))
            .order_by(TicketEvent.id)
            .execution_options(yield_per=BATCH)
        )
        rows = (
            [
                n,
                at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                action_label(action),
                name or ("系统" if role == "system" else "上报人" if role == "rider" else ""),
                ROLE_LABELS.get(role, role),
                status_label(before) if before else "",
                status_label(after),
                note,
            ]
            for n, at, action, name, role, before, after, note in session.execute(query)
        )
        yield from _csv(EVENT_HEADER, rows)


@router.get("/events.csv")
def events_csv(request: Request):
    area_id = signed_in_area(request)
    f = queries.Filters.parse(request.query_params)
    tz = ZoneInfo(request.app.state.settings.timezone)
    stamp = datetime.now(tz).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        _event_rows(request.app.state.sessions, area_id, f, tz),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="events-{stamp}.csv"'},
    )
