"""Scale data: a year of tickets with their event logs, written fast into any database.

    from bench.scale_data import generate
    stats = generate(url, tickets=1_000_000, open_share=0.1, seed=1)

or `uv run python -m bench.scale_data URL --tickets 1000000`. The database is migrated
first; if it has no grids, a generated city (`bench.city`, `grids=` of them) is imported
with a worker per grid. Rows go in with COPY on PostgreSQL and executemany on SQLite, in
chunks, bypassing the ORM (about 5 events per ticket).

What the year looks like (all times UTC, the year ending at `end`, default now):

- tickets arrive by day-time weight (few at night), with some rainstorm days that bring
  five times the usual flooding; grids are not equal: a few busy grids get many reports;
- riders (`tickets // 20` of them) report repeatedly;
- `open_share` of tickets are still open (assigned / claimed / reopened), mostly recent,
  some stuck for weeks; a few are resolved and await the rider's verdict; the rest closed;
- every ticket's events follow the domain's transition table (create, claim, notes, an
  occasional transfer to another grid, add_info, resolve, confirm or reopen and again),
  with the ticket's status and claimed/resolved/closed times matching its last events;
- about 60% of tickets carry one or two photo records.

Only the schema of migration 0001 is filled; benchmarks needing more extend `generate`
(or post-process) for their own tables.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bench import Context, Row, benchmark
from bench.scale_tickets import EVENT_COLUMNS, PHOTO_COLUMNS, TICKET_COLUMNS, TicketMaker
from bench.scale_writers import make_writer

CHUNK = 20_000

RIDER_COLUMNS = ("id", "openid", "qr_scene", "subscribed", "created_at", "last_seen_at")


def generate(
    url: str,
    tickets: int = 1_000_000,
    *,
    open_share: float = 0.1,
    seed: int = 1,
    riders: int | None = None,
    grids: int = 2_000,
    end: datetime | None = None,
    days: int = 365,
    migrate: bool = True,
) -> dict[str, float]:
    """Fill the database at `url` with `tickets` tickets over `days` days ending at `end`.

    Appends to what is there (ids continue after the largest). Returns row counts and
    timings (seconds). `migrate=False` fills a database an older tree migrated (only
    migration 0001's tables are written).
    """
    from app.db import make_engine
    from app.migrate import upgrade

    started = time.perf_counter()
    if migrate:
        upgrade(url)
    rng = random.Random(seed)
    end = (end or datetime.now(UTC)).astimezone(UTC)
    engine = make_engine(url)
    stats: dict[str, float] = {}
    try:
        places = _grid_places(engine, url, grids, seed, stats)
        riders = riders or max(tickets // 20, 1)
        writer = make_writer(engine)
        try:
            first_rider = writer.next_id("riders")
            rider_ids = range(first_rider, first_rider + riders)
            start = end - timedelta(days=days)
            writer.write(
                "riders",
                RIDER_COLUMNS,
                ((rid, f"rider-{rid}", None, True, start, end) for rid in rider_ids),
            )
            gen = TicketMaker(rng, places, rider_ids, end=end, days=days, open_share=open_share)
            ids = {t: writer.next_id(t) for t in ("tickets", "ticket_events", "ticket_photos")}
            counts = {"tickets": 0, "ticket_events": 0, "ticket_photos": 0}
            for chunk_start in range(0, tickets, CHUNK):
                rows_t, rows_e, rows_p = [], [], []
                for _ in range(min(CHUNK, tickets - chunk_start)):
                    gen.make(ids, rows_t, rows_e, rows_p)
                writer.write("tickets", TICKET_COLUMNS, rows_t)
                writer.write("ticket_events", EVENT_COLUMNS, rows_e)
                writer.write("ticket_photos", PHOTO_COLUMNS, rows_p)
                counts["tickets"] += len(rows_t)
                counts["ticket_events"] += len(rows_e)
                counts["ticket_photos"] += len(rows_p)
            writer.finish()
        finally:
            writer.close()
    finally:
        engine.dispose()
    stats.update({k: float(v) for k, v in counts.items()})
    stats["riders"] = float(riders)
    stats["seconds"] = time.perf_counter() - started
    return stats


# -- grids -----------------------------------------------------------------------------------


def _grid_places(engine, url: str, grids: int, seed: int, stats: dict) -> list[tuple]:
    """[(grid_id, lat, lng, name, worker_id, worker_openid)], loading a city if none."""
    import json

    from shapely.geometry import shape

    from app.db import make_sessionmaker
    from bench.city import load_city, make_city
    from models import Area, Staff

    sessions = make_sessionmaker(engine)
    with sessions() as session:
        count = session.scalar(select(func.count(Area.id)).where(Area.level == "grid"))
    if not count:
        t0 = time.perf_counter()
        load_city(url, make_city(grids, seed=seed))
        stats["city_s"] = time.perf_counter() - t0
    with sessions() as session:
        workers = {
            area_id: (sid, openid)
            for area_id, sid, openid in session.execute(
                select(Staff.area_id, Staff.id, Staff.openid)
                .where(Staff.role == "grid_worker", Staff.active)
                .order_by(Staff.priority.desc(), Staff.id.desc())
            )
        }
        places = []
        for area_id, name, geometry in session.execute(
            select(Area.id, Area.name, Area.geometry).where(Area.level == "grid")
        ):
            p = shape(json.loads(geometry)).representative_point()
            sid, openid = workers.get(area_id, (None, None))
            places.append((area_id, p.y, p.x, name, sid, openid))
    stats["grids"] = float(len(places))
    return places


# -- the registered benchmark: how fast the generator fills each database ---------------------


@benchmark("scale_data", "generate a year of tickets (COPY on PostgreSQL, executemany on SQLite)")
def scale_data(ctx: Context) -> list[Row]:
    tickets = int(ctx.option("tickets", ctx.size(100_000, 2_000)))
    grids = int(ctx.option("grids", ctx.size(2_000, 50)))
    rows = []
    for kind in ("sqlite", "postgres"):
        with ctx.database(kind) as url:
            stats = generate(url, tickets, grids=grids, seed=1)
            check = _check(url, stats)
        figures = {
            "tickets": stats["tickets"],
            "events": stats["ticket_events"],
            "photos": stats["ticket_photos"],
            "seconds": stats["seconds"],
            "tickets/s": stats["tickets"] / stats["seconds"],
            "open %": check["open_share"] * 100,
        }
        rows.append(Row(kind, figures, failed=check["failed"]))
    return rows


def _check(url: str, stats: dict) -> dict:
    """Statuses agree with each ticket's last event; counts match what was written."""
    from sqlalchemy import text

    from app.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM tickets")).scalar_one()
            open_n = conn.execute(
                text(
                    "SELECT count(*) FROM tickets WHERE status IN ('assigned','claimed','reopened')"
                )
            ).scalar_one()
            mismatched = conn.execute(
                text(
                    "SELECT count(*) FROM tickets t JOIN ticket_events e ON e.id = "
                    "(SELECT max(id) FROM ticket_events WHERE ticket_id = t.id) "
                    "WHERE e.to_status <> t.status"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    failed = []
    if n != stats["tickets"]:
        failed.append(f"{n} tickets stored, {stats['tickets']:.0f} generated")
    if mismatched:
        failed.append(f"{mismatched} tickets whose status differs from their last event")
    return {"open_share": open_n / max(n, 1), "failed": "; ".join(failed)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_data", description=__doc__)
    parser.add_argument("url", help="database URL (sqlite:///path or postgresql://...)")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--open-share", type=float, default=0.1)
    parser.add_argument("--grids", type=int, default=2_000, help="city size if none loaded")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    stats = generate(
        args.url, args.tickets, open_share=args.open_share, grids=args.grids, seed=args.seed
    )
    print("  ".join(f"{k}={v:.0f}" if v >= 10 else f"{k}={v:.2f}" for k, v in stats.items()))


if __name__ == "__main__":
    main()
