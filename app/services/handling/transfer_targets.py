"""Where a staff member may transfer (转派) a ticket, and finding that grid by what people
type: its code, its name, or an unambiguous part of its name ("枫苑二")."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.people import Role
from app.services.errors import InvalidInput, NotFound
from models import Area, Staff

LIST_LIMIT = 40


def neighbourhood(staff: Staff) -> Area:
    """The grids 网格列表 shows: a lead's or a department's own area; for a grid worker
    their street (a worker may transfer anywhere in the district, but neighbours are
    what they look for)."""
    area = staff.area
    if staff.role != Role.GRID_WORKER:
        return area
    for _ in range(2):
        if area.parent is not None:
            area = area.parent
    return area


def grids_under(session: Session, area: Area) -> list[Area]:
    return list(
        session.scalars(
            select(Area)
            .where(Area.level == "grid", Area.path.startswith(area.path))
            .order_by(Area.code)
        )
    )


def find_grid(session: Session, staff: Staff, text: str) -> Area:
    """The grid `text` names (code, name, or a part of a name only one grid has); a clear
    refusal otherwise. Whether `staff` may send the ticket there is act()'s to say."""
    text = text.strip()
    grids = list(session.scalars(select(Area).where(Area.level == "grid").order_by(Area.code)))
    for exact in ([g for g in grids if g.code == text], [g for g in grids if g.name == text]):
        if exact:
            return exact[0]
    found = [g for g in grids if text in g.name]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        names = "、".join(g.name for g in found[:8])
        raise InvalidInput(f"「{text}」对应多个网格：{names}。请写完整的网格名称或编码。")
    raise NotFound(f"没有找到网格「{text}」。回复「网格列表」查看可转派的网格。")


def listing(session: Session, staff: Staff) -> str:
    area = neighbourhood(staff)
    grids = grids_under(session, area)
    if not grids:
        return "您负责的区域内没有网格。"
    lines = [f"{g.name}（{g.code}）" for g in grids[:LIST_LIMIT]]
    if len(grids) > LIST_LIMIT:
        lines.append(f"……另有 {len(grids) - LIST_LIMIT} 个网格，可直接写网格名称。")
    return (
        f"{area.name}的网格（{len(grids)}）：\n"
        + "\n".join(lines)
        + "\n转派请回复「转派 工单号 网格名称」，例如「转派 12 "
        + grids[0].name
        + "」。"
    )
