"""A message whose handler fails: the sender hears 系统繁忙, operators see the error."""

import json

from sqlalchemy import func, select

from handlers.texts import BUSY
from models import InboxMessage, Ticket
from tests.chatkit import FENGYUAN_1, Chat


def test_a_failing_message_is_kept_for_operators_and_recovers_on_retry(demo_sessions, clock, cli):
    chat = Chat(demo_sessions, clock)
    chat.text("rider-1", "路口积水很深")
    working = chat.engine.dispatcher.dispatch

    def broken(ctx):
        working(ctx)  # the handler's writes happen, then it blows up
        raise RuntimeError("grid index unavailable")

    chat.engine.dispatcher.dispatch = broken
    assert chat.location("rider-1", FENGYUAN_1, "枫林路口", msg_id="900001") == BUSY
    assert chat.location("rider-1", FENGYUAN_1, "枫林路口", msg_id="900001") == BUSY
    with demo_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0  # rolled back whole
        assert s.scalar(select(InboxMessage).where(InboxMessage.dedup_key == "msg:900001")) is None

    failed = json.loads(cli("inbox", "failed", "--json").stdout)
    assert [(f["dedup_key"], f["openid"], f["kind"], f["attempts"]) for f in failed] == [
        ("msg:900001", "rider-1", "location", 2)
    ]
    assert "RuntimeError: grid index unavailable" in failed[0]["error"]
    assert "grid index unavailable" in cli("inbox", "failed").stdout

    chat.engine.dispatcher.dispatch = working  # fixed; WeChat's last retry arrives
    assert "已受理" in chat.location("rider-1", FENGYUAN_1, "枫林路口", msg_id="900001")
    assert len(chat.tickets()) == 1
    assert json.loads(cli("inbox", "failed", "--json").stdout) == []
    (kept,) = json.loads(cli("inbox", "failed", "--all", "--json").stdout)
    assert kept["recovered_at"] is not None
