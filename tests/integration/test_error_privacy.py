"""Issue 15 item 4: errors never carry what people wrote (SQL parameters, message bodies)
into logs or the failure records operators read."""

from __future__ import annotations

import logging

from sqlalchemy import select, text

from handlers.texts import BUSY
from models import InboxFailure
from tests.chatkit import Chat

SECRET = "我家住在枫林路18号3楼，电话13800138000"


def test_item_04_a_failing_statement_logs_no_sql_parameters(demo_sessions, clock, caplog):
    chat = Chat(demo_sessions, clock)

    def failing(ctx):
        ctx.session.execute(
            text("INSERT INTO no_such_table VALUES (:said)"), {"said": ctx.msg.text}
        )
        return "unreachable"

    chat.engine.dispatcher.dispatch = failing
    with caplog.at_level(logging.DEBUG):
        assert chat.text("rider-1", SECRET) == BUSY
    assert "no_such_table" in caplog.text  # the error is logged, without what was said
    assert SECRET not in caplog.text and "13800138000" not in caplog.text
    with demo_sessions() as s:
        (error,) = s.scalars(select(InboxFailure.error))
    assert "no_such_table" in error and "13800138000" not in error
