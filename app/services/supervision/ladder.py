"""Who is who on the escalation ladder: ranks, the level above a holder, a level's person.

Levels follow the area tree: the grid's backup worker, then the community lead, street
lead and district supervisor whose areas contain the ticket's area.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.people import Role
from models import Area, Staff, Ticket

LEVEL_RANK = {"backup": 0, "community_lead": 1, "street_lead": 2, "supervisor": 3}
LEVEL_LABELS = {
    "backup": "后备网格员",
    "community_lead": "社区",
    "street_lead": "街道",
    "supervisor": "区级督办",
}
LEAD_ROLES = tuple(r.value for r in (Role.COMMUNITY_LEAD, Role.STREET_LEAD, Role.SUPERVISOR))


def rank(staff: Staff | None) -> int:
    return -1 if staff is None else Role(staff.role).rank


def ticket_area(ticket: Ticket) -> Area | None:
    return ticket.grid or ticket.area


def covers(staff: Staff, ticket: Ticket) -> bool:
    area = ticket_area(ticket)
    return area is not None and staff.area.covers(area)


def is_lead(staff: Staff) -> bool:
    return Role(staff.role).is_lead


def may_decide(staff: Staff, ticket: Ticket) -> bool:
    """The level above the holder: a lead covering the ticket who outranks its holder."""
    return is_lead(staff) and covers(staff, ticket) and rank(staff) > rank(ticket.assignee)


def _bound(query):
    return query.where(Staff.active, Staff.openid.is_not(None)).order_by(Staff.priority, Staff.id)


def _nearest_up(session: Session, area: Area | None, roles: tuple[str, ...]) -> Staff | None:
    """The first bound staff member with one of `roles`, from `area` up to the root."""
    while area is not None:
        staff = session.scalars(
            _bound(select(Staff).where(Staff.area_id == area.id, Staff.role.in_(roles)))
        ).first()
        if staff is not None:
            return staff
        area = area.parent
    return None


def above(session: Session, ticket: Ticket, holder: Staff | None) -> Staff | None:
    """The nearest lead over the ticket's area who outranks `holder`."""
    roles = tuple(r for r in LEAD_ROLES if Role(r).rank > rank(holder))
    return _nearest_up(session, ticket_area(ticket), roles) if roles else None


def level_person(session: Session, ticket: Ticket, level: str) -> Staff | None:
    """Who ladder `level` means for this ticket and its holder; None if nobody or not apt."""
    holder = ticket.assignee
    if level == "backup":
        if ticket.grid is None or (holder is not None and holder.role != Role.GRID_WORKER):
            return None
        query = select(Staff).where(Staff.area_id == ticket.grid.id, Staff.role == Role.GRID_WORKER)
        if holder is not None:
            query = query.where(Staff.id != holder.id)
        return session.scalars(_bound(query)).first()
    if LEVEL_RANK[level] <= rank(holder):
        return None
    person = _nearest_up(session, ticket_area(ticket), (level,))
    return None if person is None or (holder and person.id == holder.id) else person


def departments(session: Session, ticket: Ticket, name: str) -> list[Staff]:
    """Bound liaisons of the department called `name` (or containing it) that serve the
    ticket's area, the best match's liaisons only."""
    area = ticket_area(ticket)
    found = [
        s
        for s in session.scalars(_bound(select(Staff).where(Staff.role == Role.DEPARTMENT)))
        if (name in s.name or s.name in name) and (area is None or s.area.covers(area))
    ]
    if not found:
        return []
    exact = [s for s in found if s.name == name]
    best = exact[0].name if exact else found[0].name
    return [s for s in found if s.name == best]


def department_names(session: Session, ticket: Ticket) -> list[str]:
    area = ticket_area(ticket)
    names = {
        s.name
        for s in session.scalars(_bound(select(Staff).where(Staff.role == Role.DEPARTMENT)))
        if area is None or s.area.covers(area)
    }
    return sorted(names)
