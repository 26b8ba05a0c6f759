"""Who acts on tickets: the roles of people (and of the system itself) and their ranks."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What someone is to gridbot. The values are what the database stores (staff.role,
    ticket_events.actor_role)."""

    RIDER = "rider"
    GRID_WORKER = "grid_worker"
    DEPARTMENT = "department"
    """A city department's liaison; their name is the department's."""
    COMMUNITY_LEAD = "community_lead"
    STREET_LEAD = "street_lead"
    SUPERVISOR = "supervisor"
    API_CLIENT = "api_client"
    """An outside system calling the Open311 API with a key of its own."""
    SYSTEM = "system"
    """A sweep or an intake rule acting on its own (reminders, escalation, merges)."""

    @property
    def rank(self) -> int:
        """Height on the ladder: workers and departments 0, then community, street, district."""
        return RANKS.get(self, 0)

    @property
    def is_lead(self) -> bool:
        return self in LEADS

    @property
    def is_staff(self) -> bool:
        return self in STAFF_ROLES

    @property
    def label(self) -> str:
        return LABELS[self]


RANKS = {Role.COMMUNITY_LEAD: 1, Role.STREET_LEAD: 2, Role.SUPERVISOR: 3}
LEADS = frozenset({Role.COMMUNITY_LEAD, Role.STREET_LEAD, Role.SUPERVISOR})
STAFF_ROLES = frozenset(
    {Role.GRID_WORKER, Role.DEPARTMENT, Role.COMMUNITY_LEAD, Role.STREET_LEAD, Role.SUPERVISOR}
)
LABELS = {
    Role.RIDER: "骑手",
    Role.GRID_WORKER: "网格员",
    Role.DEPARTMENT: "部门联络员",
    Role.COMMUNITY_LEAD: "社区书记",
    Role.STREET_LEAD: "街道负责人",
    Role.SUPERVISOR: "区级督办",
    Role.API_CLIENT: "外部平台",
    Role.SYSTEM: "系统",
}
