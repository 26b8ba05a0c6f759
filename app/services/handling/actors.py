"""Who is acting on a ticket: a staff member, a rider, or gridbot itself (sweeps, rules).

Later callers (the web console's users, Open311 clients) become actors too; the one call
that changes tickets (app/services/handling/ticket_actions.act) checks what each may do.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.people import Role
from models import Rider, Staff


@dataclass(frozen=True, slots=True, eq=False)
class Actor:
    role: Role
    staff: Staff | None = None
    rider: Rider | None = None
    client: str | None = None
    """An API client's name (its rider row is the `api:<id>` one it reports under)."""

    @classmethod
    def of_staff(cls, staff: Staff) -> Actor:
        return cls(Role(staff.role), staff=staff)

    @classmethod
    def of_rider(cls, rider: Rider) -> Actor:
        return cls(Role.RIDER, rider=rider)

    @classmethod
    def of_api_client(cls, name: str, rider: Rider) -> Actor:
        return cls(Role.API_CLIENT, rider=rider, client=name)

    @property
    def openid(self) -> str | None:
        if self.staff is not None:
            return self.staff.openid
        if self.rider is not None:
            return self.rider.openid
        return None

    @property
    def name(self) -> str:
        if self.staff is not None:
            return self.staff.name
        if self.client is not None:
            return self.client
        return "上报人" if self.rider is not None else "系统"


SYSTEM = Actor(Role.SYSTEM)
