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


def _burst(bot, sessions, proxy, outage, seconds: float, riders: int, spacing: float):
    """Riders report (a text, then a location) one every `spacing` seconds while
    `outage()` is in force for `seconds` from the second ticket on; then the proxy
    forwards again and the test waits until every kept message was replayed and every
    answer sent. Returns the reports by rider and what WeChat saw."""
    wechat = WeChat(bot)
    lat, lng = wgs84_to_gcj02(*FENGYUAN_1)
    reports = {
        f"rider-{i}": [
            bot.sim.text(f"rider-{i}", "路口积水很深，电动车过不去"),
            bot.sim.location(f"rider-{i}", lat, lng, "枫林路口"),
        ]
        for i in range(riders)
    }

    def rider(i: int) -> None:
        time.sleep(i * spacing)
        for n, req in enumerate(reports[f"rider-{i}"]):
            wechat.deliver(req, overlap=(i + n) % 3 == 0)
            time.sleep(0.5)

    def tickets() -> int:
        with sessions() as s:
            return s.scalar(select(func.count()).select_from(Ticket))

    def all_answered() -> bool:
        with sessions() as s:
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

    try:
        with ThreadPoolExecutor(riders) as pool:
            futures = [pool.submit(rider, i) for i in range(riders)]
            wait_for(lambda: tickets() >= 2, "the first tickets", 30)
            outage()
            time.sleep(seconds)
            proxy.forward()
            for f in futures:
                f.result()
        spool = bot.app.state.spool
        wait_for(lambda: not spool.look(), "the spool to be replayed", 60)
        wait_for(all_answered, "every late answer to be sent", 60)
    finally:
        proxy.close()
    return reports, wechat


def _assert_one_ticket_per_report_and_one_answer_per_message(sessions, reports, wechat) -> int:
    """How many messages were answered late."""
    print(f"\n{len(wechat.acks)} deliveries, slowest acknowledged in {max(wechat.acks):.2f} s")
    assert max(wechat.acks) < 5, "WeChat waited for an answer"
    with sessions() as s:
        per_rider = dict(
            s.execute(
                select(Rider.openid, func.count(Ticket.id))
                .join(Ticket, Ticket.reporter_id == Rider.id)
                .group_by(Rider.openid)
            ).all()
        )
        late: dict[str, list[tuple[str, str]]] = {}
        for key, to, text in s.execute(
            select(OutboxMessage.reply_to, OutboxMessage.to_openid, OutboxMessage.text).where(
                OutboxMessage.reply_to.is_not(None)
            )
        ):
            late.setdefault(key, []).append((to, text))
    seen = {
        openid: [(wechat.passive.get(f"msg:{r.msg_id}"), late.get(f"msg:{r.msg_id}")) for r in reqs]
        for openid, reqs in reports.items()
    }
    assert per_rider == dict.fromkeys(reports, 1), seen
    answered_late = 0
    for openid, reqs in reports.items():
        for req in reqs:
            key = f"msg:{req.msg_id}"
            passive = wechat.passive.get(key, [])
            assert "GAVE UP" not in passive, key
            answers = (1 if passive else 0) + len(late.get(key, []))
            assert answers == 1, (key, passive, late.get(key))
            if key in late:
                answered_late += 1
                ((to, text),) = late[key]
                assert to == openid and wechat.bot.fake.messages_to(openid).count(text) == 1
    return answered_late


def _gridbot_through(gridbot, proxy, db_url):
    return gridbot(
        "safe",
        database_url=_through(proxy, db_url),
        ack_budget_seconds=1.0,
        digest_time="off",
        duplicate_distance_m=0,
    )


@postgres_only
def test_item_11_postgresql_refusing_connections_for_a_minute_loses_no_report(
    gridbot, db_url, demo_sessions
):
    proxy = TcpProxy(("127.0.0.1", urlsplit(db_url).port or 5432))
    bot = _gridbot_through(gridbot, proxy, db_url)
    reports, wechat = _burst(
        bot, demo_sessions, proxy, proxy.refuse, OUTAGE_SECONDS, RIDERS, SPACING_SECONDS
    )
    late = _assert_one_ticket_per_report_and_one_answer_per_message(demo_sessions, reports, wechat)
    # Riders kept writing through the outage: their messages were answered late.
    assert late >= OUTAGE_SECONDS / SPACING_SECONDS


@postgres_only
def test_item_11_a_database_that_hangs_never_makes_wechat_wait(gridbot, db_url, demo_sessions):
    """No byte moves for 10 s (connections stay open): every answer within the budget."""
    proxy = TcpProxy(("127.0.0.1", urlsplit(db_url).port or 5432))
    bot = _gridbot_through(gridbot, proxy, db_url)
    reports, wechat = _burst(bot, demo_sessions, proxy, proxy.hang, 10, 8, 1.5)
    late = _assert_one_ticket_per_report_and_one_answer_per_message(demo_sessions, reports, wechat)
    assert late >= 4
