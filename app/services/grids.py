"""Grids: import from GeoJSON, and place a point in the grid (or duty desk) that owns it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from shapely.geometry import shape
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session

from app.domain.geo import GridIndex
from app.services.errors import InvalidInput
from models import LEVELS, Area, Staff

LEVEL_RANK = {level: i for i, level in enumerate(LEVELS)}

VERSION_CHECK_SECONDS = 1.0
"""How often a GridLocator asks the database whether the areas changed. An import in this
process is seen at once (`_imports`); one made by another process within this long."""

_import_generation = 0


def _imported() -> None:
    global _import_generation
    _import_generation += 1


class GridImportError(InvalidInput):
    pass


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def import_geojson(session: Session, collection: dict) -> ImportResult:
    """Create or update every area in a FeatureCollection, all or nothing.

    The caller commits. Raises GridImportError naming the feature and the reason.
    """
    features = _validated_features(collection)
    existing = {a.code: a for a in session.scalars(select(Area))}
    created = updated = 0
    # Parents before children: the level order is the tree order.
    for props, geometry in sorted(features, key=lambda f: LEVEL_RANK[f[0]["level"]]):
        code = props["code"]
        parent = existing.get(props.get("parent_code") or "")
        if props["parent_code"] and parent is None:
            raise GridImportError(f"{props['where']}：上级 {props['parent_code']} 不存在")
        if parent is not None and LEVEL_RANK[parent.level] >= LEVEL_RANK[props["level"]]:
            raise GridImportError(f"{props['where']}：上级 {parent.code} 的层级不高于它")
        area = existing.get(code)
        if area is None:
            area = Area(code=code)
            session.add(area)
            existing[code] = area
            created += 1
        else:
            updated += 1
        area.name = props["name"]
        area.level = props["level"]
        area.parent = parent
        area.path = (parent.path if parent else "/") + code + "/"
        area.geometry = json.dumps(geometry, ensure_ascii=False) if geometry else None
    session.flush()
    _imported()
    return ImportResult(created=created, updated=updated)


def _validated_features(collection: dict) -> list[tuple[dict, dict | None]]:
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise GridImportError("文件不是 GeoJSON FeatureCollection")
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        raise GridImportError("FeatureCollection 没有 features")
    seen: set[str] = set()
    out = []
    for i, feature in enumerate(features):
        props = (feature or {}).get("properties") or {}
        code = str(props.get("code") or "").strip()
        where = f"第 {i + 1} 个要素" + (f"（{code}）" if code else "")
        if not code:
            raise GridImportError(f"{where}：缺少 code")
        if code in seen:
            raise GridImportError(f"{where}：code 重复")
        seen.add(code)
        if not str(props.get("name") or "").strip():
            raise GridImportError(f"{where}：缺少 name")
        if props.get("level") not in LEVELS:
            raise GridImportError(f"{where}：level 必须是 {'/'.join(LEVELS)} 之一")
        geometry = feature.get("geometry")
        if geometry is not None:
            if geometry.get("type") not in ("Polygon", "MultiPolygon"):
                raise GridImportError(f"{where}：几何必须是 Polygon 或 MultiPolygon")
            try:
                geom = shape(geometry)
            except Exception as exc:  # shapely raises several types for bad input
                raise GridImportError(f"{where}：几何无法解析（{exc}）") from None
            if geom.is_empty or not geom.is_valid:
                raise GridImportError(f"{where}：几何无效（自相交或为空）")
            minx, miny, maxx, maxy = geom.bounds
            if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
                raise GridImportError(f"{where}：坐标超出 WGS-84 范围")
        elif props["level"] == "grid":
            raise GridImportError(f"{where}：网格必须有多边形")
        clean = {
            "code": code,
            "name": str(props["name"]).strip(),
            "level": props["level"],
            "parent_code": str(props.get("parent_code") or "").strip() or None,
            "where": where,
        }
        out.append((clean, geometry))
    return out


@dataclass(frozen=True)
class Placement:
    """Where a point belongs: a grid (inside or near it), else an enclosing area's duty desk."""

    grid: Area | None
    area: Area | None
    distance_m: float = 0.0
    worker: Staff | None = None
    """The routed area's own first-choice staff member, when it has one (read with it)."""

    @property
    def routed_area(self) -> Area | None:
        return self.grid or self.area


AREAS_VERSION = select(func.count(Area.id), func.max(Area.updated_at))


class GridLocator:
    """Point -> grid over an in-memory STRtree, rebuilt when the area table changes."""

    def __init__(self, max_nearest_m: float) -> None:
        self.max_nearest_m = max_nearest_m
        self._lock = threading.Lock()
        self._version: tuple | None = None
        self._grids: GridIndex | None = None
        self._areas: GridIndex | None = None
        self._generation = -1
        self._checked_at = 0.0

    def _indexes(self, session: Session) -> tuple[GridIndex, GridIndex]:
        checked = time.monotonic()
        with self._lock:
            fresh = (
                self._grids is not None
                and self._areas is not None
                and self._generation == _import_generation
                and checked - self._checked_at < VERSION_CHECK_SECONDS
            )
            if fresh:
                return self._grids, self._areas
        generation = _import_generation
        version = tuple(session.execute(AREAS_VERSION).one())
        with self._lock:
            if version != self._version or self._grids is None or self._areas is None:
                grids, others = [], []
                rows = session.execute(select(Area.code, Area.level, Area.geometry))
                for code, level, geometry in rows:
                    if geometry:
                        (grids if level == "grid" else others).append(
                            (code, shape(json.loads(geometry)))
                        )
                self._grids, self._areas = GridIndex(grids), GridIndex(others)
                self._version = version
            self._generation, self._checked_at = generation, checked
            return self._grids, self._areas

    def place(self, session: Session, lat: float, lng: float) -> Placement:
        grids, areas = self._indexes(session)
        code = grids.locate(lat, lng)
        distance_m = 0.0
        if code is None:
            near = grids.nearest(lat, lng, self.max_nearest_m)
            if near is not None:
                code, distance_m = near
        if code is not None:
            grid, worker = _with_worker(session, code)
            return Placement(grid=grid, area=None, distance_m=distance_m, worker=worker)
        enclosing = areas.locate(lat, lng)
        if enclosing is not None:
            area, worker = _with_worker(session, enclosing)
            return Placement(grid=None, area=area, worker=worker)
        root = session.scalars(
            select(Area).where(Area.parent_id.is_(None)).order_by(Area.id)
        ).first()
        return Placement(grid=None, area=root)


_ON_DUTY = (Staff.active, Staff.openid.is_not(None))
_BY_PRIORITY = (Staff.priority, Staff.id)
# An area and its first-choice staff member in one statement: every report needs both.
AREA_WITH_WORKER = (
    select(Area, Staff)
    .outerjoin(Staff, and_(Staff.area_id == Area.id, *_ON_DUTY))
    .where(Area.code == bindparam("code"))
    .order_by(*_BY_PRIORITY)
    .limit(1)
)
AREA_STAFF = (
    select(Staff)
    .where(Staff.area_id == bindparam("area_id"), *_ON_DUTY)
    .order_by(*_BY_PRIORITY)
    .limit(1)
)


def _with_worker(session: Session, code: str) -> tuple[Area, Staff | None]:
    area, worker = session.execute(AREA_WITH_WORKER, {"code": code}).one()
    return area, worker


def area_by_code(session: Session, code: str) -> Area | None:
    return session.scalars(select(Area).where(Area.code == code.strip())).first()


def responsible_staff(session: Session, area: Area | None) -> Staff | None:
    """The person a ticket in `area` goes to: its worker (primary, then backup), else the
    lowest staff member above it who covers it (the duty desk)."""
    while area is not None:
        staff = session.scalars(AREA_STAFF, {"area_id": area.id}).first()
        if staff is not None:
            return staff
        area = area.parent
    return None
