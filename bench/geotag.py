"""Geotagging: point -> grid over a generated city, GridIndex (STRtree) vs naive loops."""

from __future__ import annotations

import json
import random
import time

import numpy as np
import shapely
from shapely.geometry import mapping, shape

from app.domain.geo import GridIndex
from bench import Context, Row, benchmark, median, met, percentile
from bench.city import inside_points, make_city

TARGET_MEDIAN_US = 20.0


def _timed(fn, points) -> tuple[list[float], list]:
    """Per-call times in µs and the answers."""
    times, answers = [], []
    clock = time.perf_counter_ns
    for lat, lng in points:
        t0 = clock()
        answer = fn(lat, lng)
        times.append((clock() - t0) / 1000)
        answers.append(answer)
    return times, answers


@benchmark("geotag", "point -> grid in a city of 10,000 grids: STRtree index vs naive loop")
def geotag(ctx: Context) -> list[Row]:
    n = int(ctx.option("grids", ctx.size(10_000, 300)))
    lookups = int(ctx.option("lookups", ctx.size(20_000, 500)))
    naive_lookups = int(ctx.option("naive_lookups", ctx.size(200, 50)))
    city = make_city(n)
    grids = city.grids
    stored = [(code, json.dumps(mapping(poly))) for code, poly in grids]

    t0 = time.perf_counter()
    index = GridIndex(grids)
    build_s = time.perf_counter() - t0
    # What GridLocator does on a change: parse the stored GeoJSON, then build.
    t0 = time.perf_counter()
    GridIndex((code, shape(json.loads(text))) for code, text in stored)
    build_from_json_s = time.perf_counter() - t0

    points = inside_points(city, lookups)
    index.locate(*points[0])  # first-call costs (imports, caches) are not lookups
    times, answers = _timed(index.locate, points)

    def naive(lat: float, lng: float) -> str | None:
        p = shapely.Point(lng, lat)
        for code, poly in grids:
            if poly.intersects(p):
                return code
        return None

    geoms = np.array([poly for _, poly in grids], dtype=object)
    codes = [code for code, _ in grids]

    def vectorized(lat: float, lng: float) -> str | None:
        hits = np.flatnonzero(shapely.intersects_xy(geoms, lng, lat))
        return codes[hits[0]] if len(hits) else None

    sample = points[:naive_lookups]
    naive_times, naive_answers = _timed(naive, sample)
    vec_times, vec_answers = _timed(vectorized, sample)
    wrong = sum(a != b for a, b in zip(answers, naive_answers, strict=False))
    wrong += sum(a != b for a, b in zip(naive_answers, vec_answers, strict=True))

    # Points a little outside the city: locate misses, nearest() finds the grid within 300 m.
    rng = random.Random(3)
    minx, miny, maxx, _ = city.bounds
    outside = [
        (miny - rng.uniform(20, 250) / 111_195, rng.uniform(minx, maxx)) for _ in range(2000)
    ]
    near_times, near_answers = _timed(lambda lat, lng: index.nearest(lat, lng, 300.0), outside)
    unplaced = sum(a is None for a in near_answers)

    med = median(times)
    failed = f"{wrong} lookups disagree with the naive loop" if wrong else ""
    if unplaced:
        failed += f"{'; ' if failed else ''}{unplaced} points 20-250 m outside found no grid"
    base = median(naive_times)
    return [
        Row(
            "GridIndex.locate",
            {
                "grids": n,
                "build ms": build_s * 1000,
                "build from GeoJSON ms": build_from_json_s * 1000,
                "lookups": len(points),
                "median us": med,
                "p99 us": percentile(times, 99),
            },
            ratio=f"{base / med:.0f}x faster than naive",
            target=f"median < {TARGET_MEDIAN_US:.0f} us: {met(med < TARGET_MEDIAN_US)}",
            failed=failed,
        ),
        Row(
            "GridIndex.nearest (300 m)",
            {
                "lookups": len(outside),
                "median us": median(near_times),
                "p99 us": percentile(near_times, 99),
            },
        ),
        Row(
            "naive loop, intersects",
            {
                "lookups": len(sample),
                "median us": base,
                "p99 us": percentile(naive_times, 99),
            },
            ratio="1x",
        ),
        Row(
            "naive, vectorized",
            {
                "lookups": len(sample),
                "median us": median(vec_times),
                "p99 us": percentile(vec_times, 99),
            },
            ratio=f"{base / median(vec_times):.1f}x",
        ),
    ]
