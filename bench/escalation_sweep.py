"""Time one deadline sweep over 1,000,000 tickets (100,000 open) on PostgreSQL.

    uv run python -m bench escalation_sweep [--smoke] [--set tickets=N --set open=N ...]
    uv run python bench/escalation_sweep.py [--tickets N] [--open N] [--runs N] [--keep]

Creates a temporary database on the server named by GRIDBOT_TEST_PG (default
postgresql://postgres@127.0.0.1:5432/postgres), migrates it, loads the demo district and
bulk-loads tickets with COPY: the closed ones have nothing pending, the open ones have
their next step in the future (nothing due). Then it times the escalation and auto-close
jobs exactly as the scheduler runs them (session, query, commit), prints the median of
several runs, and prints the query plan. Target: under 200 ms per sweep with nothing due.
Finally it makes 1,000 tickets due and times the sweep that handles them.

Checked (a failure exits `python -m bench` with 1): the sweeps with nothing due find 0
tickets, the catch-up sweep finds exactly the tickets made due.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy import select, update

from app.db import make_engine, make_sessionmaker, unit_of_work
from app.demo.seed import seed
from app.jobs import JobContext, run_auto_close, run_escalation
from app.services.supervision.escalation import LADDER_STATUSES
from app.settings import Settings
from bench import Context, Row, benchmark, met
from bench.databases import temporary_database
from models import Area, Rider, Staff, Ticket, utcnow

COLUMNS = (
    "status, category, description, lat, lng, place, grid_id, area_id, assignee_id, "
    "reporter_id, created_at, updated_at, claimed_at, resolved_at, closed_at, severe, "
    "claim_due_at, resolve_due_at, ladder_step, escalation_level, next_check_at, "
    "request_reason"
)
TARGET_MS = 200.0
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


def measure(url: str, tickets: int, open_count: int, runs: int, due: int, log=print) -> dict:
    """Load `tickets` into the migrated database at `url`, time the sweeps; figures."""
    engine = make_engine(url)
    out: dict = {}
    try:
        sessions = make_sessionmaker(engine)
        now = utcnow()
        with unit_of_work(sessions) as s:
            seed(s)
            s.add(Rider(openid="bench-rider", created_at=now, last_seen_at=now))
        out["load_s"] = secs = load_tickets(url, tickets, open_count, now)
        log(f"{tickets:,} tickets ({open_count:,} open) loaded in {secs:.1f} s")
        with sessions() as s:
            assert s.scalar(select(Area.id).limit(1)) and s.scalar(select(Staff.id).limit(1))

        ctx = JobContext(sessions=sessions, settings=Settings(database_url=url), clock=utcnow)
        for label, job in (("escalation", run_escalation), ("auto_close", run_auto_close)):
            job(ctx)  # warm the pool and the plan cache
            median, times, result = timed(lambda job=job: job(ctx), runs)
            out[label] = (median, min(times), max(times), result)
            log(
                f"{label} sweep, nothing due: median {median:.2f} ms over {runs} runs "
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
            out["plan"] = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").scalars().all()

        # `due` open tickets fall due at once (a catch-up): time the sweep that handles them.
        with unit_of_work(sessions) as s:
            ids = s.scalars(
                select(Ticket.id)
                .where(
                    Ticket.status.in_(["assigned", "claimed"]), Ticket.next_check_at.is_not(None)
                )
                .limit(due)
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
        out["due"] = (len(ids), (time.perf_counter() - t) * 1000, result)
        log(f"escalation sweep with {len(ids):,} tickets due: {out['due'][1]:.0f} ms -> {result}")
    finally:
        engine.dispose()
    return out


@benchmark("escalation_sweep", "escalation and auto-close sweeps over 1,000,000 tickets, none due")
def escalation_sweep(ctx: Context) -> list[Row]:
    tickets = int(ctx.option("tickets", ctx.size(1_000_000, 20_000)))
    open_count = int(ctx.option("open", tickets // 10))
    runs = int(ctx.option("runs", ctx.size(15, 5)))
    due = int(ctx.option("due", ctx.size(1_000, 200)))
    with ctx.database("postgres") as url:
        m = measure(url, tickets, open_count, runs, due, log=lambda _: None)
    rows = []
    for label in ("escalation", "auto_close"):
        median, lo, hi, result = m[label]
        rows.append(
            Row(
                f"postgres {label}, none due",
                {"tickets": tickets, "open": open_count, "median ms": median, "min": lo, "max": hi},
                target=f"< {TARGET_MS:.0f} ms: {met(median < TARGET_MS)}",
                failed=f"found {result.tickets} due, expected 0" if result.tickets else "",
            )
        )
    made_due, ms, result = m["due"]
    rows.append(
        Row(
            f"postgres escalation, {made_due} due",
            {"tickets": tickets, "ms": ms, "handled": result.tickets},
            failed=(
                f"handled {result.tickets} tickets, {made_due} were due"
                if result.tickets != made_due
                else ""
            ),
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        temporary_database("postgres", Path(tmp), keep=args.keep) as url,
    ):
        m = measure(url, args.tickets, args.open, args.runs, 1_000)
        print("plan of the due-ticket query:")
        for line in m["plan"]:
            print("   ", line)


if __name__ == "__main__":
    main()
