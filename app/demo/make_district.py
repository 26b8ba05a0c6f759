"""Print the fictional demo district as GeoJSON.

    uv run python -m app.demo.make_district > app/demo/district.geojson

示范区 (310199) is a 4 x 4 lattice of unit grids, each about 500 m x 500 m, in
WGS-84 near Shanghai. Two streets split it west / east; each street has a southern and
a northern community; each community has four grids numbered 01 SW, 02 SE, 03 NW,
04 NE. Codes follow the national unit-grid scheme: 6-digit county + 3-digit street +
3-digit community + 2-digit grid, e.g. 31019900100101. Streets, communities and the
district carry the rectangle that is the union of their grids.
"""

from __future__ import annotations

import json
import sys

SOUTH_LAT = 31.19
WEST_LNG = 121.43
STEP_LAT = 0.0045  # ~500 m
STEP_LNG = 0.00525  # ~500 m at 31.2 deg N
PRECISION = 6

DISTRICT = ("310199", "示范区")
# Street: (code suffix, name, first lattice column); each spans two columns.
STREETS = (("001", "枫林街道", 0), ("002", "湖南路街道", 2))
# Community per street: (code suffix, name, first lattice row, grid name stem); two rows.
COMMUNITIES = {
    "001": (("001", "枫苑社区", 0, "枫苑"), ("002", "林荫社区", 2, "林荫")),
    "002": (("001", "湖畔社区", 0, "湖畔"), ("002", "南园社区", 2, "南园")),
}
GRID_ORDINALS = ("一", "二", "三", "四")


def _rect(col0: int, row0: int, cols: int, rows: int) -> dict:
    """A counter-clockwise lattice rectangle (RFC 7946 winding), [lng, lat] order."""
    west = round(WEST_LNG + col0 * STEP_LNG, PRECISION)
    east = round(WEST_LNG + (col0 + cols) * STEP_LNG, PRECISION)
    south = round(SOUTH_LAT + row0 * STEP_LAT, PRECISION)
    north = round(SOUTH_LAT + (row0 + rows) * STEP_LAT, PRECISION)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _feature(code: str, name: str, level: str, parent: str | None, geometry: dict) -> dict:
    props = {"code": code, "name": name, "level": level}
    if parent is not None:
        props["parent_code"] = parent
    return {"type": "Feature", "properties": props, "geometry": geometry}


def build() -> dict:
    """The demo district as a GeoJSON FeatureCollection (district, streets, communities, grids)."""
    district_code, district_name = DISTRICT
    features = [_feature(district_code, district_name, "district", None, _rect(0, 0, 4, 4))]
    for street_suffix, street_name, col0 in STREETS:
        street_code = district_code + street_suffix
        features.append(
            _feature(street_code, street_name, "street", district_code, _rect(col0, 0, 2, 4))
        )
        for comm_suffix, comm_name, row0, stem in COMMUNITIES[street_suffix]:
            comm_code = street_code + comm_suffix
            features.append(
                _feature(comm_code, comm_name, "community", street_code, _rect(col0, row0, 2, 2))
            )
            for n in range(4):
                dcol, drow = n % 2, n // 2  # 01 SW, 02 SE, 03 NW, 04 NE
                features.append(
                    _feature(
                        f"{comm_code}{n + 1:02d}",
                        f"{stem}{GRID_ORDINALS[n]}网格",
                        "grid",
                        comm_code,
                        _rect(col0 + dcol, row0 + drow, 1, 1),
                    )
                )
    return {"type": "FeatureCollection", "name": district_name, "features": features}


def main() -> None:
    json.dump(build(), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
