"""The outbox sender: delivers what is owed, retries with backoff, gives up visibly."""

from sqlalchemy import select

from app.db import unit_of_work
from app.delivery.outbox_sender import LEASE, DrainResult, OutboxSender
from app.services.outbox import enqueue
from bot.channels import SandboxChannel
from models import OutboxMessage


class FlakyChannel:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.delivered: list[tuple[str, str]] = []

    def send_text(self, openid, text, *, outbox_id):
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("WeChat unreachable")
        self.delivered.append((openid, text))


def _owe(sessions, clock, *texts):
    with unit_of_work(sessions) as s:
        for text in texts:
            enqueue(s, to_openid="worker-1", kind="test", text=text, now=clock())


def _rows(sessions):
    with sessions() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_owed_notices_are_sent_once_in_order(sessions, clock):
    _owe(sessions, clock, "第一条", "第二条")
    channel = FlakyChannel(failures=0)
    sender = OutboxSender(sessions, channel, clock=clock)
    assert sender.drain().sent == 2
    assert sender.drain().sent == 0
    assert channel.delivered == [("worker-1", "第一条"), ("worker-1", "第二条")]
    assert [r.status for r in _rows(sessions)] == ["sent", "sent"]


def test_a_failed_send_waits_for_its_backoff_then_succeeds(sessions, clock):
    _owe(sessions, clock, "积水通知")
    channel = FlakyChannel(failures=1)
    sender = OutboxSender(sessions, channel, clock=clock)
    assert sender.drain().failed == 1
    (row,) = _rows(sessions)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "WeChat unreachable" in row.last_error
    assert sender.drain().sent == 0  # not due yet
    clock.advance(seconds=3)
    assert sender.drain().sent == 1
    assert channel.delivered == [("worker-1", "积水通知")]


def test_after_max_attempts_a_notice_is_dead_not_dropped(sessions, clock):
    _owe(sessions, clock, "送不出去")
    sender = OutboxSender(sessions, FlakyChannel(failures=99), clock=clock, max_attempts=3)
    outcomes = []
    for _ in range(3):
        outcomes.append(sender.drain())
        clock.advance(minutes=10)
    assert [o.dead for o in outcomes] == [0, 0, 1]
    (row,) = _rows(sessions)
    assert (row.status, row.attempts) == ("dead", 3)


def test_a_crash_mid_send_is_retried_when_the_lease_runs_out(sessions, clock):
    _owe(sessions, clock, "崩溃前")
    sender = OutboxSender(sessions, FlakyChannel(failures=0), clock=clock)
    assert len(sender._lease()) == 1  # leased, then the process "dies" before sending
    assert sender.drain().sent == 0
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert sender.drain().sent == 1


def test_the_sandbox_channel_stores_each_notice_once(sessions, clock):
    _owe(sessions, clock, "沙盒通知")
    channel = SandboxChannel(sessions)
    (row,) = _rows(sessions)
    channel.send_text("worker-1", "沙盒通知", outbox_id=row.id)
    channel.send_text("worker-1", "沙盒通知", outbox_id=row.id)
    assert [m.text for m in channel.messages_to("worker-1")] == ["沙盒通知"]
    assert channel.messages_to("worker-2") == []


class WindowClosed(Exception):
    errcode = 45015


def test_a_late_result_from_an_expired_lease_does_not_undo_a_newer_one(sessions, clock):
    """The first sender's lease runs out mid-send; a second sender delivers the notice;
    the first one's late "window closed" must not turn it into a held notice."""
    _owe(sessions, clock, "慢通知")
    slow = OutboxSender(sessions, FlakyChannel(failures=0), clock=clock)
    (stale,) = slow._lease()
    clock.advance(seconds=LEASE.total_seconds() + 1)
    fast_channel = FlakyChannel(failures=0)
    assert OutboxSender(sessions, fast_channel, clock=clock).drain().sent == 1
    slow._fall_back(stale, WindowClosed("45015"), 45015, DrainResult())  # arrives late
    slow._record_failure(stale, ConnectionError("late"), -1, DrainResult())
    (row,) = _rows(sessions)
    assert (row.status, row.last_error) == ("sent", "")
    assert fast_channel.delivered == [("worker-1", "慢通知")]


def test_a_drain_leases_in_batches_and_stops_at_a_short_one(sessions, clock):
    from sqlalchemy import event

    _owe(sessions, clock, *[f"通知 {i}" for i in range(5)])
    leases = []

    def on_execute(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "FROM outbox" in statement:
            leases.append(statement)

    engine = sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        channel = FlakyChannel(failures=0)
        assert OutboxSender(sessions, channel, clock=clock, batch=2).drain().sent == 5
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    assert len(channel.delivered) == 5
    assert len(leases) == 3  # 2 + 2 + 1: the short third lease ends it, no empty fourth


def test_notices_sent_before_a_lease_breaks_off_are_not_sent_again(sessions, clock):
    """One lease's sends are marked together after it: an error that ends the lease
    early still marks what went out, so no worker gets those notices twice."""
    import pytest

    _owe(sessions, clock, "第一条", "第二条", "第三条")

    class BreaksOff(FlakyChannel):
        def send_text(self, openid, text, *, outbox_id):
            if text == "第三条":
                raise KeyboardInterrupt  # not a send failure: the drain itself stops
            super().send_text(openid, text, outbox_id=outbox_id)

    channel = BreaksOff(failures=0)
    with pytest.raises(KeyboardInterrupt):
        OutboxSender(sessions, channel, clock=clock).drain()
    assert [r.status for r in _rows(sessions)] == ["sent", "sent", "pending"]
    clock.advance(seconds=LEASE.total_seconds() + 1)
    again = FlakyChannel(failures=0)
    assert OutboxSender(sessions, again, clock=clock).drain().sent == 1
    assert again.delivered == [("worker-1", "第三条")]


def test_a_slow_channel_marks_what_it_sent_before_the_lease_runs_out(sessions, clock):
    """Another sender leases a row again once its lease runs out: what a slow lease sent
    is marked before that, or the worker would get it twice."""
    _owe(sessions, clock, "第一条", "第二条")
    seen = []

    class Slow(FlakyChannel):
        def send_text(self, openid, text, *, outbox_id):
            seen.append([r.status for r in _rows(sessions)])
            super().send_text(openid, text, outbox_id=outbox_id)
            clock.advance(seconds=LEASE.total_seconds() * 0.6)  # most of the lease

    assert OutboxSender(sessions, Slow(failures=0), clock=clock).drain().sent == 2
    assert seen == [["pending", "pending"], ["sent", "pending"]]
