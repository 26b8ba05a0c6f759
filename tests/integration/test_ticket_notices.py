"""Who is told of each ticket action, on a real database (both backends).

The world: rider-1 reports a flooded crossing in 枫苑一网格 (worker-1 张伟, community
lead-1 马书记); rider-2 reports the same problem 50 m away and is merged into #1. Every
test takes actions in chat (or runs a sweep) and checks who got a notice: the reporter
and the merged rider hear the progress, nobody hears twice, the actor hears nothing.
"""

import pytest

from app.jobs import JobContext, run_auto_close, run_escalation
from tests.chatkit import FENGYUAN_1, Chat, Told

NEAR = (FENGYUAN_1[0] + 0.00045, FENGYUAN_1[1])  # 50 m north


@pytest.fixture
def world(demo_sessions, clock):
    chat = Chat(demo_sessions, clock)
    told = Told(demo_sessions)
    chat.text("rider-1", "路口积水很深，电动车过不去")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    assert told.who() == {"worker-1"}  # CREATE: the holder
    chat.text("rider-2", "这里积水了")
    assert "已有工单 #1" in chat.location("rider-2", NEAR)
    told.new()  # the "more reports" notice to worker-1 (once per interval, not the table)
    return chat, told


def sweep(chat, clock, job):
    job(JobContext(sessions=chat.sessions, settings=chat.settings, clock=clock))


def test_claim_note_and_resolve_tell_the_reporter_and_every_merged_rider(world):
    chat, told = world
    chat.text("worker-1", "认领 1")
    assert told.who() == {"rider-1", "rider-2"}
    chat.text("worker-1", "进展 1 已联系排水公司")
    assert told.who() == {"rider-1", "rider-2"}
    chat.text("worker-1", "办结 1 积水已排除")
    assert told.who() == {"rider-1", "rider-2"}


def test_a_rider_who_is_satisfied_closes_it_for_the_worker_and_the_other_riders(world):
    chat, told = world
    chat.text("worker-1", "办结 1 积水已排除")
    told.new()
    chat.text("rider-1", "满意")
    notices = told.new()
    assert set(notices) == {"worker-1", "rider-2"}
    assert "已关闭" in notices["rider-2"][0]


def test_a_merged_rider_who_is_unsatisfied_reopens_it_for_all(world):
    chat, told = world
    chat.text("worker-1", "办结 1 积水已排除")
    told.new()
    chat.text("rider-2", "不满意")
    notices = told.new()
    assert set(notices) == {"worker-1", "lead-1", "rider-1"}
    assert "重新打开" in notices["rider-1"][0]


def test_auto_closure_tells_every_rider_and_the_worker(world, clock):
    chat, told = world
    chat.text("worker-1", "办结 1 积水已排除")
    told.new()
    clock.advance(hours=25)
    sweep(chat, clock, run_auto_close)
    notices = told.new()
    assert set(notices) == {"rider-1", "rider-2", "worker-1"}
    assert "自动关闭" in notices["rider-2"][0]


def test_a_rejected_send_back_tells_every_rider_why(world):
    chat, told = world
    chat.text("worker-1", "退回 1 无效 现场没有积水")
    assert told.who() == {"lead-1"}
    chat.text("lead-1", "同意 1")
    notices = told.new()
    assert set(notices) == {"rider-1", "rider-2", "worker-1"}
    assert "现场没有积水" in notices["rider-2"][0]


def test_a_send_back_as_not_ours_tells_the_lead_and_every_rider(world):
    chat, told = world
    chat.text("worker-1", "退回 1 小区内部管网，由物业负责")
    assert told.who() == {"lead-1", "rider-1", "rider-2"}


def test_a_refused_send_back_tells_the_holder(world):
    chat, told = world
    chat.text("worker-1", "退回 1 不归我管")
    told.new()
    chat.text("lead-1", "驳回 1 就在你的网格")
    assert told.who() == {"worker-1"}


def test_extension_request_and_decisions(world):
    chat, told = world
    chat.text("worker-1", "认领 1")
    told.new()
    chat.text("worker-1", "延期 1 2小时 等泵车")
    assert told.who() == {"lead-1"}
    chat.text("lead-1", "驳回 1 先抽水")
    assert told.who() == {"worker-1"}
    chat.text("worker-1", "延期 1 1小时 等泵车")
    told.new()
    chat.text("lead-1", "同意 1")
    assert told.who() == {"worker-1"}


def test_a_lead_who_transfers_tells_the_new_worker_the_previous_one_and_the_riders(world):
    chat, told = world
    chat.text("worker-1", "认领 1")
    told.new()
    chat.text("lead-1", "转派 1 31019900100102")
    notices = told.new()
    assert set(notices) == {"worker-2", "worker-1", "rider-1", "rider-2"}
    assert "转派工单 #1" in notices["worker-2"][0]
    assert "无需再处理" in notices["worker-1"][0]


def test_a_worker_who_transfers_is_not_told_of_it(world):
    chat, told = world
    chat.text("worker-1", "转派 1 31019900100102")
    assert told.who() == {"worker-2", "rider-1", "rider-2"}


def test_summon_check_in_and_a_department_resolving(world):
    chat, told = world
    chat.text("lead-1", "吹哨 1 排水")
    assert told.who() == {"dept-1", "worker-1"}  # the department, the previous holder
    chat.text("dept-1", "报到 1")
    assert told.who() == {"rider-1", "rider-2", "lead-1"}  # riders, the summoner
    chat.text("dept-1", "办结 1 已抽排")
    notices = told.new()
    # the riders, the grid's worker and the summoning lead
    assert set(notices) == {"rider-1", "rider-2", "worker-1", "lead-1"}
    assert "区排水所办结" in notices["worker-1"][0] and "已抽排" in notices["lead-1"][0]


def test_reminders_and_escalation_go_to_the_holder_then_up_the_ladder(world, clock):
    chat, told = world
    clock.advance(minutes=11)  # two riders made it severe: claim within 10 minutes
    sweep(chat, clock, run_escalation)
    assert told.who() == {"worker-1"}
    clock.advance(minutes=10)
    sweep(chat, clock, run_escalation)
    assert told.who() == {"lead-1"}  # the demo grid has no backup worker


def test_a_riders_addition_tells_the_worker_once(world, clock):
    chat, told = world
    clock.advance(minutes=1)
    chat.text("rider-1", "水越来越深了")
    assert told.who() == {"worker-1"}
    chat.text("rider-2", "已经淹到膝盖")  # the merged report's addition: #1's worker
    assert told.who() == {"worker-1"}


def test_a_split_tells_the_split_reports_rider_and_worker(world):
    chat, told = world
    chat.text("lead-1", "拆分 2")
    assert told.who() == {"worker-1", "rider-2"}
