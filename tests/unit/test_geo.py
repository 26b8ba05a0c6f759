import pytest
from shapely.geometry import MultiPolygon, Point, box

from app.domain.coords import distance_m
from app.domain.geo import GridIndex

# A 3 x 3 lattice of 0.01-degree squares; code "r{row}c{col}", row 0 in the south.
LAT0, LNG0, STEP = 31.20, 121.40, 0.01


def _square(row, col):
    return box(
        LNG0 + col * STEP, LAT0 + row * STEP, LNG0 + (col + 1) * STEP, LAT0 + (row + 1) * STEP
    )


LATTICE = [(f"r{r}c{c}", _square(r, c)) for r in range(3) for c in range(3)]


@pytest.fixture(scope="module")
def lattice():
    return GridIndex(LATTICE)


@pytest.mark.parametrize(("row", "col"), [(r, c) for r in range(3) for c in range(3)])
def test_locate_inside_each_square(lattice, row, col):
    lat = LAT0 + (row + 0.5) * STEP
    lng = LNG0 + (col + 0.5) * STEP
    assert lattice.locate(lat, lng) == f"r{row}c{col}"


@pytest.mark.parametrize(
    ("lat", "lng"),
    [
        (LAT0 + 0.5 * STEP, LNG0 + STEP),  # edge shared by r0c0 and r0c1
        (LAT0 + STEP, LNG0 + 0.5 * STEP),  # edge shared by r0c0 and r1c0
        (LAT0 + STEP, LNG0 + STEP),  # corner of four squares
        (LAT0 + 2 * STEP, LNG0 + 2 * STEP),
    ],
)
def test_locate_on_shared_edge_is_deterministic(lat, lng):
    # Equal areas: the smallest code wins, whatever the input order.
    forward = GridIndex(LATTICE).locate(lat, lng)
    backward = GridIndex(list(reversed(LATTICE))).locate(lat, lng)
    assert forward is not None
    assert forward == backward
    assert _touching_codes(lat, lng)[0] == forward


def _touching_codes(lat, lng):
    return sorted(code for code, geom in LATTICE if geom.intersects(Point(lng, lat)))


def test_locate_on_outer_boundary_counts_as_inside(lattice):
    assert lattice.locate(LAT0, LNG0 + 0.5 * STEP) == "r0c0"


def test_locate_prefers_smaller_of_overlapping_grids():
    index = GridIndex([("big", box(0, 0, 10, 10)), ("small", box(4, 4, 6, 6))])
    assert index.locate(5, 5) == "small"
    assert index.locate(1, 1) == "big"


@pytest.mark.parametrize(
    ("lat", "lng"),
    [(LAT0 - 0.001, LNG0 + 0.005), (LAT0 + 0.05, LNG0), (0.0, 0.0), (-31.2, -121.4)],
)
def test_locate_outside_is_none(lattice, lat, lng):
    assert lattice.locate(lat, lng) is None


def test_nearest_inside_is_zero(lattice):
    assert lattice.nearest(LAT0 + 0.015, LNG0 + 0.015, 10) == ("r1c1", 0.0)


@pytest.mark.parametrize(
    ("lat", "lng", "code", "edge_lat", "edge_lng"),
    [
        (LAT0 - 0.001, LNG0 + 0.015, "r0c1", LAT0, LNG0 + 0.015),  # ~111 m south
        (LAT0 + 0.025, LNG0 + 0.031, "r2c2", LAT0 + 0.025, LNG0 + 0.03),  # ~95 m east
        (LAT0 + 0.0315, LNG0 - 0.0005, "r2c0", LAT0 + 0.03, LNG0),  # beyond the NW corner
    ],
)
def test_nearest_within_distance(lattice, lat, lng, code, edge_lat, edge_lng):
    expected_m = distance_m(lat, lng, edge_lat, edge_lng)
    found = lattice.nearest(lat, lng, 200)
    assert found is not None
    assert found[0] == code
    assert found[1] == pytest.approx(expected_m, rel=1e-3)


def test_nearest_east_uses_metres_not_degrees(lattice):
    # 0.001 deg of longitude at 31.2 N is ~95 m, of latitude ~111 m.
    east = lattice.nearest(LAT0 + 0.015, LNG0 + 0.031, 100)
    south = lattice.nearest(LAT0 - 0.001, LNG0 + 0.015, 100)
    assert east is not None and 90 < east[1] < 100
    assert south is None


@pytest.mark.parametrize("max_m", [0, 50, 110])
def test_nearest_beyond_distance_is_none(lattice, max_m):
    assert lattice.nearest(LAT0 - 0.001, LNG0 + 0.015, max_m) is None


def test_nearest_picks_closer_grid():
    index = GridIndex([("a", box(0.0, 0.0, 0.001, 0.001)), ("b", box(0.003, 0.0, 0.004, 0.001))])
    assert index.nearest(0.0005, 0.0015, 500)[0] == "a"
    assert index.nearest(0.0005, 0.0026, 500)[0] == "b"


def test_multipolygon_grid():
    two_parts = MultiPolygon([box(121.0, 31.0, 121.01, 31.01), box(121.02, 31.0, 121.03, 31.01)])
    index = GridIndex([("mp", two_parts), ("other", box(121.01, 31.02, 121.02, 31.03))])
    assert index.locate(31.005, 121.005) == "mp"
    assert index.locate(31.005, 121.025) == "mp"
    assert index.locate(31.005, 121.015) is None  # the gap between the parts
    found = index.nearest(31.005, 121.015, 1000)
    assert found is not None and found[0] == "mp"
    assert found[1] == pytest.approx(distance_m(31.005, 121.015, 31.005, 121.01), rel=1e-3)


def test_empty_index():
    index = GridIndex([])
    assert len(index) == 0
    assert index.codes == ()
    assert index.locate(31.2, 121.4) is None
    assert index.nearest(31.2, 121.4, 10_000) is None


def test_len_and_codes(lattice):
    assert len(lattice) == 9
    assert sorted(lattice.codes) == sorted(code for code, _ in LATTICE)


@pytest.mark.parametrize(
    "grids",
    [
        [("a", box(0, 0, 1, 1)), ("a", box(1, 1, 2, 2))],
        [("a", Point(0, 0))],
        [("a", Point(0, 0).buffer(1).difference(Point(0, 0).buffer(2)))],
    ],
)
def test_rejects_bad_input(grids):
    with pytest.raises(ValueError):
        GridIndex(grids)


def test_locate_is_fast_on_10000_grids():
    import random
    import statistics
    import time

    index = GridIndex(
        (f"g{i}-{j}", box(121 + i * 0.005, 31 + j * 0.005, 121.005 + i * 0.005, 31.005 + j * 0.005))
        for i in range(100)
        for j in range(100)
    )
    rng = random.Random(7)
    samples = []
    for _ in range(2000):
        lat, lng = 31 + rng.random() * 0.5, 121 + rng.random() * 0.5
        t = time.perf_counter()
        index.locate(lat, lng)
        samples.append(time.perf_counter() - t)
    # Generous bound so a loaded CI machine passes; typical is ~10-15 us.
    assert statistics.median(samples) < 200e-6
