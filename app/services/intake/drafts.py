"""A rider's report draft: the photos, location and words gathered until they make a
ticket, dropped when the rider cancels it or its window passes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from models import ReportDraft, Rider, TicketPhoto

DRAFT_INSERT = insert(ReportDraft.__table__)


def insert_draft(session: Session, draft: ReportDraft) -> None:
    """A rider's new draft, written with one INSERT (a report's first message is usually
    its last change before the location comes). A draft this rider started in a
    concurrent message fails here on its unique rider, and the message reruns."""
    session.execute(
        DRAFT_INSERT,
        {
            "rider_id": draft.rider_id,
            "description": draft.description,
            "lat": draft.lat,
            "lng": draft.lng,
            "place": draft.place or "",
            "photos": draft.photos,
            "started_at": draft.started_at,
            "updated_at": draft.updated_at,
        },
    )


# Built once: every report runs it (building a statement costs about what running it does).
RIDERS_DRAFT = select(ReportDraft).where(ReportDraft.rider_id == bindparam("rider_id"))


def active_draft(
    session: Session, rider: Rider, *, now: datetime, window: timedelta
) -> ReportDraft | None:
    draft = session.scalars(RIDERS_DRAFT, {"rider_id": rider.id}).first()
    if draft is not None and draft.started_at < now - window:
        _drop_draft_photos(session, draft)
        session.delete(draft)
        session.flush()
        return None
    return draft


def _drop_draft_photos(session: Session, draft: ReportDraft) -> None:
    """A draft that never became a ticket takes its photos with it (no download)."""
    ids = [p["photo_id"] for p in draft.photos if p.get("photo_id")]
    if ids:
        session.execute(
            delete(TicketPhoto).where(TicketPhoto.id.in_(ids), TicketPhoto.ticket_id.is_(None))
        )


def cancel_draft(session: Session, rider: Rider) -> bool:
    draft = session.scalars(select(ReportDraft).where(ReportDraft.rider_id == rider.id)).first()
    if draft is not None:
        _drop_draft_photos(session, draft)
    result = session.execute(delete(ReportDraft).where(ReportDraft.rider_id == rider.id))
    return result.rowcount > 0
