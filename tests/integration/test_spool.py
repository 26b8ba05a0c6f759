"""Issue 15 item 11: the spool keeps what arrived while the database was down, and its
replay handles each kept message once, in arrival order, and owes its answer once."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from app.db import unit_of_work
from app.domain.coords import wgs84_to_gcj02
from app.inbox.deliveries import Delivery, record
from app.inbox.spool import Spool, replay
from bot.inbound import InboundMessage
from models import InboxMessage, OutboxMessage, Ticket
from tests.chatkit import FENGYUAN_1, Chat

_ids = itertools.count(8_100_000_000_000_000_000)
_arrivals = itertools.count(1_800_000_000_000_000_000, 1_000_000)


def _message(clock, openid: str, kind: str, **fields) -> InboundMessage:
    return InboundMessage(
        kind=kind,
        openid=openid,
        account="gh_gridbot",
        created_at=clock(),
        msg_id=str(next(_ids)),
        **fields,
    )


def _report(clock, openid: str) -> list[InboundMessage]:
    lat, lng = wgs84_to_gcj02(*FENGYUAN_1)
    return [
        _message(clock, openid, "text", text="路口积水很深"),
        _message(clock, openid, "location", lat=lat, lng=lng, label="枫林路口"),
    ]


def _late_answers(sessions) -> list[tuple[str, str]]:
    with sessions() as s:
        return list(
            s.execute(
                select(OutboxMessage.reply_to, OutboxMessage.text)
                .where(OutboxMessage.reply_to.is_not(None))
                .order_by(OutboxMessage.id)
            )
        )


def test_item_11_kept_messages_are_replayed_in_arrival_order_once_each(
    demo_sessions, clock, tmp_path
):
    chat = Chat(demo_sessions, clock)
    spool = Spool(tmp_path / "spool")
    text, location = _report(clock, "rider-1")
    for msg in (text, location, text):  # the text twice: a retry of it was kept too
        spool.keep(msg, arrived_ns=next(_arrivals), unverified=None)
    assert spool.waiting

    assert replay(spool, chat.engine) == 3
    assert not spool.look() and not spool.waiting
    [ticket] = chat.tickets()
    assert ticket.description.startswith("路口积水很深")  # the text came first
    answers = _late_answers(demo_sessions)
    assert [key for key, _ in answers] == [text.dedup_key, location.dedup_key]
    assert "位置" in answers[0][1] and "已受理" in answers[1][1]

    # A crash after the answer but before the file was removed: replayed again, no change.
    spool.keep(location, arrived_ns=next(_arrivals), unverified=None)
    assert replay(spool, chat.engine) == 1
    assert len(chat.tickets()) == 1 and len(_late_answers(demo_sessions)) == 2


def test_item_11_a_message_handled_meanwhile_is_still_answered_once(demo_sessions, clock, tmp_path):
    """A handler that hung while the database did finishes after the message was kept."""
    chat = Chat(demo_sessions, clock)
    spool = Spool(tmp_path / "spool")
    text, _ = _report(clock, "rider-2")
    spool.keep(text, arrived_ns=next(_arrivals), unverified=None)
    chat.engine.handle(text)  # its reply went nowhere: the webhook had answered "success"
    replay(spool, chat.engine)
    [(key, answer)] = _late_answers(demo_sessions)
    assert key == text.dedup_key and "位置" in answer


def test_item_11_a_replayed_delivery_kept_during_the_outage_is_dropped(
    demo_sessions, clock, tmp_path
):
    chat = Chat(demo_sessions, clock)
    spool = Spool(tmp_path / "spool")
    captured = Delivery(1_800_000_000, "12345", "a" * 40)
    with unit_of_work(demo_sessions) as s:
        record(s, {captured: "msg:1"})  # the genuine request, accepted before the outage
    forged = _message(clock, "worker-1", "text", text="认领 1")
    genuine = _message(clock, "rider-3", "text", text="路口积水很深")
    fresh = Delivery(1_800_000_001, "67890", "b" * 40)
    spool.keep(forged, arrived_ns=next(_arrivals), unverified=captured)
    spool.keep(genuine, arrived_ns=next(_arrivals), unverified=fresh)
    spool.keep(genuine, arrived_ns=next(_arrivals), unverified=fresh)  # same query twice
    other = _message(clock, "rider-4", "text", text="另一条")
    spool.keep(other, arrived_ns=next(_arrivals), unverified=fresh)  # a forged body under it

    assert replay(spool, chat.engine) == 4
    with demo_sessions() as s:
        keys = set(s.scalars(select(InboxMessage.dedup_key)))
    assert keys == {genuine.dedup_key}
    assert [key for key, _ in _late_answers(demo_sessions)] == [genuine.dedup_key]


def test_item_11_a_check_that_timed_out_but_was_written_is_no_replay(
    demo_sessions, clock, tmp_path
):
    """The database hung: the replay check of a request timed out and the message was
    kept, but the check's INSERT went through once the database moved again."""
    chat = Chat(demo_sessions, clock)
    spool = Spool(tmp_path / "spool")
    text, _ = _report(clock, "rider-5")
    delivery = Delivery(1_800_000_002, "13579", "c" * 40)
    spool.keep(text, arrived_ns=next(_arrivals), unverified=delivery)
    with unit_of_work(demo_sessions) as s:
        record(s, {delivery: text.dedup_key})  # the late INSERT
    assert replay(spool, chat.engine) == 1
    assert [key for key, _ in _late_answers(demo_sessions)] == [text.dedup_key]


def test_item_11_a_new_process_queues_behind_what_a_dead_one_kept(demo_sessions, clock, tmp_path):
    first = Spool(tmp_path / "spool")
    first.keep(_report(clock, "rider-4")[0], arrived_ns=next(_arrivals), unverified=None)
    (tmp_path / "spool" / "00000000000000000001-1-00000000.json").write_text("{not json")
    restarted = Spool(tmp_path / "spool")  # the process died; a new one starts
    assert restarted.waiting
    assert replay(restarted, Chat(demo_sessions, clock).engine) == 1
    assert not restarted.waiting
    assert [p.suffix for p in (tmp_path / "spool").iterdir() if not p.name.startswith(".")] == [
        ".bad"
    ]
    with demo_sessions() as s:
        assert s.scalar(select(Ticket.id)) is None  # a text alone is a draft, not a ticket


def test_the_spool_is_emptied_before_its_messages_are_handled(demo_sessions, clock, tmp_path):
    """While anything is kept, every new message is kept behind it: a replay that emptied
    the spool only as fast as it handled messages let the spool take over a storm's intake."""
    chat = Chat(demo_sessions, clock)
    spool = Spool(tmp_path / "spool")
    for msg in _report(clock, "rider-5") + _report(clock, "rider-6"):
        spool.keep(msg, arrived_ns=next(_arrivals), unverified=None)
    dispatch = chat.engine.dispatcher.dispatch
    kept_while_handling: list[bool] = []

    def handled(ctx):
        kept_while_handling.append(spool.look())  # would a new message queue behind?
        return dispatch(ctx)

    chat.engine.dispatcher.dispatch = handled
    assert replay(spool, chat.engine) == 4
    assert kept_while_handling == [False] * 4  # new messages went their usual way
    with demo_sessions() as s:
        assert len(s.scalars(select(Ticket.id)).all()) == 2  # each report filed, once
    assert len(_late_answers(demo_sessions)) == 4  # every kept message answered, late
