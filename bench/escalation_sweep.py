"""Time one deadline sweep over 1,000,000 tickets (100,000 open) on PostgreSQL.

    uv run python bench/escalation_sweep.py [--tickets N] [--open N] [--runs N] [--keep]

Creates a temporary database on the server named by GRIDBOT_TEST_PG (default
postgresql://postgres@127.0.0.1:5432/postgres), migrates it, loads the demo district and
bulk-loads tickets with COPY: the closed ones have nothing pending, the open ones have
their next step in the future (nothing due). Then it times the escalation and auto-close
jobs exactly as the scheduler runs them (session, query, commit), prints the median of
several runs, and prints the query plan. Target: under 200 ms per sweep with nothing due.
Finally it makes 1,000 tickets due and times the sweep that handles them.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from datetime import timedelta

import psycopg
from sqlalchemy import select, update

from app.db import make_engine, make_sessionmaker, unit_of_work
from app.demo.seed import seed
from app.jobs import JobContext, run_auto_close, run_escalation
from app.migrate import upgrade
from app.services.escalation import LADDER_STATUSES
from app.settings import Settings
from models import Area, Rider, Staff, Ticket, utcnow

PG_ADMIN = os.environ.get("GRIDBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

COLUMNS = (
    "status, category, description, lat, lng, place, grid_id, area_id, assignee_id, "
    "reporter_id, created_at, updated_at, claimed_at, resolved_at, closed_at, severe, "
    "claim_due_at, resolve_due_at, ladder_step, escalation_level, next_check_at, "
    "request_reason"
)
CATEGORIES = ["flooding", "bulky_waste", "blocked_passage", "road_damage", "street_light"]


def load_tickets(dsn: str, total: int, open_count: int, now) -> float:
    with psycopg.connect(dsn) as conn:
        grids = conn.execute(
            "SELECT a.id, s.id FROM areas a JOIN staff s ON s.area_id = a.id "
            "WHERE a.level = 'grid' AND s.role = 'grid_worker'"
        ).fetchall()
        rider = conn.execute("SELECT id FROM riders LIMIT 1").fetchone()[0]
    rng = random.Random(4)
    open_at = set(rng.sample(range(total), open_count))
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY tickets ({COLUMNS}) FROM STDIN") as copy:
            for i in range(total):
                grid, worker = grids[i % len(grids)]
                created = now - timedelta(minutes=rng.randint(10, 60 * 24 * 365))
                category = CATEGORIES[i % len(CATEGORIES)]
                if i in open_at:
                    status = ("assigned", "claimed", "resolved")[i % 3]
                    nxt = now + timedelta(minutes=rng.randint(1, 60 * 24 * 30))
                    closed = None
                else:
                    status, nxt, closed = "closed", None, created + timedelta(hours=5)
                copy.write_row(
                    (
                        status,
                        category,
                        "bench",
                        31.19,
                        121.43,
                        "",
                        grid,
                        grid,
                        worker,
                        rider,
                        created,
                        created,
                        created if status != "assigned" else None,
                        created if status in ("resolved", "closed") else None,
                        closed,
                        False,
                        created + timedelta(minutes=15),
                        created + timedelta(hours=4),
                        0,
                        0,
                        nxt,
                        "",
                    )
                )
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE tickets")
    return time.perf_counter() - started


def timed(fn, runs: int) -> tuple[float, list[float], object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    name = f"gridbot_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    engine = make_engine(url)
    try:
        upgrade(url)
        sessions = make_sessionmaker(engine)
        now = utcnow()
        with unit_of_work(sessions) as s:
            seed(s)
            s.add(Rider(openid="bench-rider", created_at=now, last_seen_at=now))
        secs = load_tickets(url, args.tickets, args.open, now)
        print(
            f"database {name}: {args.tickets:,} tickets ({args.open:,} open) loaded in {secs:.1f} s"
        )
        with sessions() as s:
            assert s.scalar(select(Area.id).limit(1)) and s.scalar(select(Staff.id).limit(1))

        ctx = JobContext(sessions=sessions, settings=Settings(database_url=url), clock=utcnow)
        for label, job in (("escalation", run_escalation), ("auto_close", run_auto_close)):
            job(ctx)  # warm the pool and the plan cache
            median, times, result = timed(lambda job=job: job(ctx), args.runs)
            print(
                f"{label} sweep, nothing due: median {median:.2f} ms over {args.runs} runs "
                f"(min {min(times):.2f}, max {max(times):.2f}) -> {result}"
            )

        query = (
            select(Ticket.id)
            .where(Ticket.next_check_at <= utcnow(), Ticket.status.in_(LADDER_STATUSES))
            .order_by(Ticket.next_check_at, Ticket.id)
            .limit(200)
            .with_for_update(skip_locked=True)
        )
        sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
        with engine.connect() as conn:
            plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").scalars().all()
        print("plan of the due-ticket query:")
        for line in plan:
            print("   ", line)

        # 1,000 open tickets fall due at once (a catch-up): time the sweep that handles them.
        with unit_of_work(sessions) as s:
            ids = s.scalars(
                select(Ticket.id)
                .where(
                    Ticket.status.in_(["assigned", "claimed"]), Ticket.next_check_at.is_not(None)
                )
                .limit(1000)
            ).all()
            s.execute(
                update(Ticket)
                .where(Ticket.id.in_(ids))
                .values(
                    claim_due_at=now - timedelta(hours=5),
                    resolve_due_at=now - timedelta(hours=5),
                    next_check_at=now - timedelta(hours=5),
                )
            )
        t = time.perf_counter()
        result = run_escalation(ctx)
        print(
            f"escalation sweep with 1,000 tickets due: {(time.perf_counter() - t) * 1000:.0f} ms -> {result}"
        )
    finally:
        engine.dispose()
        if not args.keep:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
