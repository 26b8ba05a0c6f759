"""Grid import from the console: a preview of what a GeoJSON file would do, feature by
feature, and then the import itself — the CLI's validation and import
(app/services/directory/grids.import_geojson), limited to the administrator's own area.

The preview runs the real import inside a savepoint and rolls it back, so it refuses
exactly what the import would refuse. The caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.directory.grid_geojson import (
    AreaFeature,
    GridImportError,
    ImportLimits,
    validated_features,
)
from app.services.directory.grids import ImportResult, import_geojson
from models import Area

LEVEL_LABELS = {"district": "区", "street": "街道", "community": "社区", "grid": "网格"}


@dataclass
class Verdict:
    code: str
    name: str
    level: str
    verdict: str
    """新建, 更新, or why it is refused."""
    ok: bool
    geometry: dict | None = None


@dataclass
class Preview:
    features: list[Verdict] = field(default_factory=list)
    refused: str = ""
    """Non-empty when the file as a whole would be refused (nothing imported)."""
    result: ImportResult | None = None


def _outside(admin_area: Area, features: list[AreaFeature], existing: dict[str, Area]) -> dict:
    """code -> why the feature lies outside the administrator's area (only those)."""
    by_code = {f.code: f for f in features}
    out: dict[str, str] = {}
    for f in features:
        old = existing.get(f.code)
        if old is not None and not admin_area.covers(old):
            out[f.code] = f"已有区域 {f.code} 不在您管理的范围内"
            continue
        parent, seen = f.parent_code, set()
        while parent in by_code and parent not in seen and parent not in existing:
            seen.add(parent)
            parent = by_code[parent].parent_code
        holder = existing.get(parent or "")
        if holder is None or not admin_area.covers(holder):
            out[f.code] = "上级不在您管理的范围内"
    return out


def _checked(session: Session, admin_area: Area, collection: object, limits: ImportLimits):
    features = validated_features(collection, limits)
    existing = {a.code: a for a in session.scalars(select(Area))}
    return features, existing, _outside(admin_area, features, existing)


def preview(
    session: Session, admin_area: Area, collection: object, limits: ImportLimits
) -> Preview:
    """Each feature's verdict and whether the whole file would be imported."""
    try:
        features, existing, outside = _checked(session, admin_area, collection, limits)
    except GridImportError as exc:
        return Preview(refused=exc.message)
    out = Preview(
        features=[
            Verdict(
                f.code,
                f.name,
                LEVEL_LABELS.get(f.level, f.level),
                outside.get(f.code) or ("更新" if f.code in existing else "新建"),
                f.code not in outside,
                f.geometry,
            )
            for f in features
        ]
    )
    if outside:
        out.refused = f"有 {len(outside)} 个要素不在您管理的范围内，整个文件不能导入"
        return out
    savepoint = session.begin_nested()
    try:
        out.result = import_geojson(session, collection, limits)
    except GridImportError as exc:
        out.refused = exc.message
    finally:
        savepoint.rollback()
    return out


def apply(
    session: Session, admin_area: Area, collection: object, limits: ImportLimits
) -> ImportResult:
    """Import the file (all or nothing); GridImportError when refused."""
    _, _, outside = _checked(session, admin_area, collection, limits)
    if outside:
        code, why = next(iter(outside.items()))
        raise GridImportError(f"{code}：{why}")
    return import_geojson(session, collection, limits)
