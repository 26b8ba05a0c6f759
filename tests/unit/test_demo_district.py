import itertools
import json
from pathlib import Path

import pytest
from shapely.geometry import shape

from app.demo.make_district import build
from app.domain.geo import GridIndex

PATH = Path(__file__).resolve().parents[2] / "app" / "demo" / "district.geojson"


@pytest.fixture(scope="module")
def features():
    return json.loads(PATH.read_text(encoding="utf-8"))["features"]


@pytest.fixture(scope="module")
def grids(features):
    return [
        (f["properties"]["code"], shape(f["geometry"]))
        for f in features
        if f["properties"]["level"] == "grid"
    ]


def test_file_matches_generator():
    assert json.loads(PATH.read_text(encoding="utf-8")) == build()


def test_levels_and_counts(features):
    levels = [f["properties"]["level"] for f in features]
    assert levels.count("district") == 1
    assert levels.count("street") == 2
    assert levels.count("community") == 4
    assert levels.count("grid") == 16


def test_codes_unique_and_named(features):
    codes = [f["properties"]["code"] for f in features]
    assert len(codes) == len(set(codes))
    assert all(f["properties"]["name"].strip() for f in features)


def test_every_parent_exists_one_level_up(features):
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    up = {"street": "district", "community": "street", "grid": "community"}
    for props in by_code.values():
        if props["level"] == "district":
            assert "parent_code" not in props
            continue
        parent = by_code[props["parent_code"]]
        assert parent["level"] == up[props["level"]]
        assert props["code"].startswith(parent["code"])  # national scheme: code extends parent


def test_grid_codes_follow_national_scheme(grids):
    for code, _ in grids:
        assert len(code) == 14 and code.isdigit() and code.startswith("310199")


def test_grid_polygons_valid_and_non_overlapping(grids):
    for code, geom in grids:
        assert geom.is_valid, code
        assert geom.geom_type == "Polygon"
    for (code_a, a), (code_b, b) in itertools.combinations(grids, 2):
        assert a.intersection(b).area < 1e-12, (code_a, code_b)


def test_grids_tile_their_parents(features, grids):
    shapes = {f["properties"]["code"]: shape(f["geometry"]) for f in features}
    for f in features:
        props = f["properties"]
        if props["level"] == "grid":
            continue
        children_area = sum(g.area for code, g in grids if code.startswith(props["code"]))
        assert children_area == pytest.approx(shapes[props["code"]].area, rel=1e-9)


def test_index_locates_each_grid_centre_to_itself(grids):
    index = GridIndex(grids)
    assert len(index) == 16
    for code, geom in grids:
        centre = geom.centroid
        assert index.locate(centre.y, centre.x) == code


def test_district_is_near_shanghai(grids):
    for _, geom in grids:
        minx, miny, maxx, maxy = geom.bounds
        assert 121.42 <= minx < maxx <= 121.47
        assert 31.18 <= miny < maxy <= 31.22
