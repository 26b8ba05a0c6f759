"""Overlays in the basemap's coordinate system: stored WGS-84, shown GCJ-02 over Amap or
Tencent tiles (their streets are offset), as stored otherwise."""

from __future__ import annotations

from app.domain.coords import wgs84_to_gcj02


def _same(lat: float, lng: float) -> tuple[float, float]:
    return lat, lng


def is_converted(settings) -> bool:
    """Overlays are converted (a GCJ-02 basemap), not drawn as stored."""
    return bool(settings.console_tile_url) and settings.console_tile_crs == "gcj02"


def overlay_converter(settings):
    """(lat, lng) WGS-84 -> the basemap's system."""
    if is_converted(settings):
        return wgs84_to_gcj02
    return _same


def convert_geometry(geometry: dict, convert, digits: int = 6) -> dict:
    """A GeoJSON Polygon or MultiPolygon with every point converted and rounded to
    `digits` decimals; a point equal to the one before it after rounding is left out."""

    def ring(points):
        out: list[list[float]] = []
        for lng, lat, *_ in points:
            clat, clng = convert(lat, lng)
            point = [round(clng, digits), round(clat, digits)]
            if not out or out[-1] != point:
                out.append(point)
        return out

    if geometry.get("type") == "Polygon":
        return {"type": "Polygon", "coordinates": [ring(r) for r in geometry["coordinates"]]}
    if geometry.get("type") == "MultiPolygon":
        polys = [[ring(r) for r in poly] for poly in geometry["coordinates"]]
        return {"type": "MultiPolygon", "coordinates": polys}
    return geometry
