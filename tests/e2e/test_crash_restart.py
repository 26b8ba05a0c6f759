"""kill -9 a real `gridbot serve` at chosen points, restart it: every report becomes exactly
one ticket and every notice is delivered exactly once.

The sender is at-least-once: a crash after WeChat accepted a message but before the row
was marked sent means it is sent again after the lease runs out. The fake WeChat refuses
such resends by outbox id (X-Gridbot-Dedup) and counts them in `resends`; the real API
has no idempotency key, so there the user would see that one message twice.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete, func, select, text

from app.db import unit_of_work
from app.domain.coords import wgs84_to_gcj02
from models import ChannelPause, InboxMessage, OutboxMessage, ParkedMessage, Ticket, utcnow
from tests.chatkit import FENGYUAN_1
from tests.e2e.server import ServeProcess
from tests.fakewechat import start_fake_wechat

GCJ = wgs84_to_gcj02(*FENGYUAN_1)
# Starting a server takes seconds; the kill points that do not depend on the database run
# on the production store only.
postgres_only = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


@pytest.fixture
def fake():
    server = start_fake_wechat()
    yield server
    server.stop()


@pytest.fixture
def serve(demo_sessions, db_url, fake, tmp_path):
    process = ServeProcess(db_url=db_url, api_base=fake.base_url, log_dir=tmp_path)
    yield process
    process.stop()


def _report(serve: ServeProcess, rider: str) -> list:
    sim = serve.simulator
    lat, lng = GCJ
    return [sim.text(rider, "路口积水很深"), sim.location(rider, lat, lng, "枫林路口")]


def _wait_until(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _outbox(sessions) -> list[OutboxMessage]:
    with sessions() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _delivered_once(sessions, fake) -> None:
    """Every outbox row is sent, and WeChat received each exactly once."""
    rows = _outbox(sessions)
    assert rows and {r.status for r in rows} == {"sent"}
    received = [m["dedup"] for m in fake.sent]
    assert sorted(received) == sorted(f"outbox-{r.id}" for r in rows)


@postgres_only
def test_kill_after_commit_before_send(serve, demo_sessions, fake):
    # The channel is paused, so the notices are committed but not sent when we kill.
    with unit_of_work(demo_sessions) as s:
        s.add(ChannelPause(channel="wechat", paused_until=utcnow() + timedelta(hours=1)))
    serve.start()
    for req in _report(serve, "rider-1"):
        reply = serve.post(req)
    assert "工单号 #" in reply
    assert [r.status for r in _outbox(demo_sessions)] == ["pending"]
    serve.kill9()
    assert fake.sent == []

    with unit_of_work(demo_sessions) as s:
        s.execute(delete(ChannelPause))
    serve.start()
    _wait_until(lambda: len(fake.sent) == 1)
    time.sleep(0.5)  # room for a wrong second send
    _delivered_once(demo_sessions, fake)
    assert "新工单" in fake.messages_to("worker-1")[0]


@postgres_only
def test_kill_mid_send_resends_once_after_the_lease(serve, demo_sessions, fake):
    fake.delay(1.5, times=1, path_contains="message/custom/send")
    serve.start()
    for req in _report(serve, "rider-1"):
        serve.post(req)
    _wait_until(lambda: ("POST", "/cgi-bin/message/custom/send") in fake.requests)
    serve.kill9()  # WeChat is still answering the send the process was waiting for
    _wait_until(lambda: len(fake.sent) == 1)  # ... and it did deliver it
    assert [r.status for r in _outbox(demo_sessions)] == ["pending"]  # never marked

    serve.start()
    _wait_until(lambda: {r.status for r in _outbox(demo_sessions)} == {"sent"})
    _delivered_once(demo_sessions, fake)
    # The at-least-once window: the restarted sender sent it again after the lease.
    assert fake.resends == 1


def test_kill_mid_requests_then_wechat_retries(serve, demo_sessions, fake, db_url):
    if db_url.startswith("postgresql"):
        serve.workers = 2  # `serve --workers 2`: two processes share webhook and outbox
    serve.start()
    riders = [f"rider-{i}" for i in range(30)]
    reports = {rider: _report(serve, rider) for rider in riders}
    stop = threading.Event()

    def rider_sends(index: int, rider: str) -> None:
        # Riders arrive over three seconds, so that the kill below (after 8 tickets)
        # falls mid-stream however fast the server is.
        time.sleep(index * 0.1)
        for req in reports[rider]:
            if stop.is_set():
                return
            try:
                serve.post(req)
            except httpx.HTTPError:
                return  # the server died under this request

    def tickets() -> int:
        with demo_sessions() as s:
            return s.scalar(select(func.count()).select_from(Ticket))

    with ThreadPoolExecutor(len(riders)) as pool:
        futures = [pool.submit(rider_sends, i, r) for i, r in enumerate(riders)]
        _wait_until(lambda: tickets() >= 8, timeout=10)
        serve.kill9()  # mid-request for whoever is in flight
        stop.set()
        for f in futures:
            f.result()
    before = tickets()
    print(f"\ntickets committed before the kill: {before} of {len(riders)}")
    assert before < len(riders)

    serve.start()
    for rider in riders:  # WeChat retries whatever did not get an answer
        replies = [serve.redeliver(req) for req in reports[rider]]
        assert any("工单号 #" in r for r in replies), (rider, replies)
    with demo_sessions() as s:
        per_rider = s.execute(
            select(Ticket.reporter_id, func.count()).group_by(Ticket.reporter_id)
        ).all()
    assert len(per_rider) == len(riders)
    assert {count for _, count in per_rider} == {1}
    _wait_until(lambda: {r.status for r in _outbox(demo_sessions)} == {"sent"})
    _delivered_once(demo_sessions, fake)
    assert len(fake.messages_to("worker-1")) == len(riders)


@postgres_only
def test_kill_after_acknowledging_before_answering(demo_sessions, db_url, fake, tmp_path):
    """Messages answered "success" before their handler ran are answered after a crash."""
    serve = ServeProcess(
        db_url=db_url,
        api_base=fake.base_url,
        log_dir=tmp_path,
        ack_budget_seconds=0.3,
        late_recovery_seconds=1,
    )
    engine = demo_sessions.kw["bind"]
    try:
        serve.start()
        riders = [f"rider-{i}" for i in range(3)]
        # A database stuck for the handlers (they read riders first), not for parking.
        with engine.connect() as blocker:
            blocker.execute(text("LOCK TABLE riders IN ACCESS EXCLUSIVE MODE"))
            answers = [serve.post(serve.simulator.text(r, "路口积水很深")) for r in riders]
            assert answers == ["", "", ""]  # WeChat got "success" and will not retry
            serve.kill9()  # before any handler could run
            blocker.rollback()
        with demo_sessions() as s:
            assert s.scalar(select(func.count()).select_from(InboxMessage)) == 0
            assert s.scalar(select(func.count()).select_from(ParkedMessage)) == 3

        serve.start()  # the leader answers what the dead process acknowledged
        _wait_until(lambda: all(fake.messages_to(r) for r in riders))
        time.sleep(0.5)  # room for a wrong second answer
        for rider in riders:
            [answer] = fake.messages_to(rider)
            assert "位置" in answer
        with demo_sessions() as s:
            assert s.scalar(select(func.count()).select_from(InboxMessage)) == 3
            unanswered = select(func.count()).where(ParkedMessage.answered_at.is_(None))
            assert s.scalar(unanswered.select_from(ParkedMessage)) == 0
    finally:
        serve.stop()
