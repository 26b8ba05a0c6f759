"""Grids: import from GeoJSON, and place a point in the grid (or duty desk) that owns it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from shapely.geometry import shape
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.db import as_loaded
from app.domain.geo import GridIndex
from app.services.directory.grid_geojson import (
    PATH_SEPARATOR,
    AreaFeature,
    GridImportError,
    ImportLimits,
    validated_features,
)
from models import LEVELS, Area, Staff

LEVEL_RANK = {level: i for i, level in enumerate(LEVELS)}

VERSION_CHECK_SECONDS = 1.0
"""How often a GridLocator asks the database whether the areas changed. An import in this
process is seen at once (`_imports`); one made by another process within this long."""

_import_generation = 0


def _imported() -> None:
    global _import_generation
    _import_generation += 1


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    moved: int = 0
    """Areas not in the file whose path changed because an ancestor moved."""


def import_geojson(
    session: Session, collection: object, limits: ImportLimits | None = None
) -> ImportResult:
    """Create or update every area in a FeatureCollection, all or nothing.

    An area given a new parent or level takes its whole subtree along: every descendant's
    path (which decides who covers it) is rewritten. The tree must stay ordered by level
    afterwards, so a grid never has children and an area with children is not demoted to
    or below their level. The caller commits. Raises GridImportError naming the feature
    and the reason.
    """
    features = validated_features(collection, limits or ImportLimits())
    existing = {a.code: a for a in session.scalars(select(Area))}
    old_levels = {code: a.level for code, a in existing.items()}
    in_file = {f.code: f for f in features}
    created = updated = 0
    # Parents before children: the level order is the tree order.
    for f in sorted(features, key=lambda f: LEVEL_RANK[f.level]):
        parent = existing.get(f.parent_code or "")
        if f.parent_code and parent is None:
            raise GridImportError(f"{f.where}：上级 {f.parent_code} 不存在")
        if parent is not None:
            _check_parent(parent, f)
        area = existing.get(f.code)
        if area is None:
            area = Area(code=f.code)
            session.add(area)
            existing[f.code] = area
            created += 1
        else:
            updated += 1
        area.name = f.name
        area.level = f.level
        area.parent = parent
        area.geometry = json.dumps(f.geometry, ensure_ascii=False) if f.geometry else None
    _check_levels(existing.values(), in_file, old_levels)
    moved = _rewrite_paths(existing.values(), in_file)
    session.flush()
    _imported()
    return ImportResult(created=created, updated=updated, moved=moved)


def _check_parent(parent: Area, f: AreaFeature) -> None:
    if parent.level == "grid":
        raise GridImportError(f"{f.where}：上级 {parent.code} 是网格，网格不能有下级")
    if LEVEL_RANK[parent.level] >= LEVEL_RANK[f.level]:
        raise GridImportError(f"{f.where}：上级 {parent.code} 的层级不高于它")


def _check_levels(areas, in_file: dict[str, AreaFeature], old_levels: dict[str, str]) -> None:
    """Every parent ranks above its children once the whole file is applied.

    Checking the final tree (not feature by feature) lets one file move children away and
    demote their old parent together. Strictly rising ranks also rule out cycles.
    """
    children: dict[str, list[Area]] = {}
    for area in areas:
        if area.parent is not None:
            children.setdefault(area.parent.code, []).append(area)
    for code, kids in children.items():
        parent = kids[0].parent
        assert parent is not None
        below = [k for k in kids if LEVEL_RANK[k.level] <= LEVEL_RANK[parent.level]]
        if not below:
            continue
        f = in_file.get(code)
        if f is not None and LEVEL_RANK[f.level] > LEVEL_RANK[old_levels.get(code, f.level)]:
            named = "、".join(k.code for k in below[:3]) + (" 等" if len(below) > 3 else "")
            raise GridImportError(
                f"{f.where}：还有 {len(below)} 个下级（{named}），不能降为 {f.level}；"
                "请先把下级移到别的上级（可在同一文件里一起导入）"
            )
        child = next((in_file[k.code] for k in below if k.code in in_file), None)
        if child is not None:
            _check_parent(parent, child)
        # Only a database written before these checks can hold such a pair.
        raise GridImportError(
            f"区域 {code}（{parent.level}）的层级不高于它的下级 {below[0].code}；"
            "请在文件里一并修正它们的层级或上级"
        )


def _rewrite_paths(areas, in_file: dict[str, AreaFeature]) -> int:
    """Set every area's path from its parent chain; how many areas outside the file moved."""
    paths: dict[str, str] = {}

    def path_of(area: Area) -> str:
        chain = []
        node: Area | None = area
        while node is not None and node.code not in paths:
            chain.append(node)
            node = node.parent
        prefix = paths[node.code] if node is not None else PATH_SEPARATOR
        for a in reversed(chain):
            prefix = paths[a.code] = prefix + a.code + PATH_SEPARATOR
        return prefix

    moved = 0
    for area in areas:
        path = path_of(area)
        if area.path != path:
            if area.path is not None and area.code not in in_file:
                moved += 1
            area.path = path
    return moved


@dataclass(frozen=True)
class Placement:
    """Where a point belongs: a grid (inside or near it), else an enclosing area's duty
    desk; neither (`routed_area` None) when it lies outside every area."""

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
        # Outside every area: nobody here can act on it (a wrong or far-away point).
        return Placement(grid=None, area=None)


_ON_DUTY = (Staff.active, Staff.openid.is_not(None))
_BY_PRIORITY = (Staff.priority, Staff.id)
# An area and its first-choice staff member in one statement: every report needs both.
# Rows, not entities: the objects are made from them (app/db.py as_loaded), at a
# fraction of what the ORM's loading costs.
_AREAS, _STAFF = Area.__table__, Staff.__table__
AREA_COLUMNS = tuple(c for c in _AREAS.c if c.key != "geometry")  # deferred, as mapped
STAFF_COLUMNS = tuple(_STAFF.c)
AREA_WITH_WORKER = (
    select(*AREA_COLUMNS, *STAFF_COLUMNS)
    .select_from(_AREAS)
    .outerjoin(_STAFF, and_(_STAFF.c.area_id == _AREAS.c.id, *_ON_DUTY))
    .where(_AREAS.c.code == bindparam("code"))
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
    row = session.execute(AREA_WITH_WORKER, {"code": code}).one()
    split = len(AREA_COLUMNS)
    area = as_loaded(session, Area, AREA_COLUMNS, row[:split])
    if row[split] is None:
        return area, None
    worker = as_loaded(session, Staff, STAFF_COLUMNS, row[split:])
    if "area" not in worker.__dict__:
        set_committed_value(worker, "area", area)
    return area, worker


def served_district(session: Session) -> str:
    """The name(s) of the top areas served, as a rider reads them: "示范区"."""
    names = session.scalars(select(Area.name).where(Area.parent_id.is_(None)).order_by(Area.id))
    return "、".join(names)


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
