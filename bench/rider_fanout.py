"""Hazard-alert fan-out: riders within 1 km seen in the last 2 hours, among 10,000."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from app.domain.coords import distance_m
from app.domain.nearby_riders import RiderIndex
from bench import Context, Row, benchmark, median, met, percentile

TARGET_MS = 5.0
ROUNDS = 3
PLACE_INDEX = (
    "CREATE INDEX ix_rider_positions_place ON rider_positions (lat, lng, seen_at, rider_id)"
)


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
        *_through_the_database(ctx, positions, points, now),
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
        ),
    ]


def _through_the_database(ctx: Context, positions, points, now) -> list[Row]:
    """What an alert really runs (app/services/riders/hazard_alerts._riders_near): the positions
    in a box around the hazard read from PostgreSQL (the rider's last position and their
    recent reports), then the grid buckets for the exact circle."""
    from sqlalchemy import insert, text

    from app.db import make_engine, make_sessionmaker
    from models import Rider, RiderPosition

    kind = str(ctx.option("db", "postgres"))
    queries = points[: int(ctx.option("db_queries", ctx.size(100, 20)))]
    with ctx.database(kind) as url:
        engine = make_engine(url)
        utc_now = now.replace(tzinfo=UTC)
        with engine.begin() as conn:
            conn.execute(
                insert(Rider.__table__),
                [
                    {
                        "id": i + 1,
                        "openid": f"r{i}",
                        "subscribed": True,
                        "created_at": utc_now,
                        "last_seen_at": utc_now,
                    }
                    for i, *_ in positions
                ],
            )
            conn.execute(
                insert(RiderPosition.__table__),
                [
                    {
                        "rider_id": i + 1,
                        "lat": a,
                        "lng": b,
                        "seen_at": s.replace(tzinfo=UTC),
                        "source": "event",
                    }
                    for i, a, b, s in positions
                ],
            )
        if kind == "postgres":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE rider_positions"))  # as autovacuum would have
        sessions = make_sessionmaker(engine)
        # With and without the place index, in alternating rounds under the same load.
        times, floor, before, before_floor = [], [], [], []
        for _ in range(ROUNDS):
            _time_queries(sessions, queries, utc_now, times, floor)
            with engine.begin() as conn:
                conn.execute(text("DROP INDEX ix_rider_positions_place"))
            _time_queries(sessions, queries, utc_now, before, before_floor)
            with engine.begin() as conn:
                conn.execute(text(PLACE_INDEX))
        engine.dispose()
    return [
        Row(
            f"through {kind}, seen_at index",
            {
                "riders": len(positions),
                "median_ms": round(median(before), 3),
                "p99_ms": round(percentile(before, 99), 3),
                "select_1_median_ms": round(median(before_floor), 3),
            },
            ratio=f"{median(before) / median(before_floor):.2f}x SELECT 1",
        ),
        Row(
            f"through {kind}, place index",
            {
                "riders": len(positions),
                "median_ms": round(median(times), 3),
                "p99_ms": round(percentile(times, 99), 3),
                "select_1_median_ms": round(median(floor), 3),
            },
            ratio=f"{median(times) / median(floor):.2f}x SELECT 1",
            target=f"median < {TARGET_MS:g} ms: {met(median(times) < TARGET_MS)}",
        ),
    ]


def _time_queries(sessions, queries, now, times: list[float], floor: list[float]) -> None:
    """Each fan-out query's time, and a SELECT 1 right after it: the round-trip floor
    under the same load, for reading the figure."""
    from types import SimpleNamespace

    from sqlalchemy import text

    from app.services.riders.hazard_alerts import _riders_near

    with sessions() as session:
        for lat, lng in queries:
            t0 = time.perf_counter()
            _riders_near(session, SimpleNamespace(lat=lat, lng=lng), now)
            times.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            session.execute(text("SELECT 1"))
            floor.append((time.perf_counter() - t0) * 1000)
