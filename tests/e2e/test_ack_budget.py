"""A slow answer over HTTP: WeChat gets "success" in time, the rider gets the answer later."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from models import OutboxMessage, ParkedMessage, Ticket
from tests.chatkit import FENGYUAN_1
from tests.e2e.conftest import wait_for


def _hold_handlers(bot) -> threading.Event:
    """Make every handler wait (a slow database) until the returned event is set."""
    state = bot.app.state
    handle = state.timed_handle  # what the webhook runs in a handler thread
    release = threading.Event()

    def slow(msg, check):
        release.wait(10)
        return handle(msg, check)

    state.timed_handle = slow
    return release


def test_a_slow_answer_is_acknowledged_in_time_and_sent_late_once(gridbot):
    bot = gridbot("safe", ack_budget_seconds=1.0)
    # Another rider's report first (its answers passive or late: a fresh server is busy
    # with its start-up sweeps), so that the grid index is built before timing matters.
    bot.say("rider-9", "路灯不亮")
    bot.send_location("rider-9", FENGYUAN_1)
    wait_for(lambda: bot.count(Ticket) == 1, "the first report's ticket")
    release = _hold_handlers(bot)
    text = bot.sim.text("rider-1", "路口积水很深")
    copies = [text, bot.sim.resign(text), bot.sim.resign(text)]

    def deliver(req):
        t0 = time.monotonic()
        return bot.deliver(req), time.monotonic() - t0

    with ThreadPoolExecutor(len(copies)) as pool:
        answers = list(pool.map(deliver, copies))

    assert [reply for reply, _ in answers] == ["", "", ""]  # "success": WeChat stops retrying
    # The handlers are held for 10 s: every copy was answered while they still waited,
    # inside WeChat's 5 s.
    assert max(took for _, took in answers) < 5.0
    key = f"msg:{text.msg_id}"
    assert bot.count(ParkedMessage, ParkedMessage.dedup_key == key) == 1
    assert bot.notices_to("rider-1") == []

    release.set()
    bot.wait_notice("rider-1", "位置")  # the answer, as a customer-service message
    wait_for(
        lambda: bot.count(
            ParkedMessage, ParkedMessage.dedup_key == key, ParkedMessage.answered_at.is_not(None)
        ),
        "the parked message to be answered",
    )
    assert bot.count(OutboxMessage, OutboxMessage.reply_to == key) == 1

    # The rider goes on as usual; the answers are passive again.
    assert "#2" in bot.send_location("rider-1", FENGYUAN_1)
    assert bot.count(Ticket) == 2
    time.sleep(0.5)
    assert len(bot.notices_to("rider-1")) == 1  # the late answer, once


def test_with_no_budget_a_slow_answer_is_waited_for(gridbot):
    bot = gridbot("safe", ack_budget_seconds=0)
    release = _hold_handlers(bot)
    threading.Timer(0.5, release.set).start()
    assert "位置" in bot.say("rider-1", "路口积水很深")
    assert bot.count(ParkedMessage) == 0
