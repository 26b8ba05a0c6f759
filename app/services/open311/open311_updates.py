"""mySociety's service request updates: the feed of what happened to tickets (from their
event logs) and updates an outside platform posts (a note, a resolution, a closure, a
reopening) through the one call that changes tickets, as the platform's own act.

Statuses come from the table in app/domain/open311.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain import open311
from app.domain.open311 import INBOUND, Update
from app.domain.photos import PhotoRole, PhotoStatus
from app.domain.tickets import Action, Status
from app.media.links import MediaLinks
from app.services.errors import Conflict, InvalidInput
from app.services.handling.actors import Actor
from app.services.handling.ticket_actions import act
from app.services.handling.tickets import get_ticket
from app.services.open311.open311_views import DEFAULT_DAYS, MAX_ITEMS, w3c
from models import ApiClient, TicketEvent, TicketPhoto

INTERNAL = frozenset(
    a.value
    for a in (
        Action.CREATE,
        Action.ADD_INFO,
        Action.REMIND,
        Action.ESCALATE,
        Action.JOIN,
        Action.FLAG_OLD_PHOTO,
        Action.REQUEST_EXTENSION,
        Action.APPROVE_EXTENSION,
        Action.REFUSE_EXTENSION,
        Action.HAZARD_ALERT,
        Action.HAZARD_CLEAR,
    )
)
"""Events that are no update of the request for an outside platform: the filing itself
(that is the request), riders' additions, reminders, escalations, extension requests,
and the hazard alerts sent to riders nearby."""
MAX_DESCRIPTION = 2000


@dataclass(frozen=True)
class FeedQuery:
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1
    page_size: int = MAX_ITEMS

    @classmethod
    def parse(cls, params: dict[str, str]) -> FeedQuery:
        start = w3c(params["start_date"], "start_date") if params.get("start_date") else None
        end = w3c(params["end_date"], "end_date") if params.get("end_date") else None
        page = params.get("page", "1").strip() or "1"
        size = params.get("page_size", str(MAX_ITEMS)).strip() or str(MAX_ITEMS)
        if not (page.isdigit() and size.isdigit() and len(page) < 10 and len(size) < 10):
            raise InvalidInput("page 和 page_size 须为正整数。")
        if int(page) < 1 or not 1 <= int(size) <= MAX_ITEMS:
            raise InvalidInput(f"page 从 1 开始，page_size 为 1 到 {MAX_ITEMS}。")
        return cls(start, end, int(page), int(size))


def feed(
    session: Session, query: FeedQuery, *, now: datetime, links: MediaLinks | None, tz: ZoneInfo
) -> list[dict[str, Any]]:
    """Updates in time order: by default those of the last 90 days, at most 1,000 a page."""
    start = query.start or (query.end or now) - timedelta(days=DEFAULT_DAYS)
    stmt = select(TicketEvent).where(
        TicketEvent.at >= start, TicketEvent.action.not_in(sorted(INTERNAL))
    )
    if query.end is not None:
        stmt = stmt.where(TicketEvent.at <= query.end)
    events = list(
        session.scalars(
            stmt.order_by(TicketEvent.at, TicketEvent.id)
            .offset((query.page - 1) * query.page_size)
            .limit(query.page_size)
        )
    )
    photos = _resolution_photos(session, {e.ticket_id for e in events if e.action == "resolve"})
    return [_update(e, photos.get(e.ticket_id), links, now, tz) for e in events]


def _resolution_photos(session: Session, ticket_ids: set[int]) -> dict[int, int]:
    if not ticket_ids:
        return {}
    rows = session.execute(
        select(TicketPhoto.ticket_id, func.min(TicketPhoto.id))
        .where(
            TicketPhoto.ticket_id.in_(ticket_ids),
            TicketPhoto.role == PhotoRole.RESOLUTION,
            TicketPhoto.status == PhotoStatus.STORED,
        )
        .group_by(TicketPhoto.ticket_id)
    )
    return {ticket_id: photo_id for ticket_id, photo_id in rows}


def _update(
    event: TicketEvent, photo_id: int | None, links: MediaLinks | None, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    status = open311.update_status(event.to_status, event.action)
    label = Status(event.to_status).label
    return {
        "update_id": str(event.id),
        "service_request_id": str(event.ticket_id),
        "status": status.value,
        "updated_datetime": event.at.astimezone(tz).isoformat(timespec="seconds"),
        "description": f"{label}：{event.note}" if event.note else label,
        "media_url": links.url(photo_id, now=now) if photo_id and links else "",
    }


def post_update(
    session: Session, client: ApiClient, form: dict[str, str], *, now: datetime
) -> TicketEvent:
    """Apply an outside platform's update to its ticket as the platform's act; the event
    written. InvalidInput, NotFound or Conflict (the ticket's status does not allow it)."""
    number = form.get("service_request_id", "").strip()
    if not number.isdigit() or len(number) > 12:
        raise InvalidInput("缺少 service_request_id，或它不是工单号。")
    try:
        update = Update(form.get("status", "").strip().upper())
    except ValueError:
        names = "、".join(u.value for u in INBOUND)
        raise InvalidInput(f"status 须为以下之一：{names}。") from None
    description = form.get("description", "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description 最多 {MAX_DESCRIPTION} 个字符。")
    rule = INBOUND[update]
    ticket = get_ticket(session, int(number), lock=True)
    status = Status(ticket.status)
    action = rule.on_resolved if status is Status.RESOLVED else rule.on_open
    if action is None or not (status.is_open or status is Status.RESOLVED):
        raise Conflict(
            f"工单 #{ticket.number} 当前状态为「{status.label}」，不能更新为 {update.value}。"
        )
    if action is Action.NOTE and not description:
        raise InvalidInput(f"{update.value} 更新须附 description（进展说明）。")
    note = "：".join(p for p in (rule.label, description) if p)
    act(
        session,
        ticket,
        action,
        Actor.of_api_client(client.name, client.rider),
        now=now,
        note=note,
    )
    session.flush()
    return session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.id.desc())
        .limit(1)
    ).one()
