"""What a rider sends after a report: only what belongs to the ticket is added to it."""

import pytest

from tests.chatkit import FENGYUAN_1


def filed(chat, words: str | None = None) -> None:
    """rider-1 reports at 枫苑一网格 (worker-1): a photo and a location, and words if given."""
    if words:
        chat.text("rider-1", words)
    else:
        chat.photo("rider-1")
    assert "已受理" in chat.location("rider-1", FENGYUAN_1, "枫林路口")


@pytest.mark.parametrize(
    ("words", "answer"),
    [
        ("在吗？怎么上报", "现场照片"),
        ("你好", "您好"),
        ("谢谢", "不客气"),
        ("辛苦了！", "不客气"),
        ("好的", "正在处理"),
        ("[微笑]", "正在处理"),
        ("👍", "正在处理"),
        ("多久能处理？", "我的上报"),
        ("asdfgh", "没看懂这条消息"),
    ],
)
def test_chat_after_a_report_is_answered_not_added_to_the_ticket(chat, clock, words, answer):
    filed(chat)
    clock.advance(minutes=1)
    reply = chat.text("rider-1", words)
    assert answer in reply and "已补充" not in reply
    (ticket,) = chat.tickets()
    assert ticket.description == ""
    assert [e.action for e in ticket.events] == ["create"]
    assert len(chat.notices_to("worker-1")) == 1  # the new ticket, nothing more


def test_keyboard_mash_is_not_a_description(chat, clock):
    """A rider whose first message is "asdfgh" is not told 已收到描述: no report starts,
    and with a location alone no ticket is filed on it."""
    assert "现场照片" in chat.text("rider-1", "asdfgh")
    assert "请再发一张现场照片" in chat.location("rider-1", FENGYUAN_1, "枫林路口")
    reply = chat.text("rider-1", "qwerty")
    assert reply.startswith("没看懂这条消息，没有记入上报。") and "现场照片" in reply
    assert chat.tickets() == []
    assert "已受理" in chat.photo("rider-1")
    assert chat.tickets()[0].description == ""


def test_a_staff_command_from_a_rider_is_not_added_to_the_ticket(chat, clock):
    filed(chat)
    reply = chat.text("rider-1", "认领 1")
    assert "「认领」是工作人员的指令" in reply and "绑定" in reply
    assert chat.tickets()[0].description == ""


def test_more_words_about_the_same_problem_are_added(chat, clock):
    filed(chat, "井盖没了")
    assert "已补充到工单 #1" in chat.text("rider-1", "很危险，车都堵住了")
    (ticket,) = chat.tickets()
    assert ticket.description == "井盖没了；很危险，车都堵住了"
    assert ticket.category == "manhole_cover"


@pytest.mark.parametrize("words", ["还有一处井盖没了", "另外前面路口积水很深", "旁边路灯也不亮"])
def test_words_about_another_problem_start_a_new_report(chat, clock, words):
    filed(chat, "路边有一堆大件垃圾")
    clock.advance(minutes=1)
    reply = chat.text("rider-1", words)
    assert "另一个问题" in reply and "不会补充到工单 #1" in reply and "请发送位置" in reply
    assert "已受理！工单号 #2" in chat.location("rider-1", FENGYUAN_1, "枫林路口")
    first, second = chat.tickets()
    assert first.description == "路边有一堆大件垃圾"
    assert second.description == words
    assert [e.action for e in first.events] == ["create"]


def test_a_photo_after_another_problem_belongs_to_the_new_report(chat, clock):
    filed(chat, "路边有一堆大件垃圾")
    chat.text("rider-1", "还有一棵树倒了")
    assert "请发送位置" in chat.photo("rider-1", "media-tree")
    chat.location("rider-1", FENGYUAN_1)
    first, second = chat.tickets()
    assert (len(first.photos), len(second.photos)) == (0, 1)
    assert second.category == "fallen_tree"


def test_help_shows_each_person_the_commands_they_may_use(chat):
    rider = chat.text("rider-1", "帮助")
    assert "现场照片" in rider and "认领" not in rider
    for command in (
        "我的上报",
        "不满意 原因",
        "「取消」",
        "取消 号",
        "驿站",
        "我的积分",
        "退订预警",
    ):
        assert command in rider

    worker = chat.text("worker-1", "帮助")
    assert worker.startswith("网格员指令")
    for command in ("认领 号", "办结 号 处理结果", "办结照片", "拆分 号", "转派", "延期", "退回"):
        assert command in worker
    assert "吹哨" not in worker and "日报" not in worker and "同意" not in worker
    assert "登录" not in worker

    lead = chat.text("lead-1", "help")
    assert lead.startswith("社区书记指令")
    for command in ("吹哨 号 部门", "同意 号", "驳回 号", "日报", "转派", "拆分", "「登录」"):
        assert command in lead

    department = chat.text("dept-1", "帮助")
    assert department.startswith("部门联络员指令") and "报到 号" in department
    assert "吹哨 号" not in department and "日报" not in department

    supervisor = chat.text("supervisor", "帮助")
    assert supervisor.startswith("区级督办指令") and "吹哨" in supervisor
    assert "「登录」获取控制台登录链接" in supervisor
    assert "「延期 号" not in supervisor  # nobody above to ask


def test_a_greeting_from_staff_gets_a_greeting(chat):
    reply = chat.text("worker-1", "你好")
    assert reply.startswith("您好，张伟！") and "帮助" in reply
