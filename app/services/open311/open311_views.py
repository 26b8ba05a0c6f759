"""GET requests and requests/{id}: tickets as GeoReport v2 service requests.

Every ticket is a service request, whoever reported it; its number is the
service_request_id. Statuses come from the one table in app/domain/open311.py.
Contact details an API client sent are never part of these answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import open311
from app.domain.categories import Category
from app.domain.people import Role
from app.domain.photos import PhotoRole, PhotoStatus
from app.domain.tickets import Action, Status
from app.media.links import MediaLinks
from app.services.errors import InvalidInput, NotFound
from models import Ticket, TicketEvent

DEFAULT_DAYS = 90
CATEGORIES = {c.value: c for c in Category}
MAX_ITEMS = 1000
NOTED_ACTIONS = tuple(
    a.value
    for a in (
        Action.NOTE,
        Action.RESOLVE,
        Action.REOPEN,
        Action.MERGE,
        Action.CONFIRM_RETURN,
        Action.TRANSFER,
        Action.SUMMON,
    )
)
"""Actions whose note says where a ticket stands (status_notes)."""


def w3c(value: str, name: str) -> datetime:
    """A W3C datetime with its offset ("2010-01-01T00:00:00Z"), or InvalidInput."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"{name} 须为带时区的 W3C 时间，如 2026-11-20T08:00:00+08:00。"
        ) from None
    if parsed.tzinfo is None:
        raise InvalidInput(f"{name} 须带时区（Z 或 +08:00）。")
    return parsed


def _codes(value: str, name: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


@dataclass(frozen=True)
class Query:
    ids: tuple[int, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()
    page: int = 1
    page_size: int = MAX_ITEMS

    @classmethod
    def parse(cls, params: dict[str, str]) -> Query:
        ids = []
        for v in _codes(params.get("service_request_id", ""), "service_request_id"):
            if not v.isdigit() or len(v) > 12:
                raise InvalidInput(f"service_request_id {v[:20]} 不是工单号。")
            ids.append(int(v))
        codes = _codes(params.get("service_code", ""), "service_code")
        for code in codes:
            if code not in CATEGORIES:
                raise NotFound(f"没有编码为 {code[:40]} 的服务（service_code）。")
        statuses = _codes(params.get("status", ""), "status")
        if any(s not in ("open", "closed") for s in statuses):
            raise InvalidInput("status 只能是 open 或 closed（可用逗号分隔）。")
        start = w3c(params["start_date"], "start_date") if params.get("start_date") else None
        end = w3c(params["end_date"], "end_date") if params.get("end_date") else None
        page, page_size = _int(params, "page", 1), _int(params, "page_size", MAX_ITEMS)
        if page < 1 or not 1 <= page_size <= MAX_ITEMS:
            raise InvalidInput(f"page 从 1 开始，page_size 为 1 到 {MAX_ITEMS}。")
        return cls(tuple(ids), tuple(codes), start, end, tuple(statuses), page, page_size)


def _int(params: dict[str, str], name: str, default: int) -> int:
    value = params.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or len(value) > 9:
        raise InvalidInput(f"{name} 须为正整数。")
    return int(value)


def find(session: Session, query: Query, *, now: datetime) -> list[Ticket]:
    """The tickets `query` asks for, newest first: by default those filed in the last 90
    days, at most 1,000 (a page of them)."""
    stmt = select(Ticket)
    if query.ids:
        stmt = stmt.where(Ticket.id.in_(query.ids))
    else:
        start = query.start or (query.end or now) - timedelta(days=DEFAULT_DAYS)
        stmt = stmt.where(Ticket.created_at >= start)
        if query.end is not None:
            stmt = stmt.where(Ticket.created_at <= query.end)
    if query.service_codes:
        stmt = stmt.where(Ticket.category.in_(query.service_codes))
    if query.statuses:
        wanted = [s.value for s, o in open311.STATUSES.items() if o.georeport in query.statuses]
        stmt = stmt.where(Ticket.status.in_(wanted))
    stmt = (
        stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    )
    return list(session.scalars(stmt).unique())


def one(session: Session, number: str) -> Ticket:
    if not number.isdigit() or len(number) > 12:
        raise NotFound(f"没有找到服务请求 {number[:20]}。")
    ticket = session.get(Ticket, int(number))
    if ticket is None:
        raise NotFound(f"没有找到服务请求 {number}。")
    return ticket


def _latest_notes(session: Session, ids: Sequence[int]) -> dict[int, str]:
    notes: dict[int, str] = {}
    if not ids:
        return notes
    rows = session.execute(
        select(TicketEvent.ticket_id, TicketEvent.note)
        .where(TicketEvent.ticket_id.in_(ids), TicketEvent.action.in_(NOTED_ACTIONS))
        .order_by(TicketEvent.id)
    )
    for ticket_id, note in rows:
        if note:
            notes[ticket_id] = note
    return notes


def agency(ticket: Ticket) -> str:
    """Who answers for it: the holder's area (a department by its name), else the area it
    was routed to."""
    holder = ticket.assignee
    if holder is not None:
        return holder.name if holder.role == Role.DEPARTMENT else holder.area.name
    area = ticket.area or ticket.grid
    return area.name if area is not None else ""


def as_service_requests(
    session: Session,
    tickets: Sequence[Ticket],
    *,
    links: MediaLinks | None,
    now: datetime,
    tz: ZoneInfo,
) -> list[dict[str, Any]]:
    notes = _latest_notes(session, [t.id for t in tickets])
    return [_service_request(t, notes.get(t.id, ""), links, now, tz) for t in tickets]


def _time(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


def _service_request(
    ticket: Ticket, note: str, links: MediaLinks | None, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    status = Status(ticket.status)
    category = CATEGORIES.get(ticket.category, Category.OTHER)
    photo = next(
        (p for p in ticket.photos if p.role == PhotoRole.REPORT and p.status == PhotoStatus.STORED),
        None,
    )
    return {
        "service_request_id": str(ticket.id),
        "status": open311.georeport_status(status),
        "status_notes": f"{status.label}：{note}" if note else status.label,
        "service_name": category.label,
        "service_code": ticket.category,
        "description": ticket.description,
        "agency_responsible": agency(ticket),
        "service_notice": "",
        "requested_datetime": _time(ticket.created_at, tz),
        "updated_datetime": _time(ticket.updated_at, tz),
        "expected_datetime": _time(ticket.resolve_due_at, tz),
        "address": ticket.place,
        "address_id": "",
        "zipcode": "",
        "lat": ticket.lat,
        "long": ticket.lng,
        "media_url": links.url(photo.id, now=now) if photo and links else "",
    }
