"""Staff administration from the console, for district supervisors (区城运中心): the
areas and people under them, invites (the same codes as `gridbot staff invite`), and
deactivation. Everything is limited to the administrator's own area. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.domain.people import Role
from app.domain.tickets import OPEN_STATUSES
from app.services.directory import people
from app.services.directory.grids import area_by_code
from app.services.errors import NotAllowed, NotFound
from models import Area, ConsoleSession, Staff, StaffInvite, Ticket

ADMIN_ROLES = {Role.SUPERVISOR.value}
INVITE_ROLES = {r: people.ROLE_LABELS[r] for r in people.ROLE_LABELS}


def may_administer(staff: Staff) -> bool:
    return staff.active and staff.role in ADMIN_ROLES


def _require(admin: Staff) -> None:
    if not may_administer(admin):
        raise NotAllowed("人员和系统管理只对区级督办（城运中心）开放。")


@dataclass
class AreaStaff:
    area: Area
    staff: list[Staff]


def areas_and_staff(session: Session, admin: Staff) -> list[AreaStaff]:
    """Every area under the administrator's, in tree order, with its staff (active first)."""
    _require(admin)
    areas = session.scalars(
        select(Area).where(Area.path.startswith(admin.area.path)).order_by(Area.path)
    ).all()
    by_area: dict[int, list[Staff]] = {a.id: [] for a in areas}
    for person in session.scalars(
        select(Staff)
        .where(Staff.area_id.in_(list(by_area)))
        .order_by(Staff.active.desc(), Staff.priority, Staff.id)
    ):
        by_area[person.area_id].append(person)
    return [AreaStaff(a, by_area[a.id]) for a in areas]


def invite(
    session: Session, admin: Staff, *, role: str, area_code: str, name: str, now: datetime
) -> StaffInvite:
    """A one-time binding code for someone in an area under the administrator's."""
    _require(admin)
    area = area_by_code(session, area_code)
    if area is None or not admin.area.covers(area):
        raise NotFound(f"区域 {area_code} 不在您管理的范围内。")
    return people.create_invite(session, role=role, area_code=area_code, name=name, now=now)


def open_tickets_held(session: Session, person: Staff) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                Ticket.assignee_id == person.id,
                Ticket.status.in_([s.value for s in OPEN_STATUSES]),
            )
        )
        or 0
    )


def deactivate(session: Session, admin: Staff, staff_id: int, *, now: datetime) -> Staff:
    """Stop a staff member: they can no longer act in chat or open the console (their
    sessions end now). Their open tickets stay with them until someone transfers them."""
    _require(admin)
    person = session.get(Staff, staff_id)
    if person is None or not admin.area.covers(person.area):
        raise NotFound("没有找到这位工作人员，或不在您管理的范围内。")
    if person.id == admin.id:
        raise NotAllowed("不能停用自己。")
    if not person.active:
        raise NotAllowed(f"{person.name}已经停用。")
    person.active = False
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.staff_id == person.id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return person
