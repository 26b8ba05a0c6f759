"""Grid workers claim, update, resolve and transfer tickets in chat; riders follow up."""

import pytest

from tests.chatkit import FENGYUAN_1, Chat


@pytest.fixture
def chat(demo_sessions, clock):
    c = Chat(demo_sessions, clock)
    c.text("rider-1", "消防通道被电动车堵住了")
    c.location("rider-1", FENGYUAN_1, "枫林路12号")
    return c


def test_the_whole_story_claim_note_resolve_satisfied(chat, clock):
    clock.advance(minutes=3)
    assert "已认领工单 #1" in chat.text("worker-1", "认领 1")
    clock.advance(minutes=10)
    assert "已记录" in chat.text("worker-1", "进展 1 已联系物业挪车")
    clock.advance(minutes=20)
    assert "已办结" in chat.text("worker-1", "办结 1 通道已清空")
    rider_notices = chat.notices_to("rider-1")
    assert "已由张伟认领" in rider_notices[0]
    assert "已联系物业挪车" in rider_notices[1]
    assert "通道已清空" in rider_notices[2] and "满意" in rider_notices[2]

    clock.advance(hours=1)
    assert "已关闭" in chat.text("rider-1", "满意")
    ticket = chat.ticket(1)
    assert ticket.status == "closed"
    assert [(e.action, e.to_status, e.actor_role) for e in ticket.events] == [
        ("create", "assigned", "rider"),
        ("claim", "claimed", "grid_worker"),
        ("note", "claimed", "grid_worker"),
        ("resolve", "resolved", "grid_worker"),
        ("confirm", "closed", "rider"),
    ]
    assert all(e.message_key and e.message_key.startswith("msg:") for e in ticket.events)
    assert ticket.claimed_at < ticket.resolved_at < ticket.closed_at
    assert "满意" in chat.notices_to("worker-1")[-1]


def test_claim_alone_takes_the_newest_assigned_ticket(chat, clock):
    clock.advance(minutes=30)
    chat.text("rider-2", "井盖丢了")
    chat.location("rider-2", FENGYUAN_1)
    assert "#2" in chat.text("worker-1", "认领")
    assert "#1" in chat.text("worker-1", "claim")
    assert "没有待认领" in chat.text("worker-1", "认领")


def test_unsatisfied_reopens_to_the_same_worker(chat):
    chat.text("worker-1", "办结 1 已处理")
    assert "重新打开" in chat.text("rider-1", "不满意")
    assert chat.ticket(1).status == "reopened"
    assert "不满意" in chat.notices_to("worker-1")[-1]
    assert "#1" in chat.text("worker-1", "我的工单")
    assert "已认领" in chat.text("worker-1", "认领 1")


def test_a_worker_from_another_grid_is_refused(chat):
    reply = chat.text("worker-2", "认领 1")
    assert "无权" in reply
    assert chat.ticket(1).status == "assigned"
    assert "无权" in chat.text("worker-2", "办结 1 好了")


def test_the_community_lead_covering_the_grid_may_act(chat):
    assert "已认领" in chat.text("lead-1", "认领 1")
    assert chat.ticket(1).assignee.openid == "lead-1"


def test_a_second_claim_is_told_who_has_it(chat):
    chat.text("worker-1", "认领 1")
    assert "已由张伟认领" in chat.text("lead-1", "认领 1")
    assert "您已认领" in chat.text("worker-1", "认领 1")


def test_transfer_moves_the_ticket_to_the_other_grids_worker(chat):
    chat.text("worker-1", "认领 1")
    reply = chat.text("worker-1", "转派 1 31019900200204")
    assert "南园四网格" in reply
    ticket = chat.ticket(1)
    assert (ticket.status, ticket.grid.code, ticket.assignee.openid) == (
        "assigned",
        "31019900200204",
        "worker-16",
    )
    assert "转派工单 #1" in chat.notices_to("worker-16")[0]
    assert "已转派" in chat.notices_to("rider-1")[-1]
    assert "无权" in chat.text("worker-1", "认领 1")
    assert "没有找到网格「nowhere」" in chat.text("worker-16", "转派 1 nowhere")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("认领 abc", "格式"),
        ("进展 1", "格式"),
        ("办结", "格式"),
        ("转派 1", "格式"),
        ("认领 999", "没有找到工单 #999"),
        ("满意", "没有待确认"),
        ("随便说点什么", "网格员指令"),
    ],
)
def test_worker_mistakes_get_a_clear_answer(chat, text, expected):
    assert expected in chat.text("worker-1", text)


def test_a_closed_ticket_cannot_be_resolved_again(chat):
    chat.text("worker-1", "办结 1 已处理")
    chat.text("rider-1", "满意")
    assert "已关闭" in chat.text("worker-1", "办结 1 再来")


def test_rider_lists_their_reports_with_status(chat):
    chat.text("worker-1", "认领 1")
    reply = chat.text("rider-1", "我的上报")
    assert "#1 通道堵塞 处理中" in reply
    assert "还没有上报" in chat.text("rider-2", "mine")


def test_riders_cannot_use_worker_commands(chat):
    reply = chat.text("rider-2", "认领 1")
    assert "现场照片" in reply
    ticket = chat.ticket(1)
    assert ticket.status == "assigned"
    assert [e.action for e in ticket.events] == ["create"]
