"""`gridbot grids list` and `gridbot staff list`: the areas and who covers them."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import func, select

from app.cli_common import fail as _fail
from app.cli_common import start as _start
from app.cli_table import clip, table
from app.domain.tickets import OPEN_STATUSES
from models import WECOM_PREFIX, Area, Staff, Ticket

LEVEL_LABELS = {"district": "区", "street": "街道", "community": "社区", "grid": "网格"}


def parse_level(given: str) -> str:
    for code, label in LEVEL_LABELS.items():
        if given.strip().lower() in (code, label):
            return code
    known = "、".join(f"{c}（{label}）" for c, label in LEVEL_LABELS.items())
    _fail(f"unknown level {given!r}; one of: {known}")
    raise AssertionError  # unreachable: _fail exits


def grids_list(
    level: Annotated[
        str | None, typer.Option(help="Only this level: district, street, community or grid.")
    ] = None,
) -> None:
    """Areas in tree order, with whoever tickets there go to first and the open tickets."""
    wanted = parse_level(level) if level else None
    with _start().sessions() as session:
        query = select(Area).order_by(Area.path)
        if wanted:
            query = query.where(Area.level == wanted)
        areas = list(session.scalars(query))
        staff: dict[int, list[Staff]] = {}
        for s in session.scalars(
            select(Staff).where(Staff.active).order_by(Staff.priority, Staff.id)
        ):
            staff.setdefault(s.area_id, []).append(s)
        open_tickets = dict(
            session.execute(
                select(Ticket.grid_id, func.count())
                .where(Ticket.status.in_([s.value for s in OPEN_STATUSES]))
                .group_by(Ticket.grid_id)
            ).all()
        )
    if not areas:
        typer.echo("没有区域。导入网格：gridbot grids import FILE.geojson")
        return
    rows = []
    top = min(a.path.count("/") for a in areas)
    for area in areas:
        depth = area.path.count("/") - top  # the tree, indented
        people = [s for s in staff.get(area.id, []) if s.role != "department"]
        rows.append(
            (
                area.code,
                "  " * depth + area.name,
                LEVEL_LABELS.get(area.level, area.level),
                clip("、".join(s.name for s in people) or "-", 20),
                str(open_tickets.get(area.id, 0)) if area.level == "grid" else "",
            )
        )
    for line in table(("编码", "名称", "层级", "人员", "未办结"), rows):
        typer.echo(line)


def staff_list(
    area: Annotated[
        str | None, typer.Option(help="Only staff of this area (its code) and below it.")
    ] = None,
) -> None:
    """Staff members: number, role, the area they cover, their WeChat and WeCom accounts."""
    from app.services.directory.grids import area_by_code
    from app.services.directory.people import ROLE_LABELS

    with _start().sessions() as session:
        query = select(Staff).join(Staff.area).order_by(Area.path, Staff.priority, Staff.id)
        if area:
            found = area_by_code(session, area)
            if found is None:
                _fail(f"no area with code {area!r} (see `gridbot grids list`)")
            query = query.where(Area.path.startswith(found.path))
        people = list(session.scalars(query).unique())
        rows = [
            (
                str(s.id),
                s.name,
                ROLE_LABELS.get(s.role, s.role) + ("（备岗）" if s.priority else ""),
                f"{s.area.name}（{s.area.code}）",
                _wechat(s.openid),
                s.wecom_userid or "-",
                "" if s.active else "已停用",
            )
            for s in people
        ]
    if not rows:
        typer.echo("没有人员。" if not area else f"区域 {area} 下没有人员。")
        return
    for line in table(("编号", "姓名", "角色", "区域", "微信", "企业微信", ""), rows):
        typer.echo(line)


def _wechat(openid: str | None) -> str:
    if openid is None:
        return "未绑定"
    return "-" if openid.startswith(WECOM_PREFIX) else openid  # on WeCom only
