"""A generated city: N irregular grid polygons (a jittered Voronoi tessellation, like real
unit grids drawn along streets), grouped into communities, streets and one district.

`city_geojson(n)` is a FeatureCollection `gridbot grids import` accepts; `load_city(url, n)`
imports it through the app's own import path and gives every grid a worker (openid
`worker-<i>`) and every community a lead (`lead-<i>`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import shapely
from shapely.geometry import MultiPoint, Polygon, box, mapping

ORIGIN = (31.0, 121.2)
"""South-west corner (lat, lng), WGS-84: the outskirts of Shanghai."""
CELL_M = 300.0
DISTRICT = "319900"
M_PER_DEG_LAT = 111_195.0


@dataclass(frozen=True)
class City:
    grids: list[tuple[str, Polygon]]
    """(code, polygon) in WGS-84, shapely (lng, lat) order."""
    communities: dict[str, list[str]]
    streets: dict[str, list[str]]
    bounds: tuple[float, float, float, float]
    """min lng, min lat, max lng, max lat."""


def make_city(n: int, seed: int = 1, cell_m: float = CELL_M) -> City:
    """`n` grids of about `cell_m` metres across on a jittered lattice, 5x5 grids per
    community, 4x4 communities per street."""
    rng = random.Random(seed)
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    lat0, lng0 = ORIGIN
    dlat = cell_m / M_PER_DEG_LAT
    dlng = cell_m / (M_PER_DEG_LAT * math.cos(math.radians(lat0)))
    seeds, cells = [], []
    for i in range(n):
        r, c = divmod(i, cols)
        seeds.append(
            (
                lng0 + (c + 0.5 + rng.uniform(-0.35, 0.35)) * dlng,
                lat0 + (r + 0.5 + rng.uniform(-0.35, 0.35)) * dlat,
            )
        )
        cells.append((r, c))
    top = rows if n % cols == 0 else rows - 1
    frame = box(lng0, lat0, lng0 + cols * dlng, lat0 + max(top, 1) * dlat)
    # The last, partial row sticks out above the frame; give it its own strip.
    outer = box(lng0, lat0, lng0 + cols * dlng, lat0 + rows * dlat)
    regions = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=outer, ordered=True)
    polygons = []
    for poly, (r, _c) in zip(regions.geoms, cells, strict=True):
        clipped = poly.intersection(outer if r >= top else frame)
        if clipped.geom_type != "Polygon":  # a sliver cut off by the frame: keep the body
            clipped = max(getattr(clipped, "geoms", [clipped]), key=lambda g: g.area)
        polygons.append(shapely.set_precision(clipped, 1e-7))
    grids, communities, streets = [], {}, {}
    for i, ((r, c), poly) in enumerate(zip(cells, polygons, strict=True)):
        community_no = (r // 5) * math.ceil(cols / 5) + c // 5
        street_no = (r // 20) * math.ceil(cols / 20) + c // 20
        street = f"{DISTRICT}{street_no + 1:03d}"
        community = f"{street}{community_no + 1:04d}"
        code = f"{community}{i + 1:05d}"
        grids.append((code, poly))
        communities.setdefault(community, []).append(code)
        if community not in streets.setdefault(street, []):
            streets[street].append(community)
    minx, miny, maxx, maxy = outer.bounds
    return City(grids, communities, streets, (minx, miny, maxx, maxy))


def city_geojson(city: City) -> dict:
    features = [_feature(DISTRICT, "生成区", "district", None)]
    for i, street in enumerate(city.streets, start=1):
        features.append(_feature(street, f"第{i}街道", "street", DISTRICT))
    parents = {c: s for s, cs in city.streets.items() for c in cs}
    for i, community in enumerate(city.communities, start=1):
        features.append(_feature(community, f"第{i}社区", "community", parents[community]))
    parent_of = {g: c for c, gs in city.communities.items() for g in gs}
    for i, (code, poly) in enumerate(city.grids, start=1):
        features.append(_feature(code, f"第{i}网格", "grid", parent_of[code], poly))
    return {"type": "FeatureCollection", "features": features}


def _feature(code: str, name: str, level: str, parent: str | None, geom=None) -> dict:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "level": level, "parent_code": parent},
        "geometry": mapping(geom) if geom is not None else None,
    }


def inside_points(city: City, count: int, seed: int = 2) -> list[tuple[float, float]]:
    """`count` (lat, lng) WGS-84 points, each inside a randomly chosen grid."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        _, poly = city.grids[rng.randrange(len(city.grids))]
        minx, miny, maxx, maxy = poly.bounds
        while True:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if poly.contains(shapely.Point(x, y)):
                out.append((y, x))
                break
    return out


def load_city(url: str, city: City) -> dict[str, float]:
    """Import `city` into the database at `url` through the app's import; staff every grid
    and community. Returns timings in seconds."""
    import time

    from sqlalchemy import select

    from app.db import make_engine, make_sessionmaker, unit_of_work
    from app.services.directory.grids import import_geojson
    from models import Area, Staff

    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        started = time.perf_counter()
        with unit_of_work(sessions) as session:
            import_geojson(session, city_geojson(city))
        imported = time.perf_counter()
        with unit_of_work(sessions) as session:
            ids = {code: id_ for code, id_ in session.execute(select(Area.code, Area.id))}
            staff = [
                Staff(openid=f"worker-{i}", name=f"网格员{i}", role="grid_worker", area_id=ids[c])
                for i, (c, _) in enumerate(city.grids, start=1)
            ]
            staff += [
                Staff(openid=f"lead-{i}", name=f"书记{i}", role="community_lead", area_id=ids[c])
                for i, c in enumerate(city.communities, start=1)
            ]
            session.add_all(staff)
        return {"import_s": imported - started, "staff_s": time.perf_counter() - imported}
    finally:
        engine.dispose()
