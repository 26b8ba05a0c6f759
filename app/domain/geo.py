"""Point -> grid lookup over grid polygons, with an in-memory STRtree.

Geometries are WGS-84 in shapely's (x=lng, y=lat) order; the public methods take
(lat, lng) like the rest of the project. Distances are metres on a local
equirectangular projection around the query point, accurate to well under a percent
at grid scale (a few kilometres).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from app.domain.coords import EARTH_RADIUS_M

_M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180.0


class GridIndex:
    """Immutable spatial index of grid polygons keyed by code.

    `locate` answers which grid contains (or touches) a point; `nearest` finds the
    closest grid within a distance in metres. Ties are broken deterministically: the
    smallest area wins (to 9 significant digits), then the lexicographically smallest code.
    """

    def __init__(self, grids: Iterable[tuple[str, BaseGeometry]]) -> None:
        codes: list[str] = []
        geoms: list[BaseGeometry] = []
        seen: set[str] = set()
        for code, geom in grids:
            if code in seen:
                raise ValueError(f"duplicate grid code {code!r}")
            if geom is None or geom.is_empty:
                raise ValueError(f"grid {code!r} has no geometry")
            if geom.geom_type not in ("Polygon", "MultiPolygon"):
                raise ValueError(f"grid {code!r} is a {geom.geom_type}, not a polygon")
            seen.add(code)
            codes.append(code)
            geoms.append(geom)
        # Sort once by (area, code) so the first candidate in index order is the
        # deterministic winner; lookups then need only min() over candidate indices.
        # Areas are compared to 9 significant digits so that lattice cells of the same
        # size, which differ only by float noise, tie and fall back to the code.
        order = sorted(range(len(codes)), key=lambda i: (_rounded(geoms[i].area), codes[i]))
        self._codes: tuple[str, ...] = tuple(codes[i] for i in order)
        self._geoms = np.array([geoms[i] for i in order], dtype=object)
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)

    def __len__(self) -> int:
        return len(self._codes)

    @property
    def codes(self) -> tuple[str, ...]:
        """All grid codes, smallest area first."""
        return self._codes

    def locate(self, lat: float, lng: float) -> str | None:
        """Code of the grid that contains or touches the point, else None.

        On a shared edge or inside overlapping grids the smallest grid wins (then the
        smallest code), so the answer never depends on input order.
        """
        if not self._codes:
            return None
        hits = self._tree.query(shapely.Point(lng, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return self._codes[int(hits.min())]

    def nearest(self, lat: float, lng: float, max_distance_m: float) -> tuple[str, float] | None:
        """(code, metres) of the grid nearest to the point within `max_distance_m`, else None.

        A point inside a grid is at distance 0. Equal distances go to the smallest grid.
        """
        if not self._codes or max_distance_m < 0:
            return None
        m_per_deg_lng = _M_PER_DEG_LAT * math.cos(math.radians(lat))
        # Prefilter in degrees with a box that surely contains every candidate: one
        # degree of longitude is never longer than one of latitude, so dividing by the
        # (shorter) longitude degree over-covers in both axes.
        reach_deg = max_distance_m / max(m_per_deg_lng, 1e-6 * _M_PER_DEG_LAT)
        box = shapely.box(lng - reach_deg, lat - reach_deg, lng + reach_deg, lat + reach_deg)
        candidates = self._tree.query(box)
        if len(candidates) == 0:
            return None
        candidates.sort()
        # Project candidates and point to metres around the point, then measure exactly.
        point = shapely.Point(0.0, 0.0)
        best: tuple[str, float] | None = None
        for i in candidates:
            local = shapely.transform(
                self._geoms[i],
                lambda xy: np.column_stack(
                    ((xy[:, 0] - lng) * m_per_deg_lng, (xy[:, 1] - lat) * _M_PER_DEG_LAT)
                ),
            )
            d = float(shapely.distance(point, local))
            if d <= max_distance_m and (best is None or d < best[1]):
                best = (self._codes[int(i)], d)
        return best


def _rounded(area: float) -> float:
    return float(f"{area:.9g}")
