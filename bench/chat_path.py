"""The chat path in process: CPU and SQL statements per message, without HTTP or load.

`ChatEngine.handle` is what the webhook spends most of its time in. This benchmark feeds
it riders' reports (a text, then a location in a demo grid that files a ticket) and, for
contrast, a rider's query and a worker's claim, on SQLite and PostgreSQL, and reports for
each kind: CPU time per message (median and p90, `time.thread_time`, so other work on the
machine barely shows) and the number of SQL statements it ran. Also
`python -m bench.chat_path [--profile] [--db sqlite|postgres] [--n N]` prints a
pyinstrument profile of the report path.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event

from bench import Context, Row, benchmark, cpu_figures, median
from bench.databases import KINDS, seed_demo, temporary_database

KINDS_MEASURED = ("report text", "report location", "query 我的上报", "claim", "outbox notice")


class StatementCounter:
    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(self, *args) -> None:
        self.count += 1


def _engine_for(url: str, settings_over: dict):
    from app.bootstrap import chat_engine
    from app.db import make_engine, make_sessionmaker
    from app.settings import Settings

    engine = make_engine(url)
    settings = Settings(
        database_url=url,
        duplicate_distance_m=0,
        followup_minutes=0,
        channel="sandbox",
        **settings_over,
    )
    start = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    ticks = itertools.count()

    def clock() -> datetime:
        return start + timedelta(milliseconds=next(ticks))

    chat = chat_engine(settings, make_sessionmaker(engine), clock=clock)
    return engine, chat, clock, settings


def run_path(url: str, n: int, *, profile: bool = False) -> dict[str, dict]:
    """Send `n` reports (and n queries, n//4 claims) through the engine; per-kind figures."""
    from bench.webhook import demo_points
    from bot.inbound import InboundMessage

    engine, chat, clock, settings = _engine_for(url, {})
    counter = StatementCounter(engine)
    points = demo_points()
    ids = itertools.count(9_000_000_000)
    samples: dict[str, list[float]] = defaultdict(list)
    statements: dict[str, list[int]] = defaultdict(list)
    replies: dict[str, str] = {}

    def send(what: str, openid: str, kind: str, **fields) -> str:
        msg = InboundMessage(
            kind=kind,
            openid=openid,
            account="gh_bench",
            created_at=clock(),
            msg_id=str(next(ids)),
            **fields,
        )
        before, t0 = counter.count, time.thread_time()
        reply = chat.handle(msg)
        samples[what].append(time.thread_time() - t0)
        statements[what].append(counter.count - before)
        replies[what] = reply
        return reply

    def report(i: int) -> None:
        rider = f"rider-{i}"
        send("report text", rider, "text", text="路口积水很深，电动车过不去")
        lat, lng = points[i % len(points)]
        send("report location", rider, "location", lat=lat, lng=lng, label="路口")
        send("query 我的上报", rider, "text", text="我的上报")

    for i in range(20):  # warm caches, the grid index, statement caches
        report(10_000_000 + i)
    samples.clear()
    statements.clear()
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        profiler.start()
    for i in range(n):
        report(i)
    # Workers claim: the demo's worker openids, each claiming the newest ticket routed
    # to them, as "认领" without a number does.
    for i in range(max(n // 4, 1)):
        send("claim", f"worker-{i % 16 + 1}", "text", text="认领")
    # The notices those messages owe (one per filed ticket and claim), drained as the
    # server's outbox job does, through the sandbox channel.
    from app.jobs import make_channel, make_sender

    sender = make_sender(settings, chat.sessions, make_channel(settings, chat.sessions)[0])
    before, t0 = counter.count, time.thread_time()
    sent = sender.drain().sent
    if sent:
        samples["outbox notice"] = [(time.thread_time() - t0) / sent]
        statements["outbox notice"] = [(counter.count - before) / sent]
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    engine.dispose()
    figures = {}
    for label in KINDS_MEASURED:
        ms = [s * 1000 for s in samples[label]]
        figures[label] = {
            "n": len(ms),
            **cpu_figures(ms),
            "statements": median(statements[label]) if ms else 0,
            "last reply": replies.get(label, "")[:30],
        }
    return figures


@benchmark("chat_path", "ChatEngine.handle in process: CPU and SQL statements per message")
def chat_path(ctx: Context) -> list[Row]:
    n = int(ctx.option("n", ctx.size(400, 20)))
    rows = []
    for kind in KINDS:
        with ctx.database(kind) as url:
            seed_demo(url)
            figures = run_path(url, n)
        for label, f in figures.items():
            failed = ""
            if label == "report location" and "已受理" not in f["last reply"]:
                failed = f"report not filed: {f['last reply']!r}"
            rows.append(Row(f"{kind} {label}", f, failed=failed))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=KINDS, default="sqlite")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, temporary_database(args.db, Path(tmp)) as url:
        seed_demo(url)
        for label, f in run_path(url, args.n, profile=args.profile).items():
            print(f"{args.db:9} {label:18} {f}")


if __name__ == "__main__":
    main()
