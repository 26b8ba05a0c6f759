"""Duplicate reports: one ticket per real problem, every reporter kept informed."""

from datetime import timedelta

import pytest

from app.jobs import JobContext, run_hazard_alerts
from tests.chatkit import FENGYUAN_1, NANYUAN_4
from tests.images import jpeg, scene
from tests.photokit import Photos

NEAR = (FENGYUAN_1[0] + 0.00045, FENGYUAN_1[1])  # 50 m north
FAR = (FENGYUAN_1[0] + 0.0045, FENGYUAN_1[1])  # 500 m north


def _report(chat, rider, where, words="路口积水很深，电动车过不去"):
    chat.text(rider, words)
    return chat.location(rider, where)


def test_a_second_report_nearby_joins_the_open_ticket_as_a_confirmation(chat):
    assert "工单号 #1" in _report(chat, "rider-1", FENGYUAN_1)
    reply = _report(chat, "rider-2", NEAR, "这里积水了")
    assert "已有工单 #1" in reply and "#2" in reply and "1 位骑手确认" in reply
    run_hazard_alerts(JobContext(sessions=chat.sessions, settings=chat.settings, clock=chat.clock))

    first, second = chat.tickets()
    assert (second.status, second.merged_into_id) == ("merged", 1)
    assert (first.status, first.confirmations, first.severity) == ("assigned", 1, "high")
    # confirmed, the flooding is severe: riders nearby would be alerted (none are)
    assert [e.action for e in first.events] == ["create", "join", "hazard_alert"]
    assert [e.action for e in second.events] == ["create", "merge"]
    worker = chat.notices_to("worker-1")
    assert len(worker) == 2 and "新工单 #1" in worker[0]
    assert "又有 1 条上报为同一问题（#2）" in worker[1] and "较急" in worker[1]

    # the second rider follows the ticket like the first
    chat.text("worker-1", "认领 1")
    chat.text("worker-1", "办结 1 积水已排除")
    for rider in ("rider-1", "rider-2"):
        told = chat.notices_to(rider)
        assert any("已由张伟认领" in t for t in told)
        assert any("已由张伟办结：积水已排除" in t for t in told)
    assert "工单 #1 已关闭" in chat.text("rider-2", "满意")


@pytest.mark.parametrize(
    ("where", "words", "hours_later"),
    [
        (FAR, "这里积水了", 0),  # too far
        (NEAR, "路灯不亮", 0),  # a different kind of problem
        (NEAR, "这里积水了", 7),  # the first report is too old
    ],
)
def test_far_different_or_late_reports_make_their_own_ticket(
    chat, clock, where, words, hours_later
):
    _report(chat, "rider-1", FENGYUAN_1)
    clock.advance(hours=hours_later)
    assert "工单号 #2" in _report(chat, "rider-2", where, words)
    assert [t.status for t in chat.tickets()] == ["assigned", "assigned"]


def test_the_worker_hears_of_more_reports_at_most_once_per_interval(chat, clock):
    _report(chat, "rider-1", FENGYUAN_1)
    for n in range(2, 5):
        clock.advance(minutes=3)
        _report(chat, f"rider-{n}", NEAR, "积水")
    more = [t for t in chat.notices_to("worker-1") if "又有" in t]
    assert len(more) == 1 and "（#2）" in more[0]
    assert chat.ticket(1).confirmations == 3

    from app.db import unit_of_work
    from app.services.intake.duplicates import more_reports_sweep

    policy = chat.rules.duplicates
    with unit_of_work(chat.sessions) as s:
        assert more_reports_sweep(s, now=clock(), policy=policy) == 0  # too soon
    clock.advance(minutes=30)
    with unit_of_work(chat.sessions) as s:
        assert more_reports_sweep(s, now=clock(), policy=policy) == 1
    with unit_of_work(chat.sessions) as s:
        assert more_reports_sweep(s, now=clock(), policy=policy) == 0  # said once
    more = [t for t in chat.notices_to("worker-1") if "又有" in t]
    assert len(more) == 2 and "又有 2 条上报为同一问题（#3、#4）" in more[1]
    assert "已有 3 位骑手确认" in more[1] and "紧急" in more[1]


def test_near_identical_photos_merge_and_different_ones_do_not(chat, tmp_path):
    photos = Photos(chat, tmp_path / "media")
    flood = scene(21, (1600, 1200))
    photos.send("rider-1", "a", jpeg(flood, quality=92))
    chat.location("rider-1", FENGYUAN_1)
    photos.run()
    # the same scene, resent recompressed and smaller, from a place far away
    photos.send("rider-2", "b", jpeg(flood.resize((1200, 900)), quality=55))
    assert "工单号 #2" in chat.location("rider-2", NANYUAN_4)
    # a different picture, far away too
    photos.send("rider-3", "c", jpeg(scene(22, (1600, 1200))))
    assert "工单号 #3" in chat.location("rider-3", (NANYUAN_4[0] + 0.003, NANYUAN_4[1]))
    photos.run()

    first, second, third = chat.tickets()
    assert third.status == "assigned"
    assert (second.status, second.merged_into_id) == ("merged", 1)
    assert first.confirmations == 1
    assert any("已有工单 #1" in t for t in chat.notices_to("rider-2"))
    assert any("已合并至 #1" in t for t in chat.notices_to("worker-16"))


def test_different_photos_far_apart_stay_separate(chat, tmp_path):
    photos = Photos(chat, tmp_path / "media")
    photos.send("rider-1", "a", jpeg(scene(31)))
    chat.location("rider-1", FENGYUAN_1)
    photos.run()
    photos.send("rider-2", "b", jpeg(scene(32)))
    chat.location("rider-2", NANYUAN_4)
    photos.run()
    assert [t.status for t in chat.tickets()] == ["assigned", "assigned"]


def test_a_worker_splits_a_wrong_merge_into_its_own_ticket(chat):
    _report(chat, "rider-1", FENGYUAN_1)
    _report(chat, "rider-2", NEAR, "积水，井盖也被冲开了")
    assert chat.ticket(2).status == "merged"
    run_hazard_alerts(JobContext(sessions=chat.sessions, settings=chat.settings, clock=chat.clock))

    assert "#1 不是合并的上报" in chat.text("worker-1", "拆分 1")
    assert "无权操作" in chat.text("worker-16", "拆分 2")
    reply = chat.text("worker-1", "拆分 2")
    assert "工单 #2 已拆分为独立工单" in reply

    first, second = chat.tickets()
    assert (second.status, second.merged_into_id, second.assignee.openid) == (
        "assigned",
        None,
        "worker-1",
    )
    assert (first.confirmations, first.severity) == (0, "normal")
    assert [e.action for e in first.events] == ["create", "join", "hazard_alert", "split"]
    assert "不是同一问题" in chat.notices_to("rider-2")[-1]
    # The worker who split it holds #2: the reply says how to claim it, no notice of
    # what they just did (before: a "新工单 #2" notice to themselves).
    assert "回复「认领 2」接单" in reply
    assert not any("新工单 #2" in n for n in chat.notices_to("worker-1"))
    # split for good: a later report near both joins #1 (the older), #2 never re-merges
    assert chat.ticket(2).no_merge


def test_a_lead_who_splits_a_report_sends_it_to_the_grid_worker(chat):
    _report(chat, "rider-1", FENGYUAN_1)
    _report(chat, "rider-2", NEAR, "积水，井盖也被冲开了")
    assert "已拆分为独立工单" in chat.text("lead-1", "拆分 2")
    assert "新工单 #2" in chat.notices_to("worker-1")[-1]
    assert not any("#2" in n for n in chat.notices_to("lead-1"))


def test_a_confirmed_flood_gets_the_severe_deadlines(chat, clock):
    _report(chat, "rider-1", FENGYUAN_1)
    (first,) = chat.tickets()
    assert not first.severe
    assert first.claim_due_at == first.created_at + timedelta(minutes=15)
    clock.advance(minutes=2)
    _report(chat, "rider-2", NEAR, "这里积水了")
    first = chat.tickets()[0]
    assert first.severe and first.severity == "high"
    assert first.claim_due_at == first.created_at + timedelta(minutes=10)
    assert first.resolve_due_at == first.created_at + timedelta(minutes=120)
    # the ladder now runs from the earlier deadline: the holder is reminded after +10,
    # not after +15
    clock.advance(minutes=7)
    from app.jobs import JobContext, run_escalation

    run_escalation(JobContext(sessions=chat.sessions, settings=chat.settings, clock=clock))
    before = len(chat.notices_to("worker-1"))
    clock.advance(minutes=2)
    run_escalation(JobContext(sessions=chat.sessions, settings=chat.settings, clock=clock))
    told = chat.notices_to("worker-1")
    assert len(told) == before + 1 and "催办 #1" in told[-1]
