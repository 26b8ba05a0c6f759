"""Escalated staff in chat: 吹哨 and 报到, 延期 and 退回 with the level above's 同意 / 驳回."""

import pytest

from tests.chatkit import FENGYUAN_1, NANYUAN_4, Chat


@pytest.fixture
def chat(demo_sessions, clock):
    c = Chat(demo_sessions, clock)
    c.text("rider-1", "路口积水很深")
    c.location("rider-1", FENGYUAN_1, "枫林路口")
    return c


def test_a_lead_summons_a_department_whose_liaison_checks_in_and_works_it(chat):
    assert "只有社区、街道或区级负责人" in chat.text("worker-1", "吹哨 1 排水")
    assert "可吹哨的部门：区排水所、区绿化市容局" in chat.text("lead-1", "吹哨 1 水务局")
    assert "不在您负责的区域" in chat.text("lead-3", "吹哨 1 排水")

    assert "请区排水所报到" in chat.text("lead-1", "吹哨 1 排水")
    summons = chat.notices_to("dept-1")
    assert "【吹哨 #1】" in summons[-1] and "「报到 1」" in summons[-1]
    assert "区排水所报到" in chat.notices_to("worker-1")[-1]
    assert chat.ticket(1).status == "summoned"

    assert "部门联络员的指令" in chat.text("worker-1", "报到 1")
    assert "没有向区绿化市容局吹哨" in chat.text("dept-2", "报到 1")
    assert "已报到" in chat.text("dept-1", "报到 1")
    ticket = chat.ticket(1)
    assert (ticket.status, ticket.assignee.openid) == ("claimed", "dept-1")
    assert "区排水所接手" in chat.notices_to("rider-1")[-1]
    assert "已报到" in chat.notices_to("lead-1")[-1]

    assert "已办结" in chat.text("dept-1", "办结 1 已抽排")
    assert "已抽排" in chat.notices_to("rider-1")[-1]
    actions = [e.action for e in chat.ticket(1).events]
    assert actions == ["create", "summon", "check_in", "resolve"]


def test_a_department_may_not_touch_tickets_it_was_not_summoned_to(chat):
    assert "无权" in chat.text("dept-1", "认领 1")
    assert "无权" in chat.text("dept-1", "办结 1 好了")


def test_extension_needs_the_holder_and_the_level_above(chat):
    assert "只有当前负责人" in chat.text("worker-2", "延期 1 2小时 等泵车")
    assert "请先回复「认领 1」" in chat.text("worker-1", "延期 1 2小时 等泵车")
    chat.text("worker-1", "认领 1")
    assert "时长的写法" in chat.text("worker-1", "延期 1 很久 等泵车")
    assert "请写明原因" in chat.text("worker-1", "延期 1 2小时")
    assert "等待马书记审批" in chat.text("worker-1", "延期 1 2小时 等泵车")
    assert "已有待审批" in chat.text("worker-1", "延期 1 1小时 再等等")
    assert "不能审批自己的申请" in chat.text("worker-1", "同意 1")
    assert "上级可以审批" in chat.text("worker-2", "同意 1")
    assert "上级可以审批" in chat.text("lead-3", "同意 1")
    due = chat.ticket(1).resolve_due_at
    assert "已驳回" in chat.text("street-1", "驳回 1 先想办法排水")
    assert "未获梁主任批准，理由：先想办法排水" in chat.notices_to("worker-1")[-1]
    assert chat.ticket(1).resolve_due_at == due
    assert "没有待审批" in chat.text("lead-1", "同意 1")


def test_a_send_back_confirmed_above_closes_as_rejected_and_tells_the_rider_why(chat):
    # Changed with issue 14 §2: the reason used to be "属于小区物业内部管网", and the lead's
    # 同意 closed a real problem as rejected; now only a report that is not valid closes.
    assert "请写明退回原因" in chat.text("worker-1", "退回 1")
    assert "等待马书记确认" in chat.text("worker-1", "退回 1 现场无积水，系误报")
    assert chat.ticket(1).status == "returned"
    assert "现场无积水，系误报" in chat.notices_to("lead-1")[-1]
    assert "上级可以审批" in chat.text("worker-2", "同意 1")
    assert "已确认退回" in chat.text("lead-1", "同意 1")
    ticket = chat.ticket(1)
    assert ticket.status == "rejected" and ticket.closed_at is not None
    assert ticket.next_check_at is None
    told = chat.notices_to("rider-1")[-1]
    assert "问题不存在或不属实" in told and "不予受理" in told and "系误报" in told
    assert "已由马书记确认" in chat.notices_to("worker-1")[-1]


def test_a_problem_that_is_not_ours_stays_open_and_goes_to_the_lead(chat):
    reply = chat.text("worker-1", "退回 1 属于小区物业内部管网")
    # Said as what happens next: the lead reassigns it (the old "退回…（问题不归您处理）"
    # read as if the worker were being refused).
    assert reply == "工单 #1 已交马书记另行派单（转派或吹哨），上报人也已知悉。"
    lead = chat.notices_to("lead-1")[-1]
    assert "【退回·需转办 #1】" in lead and "属于小区物业内部管网" in lead
    assert "「转派 1 网格名称」或「吹哨 1 部门」" in lead
    assert "已转交上级协调" in chat.notices_to("rider-1")[-1]
    mine = chat.text("rider-1", "我的上报")
    assert "上级协调中" in mine and "退回" not in mine  # the rider's words, not the staff's
    assert "不能关闭" in chat.text("lead-1", "同意 1")
    assert chat.ticket(1).status == "returned"
    assert "请区排水所报到" in chat.text("lead-1", "吹哨 1 排水")
    assert chat.ticket(1).status == "summoned"


def test_an_unclear_send_back_asks_which_kind(chat):
    reply = chat.text("worker-1", "退回 1 今天忙不过来")
    assert "「退回 1 无效 今天忙不过来」" in reply and "「退回 1 转办 今天忙不过来」" in reply
    assert chat.ticket(1).status == "assigned"
    assert "等待马书记确认" in chat.text("worker-1", "退回 1 无效 重复上报")


def test_a_send_back_refused_above_goes_back_to_the_worker(chat):
    chat.text("worker-1", "退回 1 不归我管")
    assert "交回张伟继续处理" in chat.text("lead-1", "驳回 1 就在你的网格")
    ticket = chat.ticket(1)
    assert (ticket.status, ticket.assignee.openid) == ("claimed", "worker-1")
    assert "就在你的网格" in chat.notices_to("worker-1")[-1]
    assert "已办结" in chat.text("worker-1", "办结 1 已排水")


def test_escalated_staff_take_and_reassign(chat, clock):
    clock.advance(minutes=40)
    assert "已认领" in chat.text("lead-1", "认领 1")
    assert chat.ticket(1).assignee.openid == "lead-1"
    assert "已转派" in chat.text("lead-1", "转派 1 31019900100102")
    assert chat.ticket(1).assignee.openid == "worker-2"


def test_help_for_staff_names_the_new_commands(chat):
    reply = chat.text("lead-1", "帮助")
    assert "吹哨" in reply and "同意" in reply and "延期" in reply


def test_riders_commands_are_unchanged(chat):
    assert "没有待确认" in chat.text("rider-2", "满意")
    chat.text("rider-2", "井盖丢了")
    assert "已受理" in chat.location("rider-2", NANYUAN_4)


def test_a_pending_extension_lapses_when_the_ticket_is_resolved(chat):
    chat.text("worker-1", "认领 1")
    chat.text("worker-1", "延期 1 1小时 等泵车")
    chat.text("worker-1", "办结 1 已排水")
    assert "没有待审批" in chat.text("lead-1", "同意 1")
    chat.text("rider-1", "不满意")
    chat.text("worker-1", "认领 1")
    assert "等待马书记审批" in chat.text("worker-1", "延期 1 1小时 还要再抽")


def test_department_must_check_in_before_acting(chat):
    """Issue 15 item 13: a summoned department works the ticket only after 报到, and
    passes it on only inside the area it serves."""
    chat.text("lead-1", "吹哨 1 排水")
    for command in ("认领 1", "进展 1 已派车", "办结 1 已抽排", "转派 1 31019900100102"):
        assert "请先回复「报到 1」" in chat.text("dept-1", command)
    assert chat.ticket(1).status == "summoned"
    chat.text("dept-1", "报到 1")
    assert "已记录" in chat.text("dept-1", "进展 1 已派车")


def test_a_refused_second_send_back_changes_nothing(chat):
    chat.text("worker-1", "退回 1 无效 现场无积水")
    assert "不能执行此操作" in chat.text("worker-1", "退回 1 无效 换个说法")
    ticket = chat.ticket(1)
    assert ticket.request_reason == "现场无积水"
    assert [e.action for e in ticket.events] == ["create", "return"]
