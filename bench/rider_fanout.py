"""Hazard-alert fan-out: riders within 1 km seen in the last 2 hours, among 10,000."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from app.domain.coords import distance_m
from app.domain.nearby_riders import RiderIndex
from bench import Context, Row, benchmark, median, met, percentile

TARGET_MS = 5.0


@benchmark("rider_fanout", "riders within 1 km of a hazard among 10,000 recent positions")
def rider_fanout(ctx: Context) -> list[Row]:
    riders = int(ctx.option("riders", ctx.size(10_000, 2_000)))
    queries = int(ctx.option("queries", ctx.size(2_000, 200)))
    rng = random.Random(19)
    now = datetime(2026, 11, 20, 10)
    # A city of about 20 km x 20 km around the demo district.
    positions = [
        (
            i,
            31.2 + rng.uniform(-0.09, 0.09),
            121.44 + rng.uniform(-0.1, 0.1),
            now - timedelta(minutes=rng.uniform(0, 180)),
        )
        for i in range(riders)
    ]
    t0 = time.perf_counter()
    index = RiderIndex(positions)
    build_ms = (time.perf_counter() - t0) * 1000
    since = now - timedelta(hours=2)
    points = [
        (31.2 + rng.uniform(-0.08, 0.08), 121.44 + rng.uniform(-0.09, 0.09)) for _ in range(queries)
    ]
    times, found = [], []
    for lat, lng in points:
        t0 = time.perf_counter()
        hits = index.within(lat, lng, 1000, seen_since=since)
        times.append((time.perf_counter() - t0) * 1000)
        found.append(len(hits))
    # correctness: the first few against a plain scan
    failed = ""
    for lat, lng in points[:20]:
        plain = {r for r, a, b, s in positions if s >= since and distance_m(lat, lng, a, b) <= 1000}
        if set(index.within(lat, lng, 1000, seen_since=since)) != plain:
            failed = "index disagrees with a plain scan"
    p99 = percentile(times, 99)
    return [
        Row(
            "grid buckets",
            {
                "riders": riders,
                "build_ms": round(build_ms, 1),
                "median_ms": round(median(times), 3),
                "p99_ms": round(p99, 3),
                "riders_found_median": median(found),
            },
            target=f"median < {TARGET_MS:g} ms: {met(median(times) < TARGET_MS)}",
            failed=failed,
        )
    ]
