"""A ticket needs a location plus a photo or words. When its only photo turns out
unusable (not an image, too large, never received) and the rider wrote nothing, the
worker holds a bare location: the rider is asked to describe the problem (what they send
next is added to the ticket, however long the photo took) and the worker is told why the
report is empty and that words are on their way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.photos import PhotoRole
from app.domain.tickets import Action, allowed_actions
from app.services.handling.actors import SYSTEM
from app.services.handling.ticket_actions import act
from models import ReportDraft, Rider, TicketPhoto

USABLE = ("pending", "stored")
"""Photo statuses that still show (or will show) the problem."""

WHY = {
    "format": "格式不支持",
    "not_image": "无法识别为图片",
    "broken": "已损坏",
    "too_large": "太大，无法接收",
    "too_many_pixels": "尺寸过大，无法处理",
    "failed": "未能接收",
}


def photo_unusable(session: Session, photo: TicketPhoto, reason: str, *, now: datetime) -> bool:
    """`photo` (just refused or failed) was its ticket's only evidence: ask the rider for
    words and tell the worker. False when the ticket has words or another photo, the photo
    is not a report's, or the ticket can no longer be described (resolved, closed,
    withdrawn): the caller tells the sender as usual."""
    ticket = photo.ticket
    if photo.role == PhotoRole.REPORT and ticket is None:
        _drop_from_draft(session, photo)
        return False
    if photo.role != PhotoRole.REPORT or ticket is None or ticket.merged_into_id is not None:
        return False
    if ticket.description or any(
        p.id != photo.id and p.role == PhotoRole.REPORT and p.status in USABLE
        for p in ticket.photos
    ):
        return False
    if Action.REQUEST_DETAILS not in allowed_actions(ticket.status):
        return False  # resolved, closed or withdrawn: words can no longer be added to it
    why = WHY.get(reason, WHY["failed"])
    ticket.details_requested_at = now
    # Logged on the ticket; the notice table asks its reporter for words and tells the
    # worker why the report is empty.
    act(
        session,
        ticket,
        Action.REQUEST_DETAILS,
        SYSTEM,
        now=now,
        note=f"照片{why}，已请上报人补充描述",
        why=why,
    )
    return True


def _drop_from_draft(session: Session, photo: TicketPhoto) -> None:
    """A draft's unusable photo no longer counts: a location that comes next asks for a
    photo or words instead of filing an empty report."""
    draft = session.scalars(
        select(ReportDraft)
        .join(Rider, Rider.id == ReportDraft.rider_id)
        .where(Rider.openid == photo.sender_openid)
        .with_for_update(of=ReportDraft)
    ).first()
    if draft is not None and any(p.get("photo_id") == photo.id for p in draft.photos):
        # Reassign, not mutate: JSON columns only notice a new value.
        draft.photos = [p for p in draft.photos if p.get("photo_id") != photo.id]
