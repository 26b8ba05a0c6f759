"""The console's pages: the ticket list and one ticket (the map is in app/web/console/map.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from app.domain.categories import Category
from app.domain.coords import wgs84_to_gcj02
from app.domain.photos import PhotoRole, PhotoStatus
from app.domain.tickets import Status
from app.services.directory import api_keys
from app.services.supervision.ladder import department_names
from app.services.wecom_cards import CARD_UPDATE_KIND
from app.web.console import queries
from app.web.console.auth import DB, CurrentViewer, Viewer
from app.web.console.etags import not_modified, revalidated, tag_of
from app.web.console.overlays import convert_geometry, overlay_converter
from app.web.console.permissions import available_actions, pending_decision
from app.web.console.recipients import recipient_names
from app.web.console.templating import render
from models import Area, OutboxMessage, Rider, Staff, Ticket, TicketEvent

router = APIRouter(prefix="/console", tags=["console"])

CATEGORIES = {c.value: c.label for c in Category}
DONE_MESSAGES = {
    "claim": "已认领。",
    "note": "已记录进展。",
    "resolve": "已办结，已请上报人确认。",
    "transfer": "已转派，新网格员已收到通知。",
    "summon": "已吹哨，已通知部门报到。",
    "approve": "已同意申请。",
    "refuse": "已驳回申请。",
}


def _tz(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.timezone)


@router.get("")
def no_slash():
    return RedirectResponse("/console/", status_code=307)


@router.get("/tickets")
def ticket_list(request: Request, session: DB, who: CurrentViewer):
    now = datetime.now(UTC)
    f = queries.Filters.parse(request.query_params)
    page = queries.ticket_page(session, who.area, f, now=now, tz=_tz(request))
    if request.headers.get("x-live"):
        return _live_list(request, who, f, page, now)
    return render(
        request,
        "tickets.html",
        viewer=who,
        page=page,
        f=f,
        now=now,
        overdue=lambda t: queries.is_overdue(t, now),
        grids=queries.grids_in(session, who.area),
        statuses=queries.STATUS_CHOICES,
        categories=CATEGORIES,
        periods=queries.PERIODS,
        sorts=queries.SORTS,
        page_size=queries.PAGE_SIZE,
    )


def _live_list(
    request: Request, who: Viewer, f: queries.Filters, page: queries.Page, now: datetime
) -> Response:
    """The list's refresh (live.js): only the regions it replaces, revalidated by ETag, so
    a list that did not change costs a 304 and no bytes (the filters list every grid)."""
    answer = render(
        request,
        "tickets_live.html",
        viewer=who,
        page=page,
        f=f,
        overdue=lambda t: queries.is_overdue(t, now),
        page_size=queries.PAGE_SIZE,
    )
    etag = tag_of(answer.body)
    # Vary: the page and its refresh share a URL; the browser must not take one for the other.
    unchanged = not_modified(request, etag, Vary="X-Live")
    if unchanged:
        return unchanged
    answer.headers.update(revalidated(etag, Vary="X-Live"))
    return answer


def _lateness(ticket: Ticket, now: datetime) -> str:
    """How late the ticket is now, in words ("" when it is not)."""
    if not queries.is_overdue(ticket, now):
        return ""
    due = ticket.claim_due_at if ticket.claimed_at is None else ticket.resolve_due_at
    if ticket.resolve_due_at and ticket.resolve_due_at < now:
        due = ticket.resolve_due_at
    if due is None:
        return ""
    minutes = int((now - due).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "", f"{minutes}分钟"]
    return "已超时" + "".join(p for p in parts if p)


def _actor_names(session, events: list[TicketEvent]) -> dict[str, str]:
    openids = {e.actor_openid for e in events if e.actor_openid}
    if not openids:
        return {}
    names = dict(
        session.execute(select(Staff.openid, Staff.name).where(Staff.openid.in_(openids))).all()
    )
    riders = session.scalars(select(Rider.openid).where(Rider.openid.in_(openids))).all()
    return {**dict.fromkeys(riders, "上报人"), **names}


@router.get("/tickets/{number}")
def ticket_view(request: Request, number: int, session: DB, who: CurrentViewer):
    done = DONE_MESSAGES.get(request.query_params.get("done", ""), "")
    return ticket_page(request, number, session, who, done=done)


def ticket_page(request, number: int, session, who, *, error="", done="", status=200):
    """The ticket page, or a refusal when it lies outside the viewer's area."""
    found = queries.ticket_in_scope(session, who.area, number)
    if found is None:
        return render(request, "refused.html", 404, viewer=who, message=f"没有找到工单 #{number}。")
    if found is False:
        message = f"工单 #{number} 不在您负责的区域（{who.area.name}），无权查看。"
        return render(request, "refused.html", 403, viewer=who, message=message)
    ticket = found
    now = datetime.now(UTC)
    events = list(
        session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        )
    )
    notices = list(
        session.scalars(
            select(OutboxMessage)
            # A pressed WeCom card's update (kind card_update) tells nobody anything new:
            # its row is a retry record, not a notice (the claim is in the timeline).
            .where(OutboxMessage.ticket_id == ticket.id, OutboxMessage.kind != CARD_UPDATE_KIND)
            .order_by(OutboxMessage.id)
        )
    )
    merged = list(
        session.scalars(
            select(Ticket).where(Ticket.merged_into_id == ticket.id).order_by(Ticket.id)
        ).unique()
    )
    links = request.app.state.media_links
    photos = [
        {
            "thumb": links.url(p.id, now=now, variant="thumb"),
            "full": links.url(p.id, now=now),
            "role": "办结照片" if p.role == PhotoRole.RESOLUTION else "现场照片",
        }
        for p in ticket.photos
        if p.status == PhotoStatus.STORED
    ]
    settings = request.app.state.settings
    convert = overlay_converter(settings)
    pin = convert(ticket.lat, ticket.lng)
    grid_shape = ""
    if ticket.grid is not None:
        geometry = session.scalar(select(Area.geometry).where(Area.id == ticket.grid.id))
        if geometry:
            grid_shape = json.dumps(convert_geometry(json.loads(geometry), convert))
    lat, lng = wgs84_to_gcj02(ticket.lat, ticket.lng)
    nav = f"https://uri.amap.com/marker?position={lng:.6f},{lat:.6f}&coordinate=gaode&callnative=1"
    grids = queries.grids_in(session, who.area)
    return render(
        request,
        "ticket.html",
        viewer=who,
        t=ticket,
        now=now,
        events=events,
        names=_actor_names(session, events),
        notices=notices,
        notice_names=recipient_names(session, notices),
        source=api_keys.ticket_source(session, ticket.id),
        merged=merged,
        photos=photos,
        nav=nav,
        lateness=_lateness(ticket, now),
        overdue=queries.is_overdue(ticket, now),
        actions=available_actions(who.staff, ticket),
        ladder=ticket.escalation_level,
        grids=[g for g in grids if g.id != ticket.grid_id],
        departments=department_names(session, ticket),
        state=Status(ticket.status),
        pin=pin,
        grid_shape=grid_shape,
        tile_url=settings.console_tile_url,
        decision=pending_decision(ticket),
        error=error,
        done=done,
        status_code=status,
    )
