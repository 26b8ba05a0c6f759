"""Hazard alerts: which tickets alert by themselves, the words, and who of those nearby hears."""

from datetime import UTC, datetime, timedelta

from app.domain import hazards
from app.domain.hazards import Recipients, choose, timeline_note

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_only_severe_road_blocking_tickets_alert_by_themselves():
    assert hazards.warrants_alert("flooding", severe=True)
    assert hazards.warrants_alert("manhole_cover", severe=True)
    assert not hazards.warrants_alert("flooding", severe=False)
    assert not hazards.warrants_alert("street_light", severe=True)


def test_the_words_follow_the_category():
    assert hazards.alert_text("fallen_tree", "东安路", "L").startswith(
        "前方倒树：东安路无法通行，请绕行。\n位置：L"
    )
    assert hazards.alert_text("manhole_cover", "东安路", "L").startswith(
        "前方井盖缺失：东安路路面有危险，请绕行。"
    )
    # a lead's 预警 on a category without words of its own
    assert hazards.alert_text("road_damage", "东安路", "L").startswith(
        "前方路面破损：东安路附近通行受阻，请绕行。"
    )
    assert hazards.clear_text("flooding", "东安路") == (
        "已恢复通行：东安路的道路积水已处理完毕，可以正常通行了。"
    )


def test_the_map_link_is_gcj02_for_amap():
    link = hazards.map_link(31.19225, 121.432625, "枫林路")
    # GCJ-02 lies a few hundred metres from WGS-84 in Shanghai
    assert "position=121.43" in link and "121.432625" not in link
    assert "coordinate=gaode" in link and "name=%E6%9E%AB" in link


def test_choose_keeps_the_order_and_says_why_the_others_are_left_out():
    spoke = {1: NOW, 2: NOW, 3: NOW - timedelta(hours=49), 4: NOW}
    got = choose(
        [4, 1, 2, 3, 5],
        now=NOW,
        opted_out={2},
        last_message=spoke,
        alerts_last_hour={1: hazards.PER_HOUR},
    )
    assert got == Recipients([4], opted_out=1, window_closed=2, capped=1)


def test_timeline_notes():
    assert timeline_note(0, Recipients([])) == "附近 1 公里内 2 小时内没有骑手，未发送绕行预警"
    assert timeline_note(2, Recipients([1, 2])) == "已向附近 2 位骑手发送绕行预警"
    assert timeline_note(0, Recipients([], capped=1), by="马书记") == (
        "马书记发起预警：附近 1 位骑手1小时内已收到多条提醒，未发送绕行预警"
    )


def test_riders_warned_of_the_ticket_already_are_counted_apart():
    now = datetime(2026, 11, 20, 10, 0)
    got = choose(
        [1, 2, 3],
        now=now,
        warned={1},
        opted_out={2},
        last_message={1: now, 2: now, 3: now},
        alerts_last_hour={},
    )
    assert got == Recipients([3], opted_out=1, warned=1)
    assert got.skipped == 1  # a lead hears "nobody new", not "nobody could be alerted"
    assert timeline_note(0, Recipients([], warned=1), by="马书记") == (
        "马书记发起预警：附近 1 位骑手已收到本工单的预警，未发送绕行预警"
    )
    assert timeline_note(1, Recipients([3], warned=1)) == "已向附近 1 位骑手发送绕行预警"
