"""What `gridbot demo` prints: every account the demo made, to play with `gridbot chat`."""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from app.cli_table import table
from app.services.directory.people import ROLE_LABELS
from models import Area, Staff

ROLE_ORDER = ("grid_worker", "community_lead", "street_lead", "supervisor", "department")


def accounts(session: Session) -> list[str]:
    """A table of the accounts to play: riders, then the staff bound to WeChat, by role
    from the grid up, each with the area they cover."""
    order = case({role: i for i, role in enumerate(ROLE_ORDER)}, value=Staff.role, else_=99)
    staff = session.scalars(
        select(Staff)
        .join(Staff.area)
        .where(Staff.active, Staff.openid.is_not(None))
        .order_by(order, Area.path, Staff.priority, Staff.id)
    ).all()
    rows = [("rider-1, rider-2, …", "", "骑手", "any name not listed below plays a new rider")]
    rows += [(s.openid or "", s.name, ROLE_LABELS.get(s.role, s.role), s.area.name) for s in staff]
    return table(("--as", "姓名", "角色", "区域"), rows)
