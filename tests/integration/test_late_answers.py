"""Messages acknowledged before their answer was ready: answered once, late, never lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.bootstrap import chat_engine
from app.domain.coords import wgs84_to_gcj02
from app.inbox.chat import ChatEngine
from app.inbox.late_answers import LATE_KIND, from_json, to_json
from app.jobs import JobContext, run_late_answers
from app.settings import Settings
from bot.inbound import InboundMessage
from models import OutboxMessage, ParkedMessage, ReportDraft, Ticket
from tests.chatkit import FENGYUAN_1

SETTINGS = dict(database_url="sqlite://", late_recovery_seconds=120)


class TickingClock:
    """The test clock, a millisecond later at every reading (handlers see time pass)."""

    def __init__(self, clock) -> None:
        self.clock = clock

    def __call__(self):
        return self.clock.advance(milliseconds=1)


def _engine(sessions, clock) -> ChatEngine:
    return chat_engine(Settings(**SETTINGS), sessions, clock=clock)


def _text(clock, openid: str, text: str, msg_id: str) -> InboundMessage:
    return InboundMessage(
        kind="text", openid=openid, account="gh", created_at=clock(), msg_id=msg_id, text=text
    )


def _location(clock, openid: str, msg_id: str) -> InboundMessage:
    lat, lng = wgs84_to_gcj02(*FENGYUAN_1)
    return InboundMessage(
        kind="location",
        openid=openid,
        account="gh",
        created_at=clock(),
        msg_id=msg_id,
        lat=lat,
        lng=lng,
        label="枫林路口",
    )


def _parked_in_order(sessions, clock, sent: list[InboundMessage]) -> ChatEngine:
    """An engine that files each report apart (no follow-up window: two reports, not a
    report and its follow-up), with `sent` parked in order, each acknowledged before the
    rider sent the next."""
    settings = Settings(**SETTINGS, followup_minutes=0)
    chat = chat_engine(settings, sessions, clock=TickingClock(clock))
    for msg in sent:
        chat.park([msg])
        clock.advance(seconds=2)
    return chat


def _two_processes(sessions, clock, db_url: str, msg_id: str):
    """(this process's engine, another process's whose copy of the message ran out of
    time and parks it, the rider's report) for a race between a handler and a park.
    PostgreSQL only: SQLite has one writer, nothing parks while a handler writes."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: nothing parks while a handler writes")
    msg = _text(clock, "rider-1", "路口积水很深", msg_id)
    return _engine(sessions, clock), _engine(sessions, clock), msg


def _late_answers(sessions) -> list[tuple[str, str, str]]:
    with sessions() as s:
        rows = s.execute(
            select(OutboxMessage.to_openid, OutboxMessage.reply_to, OutboxMessage.text)
            .where(OutboxMessage.kind == LATE_KIND)
            .order_by(OutboxMessage.id)
        )
        return [tuple(r) for r in rows]


def _unanswered(sessions) -> list[str]:
    with sessions() as s:
        query = select(ParkedMessage.dedup_key).where(ParkedMessage.answered_at.is_(None))
        return list(s.scalars(query))


def test_a_parked_message_is_answered_once_by_customer_service_message(demo_sessions, clock):
    chat = _engine(demo_sessions, clock)
    msg = _text(clock, "rider-1", "路口积水很深", "9001")
    chat.park([msg])
    chat.park([msg])  # a copy parked in another process: still one row
    assert chat.handle(msg) == ""  # acknowledged already: nothing to say passively

    assert chat.answer_late(msg) is True
    assert chat.answer_late(msg) is False  # the other process's copy: owed already
    [(to, key, reply)] = _late_answers(demo_sessions)
    assert (to, key) == ("rider-1", "msg:9001") and "位置" in reply
    assert _unanswered(demo_sessions) == []

    # A copy that waited out its budget after all that parks it again: nothing changes.
    chat.park([msg])
    assert chat.answer_late(msg) is False
    assert chat.handle(msg) == ""
    assert len(_late_answers(demo_sessions)) == 1


def test_a_copy_of_a_parked_message_gets_success_and_the_late_answer_is_the_stored_reply(
    demo_sessions, clock
):
    chat = _engine(demo_sessions, clock)
    chat.handle(_text(clock, "rider-1", "路口积水很深", "9002"))
    msg = _location(clock, "rider-1", "9003")
    assert chat.park([msg]) == [None]
    assert chat.handle(msg) == ""  # the handler of the parked message: nothing passive
    # A WeChat retry handled by another process: the user must not see the answer twice.
    assert chat.handle(msg) == ""
    chat.answer_late(msg)
    [answer] = [t for _, _, t in _late_answers(demo_sessions)]
    assert "#1" in answer
    with demo_sessions() as s:
        assert len(s.scalars(select(Ticket)).all()) == 1


def test_a_message_another_process_answered_already_is_not_parked(demo_sessions, clock):
    chat = _engine(demo_sessions, clock)
    msg = _text(clock, "rider-1", "路口积水很深", "9010")
    reply = chat.handle(msg)
    assert chat.park([msg]) == [reply]  # the copy gives that answer, passively
    assert _unanswered(demo_sessions) == [] and _late_answers(demo_sessions) == []


def test_the_leader_answers_what_a_dead_process_parked_and_nothing_younger(demo_sessions, clock):
    chat = _engine(demo_sessions, clock)
    unhandled = _text(clock, "rider-1", "井盖丢了，很危险", "9004")
    chat.park([unhandled])  # the process died before its handler ran
    handled = _text(clock, "rider-2", "路口积水很深", "9005")
    chat.park([handled])
    chat.handle(handled)  # ... or after it committed, before answering
    clock.advance(seconds=60)
    young = _text(clock, "rider-3", "路灯坏了", "9006")
    chat.park([young])

    ctx = JobContext(sessions=demo_sessions, settings=Settings(**SETTINGS), clock=clock)
    clock.advance(seconds=61)  # the first two are 121 s old, the third 61 s
    assert run_late_answers(ctx) == {"answered": 2}

    answers = {to: text for to, _, text in _late_answers(demo_sessions)}
    assert "位置" in answers["rider-2"]
    assert "位置" in answers["rider-1"]  # handled now: the rider is asked for the place
    assert "rider-3" not in answers
    with demo_sessions() as s:
        descriptions = s.scalars(select(ReportDraft.description)).all()
        assert sorted(descriptions) == sorted(["井盖丢了，很危险", "路口积水很深"])
    assert _unanswered(demo_sessions) == ["msg:9006"]
    assert run_late_answers(ctx) == {"answered": 0}


def test_a_parked_message_keeps_every_field_it_is_handled_with(clock):
    msg = _location(clock, "rider-1", "9007")
    assert from_json(to_json(msg)) == msg
    event = InboundMessage(
        kind="event",
        openid="r",
        account="gh",
        created_at=clock(),
        event="subscribe",
        event_key="qrscene_grid-7",
    )
    back = from_json(to_json(event))
    assert back == event and back.dedup_key == event.dedup_key


def test_a_parked_message_whose_handler_failed_is_answered_with_the_handlers_answer(
    demo_sessions, clock
):
    chat = _engine(demo_sessions, clock)
    msg = _text(clock, "rider-1", "路口积水很深", "9008")
    chat.park([msg])  # the handler failed: nothing stored for it in the inbox
    chat.answer_late(msg, fallback="系统繁忙，请稍后重发")
    assert [t for _, _, t in _late_answers(demo_sessions)] == ["系统繁忙，请稍后重发"]


def test_answered_messages_are_forgotten_after_a_day(demo_sessions, clock):
    chat = _engine(demo_sessions, clock)
    msg = _text(clock, "rider-1", "路口积水很深", "9009")
    chat.park([msg])
    chat.handle(msg)
    chat.answer_late(msg)
    clock.advance(hours=23)
    chat.answer_stale(timedelta(minutes=2))
    with demo_sessions() as s:
        assert s.scalar(select(ParkedMessage.dedup_key)) == "msg:9009"
    clock.advance(hours=2)
    chat.answer_stale(timedelta(minutes=2))
    with demo_sessions() as s:
        assert s.scalar(select(ParkedMessage.dedup_key)) is None


def test_a_riders_parked_messages_are_handled_in_the_order_they_were_sent(demo_sessions, clock):
    sent = [
        _text(clock, "rider-1", "[一] 路口积水很深", "9101"),
        _location(clock, "rider-1", "9102"),
        _text(clock, "rider-1", "[二] 井盖丢了", "9103"),
        _location(clock, "rider-1", "9104"),
    ]
    chat = _parked_in_order(demo_sessions, clock, sent)
    # The handlers run in the opposite order, as they may across processes.
    for msg in reversed(sent):
        assert chat.handle(msg) == ""
    for msg in sent:
        chat.answer_late(msg)

    with demo_sessions() as s:
        tickets = s.execute(select(Ticket.id, Ticket.description).order_by(Ticket.id)).all()
    assert [d for _, d in tickets] == ["[一] 路口积水很深", "[二] 井盖丢了"]
    answers = [t for _, _, t in _late_answers(demo_sessions)]
    assert "位置" in answers[0] and "#1" in answers[1]
    assert "位置" in answers[2] and "#2" in answers[3]


def test_a_message_parked_elsewhere_while_its_handler_runs_is_answered_once(
    demo_sessions, clock, db_url
):
    chat, other, msg = _two_processes(demo_sessions, clock, db_url, "9201")
    dispatch = chat.dispatcher.dispatch

    def parked_meanwhile(ctx):
        reply = dispatch(ctx)
        assert other.park([msg]) == [None]  # this handler's inbox row is not committed yet
        return reply

    chat.dispatcher.dispatch = parked_meanwhile
    assert chat.handle(msg) == ""  # the other process answers it, late
    other.answer_late(msg)
    [(_, key, answer)] = _late_answers(demo_sessions)
    assert key == "msg:9201" and "位置" in answer


def test_a_copy_parked_elsewhere_as_its_handler_stores_the_reply_is_answered_once(
    demo_sessions, clock, db_url
):
    import threading

    from sqlalchemy import event

    chat, other, msg = _two_processes(demo_sessions, clock, db_url, "9211")
    parked: list[str | None] = []
    parking = threading.Thread(target=lambda: parked.extend(other.park([msg])))
    engine = demo_sessions.kw["bind"]

    def park_after_the_reply_is_stored(conn, cursor, statement, *args) -> None:
        if statement.startswith("UPDATE inbox") and not parking.is_alive() and not parked:
            parking.start()  # between the handler's "parked?" and its commit
            parking.join(timeout=0.5)  # it commits here, unless it waits for this commit

    event.listen(engine, "after_cursor_execute", park_after_the_reply_is_stored)
    try:
        reply = chat.handle(msg, owe_late=True)
    finally:
        event.remove(engine, "after_cursor_execute", park_after_the_reply_is_stored)
    parking.join()
    if parked == [None]:  # parked: its answer is owed, late
        other.answer_late(msg)
    late = _late_answers(demo_sessions)
    # The rider is answered once: passively (and the park found the stored reply), or
    # late (and the passive answer was "").
    assert (reply != "") + len(late) == 1, (reply, parked, late)
    assert "位置" in (reply or late[0][2])


def test_a_copy_that_loses_the_inbox_race_for_a_parked_message_answers_success(
    demo_sessions, clock, monkeypatch
):
    import app.inbox.chat as chat_module
    from app.inbox.arrival import arrival

    chat = _engine(demo_sessions, clock)
    parked, answered = (_text(clock, "rider-1", "路口积水很深", i) for i in ("9501", "9502"))
    # What copies of both read on arrival before the first attempts committed: nothing.
    with demo_sessions() as s:
        before = {m.dedup_key: arrival(s, m.openid, m.dedup_key) for m in (parked, answered)}
    chat.park([parked])
    assert chat.handle(parked) == ""
    reply = chat.handle(answered)
    assert "请发送位置" in reply
    monkeypatch.setattr(chat_module, "arrival", lambda session, openid, key: before[key])
    # Each copy fails on the inbox key and takes what the first attempt left: "success"
    # for the parked message (its answer goes late, once), the stored reply otherwise.
    assert chat.handle(parked) == ""
    assert chat.handle(answered) == reply
    assert [key for _, key, _ in _late_answers(demo_sessions)] == []  # not settled here


def test_a_handler_that_finds_its_message_parked_owes_the_late_answer_in_its_own_commit(
    demo_sessions, clock
):
    from app.inbox.late_answers import OWED_ALREADY

    chat = _engine(demo_sessions, clock)
    msg = _text(clock, "rider-1", "路口积水很深", "9601")
    chat.park([msg])
    assert chat.handle(msg, owe_late=True) is OWED_ALREADY  # "": nothing passive
    [(to, key, reply)] = _late_answers(demo_sessions)
    assert (to, key) == ("rider-1", "msg:9601") and "位置" in reply
    assert _unanswered(demo_sessions) == []
    # Nothing is left to settle, with or without the handler's word for it; a copy
    # handled later (another process) gets "" and owes nothing more.
    assert chat.answer_late(msg, OWED_ALREADY) is False
    assert chat.answer_late(msg) is False
    assert chat.handle(msg, owe_late=True) == ""
    assert chat.answer_late(msg) is False
    assert len(_late_answers(demo_sessions)) == 1


def test_a_handler_owing_late_answers_keeps_a_riders_parked_messages_in_order(demo_sessions, clock):
    sent = [
        _text(clock, "rider-1", "[一] 路口积水很深", "9611"),
        _location(clock, "rider-1", "9612"),
    ]
    chat = _parked_in_order(demo_sessions, clock, sent)
    assert chat.handle(sent[1], owe_late=True) == ""  # handles the text first, owing both
    answers = [t for _, _, t in _late_answers(demo_sessions)]
    assert "位置" in answers[0] and "#1" in answers[1] and len(answers) == 2
    assert _unanswered(demo_sessions) == []


def test_a_copy_of_a_parked_message_handled_elsewhere_owes_the_stored_reply_once(
    demo_sessions, clock
):
    chat = _engine(demo_sessions, clock)
    msg = _text(clock, "rider-1", "路口积水很深", "9621")
    chat.park([msg])
    assert chat.handle(msg) == ""  # handled, its answer not owed yet (no owe_late)
    assert _late_answers(demo_sessions) == []
    # The copy parked in this process: its handling finds it handled and owes the answer.
    assert chat.handle(msg, owe_late=True) == ""
    [(to, key, reply)] = _late_answers(demo_sessions)
    assert (to, key) == ("rider-1", "msg:9621") and "位置" in reply
    assert chat.answer_late(msg) is False
    assert chat.handle(msg, owe_late=True) == ""  # a third copy: nothing more
    assert len(_late_answers(demo_sessions)) == 1 and _unanswered(demo_sessions) == []


def test_a_card_press_parked_by_a_process_that_died_still_updates_the_card(demo_sessions, clock):
    import json

    from app.db import unit_of_work
    from app.services.directory import staff_channels
    from app.services.wecom_cards import CARD_UPDATE_KIND

    chat = _engine(demo_sessions, clock)
    chat.handle(_text(clock, "rider-1", "路口积水很深", "9701"))
    assert "#1" in chat.handle(_location(clock, "rider-1", "9702"))
    with unit_of_work(demo_sessions) as s:
        staff_channels.set_wecom_userid(s, staff_channels.find_staff(s, "worker-1"), "zhangwei")
    press = InboundMessage(
        kind="event",
        openid="worker-1",  # zhangwei on WeCom, as the chat engine knows him
        account="gh",
        created_at=clock(),
        event="template_card_event",
        event_key="claim:1",
        response_code="rc-card-1",
    )
    chat.park([press])  # acknowledged after WeCom's 5 s; then the process died
    clock.advance(minutes=3)
    assert _engine(demo_sessions, clock).answer_stale(timedelta(minutes=2)) == 1

    [(_, _, answer)] = _late_answers(demo_sessions)
    assert "已认领工单 #1" in answer
    with demo_sessions() as s:
        update = s.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == CARD_UPDATE_KIND)
        ).one()
    assert update.to_openid == "wecom:zhangwei"
    assert json.loads(update.text) == {"response_code": "rc-card-1", "replace_name": "已由张伟认领"}
