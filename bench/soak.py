"""Soak: thousands of messages, each delivered up to three times at once (as WeChat's
retries are), while two outbox senders talk to a fake WeChat that fails a share of calls.

    uv run python -m bench.soak --riders 1000 [--db postgresql://postgres@127.0.0.1/gridbot_soak]

Prints the counts; exits non-zero on any lost report, duplicate ticket or duplicate notice.
The CI-sized run is tests/integration/test_soak.py.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.bootstrap import chat_engine
from app.db import make_engine, make_sessionmaker, unit_of_work
from app.delivery.outbox_sender import OutboxSender
from app.demo.seed import DISTRICT, seed
from app.domain.coords import wgs84_to_gcj02
from app.migrate import upgrade
from app.settings import Settings
from bot.api import WeChatAPI
from bot.channels import WeChatChannel
from bot.inbound import InboundMessage
from models import OutboxMessage, Rider, Ticket, utcnow
from tests.fakewechat import start_fake_wechat

# What the fake answers a failing call with: errcodes (45009 pauses the channel, 45015
# holds the notice for the next reply), HTTP 500, 0 = connection dropped before WeChat
# acts, -2 = WeChat acts but the answer is lost (the at-least-once window).
OUTCOMES = (-1, 45009, 45015, 500, 0, -2)
_msg_ids = itertools.count(8_000_000_000_000_000_000)


def grid_points() -> list[tuple[str, float, float]]:
    """(grid code, lat, lng in GCJ-02 as a phone sends it) at each demo grid's centre."""
    data = json.loads(Path(DISTRICT).read_text(encoding="utf-8"))
    points = []
    for feature in data["features"]:
        if feature["properties"]["level"] == "grid":
            c = shape(feature["geometry"]).representative_point()
            points.append((feature["properties"]["code"], *wgs84_to_gcj02(c.y, c.x)))
    return points


class Soak:
    def __init__(self, sessions: sessionmaker[Session], *, threads: int, dup_max: int) -> None:
        self.sessions = sessions
        # Each rider reports a problem of their own: duplicate merging (reports near an
        # open ticket join it) is off, so every report must become its own ticket.
        settings = Settings(database_url="sqlite://", duplicate_distance_m=0)
        self.engine = chat_engine(settings, sessions)
        self.pool = ThreadPoolExecutor(threads)
        self.dup_max = dup_max
        self.rng = random.Random(42)
        self.messages = 0
        self.deliveries = 0
        self.replies: dict[str, set[str]] = {}

    def send_all(self, msgs: list[InboundMessage]) -> None:
        """Each message 1..dup_max times, the copies at the same moment."""
        futures = []
        for msg in msgs:
            copies = self.rng.randint(1, self.dup_max)
            self.messages += 1
            self.deliveries += copies
            futures += [(msg, self.pool.submit(self.engine.handle, msg)) for _ in range(copies)]
        for msg, future in futures:
            self.replies.setdefault(msg.dedup_key, set()).add(future.result())

    @staticmethod
    def msg(openid: str, kind: str, **fields) -> InboundMessage:
        return InboundMessage(
            kind=kind,
            openid=openid,
            account="gh_gridbot",
            created_at=utcnow(),
            msg_id=str(next(_msg_ids)),
            **fields,
        )


def _drain_forever(sender: OutboxSender, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            if not sender.drain().sent:
                time.sleep(0.02)
        except Exception:  # a failed sweep is retried, as the scheduler would
            time.sleep(0.05)


def soak(
    db_url: str,
    *,
    riders: int = 1000,
    failing_share: float = 0.2,
    dup_max: int = 3,
    threads: int = 16,
    deadline_s: float = 60.0,
) -> dict:
    started = time.monotonic()
    upgrade(db_url)
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with unit_of_work(sessions) as s:
        seed(s)
    fake = start_fake_wechat()
    fake.chaos(failing_share, outcomes=OUTCOMES)
    stop = threading.Event()
    apis = [WeChatAPI(app_id="wx", app_secret="s", base_url=fake.base_url) for _ in range(2)]
    senders = [
        OutboxSender(
            sessions,
            WeChatChannel(api),
            batch=20,
            backoff_unit=0.01,
            lease=timedelta(seconds=20),  # longer than the slowest API call
            rate_limit_pause=timedelta(seconds=0.1),
            max_attempts=30,
        )
        for api in apis
    ]
    drainers = [threading.Thread(target=_drain_forever, args=(s, stop)) for s in senders]
    for t in drainers:
        t.start()
    run = Soak(sessions, threads=threads, dup_max=dup_max)
    tokens_before_expiry = 0
    points = grid_points()
    try:
        openids = [f"soak-rider-{i}" for i in range(riders)]
        run.send_all([run.msg(o, "text", text="这里有垃圾堆放，占道") for o in openids])
        run.send_all(
            [
                run.msg(o, "location", lat=lat, lng=lng, label=f"{code} 路口")
                for o, (code, lat, lng) in zip(openids, itertools.cycle(points), strict=False)
            ]
        )
        while not fake.sent and time.monotonic() - started < deadline_s:
            time.sleep(0.02)
        tokens_before_expiry = fake.token_requests
        fake.expire_tokens()  # mid-run: senders must refresh on 42001 and carry on
        with sessions() as s:
            assigned = s.execute(select(Ticket.id, Ticket.assignee_id)).all()
            staff_openid = dict(
                s.execute(
                    select(Ticket.id, Ticket.assignee.property.mapper.class_.openid).join(
                        Ticket.assignee
                    )
                ).all()
            )
        run.send_all(
            [
                run.msg(staff_openid[t], "text", text=f"认领 {t}")
                for t, _ in assigned
                if t in staff_openid
            ]
        )
        # Wait for the senders to finish: nothing pending.
        while time.monotonic() - started < deadline_s:
            with sessions() as s:
                pending = s.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == "pending")
                )
            if not pending:
                break
            time.sleep(0.1)
        # Everyone with held notices writes again and gets them in the reply.
        for _ in range(5):
            with sessions() as s:
                holders = sorted(
                    set(
                        s.scalars(
                            select(OutboxMessage.to_openid).where(OutboxMessage.status == "held")
                        )
                    )
                )
            if not holders:
                break
            run.send_all([run.msg(o, "text", text="帮助") for o in holders])
    finally:
        stop.set()
        for t in drainers:
            t.join()
        for api in apis:
            api.close()
        run.pool.shutdown()

    with sessions() as s:
        tickets_per_rider = Counter(
            s.scalars(select(Rider.openid).join(Ticket, Ticket.reporter_id == Rider.id))
        )
        statuses = Counter(s.scalars(select(OutboxMessage.status)))
        via = Counter(
            s.scalars(select(OutboxMessage.delivered_via).where(OutboxMessage.status == "sent"))
        )
        owed = {
            f"outbox-{i}"
            for i in s.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.delivered_via.in_(["custom", "template"])
                )
            )
        }
    received = Counter(m["dedup"] for m in fake.sent)
    reply_notices = sum(
        int(line.split("您有 ")[1].split(" 条")[0])
        for replies in run.replies.values()
        for reply in replies
        for line in reply.splitlines()
        if line.startswith("您有 ") and "条新通知" in line
    )
    fake.stop()
    engine.dispose()
    reporters = [o for o in tickets_per_rider if o.startswith("soak-rider-")]
    counts = {
        "riders": riders,
        "messages": run.messages,
        "deliveries": run.deliveries,
        "distinct_replies_per_message_max": max(len(r) for r in run.replies.values()),
        "tickets": sum(tickets_per_rider.values()),
        "lost_reports": riders - len(reporters),
        "duplicate_tickets": sum(c - 1 for c in tickets_per_rider.values() if c > 1),
        "notices_owed": sum(statuses.values()),
        "notices_sent": statuses.get("sent", 0),
        "sent_via": dict(via),
        "notices_pending": statuses.get("pending", 0),
        "notices_held": statuses.get("held", 0),
        "notices_dead": statuses.get("dead", 0),
        "notices_received_by_api": len(received),
        "duplicate_notices": sum(c - 1 for c in received.values() if c > 1),
        "unowed_notices_received": len(set(received) - owed),
        "notices_missing_at_api": len(owed - set(received)),
        "notices_in_replies": reply_notices,
        "api_resends_refused": fake.resends,
        "api_calls": len(fake.requests),
        "token_fetches_before_expiry": tokens_before_expiry,
        "token_fetches_after_expiry": fake.token_requests - tokens_before_expiry,
        "seconds": round(time.monotonic() - started, 1),
    }
    return counts


def problems(counts: dict) -> list[str]:
    wrong = [
        key
        for key in (
            "lost_reports",
            "duplicate_tickets",
            "duplicate_notices",
            "notices_pending",
            "notices_held",
            "notices_dead",
            "unowed_notices_received",
            "notices_missing_at_api",
        )
        if counts[key]
    ]
    if counts["distinct_replies_per_message_max"] != 1:
        wrong.append("a retry got a different reply")
    if counts["notices_in_replies"] != counts["sent_via"].get("reply", 0):
        wrong.append("notices_in_replies")
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--riders", type=int, default=1000)
    parser.add_argument("--failing-share", type=float, default=0.2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--db", default="", help="database URL; default a fresh SQLite file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    db = args.db or f"sqlite:///{tempfile.mkdtemp()}/soak.db"
    counts = soak(db, riders=args.riders, failing_share=args.failing_share, threads=args.threads)
    for key, value in counts.items():
        print(f"{key:>34}: {value}")
    wrong = problems(counts)
    print("OK" if not wrong else f"FAILED: {', '.join(wrong)}")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
