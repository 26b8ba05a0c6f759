"""Riders seen near a hazard: the grid-bucket index agrees with a plain distance check."""

import random
from datetime import datetime, timedelta

from app.domain.coords import distance_m
from app.domain.nearby_riders import RiderIndex

NOW = datetime(2026, 11, 20, 10)


def test_the_index_finds_exactly_the_riders_within_the_radius_and_the_time():
    rng = random.Random(7)
    positions = [
        (
            i,
            31.2 + rng.uniform(-0.05, 0.05),
            121.44 + rng.uniform(-0.05, 0.05),
            NOW - timedelta(minutes=rng.uniform(0, 240)),
        )
        for i in range(3000)
    ]
    index = RiderIndex(positions)
    since = NOW - timedelta(hours=2)
    for lat, lng in [(31.2, 121.44), (31.23, 121.47), (31.16, 121.40)]:
        expected = {
            r
            for r, plat, plng, seen in positions
            if seen >= since and distance_m(lat, lng, plat, plng) <= 1000
        }
        assert set(index.within(lat, lng, 1000, seen_since=since)) == expected


def test_nobody_nearby_is_an_empty_answer():
    index = RiderIndex([(1, 31.3, 121.5, NOW)])
    assert index.within(31.2, 121.44, 1000) == []
    assert RiderIndex([]).within(31.2, 121.44, 1000) == []


def test_nearest_first():
    index = RiderIndex([(1, 31.2050, 121.44, NOW), (2, 31.2010, 121.44, NOW)])
    assert index.within(31.2, 121.44, 1000) == [2, 1]
