"""Rest-station rules: opening hours, amenities, which stations a rider is offered."""

from datetime import datetime

import pytest

from app.domain.coords import gcj02_to_wgs84
from app.domain.stations import (
    HoursError,
    Place,
    amenity_for,
    navigation_link,
    nearby,
    parse_amenities,
    parse_hours,
    ride_minutes,
)


def at(hh: int, mm: int = 0, day: int = 20) -> datetime:
    return datetime(2026, 11, day, hh, mm)


@pytest.mark.parametrize(
    ("text", "when", "is_open"),
    [
        ("08:00-22:00", at(7, 59), False),
        ("08:00-22:00", at(8, 0), True),
        ("08:00-22:00", at(21, 59), True),
        ("08:00-22:00", at(22, 0), False),
        ("07:00-11:00,17:00-21:00", at(12), False),
        ("07:00-11:00,17:00-21:00", at(18), True),
        ("07:00-11:00，17:00-21:00", at(10), True),  # a full-width comma
        ("22:00-06:00", at(23), True),  # past midnight, the evening part
        ("22:00-06:00", at(3), True),  # past midnight, yesterday's range
        ("22:00-06:00", at(12), False),
        ("24h", at(3), True),
        ("00:00-24:00", at(23, 59), True),
        ("8:00～20:00", at(9), True),
    ],
)
def test_open_at(text, when, is_open):
    assert parse_hours(text).is_open(when) is is_open


def test_until_when_it_is_open_across_midnight():
    hours = parse_hours("16:00-02:00")
    assert hours.open_until(at(23)) == at(2, day=21)
    assert hours.open_until(at(1)) == at(2)
    assert hours.next_opening(at(1)) is None


def test_adjoining_ranges_count_as_one_stretch():
    hours = parse_hours("08:00-12:00,12:00-20:00")
    assert hours.open_until(at(9)) == at(20)


def test_a_closed_station_says_when_it_opens():
    split = parse_hours("07:00-11:00,17:00-21:00")
    assert split.next_opening(at(12)) == at(17)
    assert split.next_opening(at(22)) == at(7, day=21)


def test_round_the_clock_has_no_closing_time():
    hours = parse_hours("24h")
    assert hours.always and hours.open_until(at(3)) is None and hours.next_opening(at(3)) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "为空"),
        ("8点到22点", "看不懂"),
        ("25:00-26:00", "不存在"),
        ("08:70-22:00", "不存在"),
        ("08:00-08:00", "相同"),
        ("08:00-22:00,", "看不懂"),
    ],
)
def test_bad_hours_are_refused_with_the_reason(text, says):
    with pytest.raises(HoursError, match=says):
        parse_hours(text)


def test_amenities_come_from_the_fixed_vocabulary():
    assert parse_amenities(["充电", "饮水", "充电"]) == ("充电", "饮水")
    assert parse_amenities("饮水、微波炉 雨伞") == ("饮水", "微波炉", "雨伞")
    with pytest.raises(ValueError, match="洗衣机"):
        parse_amenities(["饮水", "洗衣机"])


def test_riders_words_name_amenities():
    assert amenity_for("充电") == "充电"
    assert amenity_for("厕所") == "卫生间"
    assert amenity_for("热饭") == "微波炉"
    assert amenity_for("洗衣") is None


def place(code, lat, lng, hours="08:00-22:00", amenities=("饮水",)):
    return Place(code, f"{code}驿站", lat, lng, parse_hours(hours), tuple(amenities))


HERE = (31.2000, 121.4400)


def test_the_nearest_three_open_stations_nearest_first():
    places = [
        place("far", 31.2100, 121.4400),  # ~1.1 km
        place("near", 31.2010, 121.4400),  # ~110 m
        place("closed", 31.2001, 121.4400, hours="23:00-23:30"),
        place("mid", 31.2050, 121.4400),  # ~560 m
        place("farther", 31.2150, 121.4400),
        place("away", 31.3000, 121.4400),  # 11 km: out of reach
    ]
    found = nearby(places, *HERE, at(10))
    assert [s.place.code for s in found.open] == ["near", "mid", "far"]
    assert found.closed == []
    assert found.open[0].distance_m == pytest.approx(111, abs=2)
    assert found.open[0].open_until == at(22)


def test_filter_by_amenity():
    places = [place("water", 31.2010, 121.44), place("plug", 31.205, 121.44, amenities=["充电"])]
    found = nearby(places, *HERE, at(10), amenity="充电")
    assert [s.place.code for s in found.open] == ["plug"]


def test_nothing_open_offers_the_nearest_closed_with_its_opening():
    places = [place("a", 31.2010, 121.44), place("b", 31.2020, 121.44)]
    found = nearby(places, *HERE, at(23))
    assert found.open == []
    assert [(s.place.code, s.opens_at) for s in found.closed] == [
        ("a", at(8, day=21)),
        ("b", at(8, day=21)),
    ]


def test_no_station_in_reach():
    found = nearby([place("away", 31.3, 121.44)], *HERE, at(10))
    assert (found.open, found.closed, found.any_in_reach) == ([], [], False)


def test_riding_minutes_at_e_bike_speed():
    assert ride_minutes(50) == 1
    assert ride_minutes(1000) == 6  # 1.3 km of road at 250 m a minute


def test_navigation_link_is_gcj02_for_amap():
    p = place("nav", 31.2000, 121.4400)
    link = navigation_link(p)
    assert link.startswith("https://uri.amap.com/navigation?to=")
    lng, lat, name = link.split("to=")[1].split("&")[0].split(",")
    assert gcj02_to_wgs84(float(lat), float(lng)) == pytest.approx((31.2, 121.44), abs=1e-5)
    assert float(lat) != pytest.approx(31.2, abs=1e-4)  # shifted, not WGS-84
    assert name == "nav%E9%A9%BF%E7%AB%99" and "mode=ride" in link
