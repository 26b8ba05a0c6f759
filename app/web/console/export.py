"""CSV export of the ticket list (/console/tickets.csv, the list's query parameters).

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

from app.web.console import queries
from app.web.console.auth import signed_in_area
from app.web.console.templating import category_label, status_label
from models import Area, Staff, Ticket

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

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    writer.writerow(HEADER)
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
        for row in session.execute(query):
            (
                n,
                cat,
                status,
                late,
                severe,
                level,
                place,
                text,
                grid_name,
                holder,
                created,
                claimed,
                resolved,
                claim_due,
                resolve_due,
            ) = row
            writer.writerow(
                [
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
                    local(created),
                    local(claimed),
                    local(resolved),
                    local(claim_due),
                    local(resolve_due),
                ]
            )
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
