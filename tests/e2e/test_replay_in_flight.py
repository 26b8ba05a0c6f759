"""Issue 20: a request's delivery is recorded by the transaction of the message it carries,
or on its own when the request is answered without one (its message parked before a
handler got to it, or a WeChat retry riding on the attempt already running). Either way,
once one process has accepted it, another refuses it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from app.db import unit_of_work
from app.inbox.deliveries import FORGET_JOB, Delivery, record
from app.jobs import JobContext, job
from app.settings import Settings
from models import InboxMessage
from tests.e2e.conftest import text_xml, wait_for
from tests.e2e.test_ack_budget import _hold_handlers


def test_a_request_acknowledged_before_its_handler_ran_is_refused_by_another_instance(gridbot):
    first = gridbot("plain", ack_budget_seconds=0.3)
    second = gridbot("plain")
    release = _hold_handlers(first)
    captured = first.sim.text("rider-1", "路口积水很深")
    assert first.deliver(captured) == ""  # "success": parked, its handler still waiting

    forged = text_xml("rider-2", "路灯不亮", msg_id=7777777777777777).encode()
    assert second.post(captured).status_code == 403
    assert second.http.post("/wechat", params=captured.params, content=forged).status_code == 403

    release.set()
    first.wait_notice("rider-1", "位置")  # the rider's answer, late
    assert second.post(captured).status_code == 403
    assert first.count(InboxMessage, InboxMessage.openid == "rider-2") == 0


def test_a_retry_that_joined_the_running_attempt_is_refused_by_another_instance(gridbot):
    first, second = gridbot("plain"), gridbot("plain")  # no budget: answers are waited for
    release = _hold_handlers(first)
    original = first.sim.text("rider-1", "路口积水很深")
    retry = first.sim.resign(original)  # WeChat's retry: a fresh timestamp and nonce
    with ThreadPoolExecutor(2) as pool:
        answered = pool.submit(first.deliver, original)
        wait_for(lambda: f"msg:{original.msg_id}" in first.app.state.in_flight, "the attempt")
        joined = pool.submit(first.deliver, retry)
        time.sleep(0.5)  # the retry waits on the running attempt
        release.set()
        assert "位置" in answered.result()
        assert joined.result() == answered.result()

    for captured in (retry, original):
        assert second.post(captured).status_code == 403, captured.params
    assert second.deliver(second.sim.resign(original)) == answered.result()  # a third try
    assert first.count(InboxMessage, InboxMessage.dedup_key == f"msg:{original.msg_id}") == 1


def test_the_sweep_forgets_deliveries_out_of_the_window(sessions):
    old, new = Delivery(1000, "1", "a" * 40), Delivery(2000, "2", "b" * 40)
    with unit_of_work(sessions) as s:
        assert record(s, {old: "msg:1", new: "msg:2"}) == {old, new}
    sweep = job(FORGET_JOB)
    assert sweep is not None and sweep.leader_only and sweep.scheduled_here
    settings = Settings(database_url="sqlite://", signature_window_seconds=300)
    now = datetime.fromtimestamp(1500, UTC)  # 1000 is 500 s before it: out of the window
    assert sweep.run(JobContext(sessions=sessions, settings=settings, clock=lambda: now)) == {
        "forgotten": 1
    }
    with unit_of_work(sessions) as s:
        assert record(s, {old: "msg:3", new: "msg:4"}) == {old}
