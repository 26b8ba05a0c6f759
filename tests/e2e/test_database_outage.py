"""Issue 15 item 11: a failing database loses nothing and never makes WeChat wait.

PostgreSQL is reached through a loopback proxy the test controls. In the middle of a burst
of reports, sent the way WeChat sends them (a retry after 5 s without an answer, or after
an error; sometimes a copy overlapping the first), the proxy refuses connections for a
minute. Every report must become exactly one ticket and every message get exactly one
answer: its passive reply, or one customer-service message once the database is back.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import func, select

from app.domain.coords import wgs84_to_gcj02
from models import OutboxMessage, ParkedMessage, Rider, Ticket
from tests.chatkit import FENGYUAN_1
from tests.e2e.conftest import wait_for
from tests.tcpproxy import TcpProxy

OUTAGE_SECONDS = float(os.environ.get("GRIDBOT_TEST_OUTAGE_SECONDS", "60"))
RIDERS = 24
SPACING_SECONDS = 3.0  # rider i starts at i * SPACING: the burst spans the outage

postgres_only = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


def _through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0] + "@" if len(netloc) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))


class WeChat:
    """Delivers each message as WeChat does and records what the rider saw."""

    def __init__(self, bot) -> None:
        self.bot = bot
        self.passive: dict[str, list[str]] = {}
        self.acks: list[float] = []
        self.lock = threading.Lock()

    def deliver(self, req, *, overlap: bool = False) -> None:
        key = f"msg:{req.msg_id}"
        if overlap:  # a copy arriving while the first attempt still runs
            threading.Timer(0.3, self._attempts, args=(self.bot.sim.resign(req), key)).start()
        self._attempts(req, key)

    def _attempts(self, req, key: str) -> None:
        for attempt in range(3):
            copy = req if attempt == 0 else self.bot.sim.resign(req)
            t0 = time.monotonic()
            try:
                answer = httpx.post(
                    f"{self.bot.base_url}/wechat", params=copy.params, content=copy.body, timeout=5
                )
            except httpx.HTTPError:
                continue  # no answer within 5 s: WeChat sends it again
            with self.lock:
                self.acks.append(time.monotonic() - t0)
            if answer.status_code != 200:
                continue
            text = self.bot.sim.reply_text(answer.content)
            with self.lock:
                self.passive.setdefault(key, [])
                if text:
                    self.passive[key].append(text)
            return
        with self.lock:
            self.passive.setdefault(key, []).append("GAVE UP")


@postgres_only
def test_item_11_postgresql_refusing_connections_for_a_minute_loses_no_report(
    gridbot, db_url, demo_sessions
):
    proxy = TcpProxy(("127.0.0.1", urlsplit(db_url).port or 5432))
    bot = gridbot(
        "safe",
        database_url=_through(proxy, db_url),
        ack_budget_seconds=1.0,
        digest_time="off",
        duplicate_distance_m=0,
    )
    wechat = WeChat(bot)
    lat, lng = wgs84_to_gcj02(*FENGYUAN_1)
    reports = {
        f"rider-{i}": [
            bot.sim.text(f"rider-{i}", "路口积水很深，电动车过不去"),
            bot.sim.location(f"rider-{i}", lat, lng, "枫林路口"),
        ]
        for i in range(RIDERS)
    }

    def rider(i: int) -> None:
        time.sleep(i * SPACING_SECONDS)
        for n, req in enumerate(reports[f"rider-{i}"]):
            wechat.deliver(req, overlap=(i + n) % 3 == 0)
            time.sleep(0.5)

    def tickets() -> int:
        with demo_sessions() as s:
            return s.scalar(select(func.count()).select_from(Ticket))

    try:
        with ThreadPoolExecutor(RIDERS) as pool:
            futures = [pool.submit(rider, i) for i in range(RIDERS)]
            wait_for(lambda: tickets() >= 2, "the first tickets", 30)
            proxy.refuse()
            time.sleep(OUTAGE_SECONDS)
            proxy.forward()
            for f in futures:
                f.result()
        spool = bot.app.state.spool
        wait_for(lambda: not spool.look(), "the spool to be replayed", 60)

        def all_answered() -> bool:
            with demo_sessions() as s:
                open_parked = s.scalar(
                    select(func.count())
                    .select_from(ParkedMessage)
                    .where(ParkedMessage.answered_at.is_(None))
                )
                pending = s.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status != "sent")
                )
            return open_parked == 0 and pending == 0

        wait_for(all_answered, "every late answer to be sent", 60)
    finally:
        proxy.close()

    assert max(wechat.acks) < 5, "WeChat waited for an answer"
    with demo_sessions() as s:
        per_rider = dict(
            s.execute(
                select(Rider.openid, func.count(Ticket.id))
                .join(Ticket, Ticket.reporter_id == Rider.id)
                .group_by(Rider.openid)
            ).all()
        )
        late = {}
        for key, to, text in s.execute(
            select(OutboxMessage.reply_to, OutboxMessage.to_openid, OutboxMessage.text).where(
                OutboxMessage.reply_to.is_not(None)
            )
        ):
            late.setdefault(key, []).append((to, text))
    assert per_rider == {f"rider-{i}": 1 for i in range(RIDERS)}
    spooled = 0
    for openid, reqs in reports.items():
        for req in reqs:
            key = f"msg:{req.msg_id}"
            passive = wechat.passive.get(key, [])
            assert "GAVE UP" not in passive, key
            answers = (1 if passive else 0) + len(late.get(key, []))
            assert answers == 1, (key, passive, late.get(key))
            if key in late:
                spooled += 1
                ((to, text),) = late[key]
                assert to == openid and wechat.bot.fake.messages_to(openid).count(text) == 1
    # Riders kept writing through the outage: their messages were answered late.
    assert spooled >= OUTAGE_SECONDS / SPACING_SECONDS
