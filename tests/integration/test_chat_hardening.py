"""Issue 15 items 5-7: commands that once answered 系统繁忙, and binding by brute force."""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from app.db import unit_of_work
from app.services.directory import people
from bot.metrics import METRICS
from handlers.texts import BUSY
from models import Staff
from tests.chatkit import Chat


def _invite(sessions, clock, **kw) -> str:
    with unit_of_work(sessions) as s:
        invite = people.create_invite(
            s,
            role=kw.get("role", "grid_worker"),
            area_code=kw.get("area", "31019900100101"),
            now=clock(),
            name=kw.get("name", "李强"),
        )
        return invite.code


def test_item_05_an_out_of_range_date_gets_a_clear_answer(demo_sessions, clock):
    chat = Chat(demo_sessions, clock)
    for day in ("0001-01-01", "0001-01-02", "1000-06-30"):
        reply = chat.text("supervisor", f"日报 {day}")
        assert reply != BUSY
        assert "日期超出范围" in reply and "日报 2026-11-19" in reply, reply
    assert chat.text("supervisor", "日报 9999-12-31") == "这一天还没到，没有日报。"
    assert chat.text("supervisor", "日报 2000-01-01").startswith("【工单日报】")


def test_item_06_a_deactivated_staff_member_binding_again_is_answered(demo_sessions, clock):
    chat = Chat(demo_sessions, clock)
    with unit_of_work(demo_sessions) as s:
        s.execute(update(Staff).where(Staff.openid == "worker-1").values(active=False))
    code = _invite(demo_sessions, clock, area="31019900100102", name="张伟")

    reply = chat.text("worker-1", f"绑定 {code}")
    assert reply != BUSY
    assert reply.startswith("绑定成功！您是枫苑二网格的网格员（张伟）")
    with demo_sessions() as s:
        rows = s.execute(
            select(Staff.active, Staff.area_id, Staff.openid).where(Staff.name == "张伟")
        ).all()
    # The old record keeps its history, without the WeChat; the new one is active.
    assert sorted(openid or "" for _, _, openid in rows) == ["", "worker-1"]
    assert chat.text("worker-1", "我的工单") != BUSY


def test_item_07_bind_attempts_are_limited_per_openid(demo_sessions, clock, caplog):
    chat = Chat(demo_sessions, clock)
    code = _invite(demo_sessions, clock)
    failures = METRICS.value("gridbot_bind_failures_total")
    with caplog.at_level(logging.WARNING):
        for guess in ("AAAAAAAA", "BBBBBBBB", "CCCCCCCC", "DDDDDDDD", "EEEEEEEE"):
            assert "绑定码无效" in chat.text("rider-9", f"绑定 {guess}")
            clock.advance(minutes=1)
        # The sixth try, even with the right code, waits out the cool-down.
        refused = chat.text("rider-9", f"绑定 {code}")
    assert "过于频繁" in refused and "分钟后再试" in refused
    assert METRICS.value("gridbot_bind_failures_total") - failures == 5
    assert "rider-9" in caplog.text and "bind" in caplog.text

    # Others are not affected.
    assert "绑定码无效" in chat.text("rider-8", "绑定 FFFFFFFF")
    # An hour after the first failures, the right code works.
    clock.advance(minutes=56)
    assert chat.text("rider-9", f"绑定 {code}").startswith("绑定成功")
