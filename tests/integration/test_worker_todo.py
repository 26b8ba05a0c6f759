"""A worker's 「我的工单」: each open ticket with how urgent it is, how long is left (or how
late it is) and where, so the worker knows which to go to first."""

from tests.chatkit import FENGYUAN_1


def test_my_tickets_say_how_urgent_how_long_is_left_and_where(chat, clock):
    chat.text("rider-1", "路口积水很深，电动车过不去")
    chat.location("rider-1", FENGYUAN_1, "枫林路与东安路口")
    chat.text("rider-2", "这里有个废弃沙发")
    chat.location("rider-2", (FENGYUAN_1[0] + 0.0004, FENGYUAN_1[1]), "东安路120号")
    clock.advance(minutes=20)

    reply = chat.text("worker-1", "我的工单")

    lines = reply.splitlines()
    assert lines[0] == "您的待办工单（2）："
    flooding = next(line for line in lines if line.startswith("#1 "))
    assert flooding.startswith("#1 【紧急】道路积水 待认领 认领已超时 5 分钟")
    assert flooding.endswith("枫林路与东安路口")
    sofa = next(line for line in lines if line.startswith("#2 "))
    assert "【紧急】" not in sofa
    assert "认领还剩" in sofa and sofa.endswith("东安路120号")


def test_a_worker_with_nothing_open_is_told_so(chat):
    assert chat.text("worker-1", "我的工单") == "您目前没有待办工单。"
