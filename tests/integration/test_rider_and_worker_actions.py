"""Ticket actions from issue 14 §2, in chat: a rider withdraws a report just filed
(取消 <号>) or says why they are unsatisfied; 办结 needs a result; 退回 tells "not valid"
from "not ours"."""

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from app.services.digest import digests
from app.services.directory.grids import area_by_code
from tests.chatkit import FENGYUAN_1, Chat


@pytest.fixture
def chat(demo_sessions, clock):
    c = Chat(demo_sessions, clock)
    c.text("rider-1", "路口积水很深")
    c.location("rider-1", FENGYUAN_1, "枫林路口")
    return c


def test_a_rider_withdraws_a_report_within_ten_minutes(chat, clock):
    clock.advance(minutes=4)
    assert "没有找到您上报的工单 #1" in chat.text("rider-2", "取消 1")
    reply = chat.text("rider-1", "取消 1")
    assert reply == "已撤回工单 #1，已告知枫苑一网格（张伟）无需处理。"
    ticket = chat.ticket(1)
    assert (ticket.status, ticket.next_check_at) == ("withdrawn", None)
    assert ticket.closed_at is not None and ticket.events[-1].action == "withdraw"
    assert "已由上报人撤回，无需处理" in chat.notices_to("worker-1")[-1]
    assert "已撤回" in chat.text("rider-1", "我的上报")
    assert "已撤回" in chat.text("worker-1", "认领 1")
    assert "没有未办结的工单" in chat.text("lead-1", "待办")


def test_a_withdrawn_report_counts_in_no_digest_figure(chat, demo_sessions, clock):
    chat.text("rider-2", "楼道里堆了旧沙发")
    chat.location("rider-2", FENGYUAN_1, "枫林路12号")
    chat.text("rider-1", "取消 1")
    with demo_sessions() as s:
        figures = digests.compute(
            s,
            area_by_code(s, "310199"),
            date(2026, 11, 20),
            now=clock(),
            tz=ZoneInfo("Asia/Shanghai"),
        )
    assert (figures.new, figures.by_category) == (1, {"bulky_waste": 1})
    assert [r.reports for r in figures.riders] == [1]


def test_too_late_or_already_claimed_cannot_be_withdrawn(chat, clock):
    clock.advance(minutes=11)
    assert "受理已超过 10 分钟，不能撤回" in chat.text("rider-1", "取消 1")
    chat.text("rider-2", "楼道里堆了旧沙发")
    chat.location("rider-2", FENGYUAN_1, "枫林路12号")
    chat.text("worker-1", "认领 2")
    assert "已有人处理，不能撤回" in chat.text("rider-2", "取消 2")
    assert [t.status for t in chat.tickets()] == ["assigned", "claimed"]


def test_plain_cancel_still_drops_the_draft(chat):
    chat.text("rider-2", "井盖丢了")
    assert chat.text("rider-2", "取消") == "已取消正在填写的上报。"


def test_a_department_transfers_only_inside_the_area_it_serves(chat, demo_sessions):
    from app.db import unit_of_work
    from app.services.directory import people

    with unit_of_work(demo_sessions) as s:
        people.add_staff(
            s, name="枫林街道城管科", role="department", area_code="310199001", openid="dept-9"
        )
    chat.text("lead-1", "吹哨 1 城管")
    chat.text("dept-9", "报到 1")
    assert "不在枫林街道城管科的服务范围内" in chat.text("dept-9", "转派 1 南园四网格")
    assert "已转派至枫苑二网格" in chat.text("dept-9", "转派 1 枫苑二网格")


def test_unsatisfied_with_a_reason_carries_it_to_the_worker_the_lead_and_the_log(chat):
    chat.text("worker-1", "办结 1 已排水")
    reply = chat.text("rider-1", "不满意 路口还是有积水，车过不去")
    assert "已重新打开" in reply and "转告了您说的原因" in reply
    assert "不满意的原因：路口还是有积水，车过不去" in chat.notices_to("worker-1")[-1]
    assert "原因：路口还是有积水" in chat.notices_to("lead-1")[-1]
    assert chat.ticket(1).events[-1].note == "不满意：路口还是有积水，车过不去"


def test_unsatisfied_with_a_number_and_a_reason(chat):
    chat.text("worker-1", "办结 1 已排水")
    chat.text("rider-1", "不满意 1 没人来过")
    assert chat.ticket(1).events[-1].note == "不满意：没人来过"


def test_done_needs_a_result_or_an_after_photo_and_the_rider_hears_the_result(chat):
    reply = chat.text("worker-1", "办结 1")
    assert "请写明处理结果" in reply and "办结照片" in reply
    assert chat.ticket(1).status == "assigned"
    assert "无权" in chat.text("worker-2", "办结 1")  # who may comes first
    chat.text("worker-1", "办结 1 已用泵车抽排，路面已通行")
    assert "已用泵车抽排，路面已通行" in chat.notices_to("rider-1")[-1]


def test_done_with_an_after_photo_needs_no_words(chat):
    chat.photo("worker-1", "after-1")
    assert "已办结" in chat.text("worker-1", "办结 1")
    told = chat.notices_to("rider-1")[-1]
    assert "办结照片" in told and "/media/" in told


def test_done_without_a_number_closes_the_workers_one_open_ticket(chat):
    assert "没有未办结的工单" in chat.text("worker-2", "办结 已处理")
    chat.text("worker-1", "认领")
    assert chat.text("worker-1", "办结 已用泵车抽排") == "工单 #1 已办结，已请上报人确认。"
    assert chat.ticket(1).status == "resolved"
    assert "已用泵车抽排" in chat.notices_to("rider-1")[-1]


def test_done_without_a_number_asks_which_when_the_worker_has_several(chat):
    chat.text("rider-2", "井盖丢了")
    lat, lng = FENGYUAN_1
    assert "#2" in chat.location("rider-2", (lat + 0.002, lng), "枫林路")  # not a duplicate
    reply = chat.text("worker-1", "办结 已处理")
    assert "多个未办结的工单" in reply and "办结 12" in reply and "我的工单" in reply
    assert {chat.ticket(1).status, chat.ticket(2).status} == {"assigned"}
