"""Report intake: a rider's photo, location and words gather in a draft until they make a
ticket; what follows soon after is added to that ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.domain.categories import Category, classify
from app.domain.tickets import Action
from app.services import notices
from app.services.grids import GridLocator, responsible_staff
from app.services.outbox import enqueue
from app.services.tickets import OPEN, record
from models import ReportDraft, Rider, Ticket, TicketPhoto


class Outcome(StrEnum):
    FILED = "filed"
    ADDED = "added"
    NEED_LOCATION = "need_location"
    NEED_DETAILS = "need_details"


@dataclass(frozen=True)
class Intake:
    outcome: Outcome
    ticket: Ticket | None = None
    draft: ReportDraft | None = None


@dataclass(frozen=True)
class Piece:
    """One thing a rider sent towards a report."""

    text: str = ""
    media_id: str | None = None
    pic_url: str = ""
    lat: float | None = None
    lng: float | None = None
    """WGS-84."""
    place: str = ""


@dataclass
class IntakeRules:
    draft_window: timedelta
    followup_window: timedelta
    locator: GridLocator


def submit(
    session: Session,
    rider: Rider,
    piece: Piece,
    *,
    now: datetime,
    rules: IntakeRules,
    message_key: str | None = None,
) -> Intake:
    """Take one piece of a report and say what became of it."""
    draft = active_draft(session, rider, now=now, window=rules.draft_window)
    if draft is None and piece.lat is None:
        recent = recent_ticket(session, rider, now=now, window=rules.followup_window)
        if recent is not None:
            add_to_ticket(session, recent, rider, piece, now=now, message_key=message_key)
            return Intake(Outcome.ADDED, ticket=recent)
    if draft is None:
        draft = ReportDraft(rider_id=rider.id, started_at=now, photos=[])
        session.add(draft)
    _merge(draft, piece, now)
    if draft.lat is None:
        session.flush()
        return Intake(Outcome.NEED_LOCATION, draft=draft)
    if not draft.photos and not draft.description:
        session.flush()
        return Intake(Outcome.NEED_DETAILS, draft=draft)
    ticket = file_ticket(
        session, rider, draft, now=now, locator=rules.locator, message_key=message_key
    )
    session.delete(draft)
    return Intake(Outcome.FILED, ticket=ticket)


def _merge(draft: ReportDraft, piece: Piece, now: datetime) -> None:
    if piece.text:
        draft.description = (
            f"{draft.description}；{piece.text}" if draft.description else piece.text
        )
    if piece.media_id:
        # Reassign, not append: JSON columns only notice a new value.
        draft.photos = [*draft.photos, {"media_id": piece.media_id, "pic_url": piece.pic_url}]
    if piece.lat is not None and piece.lng is not None:
        draft.lat, draft.lng, draft.place = piece.lat, piece.lng, piece.place
    draft.updated_at = now


def active_draft(
    session: Session, rider: Rider, *, now: datetime, window: timedelta
) -> ReportDraft | None:
    draft = session.scalars(select(ReportDraft).where(ReportDraft.rider_id == rider.id)).first()
    if draft is not None and draft.started_at < now - window:
        session.delete(draft)
        session.flush()
        return None
    return draft


def cancel_draft(session: Session, rider: Rider) -> bool:
    result = session.execute(delete(ReportDraft).where(ReportDraft.rider_id == rider.id))
    return result.rowcount > 0


def recent_ticket(
    session: Session, rider: Rider, *, now: datetime, window: timedelta
) -> Ticket | None:
    # Look for the id alone: the ticket's eager joins cost more than the search itself,
    # and a rider's text usually finds no recent ticket (this runs for every text).
    ticket_id = session.scalar(
        select(Ticket.id)
        .where(
            Ticket.reporter_id == rider.id,
            Ticket.created_at >= now - window,
            Ticket.status.in_(OPEN),
        )
        .order_by(Ticket.created_at.desc())
        .limit(1)
    )
    return session.get(Ticket, ticket_id) if ticket_id is not None else None


def file_ticket(
    session: Session,
    rider: Rider,
    draft: ReportDraft,
    *,
    now: datetime,
    locator: GridLocator,
    message_key: str | None = None,
) -> Ticket:
    """Turn a complete draft into a ticket routed to the grid that contains its point."""
    assert draft.lat is not None and draft.lng is not None
    placement = locator.place(session, draft.lat, draft.lng)
    area = placement.routed_area
    ticket = Ticket(
        category=classify(draft.description).value,
        description=draft.description,
        lat=draft.lat,
        lng=draft.lng,
        place=draft.place,
        grid=placement.grid,
        area=area,
        assignee=responsible_staff(session, area),
        reporter=rider,
        created_at=now,
        updated_at=now,
    )
    ticket.photos = [
        TicketPhoto(
            media_id=p["media_id"],
            pic_url=p.get("pic_url") or "",
            sender_openid=rider.openid,
            created_at=now,
        )
        for p in draft.photos
    ]
    routing = f"派往 {area.code} {area.name}" if area else "无匹配区域"
    if placement.distance_m:
        routing += f"（不在任何网格内，最近网格 {placement.distance_m:.0f} 米）"
    record(
        session,
        ticket,
        Action.CREATE,
        now=now,
        actor_openid=rider.openid,
        actor_role="rider",
        note=routing,
        message_key=message_key,
    )
    enqueue(
        session,
        to_openid=ticket.assignee.openid if ticket.assignee else None,
        kind="ticket_assigned",
        text=notices.new_ticket_for_worker(ticket),
        now=now,
        ticket_id=ticket.id,
    )
    return ticket


def add_to_ticket(
    session: Session,
    ticket: Ticket,
    rider: Rider,
    piece: Piece,
    *,
    now: datetime,
    message_key: str | None = None,
) -> None:
    what = []
    if piece.media_id:
        ticket.photos.append(
            TicketPhoto(
                media_id=piece.media_id,
                pic_url=piece.pic_url,
                sender_openid=rider.openid,
                created_at=now,
            )
        )
        what.append("1 张照片")
    if piece.text:
        ticket.description = (
            f"{ticket.description}；{piece.text}" if ticket.description else piece.text
        )
        if ticket.category == Category.OTHER.value:
            ticket.category = classify(ticket.description).value
        what.append(f"描述「{piece.text}」")
    note = "、".join(what)
    record(
        session,
        ticket,
        Action.ADD_INFO,
        now=now,
        actor_openid=rider.openid,
        actor_role="rider",
        note=note,
        message_key=message_key,
    )
    enqueue(
        session,
        to_openid=ticket.assignee.openid if ticket.assignee else None,
        kind="ticket_more_info",
        text=notices.more_info_for_worker(ticket, note),
        now=now,
        ticket_id=ticket.id,
    )
