"""Which riders were seen near a point: a grid-bucket index over recent positions.

For hazard alerts (issue 19 §3): riders seen within 1 km in the last 2 hours. Positions
are bucketed into cells about `cell_m` on a side; a query looks only at the cells the
circle touches, then checks the exact distance. Pure; the caller loads the positions.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from app.domain.coords import distance_m

METRES_PER_DEGREE_LAT = 111_195.0


class RiderIndex:
    """Recent rider positions, (rider_id, lat, lng, seen_at) WGS-84, in grid buckets."""

    def __init__(
        self, positions: Iterable[tuple[int, float, float, datetime]], cell_m: float = 1000.0
    ) -> None:
        self.cell_deg = cell_m / METRES_PER_DEGREE_LAT
        self.cells: dict[tuple[int, int], list[tuple[int, float, float, datetime]]] = defaultdict(
            list
        )
        self.size = 0
        for p in positions:
            self.cells[self._cell(p[1], p[2])].append(p)
            self.size += 1

    def _cell(self, lat: float, lng: float) -> tuple[int, int]:
        # Longitude cells are as wide in degrees as latitude cells: narrower on the ground
        # away from the equator, so a query simply spans more of them.
        return math.floor(lat / self.cell_deg), math.floor(lng / self.cell_deg)

    def within(
        self, lat: float, lng: float, radius_m: float, *, seen_since: datetime | None = None
    ) -> list[int]:
        """Rider ids seen within `radius_m` of (lat, lng) (and since `seen_since`), nearest
        first."""
        dlat = radius_m / METRES_PER_DEGREE_LAT
        dlng = dlat / max(0.01, math.cos(math.radians(lat)))
        lat0, lng0 = self._cell(lat - dlat, lng - dlng)
        lat1, lng1 = self._cell(lat + dlat, lng + dlng)
        found: list[tuple[float, int]] = []
        for i in range(lat0, lat1 + 1):
            for j in range(lng0, lng1 + 1):
                for rider_id, plat, plng, seen in self.cells.get((i, j), ()):
                    if seen_since is not None and seen < seen_since:
                        continue
                    d = distance_m(lat, lng, plat, plng)
                    if d <= radius_m:
                        found.append((d, rider_id))
        return [rider_id for _, rider_id in sorted(found)]
