"""Hazard alerts (issue 19 §3): riders near a blocked road are told to ride around it, and
told again when it is open, as the conversation reads."""

import pytest

from app.domain.coords import wgs84_to_gcj02
from app.jobs import JobContext, run_hazard_alerts
from tests.chatkit import FENGYUAN_1, NANYUAN_4

NEARBY = (FENGYUAN_1[0] + 0.003, FENGYUAN_1[1])  # about 330 m north of the flooding
SEVERE = "路口积水很深，电动车无法通行"


def passing_by(chat, clock, rider, where=NEARBY):
    """A rider who wrote to the account (its chat window opens) and whose phone then
    reported where they are (a LOCATION event)."""
    chat.text(rider, "帮助")
    clock.advance(seconds=1)
    lat, lng = wgs84_to_gcj02(*where)
    assert chat._send(rider, "event", event="location", lat=lat, lng=lng, msg_id="") == ""
    clock.advance(seconds=1)


def swept(chat):
    """Run the hazard-alert sweep, as the scheduler does seconds after a change."""
    ctx = JobContext(sessions=chat.sessions, settings=chat.settings, clock=chat.clock)
    return run_hazard_alerts(ctx)


def report(chat, rider, words=SEVERE, where=FENGYUAN_1, label="枫林路与东安路口"):
    chat.text(rider, words)
    reply = chat.location(rider, where, label)
    swept(chat)
    return reply


def timeline(chat, number):
    return [(e.action, e.note) for e in chat.ticket(number).events if "hazard" in e.action]


def alerts(chat, rider):
    return [n for n in chat.notices_to(rider) if "通行" in n]


def test_a_severe_flooding_alerts_riders_nearby_and_the_all_clear_follows(chat, clock):
    passing_by(chat, clock, "rider-2")
    assert "工单号 #1（道路积水）" in report(chat, "rider-1")
    [alert] = chat.notices_to("rider-2")
    lines = alert.split("\n")
    assert lines[0] == "前方积水：枫林路与东安路口无法通行，请绕行。"
    assert lines[1].startswith("位置：https://uri.amap.com/marker?position=121.4")
    assert "coordinate=gaode" in lines[1]
    assert lines[2] == "不想再收到路况提醒，回复「退订预警」。"
    assert alerts(chat, "rider-1") == []  # the reporter knows already
    assert timeline(chat, 1) == [("hazard_alert", "已向附近 1 位骑手发送绕行预警")]

    chat.text("worker-1", "认领 1")
    chat.text("worker-1", "办结 1 积水已排除")
    swept(chat)
    assert chat.notices_to("rider-2")[-1] == (
        "已恢复通行：枫林路与东安路口的道路积水已处理完毕，可以正常通行了。"
    )
    chat.text("rider-1", "满意 1")  # closing it tells nobody twice
    swept(chat)
    assert len(chat.notices_to("rider-2")) == 2
    assert timeline(chat, 1)[-1] == ("hazard_clear", "已通知 1 位收到预警的骑手恢复通行")


def test_a_report_that_does_not_block_the_road_alerts_nobody(chat, clock):
    passing_by(chat, clock, "rider-2")
    report(chat, "rider-1", "路口有点积水")
    report(chat, "rider-3", "路灯不亮了，很危险", where=(NEARBY[0], NEARBY[1] + 0.003))
    assert chat.notices_to("rider-2") == []
    assert timeline(chat, 1) == [] and timeline(chat, 2) == []


def test_no_rider_nearby_is_recorded_and_nobody_is_alerted(chat, clock):
    passing_by(chat, clock, "rider-2", where=NANYUAN_4)  # about 2 km away
    report(chat, "rider-1")
    assert chat.notices_to("rider-2") == []
    assert timeline(chat, 1) == [("hazard_alert", "附近 1 公里内 2 小时内没有骑手，未发送绕行预警")]


def test_a_rider_seen_more_than_two_hours_ago_is_not_alerted(chat, clock):
    passing_by(chat, clock, "rider-2")
    clock.advance(hours=2, minutes=1)
    chat.text("rider-2", "我的积分")  # still chatting, but no new position
    report(chat, "rider-1")
    assert alerts(chat, "rider-2") == []


def test_an_unsubscribed_rider_is_left_alone_until_they_subscribe_again(chat, clock):
    passing_by(chat, clock, "rider-2")
    assert chat.text("rider-2", "退订预警") == (
        "已退订绕行预警，以后不再给您发送路况提醒。想重新接收，回复「订阅预警」。"
    )
    assert chat.text("rider-2", "退订预警") == "您已退订绕行预警。想重新接收，回复「订阅预警」。"
    report(chat, "rider-1")
    assert chat.notices_to("rider-2") == []
    assert timeline(chat, 1) == [("hazard_alert", "附近 1 位骑手已退订，未发送绕行预警")]
    assert chat.text("rider-2", "订阅预警") == (
        "已订阅绕行预警：附近有积水、倒树、井盖缺失或道路堵塞时提醒您绕行。"
    )
    report(chat, "rider-3", "大树倒了，路完全无法通行", where=(NEARBY[0], NEARBY[1] + 0.002))
    [alert] = chat.notices_to("rider-2")
    assert alert.startswith("前方倒树：枫林路与东安路口无法通行，请绕行。")


def test_a_rider_whose_chat_window_closed_is_not_messaged(chat, clock):
    chat.text("rider-2", "帮助")
    clock.advance(hours=49)
    lat, lng = wgs84_to_gcj02(*NEARBY)
    chat._send("rider-2", "event", event="location", lat=lat, lng=lng, msg_id="")
    report(chat, "rider-1")
    assert chat.notices_to("rider-2") == []
    assert timeline(chat, 1) == [("hazard_alert", "附近 1 位骑手超过48小时未互动，未发送绕行预警")]


def test_at_most_three_alerts_an_hour_then_a_lead_can_send_the_rest(chat, clock):
    passing_by(chat, clock, "rider-2")
    hazards = [
        ("路口积水很深，无法通行", (FENGYUAN_1[0], FENGYUAN_1[1] - 0.004)),
        ("大树倒了，无法通行", (FENGYUAN_1[0], FENGYUAN_1[1] - 0.002)),
        ("井盖没了，很危险，无法通行", FENGYUAN_1),
        ("消防通道堵住了，无法通行", (FENGYUAN_1[0], FENGYUAN_1[1] + 0.002)),
    ]
    for i, (words, where) in enumerate(hazards, 1):
        report(chat, f"rider-{10 + i}", words, where=where, label=f"路口{i}")
        clock.advance(minutes=5)
    assert [n.split("：")[0] for n in chat.notices_to("rider-2")] == [
        "前方积水",
        "前方倒树",
        "前方井盖缺失",
    ]
    # the three who reported the others were nearby too, and hear of the fourth
    assert chat.notices_to("rider-11")[-1].startswith("前方道路堵塞：路口4无法通行")
    assert timeline(chat, 4) == [
        (
            "hazard_alert",
            "已向附近 3 位骑手发送绕行预警；1 位骑手1小时内已收到多条提醒，未发送",
        )
    ]
    clock.advance(hours=1)
    passing_by(chat, clock, "rider-2")
    assert chat.text("lead-1", "预警 4") == "已向工单 #4 附近1公里内的 1 位骑手发送绕行预警。"
    swept(chat)
    assert chat.notices_to("rider-2")[-1].startswith("前方道路堵塞：路口4无法通行，请绕行。")
    assert timeline(chat, 4)[-1] == (
        "hazard_alert",
        "马书记发起预警：已向附近 1 位骑手发送绕行预警",
    )


def test_a_lead_alerts_by_number_once_per_rider(chat, clock):
    passing_by(chat, clock, "rider-2")
    report(chat, "rider-1", "路口有点积水")  # not severe: no alert by itself
    assert chat.notices_to("rider-2") == []
    assert chat.text("lead-1", "预警 1") == "已向工单 #1 附近1公里内的 1 位骑手发送绕行预警。"
    swept(chat)
    assert chat.notices_to("rider-2")[0].startswith("前方积水：枫林路与东安路口无法通行")
    assert chat.text("lead-1", "预警 1") == (
        "工单 #1 附近1公里内近2小时没有新的骑手可提醒，未发送预警。"
    )
    swept(chat)
    assert len(chat.notices_to("rider-2")) == 1
    assert timeline(chat, 1)[-1] == (
        "hazard_alert",
        "马书记发起预警：附近 1 位骑手已收到本工单的预警，未发送绕行预警",
    )


@pytest.mark.parametrize(
    ("who", "says", "answer"),
    [
        ("worker-1", "预警 1", "只有社区、街道或区级负责人可以发送绕行预警。"),
        ("lead-1", "预警", "格式：预警 工单号，例如「预警 12」：提醒工单地点附近的骑手绕行。"),
        ("lead-1", "预警 99", "没有找到工单 #99。"),
        (
            "rider-2",
            "预警 1",
            "绕行预警会在附近有积水、倒树、井盖缺失或道路堵塞时提醒您绕行，无需操作。"
            "不想接收请回复「退订预警」。",
        ),
    ],
)
def test_who_may_send_an_alert(chat, who, says, answer):
    report(chat, "rider-1", "路口有点积水")
    assert chat.text(who, says) == answer


def test_a_lead_outside_the_area_or_a_finished_ticket_is_refused(chat):
    report(chat, "rider-1", "路口有点积水")
    assert chat.text("lead-4", "预警 1") == "工单 #1 不在您负责的区域，无权发送预警。"
    chat.text("worker-1", "办结 1 已处理")
    assert chat.text("lead-1", "预警 1") == ("工单 #1 当前状态为「已办结待确认」，不需要预警。")


def test_help_names_the_commands(chat):
    assert "「退订预警」不再接收附近路况的绕行提醒" in chat.text("rider-1", "帮助")
    assert "「预警 号」提醒工单地点附近1公里内的骑手绕行" in chat.text("lead-1", "帮助")
    assert "预警" not in chat.text("worker-1", "帮助")


def test_the_change_only_owes_the_alert_and_the_sweep_sends_it_once(chat, clock):
    passing_by(chat, clock, "rider-2")
    chat.text("rider-1", SEVERE)
    chat.location("rider-1", FENGYUAN_1, "枫林路与东安路口")
    assert chat.notices_to("rider-2") == [] and timeline(chat, 1) == []  # not on the report
    assert swept(chat) == {"handled": 1}
    assert len(chat.notices_to("rider-2")) == 1
    assert swept(chat) == {"handled": 0}

    chat.text("worker-1", "认领 1")  # changes of a ticket alerted already alert nobody again
    chat.text("worker-1", "办结 1 积水已排除")
    chat.text("rider-1", "满意 1")  # confirmed before the sweep ran: the road is open all the same
    swept(chat)
    assert chat.notices_to("rider-2")[1].startswith("已恢复通行：枫林路与东安路口")
    assert len(chat.notices_to("rider-2")) == 2
    assert [action for action, _ in timeline(chat, 1)] == ["hazard_alert", "hazard_clear"]


def test_a_sweep_that_fails_leaves_the_alert_owed(chat, clock, monkeypatch):
    # The failure is logged and the owed alert waits a minute (before, the error left the
    # sweep and the same row came first again on every run, in front of all the others).
    from app.services.riders import hazard_alerts

    passing_by(chat, clock, "rider-2")
    chat.text("rider-1", SEVERE)
    chat.location("rider-1", FENGYUAN_1, "枫林路与东安路口")
    send = hazard_alerts._send

    def crash(*args, **kwargs):
        send(*args, **kwargs)
        raise RuntimeError("the process died")

    monkeypatch.setattr(hazard_alerts, "_send", crash)
    swept(chat)
    assert chat.notices_to("rider-2") == [] and timeline(chat, 1) == []
    monkeypatch.setattr(hazard_alerts, "_send", send)
    assert swept(chat) == {"handled": 0}  # not yet: it waits its minute
    clock.advance(minutes=1)
    assert swept(chat) == {"handled": 1}
    assert len(chat.notices_to("rider-2")) == 1


def test_an_alert_that_keeps_failing_does_not_hold_up_the_others(chat, clock, monkeypatch):
    from app.services.riders import hazard_alerts

    passing_by(chat, clock, "rider-3", where=(NANYUAN_4[0] + 0.003, NANYUAN_4[1]))
    chat.text("rider-1", SEVERE)
    chat.location("rider-1", FENGYUAN_1, "枫林路与东安路口")  # #1: its alert always fails
    chat.text("rider-2", SEVERE)
    chat.location("rider-2", NANYUAN_4, "南园路")  # #2: rider-3 is nearby
    alert = hazard_alerts.alert

    def broken_for_the_first(session, ticket, **kwargs):
        if ticket.id == 1:
            raise RuntimeError("a bad row")
        return alert(session, ticket, **kwargs)

    monkeypatch.setattr(hazard_alerts, "alert", broken_for_the_first)
    for _ in range(3):
        swept(chat)
        clock.advance(minutes=1)
    assert [n[:5] for n in chat.notices_to("rider-3")] == ["前方积水："]


def test_a_reopened_hazard_alerts_again_and_clears_again(chat, clock):
    passing_by(chat, clock, "rider-2")
    passing_by(chat, clock, "rider-3", where=(NEARBY[0], NEARBY[1] + 0.002))
    report(chat, "rider-1")
    chat.text("worker-1", "办结 1 积水已排除")
    swept(chat)
    assert [n[:5] for n in chat.notices_to("rider-2")] == ["前方积水：", "已恢复通行"]

    chat.text("rider-3", "退订预警")
    clock.advance(minutes=10)
    chat.text("rider-1", "不满意 水又漫上来了")
    swept(chat)
    assert [n[:5] for n in chat.notices_to("rider-2")] == ["前方积水：", "已恢复通行", "前方积水："]
    assert [n[:5] for n in chat.notices_to("rider-3")] == ["前方积水：", "已恢复通行"]
    assert timeline(chat, 1)[-1] == (
        "hazard_alert",
        "已向附近 1 位骑手发送绕行预警；1 位骑手已退订，未发送",
    )

    chat.text("worker-1", "办结 1 已疏通")
    swept(chat)
    assert chat.notices_to("rider-2")[-1].startswith("已恢复通行：枫林路与东安路口")
    assert len(chat.notices_to("rider-3")) == 2  # unsubscribed, never warned again
    assert timeline(chat, 1)[-1] == ("hazard_clear", "已通知 1 位收到预警的骑手恢复通行")


def test_a_reopened_hazard_respects_the_hourly_cap(chat, clock):
    passing_by(chat, clock, "rider-2")
    report(chat, "rider-1")
    report(chat, "rider-11", "大树倒了，无法通行", where=(FENGYUAN_1[0], FENGYUAN_1[1] - 0.002))
    chat.text("worker-1", "办结 1 积水已排除")
    swept(chat)
    report(chat, "rider-12", "井盖没了，很危险", where=(FENGYUAN_1[0], FENGYUAN_1[1] + 0.002))
    assert [n[:4] for n in chat.notices_to("rider-2")] == [
        "前方积水",
        "前方倒树",
        "已恢复通",
        "前方井盖",
    ]

    chat.text("rider-1", "不满意 还是过不去")
    swept(chat)
    assert len(chat.notices_to("rider-2")) == 4  # three alerts within the hour already
    assert chat.notices_to("rider-11")[-1].startswith("前方积水：")  # who reported the others
    assert timeline(chat, 1)[-1] == (
        "hazard_alert",
        "已向附近 2 位骑手发送绕行预警；1 位骑手1小时内已收到多条提醒，未发送",
    )


def test_a_rider_still_warned_is_not_alerted_twice_when_it_reopens_at_once(chat, clock):
    passing_by(chat, clock, "rider-2")
    report(chat, "rider-1")
    chat.text("worker-1", "办结 1 积水已排除")
    chat.text("rider-1", "不满意 根本没处理")  # before the all-clear went out
    swept(chat)
    assert [n[:5] for n in chat.notices_to("rider-2")] == ["前方积水："]
    chat.text("worker-1", "办结 1 已疏通")
    swept(chat)
    assert [n[:5] for n in chat.notices_to("rider-2")] == ["前方积水：", "已恢复通行"]
