"""The GeoJSON file a grid import reads: size caps and a strict look at its structure.

Everything here runs before shapely or the database sees the data, so a hostile or broken
file costs bounded time and memory and ends in GridImportError ("refused, nothing
imported"), never in a traceback.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from shapely.geometry import shape

from app.services.errors import InvalidInput
from models import LEVELS

CODE_MAX = 64
NAME_MAX = 128
"""The widths of areas.code and areas.name."""
PATH_SEPARATOR = "/"
"""Joins codes in areas.path; a code holding it would make one area look inside another."""


class GridImportError(InvalidInput):
    pass


@dataclass(frozen=True)
class ImportLimits:
    max_bytes: int = 32_000_000
    max_features: int = 50_000
    max_vertices: int = 50_000
    """Per feature: all the rings of its Polygon or MultiPolygon together."""


@dataclass(frozen=True)
class AreaFeature:
    code: str
    name: str
    level: str
    parent_code: str | None
    geometry: dict | None
    where: str
    """How a refusal names the feature: 第 N 个要素（code）."""


def parse_collection(raw: bytes, limits: ImportLimits) -> object:
    """The JSON document in `raw`, refused when too large, not JSON or nested too deeply."""
    if len(raw) > limits.max_bytes:
        raise GridImportError(f"文件过大（上限 {_size(limits.max_bytes)}）")
    try:
        return json.loads(raw)
    except RecursionError:
        raise GridImportError("文件嵌套过深，不是有效的 GeoJSON") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, huge integers
        raise GridImportError(f"文件不是有效的 JSON（{str(exc)[:80]}）") from None


def validated_features(collection: object, limits: ImportLimits) -> list[AreaFeature]:
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise GridImportError("文件不是 GeoJSON FeatureCollection")
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        raise GridImportError("FeatureCollection 没有 features")
    if len(features) > limits.max_features:
        raise GridImportError(f"要素过多（{len(features)} 个，上限 {limits.max_features}）")
    seen: set[str] = set()
    out = []
    for i, feature in enumerate(features):
        where = f"第 {i + 1} 个要素"
        if not isinstance(feature, dict):
            raise GridImportError(f"{where}：不是 JSON 对象")
        props = feature.get("properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            raise GridImportError(f"{where}：properties 不是 JSON 对象")
        code = _text(props.get("code"), where, "code")
        if code:
            where += f"（{code[:20]}{'…' if len(code) > 20 else ''}）"
        if not code:
            raise GridImportError(f"{where}：缺少 code")
        _check_code(code, where, "code")
        if code in seen:
            raise GridImportError(f"{where}：code 重复")
        seen.add(code)
        name = _text(props.get("name"), where, "name")
        if not name:
            raise GridImportError(f"{where}：缺少 name")
        if len(name) > NAME_MAX:
            raise GridImportError(f"{where}：name 过长（{len(name)} 个字，上限 {NAME_MAX}）")
        level = props.get("level")
        if not isinstance(level, str) or level not in LEVELS:
            raise GridImportError(f"{where}：level 必须是 {'/'.join(LEVELS)} 之一")
        parent_code = _text(props.get("parent_code"), where, "parent_code") or None
        if parent_code:
            _check_code(parent_code, where, "parent_code")
        geometry = feature.get("geometry")
        if geometry is not None:
            _check_geometry(geometry, where, limits)
        elif level == "grid":
            raise GridImportError(f"{where}：网格必须有多边形")
        out.append(AreaFeature(code, name, level, parent_code, geometry, where))
    return out


def _size(n: int) -> str:
    return f"{n / 1e6:.3g} MB"


def _text(value: object, where: str, field: str) -> str:
    """A property that must be a string (a number is taken as its digits), stripped."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise GridImportError(f"{where}：{field} 必须是文字")
    return str(value).strip()


def _check_code(code: str, where: str, field: str) -> None:
    if len(code) > CODE_MAX:
        raise GridImportError(f"{where}：{field} 过长（{len(code)} 个字符，上限 {CODE_MAX}）")
    if PATH_SEPARATOR in code:
        raise GridImportError(f"{where}：{field} 不能包含“{PATH_SEPARATOR}”")
    if not code.isprintable():
        raise GridImportError(f"{where}：{field} 含有不可见字符")


def _check_geometry(geometry: object, where: str, limits: ImportLimits) -> None:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise GridImportError(f"{where}：几何必须是 Polygon 或 MultiPolygon")
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
    if not isinstance(polygons, list | tuple) or not polygons:
        raise GridImportError(f"{where}：几何无法解析（坐标结构不对）")
    _check_positions(polygons, where, limits.max_vertices)
    try:
        geom = shape(geometry)
    except Exception as exc:  # shapely raises several types for bad input
        raise GridImportError(f"{where}：几何无法解析（{str(exc)[:80]}）") from None
    if geom.is_empty or not geom.is_valid:
        raise GridImportError(f"{where}：几何无效（自相交或为空）")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GridImportError(f"{where}：坐标超出 WGS-84 范围")


def _check_positions(polygons: list, where: str, max_vertices: int) -> None:
    """Polygons made of rings of [x, y] or [x, y, z] finite numbers (lists from JSON,
    tuples from shapely's mapping()), at most `max_vertices` positions in all; counted
    ring by ring before a ring is read, so a huge polygon is refused without walking it.
    A fixed depth, no recursion: deeper nesting than GeoJSON's is simply the wrong shape."""
    bad = GridImportError(f"{where}：几何无法解析（坐标结构不对）")
    vertices = 0
    for polygon in polygons:
        if not isinstance(polygon, list | tuple) or not polygon:
            raise bad
        for ring in polygon:
            if not isinstance(ring, list | tuple) or len(ring) < 4:
                raise bad
            vertices += len(ring)
            if vertices > max_vertices:
                raise GridImportError(f"{where}：多边形顶点过多（超过上限 {max_vertices} 个）")
            for position in ring:
                if not isinstance(position, list | tuple) or len(position) not in (2, 3):
                    raise bad
                for number in position:
                    if isinstance(number, bool) or not isinstance(number, int | float):
                        raise bad
                    if not math.isfinite(number):
                        raise bad
