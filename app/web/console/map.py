"""The map page (/console/) and the data it draws (/console/map.json, the list's filters).

Coordinates are stored as WGS-84. With a GCJ-02 basemap (Amap, Tencent) every overlay is
converted to GCJ-02 here, so pins sit on the right street; without a basemap, or with a
WGS-84 one (Tianditu, OSM), they are drawn as stored.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from sqlalchemy import case, func, select

from app.web.console import queries
from app.web.console.auth import DB, CurrentViewer
from app.web.console.overlays import convert_geometry, overlay_converter
from app.web.console.pages import CATEGORIES
from app.web.console.templating import category_label, render, status_label
from models import Area, Ticket

router = APIRouter(prefix="/console", tags=["console"])

MAX_PINS = 20_000


@router.get("/")
def map_page(request: Request, session: DB, who: CurrentViewer):
    f = queries.Filters.parse(request.query_params)
    settings = request.app.state.settings
    return render(
        request,
        "map.html",
        viewer=who,
        f=f,
        grids=queries.grids_in(session, who.area),
        statuses=queries.STATUS_CHOICES,
        categories=CATEGORIES,
        periods=queries.PERIODS,
        tile_url=settings.console_tile_url,
    )


@router.get("/map.json")
def map_data(request: Request, session: DB, who: CurrentViewer):
    now = datetime.now(UTC)
    tz = ZoneInfo(request.app.state.settings.timezone)
    f = queries.Filters.parse(request.query_params)
    convert = overlay_converter(request.app.state.settings)
    overdue = queries.overdue_condition(now)
    load = dict(
        (grid_id, (int(n_open), int(n_late)))
        for grid_id, n_open, n_late in session.execute(
            select(
                Ticket.grid_id,
                func.count(),
                func.coalesce(func.sum(case((overdue, 1), else_=0)), 0),
            )
            .where(queries.in_scope(who.area), Ticket.status.in_(queries.OPEN))
            .group_by(Ticket.grid_id)
        ).all()
    )
    grids = []
    for grid_id, code, name, geometry in session.execute(
        select(Area.id, Area.code, Area.name, Area.geometry).where(
            Area.level == "grid", Area.path.startswith(who.area.path)
        )
    ).all():
        if not geometry:
            continue
        n_open, n_late = load.get(grid_id, (0, 0))
        grids.append(
            {
                "code": code,
                "name": name,
                "open": n_open,
                "overdue": n_late,
                "geometry": convert_geometry(json.loads(geometry), convert),
            }
        )
    pins = []
    query = (
        queries.filtered(who.area, f, now=now, tz=tz)
        .with_only_columns(
            Ticket.id,
            Ticket.lat,
            Ticket.lng,
            Ticket.status,
            Ticket.category,
            Ticket.place,
            Ticket.severe,
            overdue.label("late"),
        )
        .order_by(Ticket.id.desc())
        .limit(MAX_PINS)
    )
    for number, lat, lng, status, category, place, severe, late in session.execute(query):
        clat, clng = convert(lat, lng)
        pins.append(
            {
                "n": number,
                "lat": round(clat, 6),
                "lng": round(clng, 6),
                "s": status,
                "sl": status_label(status),
                "c": category_label(category),
                "p": place,
                "sev": bool(severe),
                "late": bool(late),
            }
        )
    return {"grids": grids, "pins": pins, "truncated": len(pins) >= MAX_PINS}
