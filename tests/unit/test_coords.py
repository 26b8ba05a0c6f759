import math

import pytest

from app.domain.coords import (
    distance_m,
    gcj02_to_wgs84,
    out_of_china,
    to_wgs84,
    wgs84_to_gcj02,
)


@pytest.mark.parametrize(
    ("wgs", "gcj"),
    [
        # Widely published reference values for the Krasovsky GCJ-02 formula.
        ((39.9042, 116.4074), (39.905603, 116.413642)),  # Beijing, Tiananmen
        ((31.2304, 121.4737), (31.228458, 121.478223)),  # Shanghai, People's Square
    ],
)
def test_wgs84_to_gcj02_known_points(wgs, gcj):
    lat, lng = wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=2e-6)
    assert lng == pytest.approx(gcj[1], abs=2e-6)


@pytest.mark.parametrize(
    ("lat", "lng"),
    [(31.2304, 121.4737), (39.9042, 116.4074), (22.5431, 114.0579), (30.5728, 104.0668)],
)
def test_gcj02_offset_is_hundreds_of_metres_in_china(lat, lng):
    offset = distance_m(lat, lng, *wgs84_to_gcj02(lat, lng))
    assert 100 < offset < 1000


@pytest.mark.parametrize(
    ("lat", "lng"),
    [
        (51.5074, -0.1278),  # London
        (40.7128, -74.0060),  # New York
        (-33.8688, 151.2093),  # Sydney
        (1.3521, 103.8198 + 40),  # east of the box
        (60.0, 100.0),  # north of the box
    ],
)
def test_identity_outside_china(lat, lng):
    assert out_of_china(lat, lng)
    assert wgs84_to_gcj02(lat, lng) == (lat, lng)
    assert gcj02_to_wgs84(lat, lng) == (lat, lng)
    assert to_wgs84(lat, lng, "gcj02") == (lat, lng)


@pytest.mark.parametrize(("lat", "lng"), [(31.2304, 121.4737), (45.75, 126.65), (18.25, 109.5)])
def test_inside_china_box(lat, lng):
    assert not out_of_china(lat, lng)


def test_roundtrip_error_below_5cm_across_china():
    worst = 0.0
    for i in range(21):
        lat = 18.0 + i * (53.0 - 18.0) / 20
        for j in range(21):
            lng = 74.0 + j * (135.0 - 74.0) / 20
            back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lng))
            worst = max(worst, distance_m(lat, lng, *back))
    assert worst < 0.05


@pytest.mark.parametrize(
    ("crs", "expect_shift"),
    [("wgs84", False), ("WGS84", False), ("gcj02", True), ("GCJ02", True), (" Gcj02 ", True)],
)
def test_to_wgs84_systems(crs, expect_shift):
    lat, lng = 31.228458, 121.478223
    out = to_wgs84(lat, lng, crs)
    if expect_shift:
        assert distance_m(31.2304, 121.4737, *out) < 0.5
    else:
        assert out == (lat, lng)


@pytest.mark.parametrize("crs", ["bd09", "", "epsg:4326", "wgs-84"])
def test_to_wgs84_rejects_unknown_system(crs):
    with pytest.raises(ValueError):
        to_wgs84(31.2, 121.4, crs)


@pytest.mark.parametrize(
    ("a", "b", "expected", "tolerance"),
    [
        ((31.2, 121.4), (31.2, 121.4), 0.0, 1e-9),
        ((0.0, 0.0), (1.0, 0.0), math.pi * 6371008.8 / 180, 1e-6),  # one degree of latitude
        ((0.0, 0.0), (0.0, 1.0), math.pi * 6371008.8 / 180, 1e-6),  # one degree on the equator
        ((60.0, 10.0), (60.0, 11.0), 55597.5, 1.0),  # cos(60) halves a longitude degree
        ((31.2304, 121.4737), (39.9042, 116.4074), 1_067_000, 3_000),  # Shanghai-Beijing
        ((0.0, 0.0), (0.0, 180.0), math.pi * 6371008.8, 1e-3),  # antipodal
    ],
)
def test_distance_m(a, b, expected, tolerance):
    assert distance_m(*a, *b) == pytest.approx(expected, abs=tolerance)
    assert distance_m(*b, *a) == pytest.approx(distance_m(*a, *b))
