"""A rainstorm against `gridbot serve` on PostgreSQL, and the server's memory.

A generated city of 10,000 grids (a worker each) is imported through the app's own GeoJSON
import. Then 5,000 reports arrive within 60 seconds from 2,000 riders — a report is a
text, then the rider's location a moment after the answer — and every message is
delivered one to three times, the copies concurrently, as WeChat retries do when an
answer is slow. Checked afterwards, in the database and in the answers:

- lost: reports without a ticket (each report's text carries a unique tag);
- duplicate tickets: tags with more than one ticket;
- duplicate replies: messages whose copies got different answers, and tickets with more
  than one "new ticket" notice to the worker;
- ack latency over every delivery.

The server runs with `--workers 2` when this branch's `gridbot serve` has that option,
else with one process. GRIDBOT_FOLLOWUP_MINUTES=0: a rider's next report within five
minutes would otherwise (by design) be added to the previous ticket instead of making a new
one, which is right for a real rider and wrong for counting reports.

Memory: VmHWM (peak RSS) of every server process from /proc, after start-up, after the
first report built the grid index, and after the storm.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import UTC, datetime

import httpx
from sqlalchemy import inspect, text

from app.domain.coords import wgs84_to_gcj02
from bench import Context, Row, benchmark, loadgen, met, percentile
from bench.city import inside_points, load_city, make_city
from bench.databases import migrate_at
from bench.loadgen import TICKET_NUMBER
from bench.servers import (
    SIM,
    cpu_seconds,
    free_port,
    gridbot_at,
    gridbot_command,
    gridbot_command_at,
    gridbot_env,
    gridbot_supports_workers,
    running,
)

TAG = re.compile(r"\[(storm-\d+)\]")
TARGET_MAX_S = 2.0
TARGET_MB = 300.0


@benchmark("storm", "5,000 reports in 60 s with WeChat retries on PostgreSQL; peak memory")
def storm(ctx: Context) -> list[Row]:
    grids = int(ctx.option("grids", ctx.size(10_000, 100)))
    reports = int(ctx.option("reports", ctx.size(5_000, 60)))
    riders = int(ctx.option("riders", ctx.size(2_000, 30)))
    duration = float(ctx.option("duration", ctx.size(60.0, 2.0)))
    workers = int(ctx.option("workers", 2))
    city = make_city(grids)
    points = [list(wgs84_to_gcj02(lat, lng)) for lat, lng in inside_points(city, 2000)]
    # --set ref=<git ref>: storm gridbot as it was at that commit (before/after), on a
    # database its own migrations made.
    ref = str(ctx.option("ref", ""))
    tree = gridbot_at(ref, ctx.workdir) if ref else None
    with ctx.database("postgres", migrate=tree is None) as url:
        if tree is not None:
            migrate_at(tree, url)
        timings = load_city(url, city)
        extra = ["--workers", str(workers)] if workers > 1 and gridbot_supports_workers() else []
        if extra:
            processes = f"{workers} workers"
        elif workers > 1:
            processes = "1 process (no --workers in this branch)"
        else:
            processes = "1 process"
        port = free_port()
        env = gridbot_env(url, ctx.workdir, followup_minutes=0)
        command = gridbot_command(port, *extra)
        if tree is not None:
            command, extra_env = gridbot_command_at(tree, port)
            command += extra
            env.update(extra_env)
            processes += f" @{ref}"
        with running("gridbot-storm", command, port=port, workdir=ctx.workdir, env=env) as server:
            time.sleep(ctx.size(1.0, 0.2))
            idle = server.memory_mb()
            _first_report(server.url, points[0])
            indexed = server.memory_mb()
            spec = {
                "mode": "storm",
                "host": "127.0.0.1",
                "port": port,
                "sim": SIM,
                "points": points,
                "prefix": "storm-",
                "seed": 7,
                "reports": reports,
                "riders": riders,
                "duration": duration,
                "max_copies": 3,
                "copy_spread": 0.5,
                "think": (0.2, 2.0) if not ctx.smoke else (0.05, 0.2),
                "connections_max": 256,
            }
            cpu_before = cpu_seconds(server.pids())
            # The generator signs every copy before the clock starts: at 20,000 reports
            # (about 80,000 deliveries) on a busy machine that alone took minutes, and a
            # fixed 300 s cut the run short.
            result = loadgen.run(spec, timeout=duration + 300 + reports / 20)
            # Messages acknowledged early are still being answered: wait for the last.
            result["backlog_s"] = _wait_answered(url, timeout=600)
            result["server_cpu_s"] = cpu_seconds(server.pids()) - cpu_before
            after = server.memory_mb()
        db = _database_checks(url)
    return _rows(result, db, processes, timings, grids, idle, indexed, after)


def _first_report(base_url: str, point: list[float]) -> None:
    """One report through the webhook, so that the server builds its grid index."""
    from bot.simulator import WeChatSimulator

    sim = WeChatSimulator(SIM["token"], SIM["app_id"], SIM["aes_key"], SIM["account"], "safe")
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for req in (sim.text("warmup-rider", "路口积水很深"), sim.location("warmup-rider", *point)):
            http.post("/wechat", params=req.params, content=req.body).raise_for_status()


def _wait_answered(url: str, timeout: float) -> float:
    """Seconds until no message waits for a late answer (0 on a branch without them)."""
    from app.db import make_engine

    engine = make_engine(url)
    t0 = time.perf_counter()
    try:
        if not inspect(engine).has_table("inbox_parked"):
            return 0.0
        with engine.connect() as conn:
            while time.perf_counter() - t0 < timeout:
                if not conn.execute(
                    text("SELECT count(*) FROM inbox_parked WHERE answered_at IS NULL")
                ).scalar_one():
                    break
                conn.rollback()
                time.sleep(0.5)
    finally:
        engine.dispose()
    return time.perf_counter() - t0


def _database_checks(url: str) -> dict:
    from app.db import make_engine

    engine = make_engine(url)
    late: dict[str, tuple[str, datetime]] = {}
    parked = 0
    try:
        if inspect(engine).has_table("inbox_parked"):
            with engine.connect() as conn:
                query = "SELECT reply_to, text, created_at FROM outbox WHERE kind = 'late_reply'"
                for key, answer, at in conn.execute(text(query)):
                    late[key] = (answer, at if at.tzinfo else at.replace(tzinfo=UTC))
                parked = conn.execute(
                    text("SELECT count(*) FROM inbox_parked WHERE answered_at IS NULL")
                ).scalar_one()
        with engine.connect() as conn:
            per_tag = Counter()
            numbers: dict[str, int] = {}
            for tid, description in conn.execute(text("SELECT id, description FROM tickets")):
                m = TAG.search(description)
                if m:
                    per_tag[m.group(1)] += 1
                    numbers[m.group(1)] = tid
            doubled_notices = conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT ticket_id FROM outbox "
                    "WHERE kind = 'ticket_assigned' GROUP BY ticket_id HAVING count(*) > 1) d"
                )
            ).scalar_one()
            inbox = conn.execute(text("SELECT count(*) FROM inbox")).scalar_one()
    finally:
        engine.dispose()
    return {
        "per_tag": per_tag,
        "numbers": numbers,
        "doubled_notices": doubled_notices,
        "inbox": inbox,
        "late": late,
        "parked": parked,
    }


def _rows(result, db, processes, timings, grids, idle, indexed, after) -> list[Row]:
    tags = [t.strip("[]") for t in result["tags"]]
    per_tag = db["per_tag"]
    lost = sum(1 for t in tags if per_tag[t] == 0)
    duplicates = sum(n - 1 for n in per_tag.values() if n > 1)
    replies = dict(result["ticket_numbers"])
    late, answers = db["late"], result["answers"]
    for key, (answer, _) in late.items():  # answers sent late name the ticket too
        m = TICKET_NUMBER.search(answer)
        tag = result["keys"].get(key)
        if m and tag and replies.get(tag) is None:
            replies[tag] = int(m.group(1))
    wrong_number = sum(1 for t in tags if replies.get(f"[{t}]") not in (None, db["numbers"].get(t)))
    # A message answered passively by one copy and late as well: the user saw it twice.
    twice = [key for key in late if answers.get(key)]
    answered_twice = len(twice)
    unanswered = sum(1 for key, a in answers.items() if not a and key not in late)
    late_s = [
        (at.timestamp() - result["sent_at"][key])
        for key, (_, at) in late.items()
        if key in result["sent_at"]
    ]
    dup_replies = result["inconsistent_replies"] + db["doubled_notices"] + answered_twice
    lat = result["latencies"]
    worst = max(lat) if lat else float("nan")
    failed = []
    if lost:
        failed.append(f"{lost} reports lost, e.g. {[t for t in tags if per_tag[t] == 0][:3]}")
    if duplicates:
        failed.append(f"{duplicates} duplicate tickets")
    if dup_replies:
        failed.append(
            f"{dup_replies} duplicate replies (different answers to copies: "
            f"{result['inconsistent_keys'] or '-'}; answered passively and late: "
            f"{twice[:5] or '-'}; tickets notified twice: {db['doubled_notices']})"
        )
    if result["failures"]:
        failed.append(f"{result['failures']} failed deliveries {result['failure_samples'][:2]}")
    if unanswered or db["parked"]:
        failed.append(f"{unanswered} messages unanswered, {db['parked']} still parked")
    if wrong_number:
        failed.append(f"{wrong_number} answers name another ticket than the report's")
    storm_row = Row(
        f"postgres, {processes}",
        {
            "reports": result["reports"],
            "riders": result["riders"],
            "deliveries": result["deliveries"],
            "seconds": result["elapsed"],
            "lost": lost,
            "dup tickets": duplicates,
            "dup replies": dup_replies,
            "acked": sum(1 for t in tags if replies.get(f"[{t}]") is not None),
            "answered late": len(late),
            "late p50 s": percentile(late_s, 50) if late_s else 0.0,
            "late max s": max(late_s, default=0.0),
            "backlog s": result["backlog_s"],
            "p50 ms": percentile(lat, 50) * 1000,
            "p99 ms": percentile(lat, 99) * 1000,
            "max ms": worst * 1000,
            "client lag s": result["max_start_lag"],
            "server cpu s": result["server_cpu_s"],
            "cpu ms/delivery": result["server_cpu_s"] * 1000 / max(result["deliveries"], 1),
        },
        target=f"max < {TARGET_MAX_S:.0f} s: {met(worst < TARGET_MAX_S)}",
        failed="; ".join(failed),
    )
    rows = [storm_row]
    rows.append(
        Row(
            f"city import, {grids} grids",
            {"import s": timings["import_s"], "staff s": timings["staff_s"]},
        )
    )
    for label, snapshot in (
        ("memory after start", idle),
        (f"memory, {grids}-grid index built", indexed),
        ("memory after the storm", after),
    ):
        peak = max((hwm for _, hwm in snapshot.values()), default=float("nan"))
        rows.append(
            Row(
                label,
                {
                    "processes": len(snapshot),
                    "VmRSS MB": "/".join(f"{rss:.0f}" for rss, _ in snapshot.values()),
                    "VmHWM MB": "/".join(f"{hwm:.0f}" for _, hwm in snapshot.values()),
                },
                target=f"< {TARGET_MB:.0f} MB per worker: {met(peak < TARGET_MB)}",
            )
        )
    return rows
