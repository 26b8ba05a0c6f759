"""Benchmark: a district digest over 1,000,000 tickets (a year of them) on PostgreSQL.

    uv run python -m bench digest [--smoke] [--set tickets=N --set runs=N]
    uv run python bench/digest.py [--tickets 1000000] [--runs 7] [--keep]

Creates a temporary database on GRIDBOT_TEST_PG's server (default postgres@127.0.0.1),
migrates it, loads the demo district, and COPYs in riders, tickets and their event logs
(created, claimed, resolved, closed, over a year; about 1.5% still open). Then computes
the digest of the last full day for the whole district several times and prints the
median, and EXPLAINs every statement the digest ran, saying which indexes it used.
Target: median under 2 s. Checked (a failure exits `python -m bench` with 1): the digest's
`new` equals the number of tickets generated on that day.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.db import make_engine, make_sessionmaker, unit_of_work
from app.demo.seed import seed
from app.domain.categories import URGENT, Category
from app.services.digest import digests
from app.services.directory.grids import area_by_code
from bench import Context, Row, benchmark, met
from bench.databases import temporary_database
from models import Area, Staff

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 8, 0, tzinfo=TZ).astimezone(UTC)
DAY = (NOW.astimezone(TZ) - timedelta(days=1)).date()
RIDERS = 20_000
CATEGORIES = [c.value for c in Category]
TARGET_S = 2.0


def minutes(mean: float) -> timedelta:
    return timedelta(minutes=random.expovariate(1 / mean))


def generate(
    conn: psycopg.Connection, n: int, grids: list[tuple[int, int, str]]
) -> tuple[int, int]:
    """COPY `n` tickets and their events; returns the number of events and the number of
    tickets created on DAY (local time)."""
    random.seed(20261121)
    span = timedelta(days=365).total_seconds()
    day_start = datetime.combine(DAY, datetime.min.time(), TZ)
    day_end = day_start + timedelta(days=1)
    on_day = 0
    with conn.cursor() as cur:
        with cur.copy(
            "COPY riders (id, openid, subscribed, created_at, last_seen_at) FROM STDIN"
        ) as cp:
            start = NOW - timedelta(days=400)
            for i in range(1, RIDERS + 1):
                cp.write_row((i, f"oRider{i:08d}", True, start, start))
        events = 0
        ticket_cols = (
            "id, status, category, description, lat, lng, place, grid_id, area_id, assignee_id,"
            " reporter_id, created_at, updated_at, claimed_at, resolved_at, closed_at"
        )
        event_cols = "ticket_id, at, action, actor_openid, actor_role, from_status, to_status, note"
        event_rows: list[tuple] = []
        with cur.copy(f"COPY tickets ({ticket_cols}) FROM STDIN") as cp:
            for tid in range(1, n + 1):
                created = NOW - timedelta(seconds=random.random() * span)
                on_day += day_start <= created < day_end
                category = random.choice(CATEGORIES)
                grid_id, worker_id, worker_openid = random.choice(grids)
                reporter = random.randint(1, RIDERS)
                urgent = Category(category) in URGENT
                recent = NOW - created < timedelta(days=2)
                r = random.random()
                stop = (
                    (
                        "closed"
                        if r < 0.5
                        else "resolved"
                        if r < 0.65
                        else "claimed"
                        if r < 0.85
                        else "assigned"
                    )
                    if recent
                    else (
                        "closed"
                        if r < 0.95
                        else "resolved"
                        if r < 0.97
                        else "claimed"
                        if r < 0.985
                        else "assigned"
                    )
                )
                log = [(created, "create", f"oRider{reporter:08d}", "rider", None, "assigned")]
                status, claimed_at, resolved_at, closed_at = "assigned", None, None, None
                at = created
                for step, mean, action, actor, before, after in (
                    (
                        "claimed",
                        10 if urgent else 40,
                        "claim",
                        "grid_worker",
                        "assigned",
                        "claimed",
                    ),
                    (
                        "resolved",
                        120 if urgent else 300,
                        "resolve",
                        "grid_worker",
                        "claimed",
                        "resolved",
                    ),
                    ("closed", 240, "confirm", "rider", "resolved", "closed"),
                ):
                    at = at + minutes(mean)
                    if at > NOW:
                        break
                    who = worker_openid if actor == "grid_worker" else f"oRider{reporter:08d}"
                    log.append((at, action, who, actor, before, after))
                    status = after
                    claimed_at = claimed_at or (at if after == "claimed" else None)
                    resolved_at = at if after == "resolved" else resolved_at
                    closed_at = at if after == "closed" else closed_at
                    if step == stop:
                        break
                cp.write_row(
                    (
                        tid,
                        status,
                        category,
                        "",
                        31.2,
                        121.44,
                        f"路口{tid % 977}",
                        grid_id,
                        grid_id,
                        worker_id,
                        reporter,
                        created,
                        log[-1][0],
                        claimed_at,
                        resolved_at,
                        closed_at,
                    )
                )
                event_rows.extend((tid, *e, "") for e in log)
                events += len(log)
        with cur.copy(f"COPY ticket_events ({event_cols}) FROM STDIN") as cp:
            for row in event_rows:
                cp.write_row(row)
        cur.execute("SELECT setval('tickets_id_seq', %s)", (n,))
        cur.execute("SELECT setval('riders_id_seq', %s)", (RIDERS,))
    conn.commit()
    return events, on_day


def explain(engine, statements: list[tuple[str, dict]]) -> None:
    print("\nplans (EXPLAIN, one line per statement the digest ran):")
    with engine.connect() as conn:
        for sql, params in statements:
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql, params))
            used = sorted(
                set(
                    re.findall(
                        r"(?:Index|Index Only|Bitmap Index) Scan (?:Backward )?(?:using|on) (\w+)",
                        plan,
                    )
                )
            )
            seq = sorted(set(re.findall(r"Seq Scan on (\w+)", plan)))
            head = " ".join(sql.split())[:70]
            print(
                f"  {head}...\n    indexes: {', '.join(used) or '-'}; seq scans: {', '.join(seq) or '-'}"
            )


def measure(url: str, tickets: int, runs: int, log=print) -> dict:
    """Load `tickets` into the migrated database at `url`, time the district digest."""
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        with unit_of_work(sessions) as s:
            seed(s)
            grids = [
                (area_id, staff_id, openid)
                for area_id, staff_id, openid in s.execute(
                    select(Area.id, Staff.id, Staff.openid)
                    .join(Staff, Staff.area_id == Area.id)
                    .where(Area.level == "grid")
                )
            ]
        t0 = time.perf_counter()
        with psycopg.connect(url) as conn:
            n_events, on_day = generate(conn, tickets, grids)
            conn.execute("ANALYZE")
        load_s = time.perf_counter() - t0
        log(f"loaded {tickets:,} tickets and {n_events:,} events in {load_s:.0f} s")

        statements: list[tuple[str, dict]] = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            statements.append((statement, parameters))

        timings = []
        for run in range(runs + 1):
            if run == runs:
                event.listen(engine, "before_cursor_execute", capture)
            with sessions() as s:
                district = area_by_code(s, "310199")
                t = time.perf_counter()
                f = digests.compute(s, district, DAY, now=NOW, tz=TZ)
                elapsed = time.perf_counter() - t
            if run == 0:
                log(f"warm-up {elapsed:.3f} s")
            elif run < runs:
                timings.append(elapsed)
        event.remove(engine, "before_cursor_execute", capture)
        log(
            f"digest of {DAY} for district 310199: new {f.new}, claimed {f.claimed}, resolved "
            f"{f.resolved}, closed {f.closed}, open now {f.open_now}, overdue now {f.overdue_now}"
        )
        log(
            f"runs: {', '.join(f'{x:.3f}' for x in timings)} s\n"
            f"MEDIAN {statistics.median(timings):.3f} s over {len(timings)} runs (target < 2 s)"
        )
        if log is print:
            explain(engine, [s for s in statements if s[0].lstrip().upper().startswith("SELECT")])
    finally:
        engine.dispose()
    return {
        "load_s": load_s,
        "events": n_events,
        "generated_new": on_day,
        "figures": f,
        "timings": timings,
    }


@benchmark("digest", "district digest of one day over 1,000,000 tickets on PostgreSQL")
def digest(ctx: Context) -> list[Row]:
    tickets = int(ctx.option("tickets", ctx.size(1_000_000, 20_000)))
    runs = int(ctx.option("runs", ctx.size(7, 3)))
    with ctx.database("postgres") as url:
        m = measure(url, tickets, runs, log=lambda _: None)
    f, times = m["figures"], m["timings"]
    median = statistics.median(times)
    return [
        Row(
            "postgres, district 310199",
            {
                "tickets": tickets,
                "events": m["events"],
                "new": f.new,
                "median s": median,
                "min": min(times),
                "max": max(times),
            },
            target=f"< {TARGET_S:.0f} s: {met(median < TARGET_S)}",
            failed=(
                f"digest new {f.new}, generated {m['generated_new']} that day"
                if f.new != m["generated_new"]
                else ""
            ),
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        temporary_database("postgres", Path(tmp), keep=args.keep) as url,
    ):
        m = measure(url, args.tickets, args.runs)
        print(f"tickets generated on {DAY}: {m['generated_new']} (digest new: {m['figures'].new})")


if __name__ == "__main__":
    main()
