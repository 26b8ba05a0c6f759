"""Roles: the enum is what the database stores, ranks order the ladder."""

from app.domain.people import Role
from app.services.directory.people import ROLE_LABELS
from models import ROLES


def test_staff_roles_are_the_roles_staff_rows_store():
    assert {r.value for r in Role if r.is_staff} == set(ROLES) == set(ROLE_LABELS)
    assert Role("rider") is Role.RIDER and Role.SYSTEM == "system"


def test_leads_outrank_workers_and_departments():
    order = [Role.GRID_WORKER, Role.COMMUNITY_LEAD, Role.STREET_LEAD, Role.SUPERVISOR]
    assert [r.rank for r in order] == [0, 1, 2, 3]
    assert Role.DEPARTMENT.rank == 0 and not Role.DEPARTMENT.is_lead
    assert {r for r in Role if r.is_lead} == set(order[1:])
