"""A rider's report draft: the photos, location and words gathered until they make a
ticket, dropped when the rider cancels it or its window passes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Row, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from models import ReportDraft, Rider, TicketPhoto

# Drafts are read as rows and written by these statements, built once: a draft is never
# an object of the session, so no flush has to work out its UPDATE or DELETE on the path
# of every report.
DRAFTS = ReportDraft.__table__
DRAFT_COLUMNS = tuple(DRAFTS.c)
DRAFT_INSERT = insert(DRAFTS)
DRAFT_UPDATE = (
    update(DRAFTS)
    .where(DRAFTS.c.id == bindparam("draft_id"))
    .values(
        description=bindparam("description"),
        lat=bindparam("lat"),
        lng=bindparam("lng"),
        place=bindparam("place"),
        photos=bindparam("photos", type_=DRAFTS.c.photos.type),
        updated_at=bindparam("updated_at", type_=DRAFTS.c.updated_at.type),
    )
)
DRAFT_DELETE = delete(DRAFTS).where(DRAFTS.c.id == bindparam("draft_id"))
RIDERS_DRAFT = select(*DRAFT_COLUMNS).where(DRAFTS.c.rider_id == bindparam("rider_id"))


def insert_draft(session: Session, draft: ReportDraft) -> None:
    """A rider's new draft, written with one INSERT (a report's first message is usually
    its last change before the location comes). A draft this rider started in a
    concurrent message fails here on its unique rider, and the message reruns."""
    session.connection().execute(
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


def save_draft(session: Session, draft: ReportDraft) -> None:
    """Write what changed in a draft `active_draft` returned (one UPDATE)."""
    session.connection().execute(
        DRAFT_UPDATE,
        {
            "draft_id": draft.id,
            "description": draft.description,
            "lat": draft.lat,
            "lng": draft.lng,
            "place": draft.place or "",
            "photos": draft.photos,
            "updated_at": draft.updated_at,
        },
    )


def drop_draft(session: Session, draft: ReportDraft) -> None:
    """Delete a draft `active_draft` returned (it became a ticket); its values stay
    readable on the object."""
    session.connection().execute(DRAFT_DELETE, {"draft_id": draft.id})


def active_draft(
    session: Session, rider: Rider, *, now: datetime, window: timedelta
) -> ReportDraft | None:
    """The rider's draft started within `window`, as an object outside the session: a
    change to it is written by `save_draft` or `drop_draft`, never by a flush."""
    row = session.execute(RIDERS_DRAFT, {"rider_id": rider.id}).first()
    return active_row(session, row, now=now, window=window)


def active_row(
    session: Session, row: Row | None, *, now: datetime, window: timedelta
) -> ReportDraft | None:
    """`active_draft` of a row holding DRAFT_COLUMNS (all NULL: no draft); one that
    outlived `window` is deleted, its photos with it."""
    if row is None or row.id is None:
        return None
    draft = ReportDraft(**{c.key: row._mapping[c] for c in DRAFT_COLUMNS})
    if draft.started_at < now - window:
        _drop_draft_photos(session, draft)
        drop_draft(session, draft)
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
