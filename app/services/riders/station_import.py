"""Importing rest stations from GeoJSON or CSV: every row checked before any is written.

A bad file is refused whole (StationImportError naming the row and the reason); a good
one creates new stations and updates existing ones in place, matched by `code`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.stations import HoursError, parse_amenities, parse_hours
from app.services.errors import InvalidInput
from models import Station

MAX_BYTES = 5_000_000
MAX_STATIONS = 20_000
CSV_COLUMNS = ("name", "address", "hours", "amenities", "lat", "lng")
"""Required CSV columns; `phone` and `code` are optional."""


class StationImportError(InvalidInput):
    pass


@dataclass(frozen=True)
class StationRow:
    code: str
    name: str
    address: str
    lat: float
    lng: float
    hours: str
    amenities: tuple[str, ...]
    phone: str


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def parse_file(raw: bytes, filename: str) -> list[StationRow]:
    """The stations in a .geojson/.json or .csv file, or StationImportError."""
    if len(raw) > MAX_BYTES:
        raise StationImportError(f"文件过大（上限 {MAX_BYTES // 1_000_000} MB）")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StationImportError("文件不是 UTF-8 编码") from None
    lower = filename.lower()
    if lower.endswith(".csv"):
        rows = _csv_rows(text)
    elif lower.endswith((".geojson", ".json")):
        rows = _geojson_rows(text)
    else:
        raise StationImportError("只接受 .geojson 或 .csv 文件")
    if not rows:
        raise StationImportError("文件里没有驿站")
    if len(rows) > MAX_STATIONS:
        raise StationImportError(f"驿站过多（上限 {MAX_STATIONS} 个）")
    parsed = [_row(where, props, lat, lng) for where, props, lat, lng in rows]
    seen: dict[str, str] = {}
    for (where, *_), row in zip(rows, parsed, strict=True):
        if row.code in seen:
            raise StationImportError(f"{where}：编码「{row.code}」与{seen[row.code]}重复")
        seen[row.code] = where
    return parsed


def _geojson_rows(text: str) -> list[tuple[str, dict, object, object]]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise StationImportError("文件不是有效的 JSON") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise StationImportError("GeoJSON 应是 FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list):
        raise StationImportError("FeatureCollection 缺少 features 列表")
    rows = []
    for i, feature in enumerate(features, start=1):
        where = f"第 {i} 个要素"
        if not isinstance(feature, dict):
            raise StationImportError(f"{where}：不是 Feature")
        geometry = feature.get("geometry")
        props = feature.get("properties")
        if not isinstance(props, dict):
            raise StationImportError(f"{where}：缺少 properties")
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            raise StationImportError(f"{where}：几何应是 Point")
        coords = geometry.get("coordinates")
        if not isinstance(coords, list | tuple) or len(coords) < 2:
            raise StationImportError(f"{where}：坐标应是 [经度, 纬度]")
        rows.append((where, props, coords[1], coords[0]))
    return rows


def _csv_rows(text: str) -> list[tuple[str, dict, object, object]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise StationImportError(f"CSV 缺少列：{', '.join(missing)}")
    rows = []
    for i, record in enumerate(reader, start=2):
        props = {(k or "").strip(): (v or "").strip() for k, v in record.items() if k}
        rows.append((f"第 {i} 行", props, props.get("lat"), props.get("lng")))
    return rows


def _text(where: str, props: dict, key: str, limit: int, required: bool) -> str:
    value = props.get(key)
    if value is None or value == "":
        if required:
            raise StationImportError(f"{where}：缺少 {key}")
        return ""
    if not isinstance(value, str | int):
        raise StationImportError(f"{where}：{key} 应是文字")
    value = str(value).strip()
    if len(value) > limit:
        raise StationImportError(f"{where}：{key} 超过 {limit} 个字")
    return value


def _coordinate(where: str, value: object, what: str, low: float, high: float) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise StationImportError(f"{where}：{what}「{value}」不是数字") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise StationImportError(f"{where}：{what} {value} 超出范围")
    return number


def _row(where: str, props: dict, lat: object, lng: object) -> StationRow:
    name = _text(where, props, "name", 128, required=True)
    code = _text(where, props, "code", 64, required=False) or name
    where = f"{where}（{code}）"
    hours_text = _text(where, props, "hours", 128, required=True)
    listed = props.get("amenities") or []
    if not isinstance(listed, list | str):
        raise StationImportError(f"{where}：amenities 应是列表")
    try:
        parse_hours(hours_text)
        amenities = parse_amenities(listed)
    except (HoursError, ValueError) as exc:
        raise StationImportError(f"{where}：{exc}") from None
    return StationRow(
        code=code,
        name=name,
        address=_text(where, props, "address", 256, required=False),
        lat=_coordinate(where, lat, "纬度", -90, 90),
        lng=_coordinate(where, lng, "经度", -180, 180),
        hours=hours_text,
        amenities=amenities,
        phone=_text(where, props, "phone", 32, required=False),
    )


def import_stations(session: Session, rows: list[StationRow], *, now: datetime) -> ImportResult:
    """Create or update (by code) every station in `rows`; the caller commits."""
    existing = {s.code: s for s in session.scalars(select(Station))}
    created = updated = 0
    for row in rows:
        station = existing.get(row.code)
        if station is None:
            station = Station(code=row.code)
            session.add(station)
            created += 1
        else:
            updated += 1
        station.name = row.name
        station.address = row.address
        station.lat, station.lng = row.lat, row.lng
        station.hours = row.hours
        station.amenities = " ".join(row.amenities)
        station.phone = row.phone
        station.updated_at = now
    session.flush()
    return ImportResult(created=created, updated=updated)
