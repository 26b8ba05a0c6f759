"""The map page (/console/) and the data it draws.

Three answers feed the map, sized for a district of 10,000 open tickets and 1,000 grids
(bench/console_map.py):

- /console/grids.json: the area's grid polygons, which change only on a grid import.
  Built once per version (kept in memory, keyed by a digest of the stored shapes) and
  answered with that digest as ETag, so the map's refresh and a second visit revalidate
  (304) instead of downloading them again.
- /console/map.json: what changes: open and overdue load per grid, and the pins under the
  page's filters as compact rows [number, lat, lng, status, category, flags] with only
  what the map draws; labels come with the page. Answered with a digest of the answer as
  ETag: the map's refresh every 10 s revalidates it, and downloads (and redraws) it only
  when a ticket, a deadline or a grid's load changed.
- /console/pins/<number>.json: the few words a pin's popup shows, fetched on click.

Coordinates are stored as WGS-84. With a GCJ-02 basemap (Amap, Tencent) every overlay is
converted to GCJ-02 here, so pins sit on the right street; without a basemap, or with a
WGS-84 one (Tianditu, OSM), they are drawn as stored. Five decimals: about a metre.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import case, func, select

from app.web.console import queries
from app.web.console.auth import DB, CurrentViewer
from app.web.console.etags import not_modified, revalidated, tag_of
from app.web.console.overlays import convert_geometry, is_converted, overlay_converter
from app.web.console.pages import CATEGORIES
from app.web.console.templating import render
from models import Area, Ticket

router = APIRouter(prefix="/console", tags=["console"])

MAX_PINS = 20_000
DIGITS = 5
LATE, SEVERE = 1, 2
"""Bits of a pin's flags."""
_SHAPES: dict[str, bytes] = {}
_SHAPES_KEPT = 16


@router.get("/")
def map_page(request: Request, session: DB, who: CurrentViewer):
    f = queries.Filters.parse(request.query_params)
    settings = request.app.state.settings
    labels = {"s": dict(queries.STATUS_CHOICES), "c": CATEGORIES}
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
        labels=json.dumps(labels, ensure_ascii=False),
    )


@router.get("/grids.json")
def grid_shapes(request: Request, session: DB, who: CurrentViewer):
    convert = overlay_converter(request.app.state.settings)
    rows = session.execute(
        select(Area.code, Area.name, Area.geometry)
        .where(Area.level == "grid", Area.path.startswith(who.area.path), Area.geometry != "")
        .order_by(Area.code)
    ).all()
    digest = hashlib.sha1(convert.__name__.encode())
    for code, name, geometry in rows:
        digest.update(f"{code}\0{name}\0{geometry or ''}\0".encode())
    etag = f'"{digest.hexdigest()}"'
    if unchanged := not_modified(request, etag, Vary="Accept-Encoding"):
        return unchanged
    body = _SHAPES.get(etag)
    if body is None:
        shapes = [
            [code, name, convert_geometry(json.loads(geometry), convert, DIGITS)]
            for code, name, geometry in rows
            if geometry
        ]
        body = _compact({"grids": shapes})
        if len(_SHAPES) >= _SHAPES_KEPT:
            _SHAPES.pop(next(iter(_SHAPES)))
        _SHAPES[etag] = body
    return _answer(request, body, revalidated(etag))


@router.get("/map.json")
def map_data(request: Request, session: DB, who: CurrentViewer):
    now = datetime.now(UTC)
    tz = ZoneInfo(request.app.state.settings.timezone)
    f = queries.Filters.parse(request.query_params)
    convert = overlay_converter(request.app.state.settings)
    overdue = queries.overdue_condition(now)
    load = {
        code: [int(n_open), int(n_late)]
        for code, n_open, n_late in session.execute(
            select(
                Area.code,
                func.count(),
                func.coalesce(func.sum(case((overdue, 1), else_=0)), 0),
            )
            .select_from(Ticket)
            .join(Area, Area.id == Ticket.grid_id)
            .where(queries.in_scope(who.area), Ticket.status.in_(queries.OPEN))
            .group_by(Area.code)
            .order_by(Area.code)  # the same load, the same bytes: the ETag holds
        ).all()
    }
    query = (
        queries.filtered(who.area, f, now=now, tz=tz)
        .with_only_columns(
            Ticket.id,
            Ticket.lat,
            Ticket.lng,
            Ticket.status,
            Ticket.category,
            case((Ticket.severe, SEVERE), else_=0),
            overdue.label("late"),
        )
        .order_by(Ticket.id.desc())
        .limit(MAX_PINS)
    )
    rows = session.execute(query).all()
    if not is_converted(request.app.state.settings):
        # Drawn as stored: no conversion per pin (10,000 of them in a district).
        pins = [
            [n, round(lat, DIGITS), round(lng, DIGITS), s, c, (LATE if late else 0) | sev]
            for n, lat, lng, s, c, sev, late in rows
        ]
    else:
        pins = []
        for n, lat, lng, s, c, sev, late in rows:
            clat, clng = convert(lat, lng)
            flags = (LATE if late else 0) | sev
            pins.append([n, round(clat, DIGITS), round(clng, DIGITS), s, c, flags])
    body = _compact({"load": load, "pins": pins, "truncated": len(pins) >= MAX_PINS})
    etag = tag_of(body)
    unchanged = not_modified(request, etag, Vary="Accept-Encoding")
    return unchanged or _answer(request, body, revalidated(etag))


@router.get("/pins/{number}.json")
def pin_summary(number: int, session: DB, who: CurrentViewer):
    """What a pin's popup says beyond its number, category and status."""
    ticket = queries.ticket_in_scope(session, who.area, number)
    if ticket is None:
        return JSONResponse({"error": "没有这个工单"}, status_code=404)
    if ticket is False:
        return JSONResponse({"error": "该工单不在您负责的区域"}, status_code=403)
    words = ticket.description or ""
    return {
        "place": ticket.place or "",
        "words": words if len(words) <= 60 else words[:60] + "…",
        "grid": ticket.grid.name if ticket.grid else "",
    }


def _compact(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _answer(request: Request, body: bytes, headers: dict[str, str]) -> Response:
    """JSON as built (no re-encoding), gzipped when the browser takes it and it is worth it."""
    headers = {**headers, "Vary": "Accept-Encoding"}
    if len(body) > 2048 and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=1)  # a tenth of the time of 5, 15% larger
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)
