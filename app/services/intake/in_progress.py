"""What a rider's words may continue: their draft, else the ticket they filed moments ago
(or were asked to describe), found in one statement."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, literal_column, or_, select
from sqlalchemy.orm import Session

from app.domain.tickets import Status
from app.services.handling.tickets import OPEN
from app.services.intake import drafts
from models import ReportDraft, Rider, Ticket

DETAILS_WAIT = timedelta(hours=1)
"""How long a rider asked to describe a ticket (its only photo unusable) may take."""
# Built once (building a statement costs about what running it does).
RIDERS_RECENT_TICKET = (
    select(Ticket.id)
    .where(
        Ticket.reporter_id == bindparam("rider_id"),
        or_(
            Ticket.created_at >= bindparam("since"),
            Ticket.details_requested_at >= bindparam("asked_since"),
        ),
        Ticket.status.in_([*OPEN, Status.MERGED.value]),
    )
    .order_by(Ticket.created_at.desc())
    .limit(1)
)
# The draft's columns (NULL without one) and the recent ticket's id on one row: a rider's
# text needs both, usually to find neither. The id alone: the ticket's eager joins cost
# more than the search, and it is loaded only when found.
_ONE_ROW = select(literal_column("1").label("one")).subquery("one_row")
DRAFT_AND_RECENT_TICKET = (
    select(*drafts.DRAFT_COLUMNS, RIDERS_RECENT_TICKET.scalar_subquery().label("recent_id"))
    .select_from(_ONE_ROW)
    .outerjoin(drafts.DRAFTS, drafts.DRAFTS.c.rider_id == bindparam("rider_id"))
)


def _recent_params(rider: Rider, now: datetime, window: timedelta) -> dict:
    return {"rider_id": rider.id, "since": now - window, "asked_since": now - DETAILS_WAIT}


def in_progress(
    session: Session,
    rider: Rider,
    *,
    now: datetime,
    draft_window: timedelta,
    followup_window: timedelta,
) -> tuple[ReportDraft | None, Ticket | None]:
    """The rider's active draft (as `drafts.active_draft` returns it) and, when there is
    none, their ticket filed within `followup_window`, or whose rider was asked for words
    (its only photo unusable) within DETAILS_WAIT: what they send next is added to it."""
    params = _recent_params(rider, now, followup_window)
    row = session.execute(DRAFT_AND_RECENT_TICKET, params).one()
    draft = drafts.active_row(session, row, now=now, window=draft_window)
    if draft is not None or row.recent_id is None:
        return draft, None
    return None, session.get(Ticket, row.recent_id)
