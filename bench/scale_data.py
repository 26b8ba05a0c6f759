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
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.domain.categories import Category
from app.domain.tickets import Action, Status, apply
from bench import Context, Row, benchmark

CHUNK = 20_000

CATEGORY_WEIGHTS = {
    Category.FLOODING: 18,
    Category.BLOCKED_PASSAGE: 16,
    Category.BULKY_WASTE: 20,
    Category.ROAD_DAMAGE: 12,
    Category.MANHOLE_COVER: 5,
    Category.STREET_LIGHT: 9,
    Category.FALLEN_TREE: 4,
    Category.TRAFFIC_SIGNAL: 4,
    Category.SAFETY_HAZARD: 7,
    Category.OTHER: 5,
}
DESCRIPTIONS = {
    Category.FLOODING: ["路口积水很深，电动车过不去", "下水道堵了，路面积水", "地库入口积水"],
    Category.BLOCKED_PASSAGE: ["消防通道被车堵住", "楼道堆满杂物", "人行道被占用"],
    Category.BULKY_WASTE: ["路边有人丢了旧沙发", "大件垃圾没人清运", "垃圾桶满了溢出"],
    Category.ROAD_DAMAGE: ["路面破损有个大坑", "人行道地砖松动", "路面塌陷"],
    Category.MANHOLE_COVER: ["井盖缺失，很危险", "井盖破损"],
    Category.STREET_LIGHT: ["路灯不亮，晚上很黑", "路灯杆歪了"],
    Category.FALLEN_TREE: ["大树倒了挡住车道", "树枝断了挂在电线上"],
    Category.TRAFFIC_SIGNAL: ["红绿灯不亮", "信号灯坏了"],
    Category.SAFETY_HAZARD: ["广告牌松动有坠落隐患", "电线裸露"],
    Category.OTHER: ["这里有点问题，请看看", "有人在路边摆摊"],
}
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 7, 9, 9, 8, 8, 9, 8, 8, 8, 9, 9, 8, 7, 5, 4, 3, 2]
NOTES = ["已到现场查看", "已联系相关部门", "正在处理，预计明天完成", "已通知物业"]
RESULTS = ["已处理完毕", "积水已排除", "杂物已清理", "已修复", "已联系养护单位处理"]

TICKET_COLUMNS = (
    "id",
    "status",
    "category",
    "description",
    "lat",
    "lng",
    "place",
    "grid_id",
    "area_id",
    "assignee_id",
    "reporter_id",
    "created_at",
    "updated_at",
    "claimed_at",
    "resolved_at",
    "closed_at",
)
EVENT_COLUMNS = (
    "id",
    "ticket_id",
    "at",
    "action",
    "actor_openid",
    "actor_role",
    "from_status",
    "to_status",
    "note",
    "message_key",
)
PHOTO_COLUMNS = ("id", "ticket_id", "media_id", "pic_url", "sender_openid", "created_at")
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
) -> dict[str, float]:
    """Fill the database at `url` with `tickets` tickets over `days` days ending at `end`.

    Appends to what is there (ids continue after the largest). Returns row counts and
    timings (seconds).
    """
    from app.db import make_engine
    from app.migrate import upgrade

    started = time.perf_counter()
    upgrade(url)
    rng = random.Random(seed)
    end = (end or datetime.now(UTC)).astimezone(UTC)
    engine = make_engine(url)
    stats: dict[str, float] = {}
    try:
        places = _grid_places(engine, url, grids, seed, stats)
        riders = riders or max(tickets // 20, 1)
        writer = _writer(engine)
        try:
            first_rider = writer.next_id("riders")
            rider_ids = range(first_rider, first_rider + riders)
            start = end - timedelta(days=days)
            writer.write(
                "riders",
                RIDER_COLUMNS,
                ((rid, f"rider-{rid}", None, True, start, end) for rid in rider_ids),
            )
            gen = _TicketMaker(rng, places, rider_ids, end=end, days=days, open_share=open_share)
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


# -- tickets ---------------------------------------------------------------------------------


class _TicketMaker:
    def __init__(self, rng, places, rider_ids, *, end, days, open_share):
        self.rng = rng
        self.places = places
        # A few busy grids: weights from a Pareto tail.
        self.place_weights = list(_cumulative(rng.paretovariate(1.2) for _ in places))
        self.rider_ids = rider_ids
        self.rider_weights = list(_cumulative(rng.paretovariate(1.5) for _ in rider_ids))
        self.end = end
        self.days = days
        self.open_share = open_share
        self.categories = list(CATEGORY_WEIGHTS)
        self.category_weights = list(_cumulative(CATEGORY_WEIGHTS.values()))
        self.storm_days = set(rng.sample(range(days), k=max(days // 30, 1)))

    def _when(self, open_ticket: bool) -> datetime:
        rng = self.rng
        if open_ticket:
            # Open tickets are mostly recent: most a few days old, some stuck for weeks.
            age = rng.expovariate(1 / 4) if rng.random() < 0.85 else rng.uniform(7, 60)
            day = int(min(age, self.days - 1))
        else:
            day = rng.randrange(self.days)
        hour = rng.choices(range(24), cum_weights=_HOURS)[0]
        when = self.end - timedelta(days=day)
        when = when.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
        if when > self.end:
            when -= timedelta(days=1)
        return when

    def make(self, ids: dict[str, int], rows_t: list, rows_e: list, rows_p: list) -> None:
        rng = self.rng
        is_open = rng.random() < self.open_share
        created = self._when(is_open)
        day = (self.end - created).days
        category = rng.choices(self.categories, cum_weights=self.category_weights)[0]
        if day in self.storm_days and rng.random() < 0.6:
            category = Category.FLOODING
        place = self.places[rng.choices(range(len(self.places)), cum_weights=self.place_weights)[0]]
        grid_id, lat, lng, grid_name, worker_id, worker_openid = place
        rider_id = self.rider_ids[
            rng.choices(range(len(self.rider_ids)), cum_weights=self.rider_weights)[0]
        ]
        rider_openid = f"rider-{rider_id}"
        tid = ids["tickets"]
        ids["tickets"] += 1
        description = rng.choice(DESCRIPTIONS[category])

        status: Status | None = None
        at = created
        times = {"claimed": None, "resolved": None, "closed": None}
        assignee = (worker_id, worker_openid, grid_id)

        def event(action: Action, actor: str | None, role: str, note: str = "") -> None:
            nonlocal status
            t = apply(status, action, note)
            rows_e.append(
                (
                    ids["ticket_events"],
                    tid,
                    at,
                    action.value,
                    actor,
                    role,
                    t.from_status.value if t.from_status else None,
                    t.to_status.value,
                    note,
                    f"msg:{tid}:{ids['ticket_events']}" if role == "rider" else None,
                )
            )
            ids["ticket_events"] += 1
            status = t.to_status
            if status is Status.CLAIMED and times["claimed"] is None:
                times["claimed"] = at
            if status is Status.RESOLVED:
                times["resolved"] = at
            if status is Status.CLOSED:
                times["closed"] = at

        def later(mean_hours: float) -> bool:
            """Move the clock on; False when that would pass the end of the year."""
            nonlocal at
            step = timedelta(hours=rng.expovariate(1 / mean_hours) + 0.02)
            if at + step >= self.end:
                return False
            at += step
            return True

        event(Action.CREATE, rider_openid, "rider", f"派往 {grid_name}")
        if rng.random() < 0.15 and later(0.1):
            event(Action.ADD_INFO, rider_openid, "rider", f"描述「{description}」")
        # Open tickets stop somewhere along the way; closed ones run to the end.
        if is_open:
            target = rng.choices(
                [Status.ASSIGNED, Status.CLAIMED, Status.REOPENED], weights=[35, 55, 10]
            )[0]
        else:  # a few resolved ones still await the rider's verdict
            target = Status.RESOLVED if rng.random() < 0.03 else Status.CLOSED
        reopened = target is Status.REOPENED or (target is Status.CLOSED and rng.random() < 0.04)
        rounds = 2 if reopened else 1
        for round_no in range(rounds):
            if target is Status.ASSIGNED:
                break
            if round_no == 0 and rng.random() < 0.05 and later(1.0):
                new = self.places[rng.randrange(len(self.places))]
                event(Action.TRANSFER, assignee[1], "grid_worker", f"转派至 {new[3]}")
                assignee = (new[4], new[5], new[0])
            if not later(2.0):
                break
            event(Action.CLAIM, assignee[1], "grid_worker")
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                if later(6.0):
                    event(Action.NOTE, assignee[1], "grid_worker", rng.choice(NOTES))
            if target is Status.CLAIMED or (target is Status.REOPENED and round_no == 1):
                break
            if not later(20.0):
                break
            event(Action.RESOLVE, assignee[1], "grid_worker", rng.choice(RESULTS))
            if target is Status.RESOLVED or not later(8.0):
                break
            if round_no == 0 and reopened:
                event(Action.REOPEN, rider_openid, "rider", "问题仍未解决")
                if target is Status.REOPENED and rng.random() < 0.5:
                    break
                continue
            event(Action.CONFIRM, rider_openid, "rider")
        if rng.random() < 0.6:
            for _ in range(rng.choice((1, 1, 2))):
                media = f"media-{ids['ticket_photos']}"
                rows_p.append(
                    (
                        ids["ticket_photos"],
                        tid,
                        media,
                        f"http://mmbiz.qpic.cn/mmbiz_jpg/{media}/0",
                        rider_openid,
                        created,
                    )
                )
                ids["ticket_photos"] += 1
        jitter = 0.0008
        rows_t.append(
            (
                tid,
                status.value,
                category.value,
                description,
                lat + rng.uniform(-jitter, jitter) / 2,
                lng + rng.uniform(-jitter, jitter) / 2,
                f"{grid_name}附近",
                assignee[2],
                assignee[2],
                assignee[0],
                rider_id,
                created,
                at,
                times["claimed"],
                times["resolved"],
                times["closed"],
            )
        )


_HOURS = list(
    (lambda w: [sum(w[: i + 1]) for i in range(len(w))])(HOUR_WEIGHTS)  # cumulative
)


def _cumulative(weights: Iterable[float]) -> Iterable[float]:
    total = 0.0
    for w in weights:
        total += w
        yield total


# -- writers ---------------------------------------------------------------------------------


def _writer(engine):
    return _PostgresWriter(engine) if engine.dialect.name == "postgresql" else _SqliteWriter(engine)


class _PostgresWriter:
    """COPY ... FROM STDIN through psycopg, one transaction for the whole load."""

    def __init__(self, engine) -> None:
        self.raw = engine.raw_connection()
        self.conn = self.raw.driver_connection
        self.tables: set[str] = set()

    def next_id(self, table: str) -> int:
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
            return cur.fetchone()[0]

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        self.tables.add(table)
        with (
            self.conn.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def finish(self) -> None:
        with self.conn.cursor() as cur:
            for table in self.tables:  # ids were given explicitly: move the sequences on
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            cur.execute("ANALYZE")
        self.conn.commit()

    def close(self) -> None:
        self.raw.close()


class _SqliteWriter:
    """executemany in one transaction; datetimes stored the way UTCDateTime stores them."""

    def __init__(self, engine) -> None:
        self.raw = engine.raw_connection()
        self.conn = self.raw.driver_connection
        self.conn.execute("BEGIN")

    def next_id(self, table: str) -> int:
        return self.conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        marks = ", ".join("?" for _ in columns)
        self.conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            (tuple(_sqlite_value(v) for v in row) for row in rows),
        )

    def finish(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("ANALYZE")

    def close(self) -> None:
        self.raw.close()


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


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
