"""Signed webhooks: ticket events POSTed to a city platform through the outbox, with the
notices' retries, backoff and dead letters."""

import time

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.delivery.outbox_sender import LEASE, OutboxSender
from app.delivery.webhook_channel import WebhookRouting
from app.domain.tickets import Action
from app.services.errors import InvalidInput
from app.services.handling.actors import Actor
from app.services.handling.ticket_actions import act
from app.services.handling.tickets import get_ticket
from app.services.webhooks import hooks
from bot.channels import SandboxChannel
from models import OutboxMessage, Staff
from tests.chatkit import FENGYUAN_1, Chat
from tests.webhookkit import Receiver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _add(sessions, clock, receiver, events):
    with unit_of_work(sessions) as s:
        hook, secret = hooks.add(
            s, url=receiver.url, events=events, now=clock(), allow_private=True
        )
        receiver.secret = secret
        return hook.id


def _sender(sessions, clock, **kw):
    timeout = kw.pop("timeout_seconds", 2.0)
    channel = WebhookRouting(
        SandboxChannel(sessions), sessions, allow_private=True, timeout_seconds=timeout
    )
    return OutboxSender(sessions, channel, clock=clock, **kw)


def _report(chat):
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")


def test_subscribed_events_arrive_signed_with_the_tickets_public_fields(
    demo_sessions, clock, receiver
):
    _add(demo_sessions, clock, receiver, "ticket.created,ticket.claimed,ticket.resolved")
    chat = Chat(demo_sessions, clock)
    _report(chat)
    chat.text("worker-1", "认领 1")
    chat.text("worker-1", "进展 1 排水车已到")  # ticket.noted: not subscribed
    chat.text("worker-1", "办结 1 积水已排除")
    result = _sender(demo_sessions, clock).drain()
    assert receiver.refused == []
    assert receiver.events == [
        ("ticket.created", 1),
        ("ticket.claimed", 1),
        ("ticket.resolved", 1),
    ]
    assert result.sent >= 3
    created, claimed, resolved = receiver.accepted
    assert created["status"] == "assigned" and claimed["status"] == "claimed"
    request = resolved["service_request"]
    assert request["service_request_id"] == "1"
    assert request["status"] == "closed"  # GeoReport: resolved is closed
    assert resolved["update_status"] == "FIXED"
    assert request["service_code"] == "flooding"
    assert request["lat"] == pytest.approx(FENGYUAN_1[0], abs=1e-5)
    assert "积水已排除" in request["status_notes"]
    # Public fields only: nobody's openid, name or contact details.
    assert "rider-1" not in str(receiver.accepted) and "worker-1" not in str(receiver.accepted)
    assert len({e["event_id"] for e in receiver.accepted}) == 3
    assert receiver.attempts == 3  # nothing else was POSTed


def test_a_wrong_secret_is_caught_by_the_receivers_check(demo_sessions, clock, receiver):
    _add(demo_sessions, clock, receiver, "*")
    receiver.secret = "whsec_someone-elses"
    _report(Chat(demo_sessions, clock))
    _sender(demo_sessions, clock).drain()
    assert receiver.refused == ["bad signature"] and receiver.accepted == []


def test_a_failing_receiver_gets_retries_with_backoff_then_a_dead_letter_to_retry(
    demo_sessions, clock, receiver
):
    hook_id = _add(demo_sessions, clock, receiver, "ticket.created")
    _report(Chat(demo_sessions, clock))
    receiver.status = 500
    sender = _sender(demo_sessions, clock, max_attempts=3)
    assert sender.drain().failed == 1
    assert sender.drain().failed == 0  # waits for its backoff: not tried again at once
    assert receiver.attempts == 1
    clock.advance(minutes=10)
    assert sender.drain().failed == 1
    clock.advance(minutes=10)
    assert sender.drain().dead == 1
    assert receiver.attempts == 3
    with demo_sessions() as s:
        (listed,) = hooks.listing(s)
    assert listed["deliveries"] == {"pending": 0, "sent": 0, "dead": 1}
    (dead,) = listed["dead"]
    assert dead["event"] == "ticket.created" and "HTTP 500" in dead["error"]

    receiver.status = 200
    with unit_of_work(demo_sessions) as s:
        assert hooks.retry(s, ids=None, hook_id=hook_id, now=clock()) == 1
    assert sender.drain().sent == 1
    assert receiver.events == [("ticket.created", 1)]
    with demo_sessions() as s:
        assert hooks.listing(s)[0]["deliveries"] == {"pending": 0, "sent": 1, "dead": 0}


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(
    demo_sessions, clock, receiver
):
    _add(demo_sessions, clock, receiver, "ticket.created,ticket.claimed,ticket.resolved")
    chat = Chat(demo_sessions, clock)
    _report(chat)
    chat.text("worker-1", "认领 1")
    chat.text("worker-1", "办结 1 积水已排除")
    receiver.delay = 1.5
    assert _sender(demo_sessions, clock, timeout_seconds=0.5).drain().failed == 3
    # One timeout, not three: the notices behind a silent receiver do not wait for each.
    assert receiver.attempts == 1
    with demo_sessions() as s:
        rows = s.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.to_openid == "webhook:1")
            .order_by(OutboxMessage.id)
        ).all()
    assert [(r.status, r.last_errcode) for r in rows] == [("pending", -1)] * 3
    assert "Timeout" in rows[0].last_error
    assert "did not answer a moment ago" in rows[1].last_error


class Crash(BaseException):
    """The process dies (not an error the sender records)."""


def test_a_crash_between_the_change_and_its_delivery_loses_nothing(demo_sessions, clock, receiver):
    _add(demo_sessions, clock, receiver, "ticket.created,ticket.claimed")
    chat = Chat(demo_sessions, clock)
    _report(chat)

    class DiesWhilePosting(WebhookRouting):
        def send_text(self, openid, text, *, outbox_id):
            raise Crash

    dying = OutboxSender(
        demo_sessions,
        DiesWhilePosting(SandboxChannel(demo_sessions), demo_sessions, allow_private=True),
        clock=clock,
    )
    with pytest.raises(Crash):
        dying.drain()  # leased the delivery, then died
    # A change that is rolled back owes nothing: the delivery is in its transaction.
    with pytest.raises(RuntimeError), unit_of_work(demo_sessions) as s:
        worker = s.scalars(select(Staff).where(Staff.openid == "worker-1")).one()
        act(s, get_ticket(s, 1), Action.CLAIM, Actor.of_staff(worker), now=clock())
        raise RuntimeError("crash before commit")
    chat.text("worker-1", "认领 1")
    sender = _sender(demo_sessions, clock)
    sender.drain()
    assert receiver.events == [("ticket.claimed", 1)]  # the leased one waits for its lease
    clock.advance(seconds=LEASE.total_seconds() + 1)
    sender.drain()
    assert sorted(receiver.events) == [("ticket.claimed", 1), ("ticket.created", 1)]


def test_no_hook_no_delivery_and_a_removed_hook_hears_nothing_more(demo_sessions, clock, receiver):
    chat = Chat(demo_sessions, clock)
    _report(chat)
    with demo_sessions() as s:
        assert s.scalars(select(OutboxMessage.to_openid)).all().count("webhook:1") == 0
    hook_id = _add(demo_sessions, clock, receiver, "*")
    chat.text("worker-1", "认领 1")
    with unit_of_work(demo_sessions) as s:
        assert hooks.remove(s, hook_id, now=clock()) == 1
    chat.text("worker-1", "办结 1 积水已排除")
    _sender(demo_sessions, clock).drain()
    assert receiver.attempts == 0
    with demo_sessions() as s:
        (listed,) = hooks.listing(s)
    assert listed["removed_at"] and listed["deliveries"]["dead"] == 1


def test_only_public_http_urls_are_accepted_unless_private_targets_are_allowed(
    demo_sessions, clock
):
    def public(host, port):
        return ["93.184.215.14"] if host == "hooks.example.com" else ["10.1.2.3"]

    with unit_of_work(demo_sessions) as s:
        for url, words in [
            ("ftp://hooks.example.com/x", "http:// or https://"),
            ("http://127.0.0.1:9000/hook", "loopback or private"),
            ("https://intranet.example.com/hook", "10.1.2.3"),
        ]:
            with pytest.raises(InvalidInput, match=words):
                hooks.add(s, url=url, events="*", now=clock(), resolver=public)
        with pytest.raises(InvalidInput, match=r"unknown event 'ticket\.done'"):
            hooks.add(
                s,
                url="https://hooks.example.com/x",
                events="ticket.done",
                now=clock(),
                resolver=public,
            )
        _, secret = hooks.add(
            s,
            url="https://hooks.example.com/x",
            events="ticket.created",
            now=clock(),
            resolver=public,
        )
        assert secret.startswith("whsec_") and len(secret) > 40
        hooks.add(s, url="http://127.0.0.1:9000/hook", events="*", now=clock(), allow_private=True)


def test_the_command_line_adds_tests_lists_retries_and_removes_a_hook(
    db_url, sessions, monkeypatch, tmp_path, receiver
):
    from typer.testing import CliRunner

    from app.cli import app
    from app.settings import get_settings

    monkeypatch.setenv("GRIDBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("GRIDBOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    runner = CliRunner()

    def cli(*args, code=0):
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output
        return result.output

    try:
        refused = cli("webhooks", "add", "--url", receiver.url, "--events", "*", code=1)
        assert "GRIDBOT_WEBHOOK_ALLOW_PRIVATE" in refused
        monkeypatch.setenv("GRIDBOT_WEBHOOK_ALLOW_PRIVATE", "true")
        get_settings.cache_clear()
        out = cli("webhooks", "add", "--url", receiver.url, "--events", "ticket.created")
        receiver.secret = out.strip().splitlines()[-1]
        assert receiver.secret.startswith("whsec_")
        assert "delivered" in cli("webhooks", "test", "1")
        assert receiver.events == [("webhook.test", None)]

        receiver.status = 503
        assert "not delivered yet" in cli("webhooks", "test", "1", code=1)
        with unit_of_work(sessions) as s:
            # As if its attempts ran out (the backoff is tested above, with a clock).
            pending = OutboxMessage.__table__.c.status == "pending"
            s.execute(OutboxMessage.__table__.update().where(pending).values(status="dead"))
        listed = cli("webhooks", "list")
        assert "dead 1" in listed and "HTTP 503" in listed
        assert receiver.secret not in listed
        receiver.status = 200
        assert "queued 1" in cli("webhooks", "retry")
        cli("jobs", "run", "outbox")
        assert receiver.events == [("webhook.test", None)] * 2
        assert "removed" in cli("webhooks", "remove", "1")
        assert "no webhook 1" in cli("webhooks", "test", "1", code=1)
    finally:
        get_settings.cache_clear()


def _webhook_rows(sessions) -> list[str]:
    with sessions() as s:
        return [a for a in s.scalars(select(OutboxMessage.to_openid)) if a.startswith("webhook:")]


def test_a_hook_added_by_another_process_is_heard_within_the_ttl(
    demo_sessions, clock, receiver, monkeypatch
):
    from sqlalchemy import insert

    from app.services.webhooks import live_hooks
    from models import Webhook

    chat = Chat(demo_sessions, clock)
    _report(chat)  # this process now keeps "no live hook"
    with unit_of_work(demo_sessions) as s:  # as another process writes it: not through hooks
        s.execute(
            insert(Webhook).values(url=receiver.url, events="*", secret="x", created_at=clock())
        )
    chat.text("worker-1", "认领 1")
    assert _webhook_rows(demo_sessions) == []  # within the TTL: not seen yet
    kept_at = time.monotonic()
    monkeypatch.setattr(live_hooks.time, "monotonic", lambda: kept_at + live_hooks.TTL_SECONDS + 1)
    chat.text("worker-1", "进展 1 排水车已到")
    assert _webhook_rows(demo_sessions) == ["webhook:1"]


def test_a_hook_added_in_a_transaction_rolled_back_hears_nothing(demo_sessions, clock, receiver):
    chat = Chat(demo_sessions, clock)
    _report(chat)
    with demo_sessions() as s:
        hooks.add(s, url=receiver.url, events="*", now=clock(), allow_private=True)
        s.rollback()
    chat.text("worker-1", "认领 1")
    assert _webhook_rows(demo_sessions) == []
    hook_id = _add(demo_sessions, clock, receiver, "*")  # one committed is heard at once
    chat.text("worker-1", "进展 1 排水车已到")
    assert _webhook_rows(demo_sessions) == [f"webhook:{hook_id}"]
