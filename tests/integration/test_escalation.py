"""Deadlines and the escalation ladder, driven by a controllable clock on both databases.

The clock starts on Friday 2026-11-20 10:00 in Shanghai. A flooding ticket must be
claimed within 15 minutes; the urgent ladder reminds the holder at the deadline, then
escalates every 10 minutes: backup worker, community, street, district.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.db import make_engine, make_sessionmaker, unit_of_work
from app.jobs import JobContext, run_auto_close, run_escalation
from app.services.directory import people
from app.settings import Settings
from models import OutboxMessage, Ticket
from tests.chatkit import FENGYUAN_1, Chat, Told

LADDER = ["worker-1", "backup-1", "lead-1", "street-1", "supervisor"]


def sweep(sessions, clock, job=run_escalation):
    return job(
        JobContext(sessions=sessions, settings=Settings(database_url="sqlite://"), clock=clock)
    )


@pytest.fixture
def world(demo_sessions, clock):
    with unit_of_work(demo_sessions) as s:
        people.add_staff(
            s,
            name="钱备",
            role="grid_worker",
            area_code="31019900100101",
            openid="backup-1",
            priority=1,
        )
    chat = Chat(demo_sessions, clock)
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    watch = Told(demo_sessions)
    assert set(watch.new()) == {"worker-1"}  # the new-ticket notice
    return chat, watch


def test_an_unclaimed_flooding_ticket_walks_the_whole_ladder(world, demo_sessions, clock):
    chat, watch = world
    start = clock.now
    ticket = chat.ticket(1)
    assert ticket.category == "flooding"
    assert ticket.claim_due_at == start + timedelta(minutes=15)
    assert ticket.resolve_due_at == start + timedelta(hours=4)

    clock.advance(minutes=14, seconds=59)
    sweep(demo_sessions, clock)
    assert watch.new() == {}

    expected = [(15, "worker-1", "催办"), (25, "backup-1", "督办·后备网格员")]
    expected += [(35, "lead-1", "督办·社区"), (45, "street-1", "督办·街道")]
    expected += [(55, "supervisor", "督办·区级督办")]
    for minute, who, tag in expected:
        clock.now = start + timedelta(minutes=minute)
        sweep(demo_sessions, clock)
        got = watch.new()
        assert list(got) == [who], (minute, got)
        assert tag in got[who][0]
        if who != "worker-1":
            assert f"已超时 {minute - 15} 分钟" in got[who][0]
            assert "当前负责人：张伟（网格员）" in got[who][0]
            assert "「认领 1」" in got[who][0] and "「吹哨 1 部门名称」" in got[who][0]
        # Half-way to the next step nothing happens.
        clock.advance(minutes=5)
        sweep(demo_sessions, clock)
        assert watch.new() == {}

    clock.advance(hours=2)
    sweep(demo_sessions, clock)
    assert watch.new() == {}
    events = [(e.action, e.actor_role) for e in chat.ticket(1).events]
    assert events == [("create", "rider"), ("remind", "system")] + [("escalate", "system")] * 4
    assert chat.ticket(1).escalation_level == 4


def test_a_claim_stops_the_claim_ladder_and_starts_the_resolve_clock(world, demo_sessions, clock):
    chat, watch = world
    start = clock.now
    clock.advance(minutes=15)
    sweep(demo_sessions, clock)
    assert list(watch.new()) == ["worker-1"]
    clock.advance(minutes=3)
    assert "已认领" in chat.text("worker-1", "认领 1")
    watch.new()
    for minutes in (25, 35, 60, 239):
        clock.now = start + timedelta(minutes=minutes)
        sweep(demo_sessions, clock)
        assert watch.new() == {}, minutes
    clock.now = start + timedelta(hours=4)
    sweep(demo_sessions, clock)
    got = watch.new()
    assert list(got) == ["worker-1"]
    assert "前办结" in got["worker-1"][0] and "延期 1" in got["worker-1"][0]


def test_an_approved_extension_moves_the_deadline(world, demo_sessions, clock):
    chat, watch = world
    start = clock.now
    chat.text("worker-1", "认领 1")
    watch.new()
    clock.advance(hours=3)
    assert "等待马书记审批" in chat.text("worker-1", "延期 1 2小时 等待抽水泵到场")
    request = watch.new()
    assert list(request) == ["lead-1"] and "申请延期 2小时" in request["lead-1"][0]
    assert "已批准" in chat.text("lead-1", "同意 1")
    approved = watch.new()
    # The new deadline is today: its time alone, as every other notice says it.
    assert list(approved) == ["worker-1"] and "新的期限为 16:00。" in approved["worker-1"][0]
    assert chat.ticket(1).resolve_due_at == start + timedelta(hours=6)

    clock.now = start + timedelta(hours=4, minutes=30)
    sweep(demo_sessions, clock)
    assert watch.new() == {}
    clock.now = start + timedelta(hours=6)
    sweep(demo_sessions, clock)
    assert list(watch.new()) == ["worker-1"]
    notes = [e.note for e in chat.ticket(1).events if e.action == "approve_extension"]
    assert notes == ["批准延期，新期限 11-20 16:00"]


def test_a_sweep_run_twice_notifies_once(world, demo_sessions, clock):
    _chat, watch = world
    clock.advance(minutes=25)
    first = sweep(demo_sessions, clock)
    second = sweep(demo_sessions, clock)
    assert (first.reminders, first.escalations) == (1, 1)
    assert (second.tickets, second.reminders, second.escalations) == (0, 0, 0)
    got = watch.new()
    assert {k: len(v) for k, v in got.items()} == {"worker-1": 1, "backup-1": 1}


def test_a_long_stop_catches_up_with_one_notice_per_level(world, demo_sessions, clock):
    _chat, watch = world
    clock.advance(hours=3)  # the server was down
    result = sweep(demo_sessions, clock)
    assert (result.reminders, result.escalations) == (1, 4)
    got = watch.new()
    assert {k: len(v) for k, v in got.items()} == dict.fromkeys(LADDER, 1)
    assert "已超时 2 小时 45 分钟" in got["worker-1"][0]
    clock.advance(minutes=30)
    sweep(demo_sessions, clock)
    assert watch.new() == {}


def test_a_restart_in_the_middle_continues_where_it_stopped(world, db_url, demo_sessions, clock):
    _chat, watch = world
    start = clock.now
    clock.now = start + timedelta(minutes=25)
    sweep(demo_sessions, clock)
    assert set(watch.new()) == {"worker-1", "backup-1"}

    # A new process: a new engine and new objects over the same database.
    engine = make_engine(db_url)
    try:
        sessions = make_sessionmaker(engine)
        watch2 = Told(sessions)
        watch2.seen = watch.seen
        clock.now = start + timedelta(minutes=30)
        sweep(sessions, clock)
        assert watch2.new() == {}
        clock.now = start + timedelta(minutes=35)
        sweep(sessions, clock)
        assert list(watch2.new()) == ["lead-1"]
        with sessions() as s:
            assert s.scalar(select(func.count(OutboxMessage.id))) == 4
    finally:
        engine.dispose()


def test_bulky_waste_filed_friday_evening_is_due_on_monday(demo_sessions, clock):
    # Friday 2026-11-20 17:00 in Shanghai; working hours 09:00-12:00, 13:00-18:00.
    clock.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    chat = Chat(demo_sessions, clock)
    chat.text("rider-1", "路边有人扔了一个旧沙发")
    chat.location("rider-1", FENGYUAN_1)
    watch = Told(demo_sessions)
    watch.new()
    ticket = chat.ticket(1)
    assert ticket.category == "bulky_waste"
    monday = datetime(2026, 11, 23, tzinfo=UTC)
    assert ticket.claim_due_at == monday + timedelta(hours=2)  # Mon 10:00 local
    assert ticket.resolve_due_at == monday + timedelta(hours=9)  # Mon 17:00 local

    for hours in (1, 10, 24, 48, 64):  # all weekend, up to Monday 09:00: quiet
        clock.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC) + timedelta(hours=hours)
        sweep(demo_sessions, clock)
        assert watch.new() == {}, hours
    clock.now = monday + timedelta(hours=2)
    sweep(demo_sessions, clock)
    assert list(watch.new()) == ["worker-1"]


def test_holidays_and_make_up_days_come_from_the_policy_file(
    demo_sessions, clock, tmp_path, monkeypatch
):
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[calendar]\nholidays = ["2026-11-23"]\nmakeup_workdays = ["2026-11-21"]\n',
        encoding="utf-8",
    )
    # The policy is the one the chat engine was built with, not the environment's.
    monkeypatch.setenv("GRIDBOT_POLICY_FILE", str(tmp_path / "not-this-one.toml"))
    clock.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # Friday 17:00
    chat = Chat(demo_sessions, clock, policy_file=policy)
    chat.text("rider-1", "楼下有大件垃圾")
    chat.location("rider-1", FENGYUAN_1)
    # Saturday is worked (调休), Monday is a holiday.
    assert chat.ticket(1).resolve_due_at == datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    clock.now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # Sunday 17:00
    chat.text("rider-2", "楼下有大件垃圾")
    chat.location("rider-2", FENGYUAN_1)
    assert chat.ticket(2).resolve_due_at == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # Tue 18:00


def test_the_sweep_applies_the_policy_its_job_was_built_with(
    demo_sessions, clock, tmp_path, monkeypatch
):
    """A job built with a policy file reminds on that file's ladder; the environment (here
    naming a file that does not exist) is never read behind its back."""
    policy = tmp_path / "policy.toml"
    policy.write_text("[categories.flooding]\nclaim_minutes = 60\n", encoding="utf-8")
    monkeypatch.setenv("GRIDBOT_POLICY_FILE", str(tmp_path / "missing.toml"))
    chat = Chat(demo_sessions, clock, policy_file=policy)
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1)
    assert chat.ticket(1).claim_due_at == clock.now + timedelta(minutes=60)
    settings = Settings(database_url="sqlite://", policy_file=policy)
    clock.advance(minutes=30)  # past the shipped 15 minutes, inside the file's 60
    assert (
        run_escalation(JobContext(sessions=demo_sessions, settings=settings, clock=clock)).tickets
        == 0
    )
    clock.advance(minutes=31)
    result = run_escalation(JobContext(sessions=demo_sessions, settings=settings, clock=clock))
    assert (result.tickets, result.reminders) == (1, 1)


def test_a_severe_report_gets_the_shorter_deadline(demo_sessions, clock):
    chat = Chat(demo_sessions, clock)
    chat.text("rider-1", "积水很深，车辆无法通行")
    chat.location("rider-1", FENGYUAN_1)
    ticket = chat.ticket(1)
    assert ticket.severe
    assert ticket.claim_due_at == clock.now + timedelta(minutes=10)
    assert ticket.resolve_due_at == clock.now + timedelta(hours=2)


def test_no_answer_closes_a_resolved_ticket_after_24_hours(world, demo_sessions, clock):
    chat, watch = world
    chat.text("worker-1", "办结 1 已排水")
    watch.new()
    clock.advance(hours=23, minutes=59)
    sweep(demo_sessions, clock, run_auto_close)
    sweep(demo_sessions, clock)
    assert watch.new() == {} and chat.ticket(1).status == "resolved"
    clock.advance(minutes=1)
    assert sweep(demo_sessions, clock, run_auto_close).closed == 1
    assert sweep(demo_sessions, clock, run_auto_close).closed == 0
    ticket = chat.ticket(1)
    assert ticket.status == "closed" and ticket.closed_at == clock.now
    last = ticket.events[-1]
    assert (last.action, last.actor_role) == ("auto_close", "system")
    assert "24 小时未确认" in last.note
    got = watch.new()
    assert set(got) == {"rider-1", "worker-1"} and "自动关闭" in got["rider-1"][0]
    assert "无需确认" in chat.text("rider-1", "满意 1")


def test_unsatisfied_reopens_with_a_shorter_deadline_and_tells_the_level_above(
    world, demo_sessions, clock
):
    chat, watch = world
    chat.text("worker-1", "认领 1")
    chat.text("worker-1", "办结 1 已排水")
    clock.advance(hours=1)
    watch.new()
    chat.text("rider-1", "不满意")
    got = watch.new()
    assert set(got) == {"worker-1", "lead-1"}
    assert "不满意" in got["lead-1"][0]
    assert chat.ticket(1).resolve_due_at == clock.now + timedelta(hours=2)  # half of 4 h
    clock.advance(hours=2)
    sweep(demo_sessions, clock)
    assert list(watch.new()) == ["worker-1"]


def test_tickets_with_nothing_pending_leave_the_sweep(world, demo_sessions, clock):
    chat, _ = world
    chat.text("worker-1", "办结 1 已排水")
    chat.text("rider-1", "满意")
    with demo_sessions() as s:
        t = s.get(Ticket, 1)
        assert t.status == "closed" and t.next_check_at is None
