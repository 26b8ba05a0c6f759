"""The worker's "after" photo: sent just before or right after 办结, it becomes the
ticket's resolution photo and its link goes to the riders with the confirmation request."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.photos import PhotoRole
from app.domain.tickets import Action, Status
from app.services.handling import tickets
from app.services.handling.actors import Actor
from app.services.handling.ticket_actions import act
from app.services.handling.ticket_card import NoticeSettings
from app.services.handling.tickets import OPEN
from app.services.intake.reports import IntakeRules, new_photo
from models import Staff, Ticket, TicketEvent, TicketPhoto


def _links(rules: IntakeRules, photos: list[TicketPhoto], now: datetime) -> list[str]:
    return rules.photo_links(photos, now)


def held_photos(session: Session, staff: Staff, *, now: datetime, window: timedelta):
    """The worker's photos of the last `window` not yet attached to any ticket."""
    return list(
        session.scalars(
            select(TicketPhoto)
            .where(
                TicketPhoto.sender_openid == staff.openid,
                TicketPhoto.role == PhotoRole.RESOLUTION,
                TicketPhoto.ticket_id.is_(None),
                TicketPhoto.created_at >= now - window,
            )
            .order_by(TicketPhoto.id)
        )
    )


def resolve_with_photos(
    session: Session,
    *,
    staff: Staff,
    number: int,
    note: str,
    now: datetime,
    rules: IntakeRules,
    window: timedelta,
    message_key: str | None = None,
    notice_settings: NoticeSettings | None = None,
) -> Ticket:
    """办结, taking along the after photos the worker sent in the last `window`."""
    held = held_photos(session, staff, now=now, window=window)
    ticket = tickets.resolve(
        session,
        staff=staff,
        number=number,
        note=note,
        now=now,
        message_key=message_key,
        photo_links=_links(rules, held, now),
        notice_settings=notice_settings,
    )
    for photo in held:
        photo.ticket = ticket
    return ticket


def just_resolved(session: Session, staff: Staff, *, now: datetime, window: timedelta):
    """The ticket this worker resolved within `window`, if it is still awaiting the rider."""
    number = session.scalar(
        select(TicketEvent.ticket_id)
        .where(
            TicketEvent.action == Action.RESOLVE.value,
            TicketEvent.actor_openid == staff.openid,
            TicketEvent.at >= now - window,
        )
        .order_by(TicketEvent.id.desc())
        .limit(1)
    )
    if number is None:
        return None
    ticket = tickets.get_ticket(session, number)
    return ticket if ticket.status == Status.RESOLVED.value else None


def worker_photo(
    session: Session,
    *,
    staff: Staff,
    media_id: str,
    pic_url: str,
    now: datetime,
    rules: IntakeRules,
    window: timedelta,
    notice_settings: NoticeSettings | None = None,
) -> str | None:
    """Take a photo from a worker; the reply, or None when it is not about their work
    (no recent 办结, no open ticket: then it is a report like anyone's)."""
    ticket = just_resolved(session, staff, now=now, window=window)
    if ticket is not None:
        photo = new_photo(
            session,
            media_id=media_id,
            pic_url=pic_url,
            sender_openid=staff.openid or "",
            now=now,
            role=PhotoRole.RESOLUTION,
            ticket=ticket,
        )
        act(
            session,
            ticket,
            Action.RESOLUTION_PHOTO,
            Actor.of_staff(staff),
            now=now,
            notice_settings=notice_settings,
            note="办结照片",
            photo_links=_links(rules, [photo], now),
        )
        return f"已将照片作为工单 #{ticket.number} 的办结照片，并发给上报人。"
    has_open = session.scalar(
        select(Ticket.id).where(Ticket.assignee_id == staff.id, Ticket.status.in_(OPEN)).limit(1)
    )
    if has_open is None:
        return None
    new_photo(
        session,
        media_id=media_id,
        pic_url=pic_url,
        sender_openid=staff.openid or "",
        now=now,
        role=PhotoRole.RESOLUTION,
    )
    minutes = int(window.total_seconds() // 60)
    return (
        f"已收到照片。请在 {minutes} 分钟内回复「办结 工单号 处理结果」，"
        "照片将作为办结照片发给上报人。"
    )
