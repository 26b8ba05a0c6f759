"""A rider's report, piece by piece, through the chat engine on a real database."""

import pytest

from tests.chatkit import FENGYUAN_1, NANYUAN_4


def test_photo_then_location_files_a_ticket_routed_to_the_grid_worker(chat):
    assert "请发送位置" in chat.photo("rider-1")
    reply = chat.location("rider-1", FENGYUAN_1, "枫林路与东安路口")
    assert "工单号 #1" in reply and "枫苑一网格" in reply and "张伟" in reply

    (ticket,) = chat.tickets()
    assert ticket.status == "assigned"
    assert ticket.grid.code == "31019900100101"
    assert ticket.assignee.openid == "worker-1"
    assert len(ticket.photos) == 1
    # Stored as WGS-84 although WeChat sent GCJ-02 (about 500 m apart in Shanghai).
    assert ticket.lat == pytest.approx(FENGYUAN_1[0], abs=1e-6)
    assert ticket.lng == pytest.approx(FENGYUAN_1[1], abs=1e-6)

    (notice,) = chat.notices_to("worker-1")
    assert "新工单 #1" in notice and "枫林路与东安路口" in notice
    assert "照片：1 张" in notice and "认领 1" in notice


def test_text_then_location_classifies_the_category(chat):
    assert "请发送位置" in chat.text("rider-1", "路口积水很深，电动车过不去")
    reply = chat.location("rider-1", NANYUAN_4, "湖南路口")
    assert "道路积水" in reply
    (ticket,) = chat.tickets()
    assert (ticket.category, ticket.grid.code) == ("flooding", "31019900200204")
    assert ticket.assignee.openid == "worker-16"
    assert "描述：路口积水很深，电动车过不去" in chat.notices_to("worker-16")[0]


def test_location_first_asks_for_a_photo_or_words(chat):
    assert "照片或一句话" in chat.location("rider-1", FENGYUAN_1)
    assert "已受理" in chat.voice("rider-1", "井盖没了很危险")
    (ticket,) = chat.tickets()
    assert ticket.category == "manhole_cover"


def test_messages_soon_after_add_to_the_ticket_and_reclassify_it(chat, clock):
    chat.photo("rider-1")
    chat.location("rider-1", FENGYUAN_1)
    clock.advance(minutes=2)
    assert "已补充到工单 #1" in chat.photo("rider-1", "media-2")
    assert "已补充到工单 #1" in chat.text("rider-1", "大件垃圾堵住了消防通道")
    (ticket,) = chat.tickets()
    assert len(ticket.photos) == 2
    assert ticket.category == "blocked_passage"
    assert [e.action for e in ticket.events] == ["create", "add_info", "add_info"]
    assert len(chat.notices_to("worker-1")) == 3


def test_later_messages_start_a_new_report(chat, clock):
    chat.photo("rider-1")
    chat.location("rider-1", FENGYUAN_1)
    clock.advance(minutes=30)
    assert "请发送位置" in chat.photo("rider-1", "media-9")
    assert len(chat.tickets()) == 1


def test_a_draft_expires_after_its_window(chat, clock):
    chat.photo("rider-1")
    clock.advance(minutes=11)
    assert "照片或一句话" in chat.location("rider-1", FENGYUAN_1)
    assert chat.tickets() == []


def test_cancel_drops_the_draft(chat):
    chat.photo("rider-1")
    assert "已取消" in chat.text("rider-1", "取消")
    assert "照片或一句话" in chat.location("rider-1", FENGYUAN_1)
    assert chat.tickets() == []
    assert "没有正在填写" in chat.text("rider-2", "取消")


@pytest.mark.parametrize("nonsense", ["?", "你在吗", "abc", "……"])
def test_nonsense_gets_help_not_a_ticket(chat, nonsense):
    reply = chat.text("rider-1", nonsense)
    assert "现场照片" in reply and "位置" in reply
    assert chat.tickets() == []


def test_point_outside_every_grid_goes_to_the_nearest_grid_within_reach(chat):
    near_outside = (31.19 - 0.0009, FENGYUAN_1[1])  # 100 m south of the district edge
    chat.text("rider-1", "路灯不亮")
    assert "枫苑一网格" in chat.location("rider-1", near_outside)
    (ticket,) = chat.tickets()
    assert ticket.grid.code == "31019900100101"
    assert "最近网格" in ticket.events[0].note


def test_a_location_outside_the_district_is_refused_and_the_draft_waits(chat):
    chat.text("rider-1", "路灯不亮")
    reply = chat.location("rider-1", (39.90, 116.40), "北京天安门")  # 1,000 km away
    assert "不在示范区的服务范围内" in reply and "无法受理" in reply
    assert "重新发送位置" in reply
    assert chat.tickets() == [] and not chat.notices_to("supervisor")
    # The words wait in the draft for a location inside the district.
    assert "已受理" in chat.location("rider-1", FENGYUAN_1)
    (ticket,) = chat.tickets()
    assert (ticket.category, ticket.grid.code) == ("street_light", "31019900100101")


def test_a_location_beyond_the_nearest_grid_reach_is_refused(chat):
    chat.photo("rider-1")
    assert "无法受理" in chat.location("rider-1", (31.30, 121.60))  # 15 km east
    assert chat.tickets() == []


def test_a_point_in_an_area_without_grids_goes_to_its_duty_desk(chat, demo_sessions):
    from app.db import unit_of_work
    from app.services.directory.grids import import_geojson

    square = [[121.452, 31.21], [121.462, 31.21], [121.462, 31.22], [121.452, 31.22]]
    community = {
        "type": "Feature",
        "properties": {
            "code": "310199002003",
            "name": "新村社区",
            "level": "community",
            "parent_code": "310199002",
        },
        "geometry": {"type": "Polygon", "coordinates": [[*square, square[0]]]},
    }
    with unit_of_work(demo_sessions) as s:
        import_geojson(s, {"type": "FeatureCollection", "features": [community]})
    chat.text("rider-1", "路灯不亮")
    reply = chat.location("rider-1", (31.2150, 121.4570))  # about 1 km from the nearest grid
    assert "新村社区" in reply and "宋主任" in reply
    (ticket,) = chat.tickets()
    assert ticket.grid is None and ticket.area.name == "新村社区"
    assert ticket.assignee.role == "street_lead"
    assert chat.notices_to(ticket.assignee.openid)


def test_a_grid_whose_worker_left_sends_reports_to_the_community_lead(chat, demo_sessions):
    from sqlalchemy import update

    from models import Staff

    with demo_sessions.begin() as s:
        s.execute(update(Staff).where(Staff.openid == "worker-1").values(active=False))
    chat.text("rider-1", "井盖丢了")
    reply = chat.location("rider-1", FENGYUAN_1)
    assert "枫苑一网格" in reply and "张伟" not in reply
    (ticket,) = chat.tickets()
    assert ticket.grid.code == "31019900100101"
    assert ticket.assignee.openid == "lead-1" and ticket.assignee.role == "community_lead"
    assert chat.notices_to("lead-1") and not chat.notices_to("worker-1")


def test_subscribe_registers_the_rider_with_the_qr_scene(chat, demo_sessions):
    from sqlalchemy import select

    from models import Rider

    assert "感谢关注" in chat.event("rider-9", "subscribe", "qrscene_station42")
    assert chat.event("rider-9", "unsubscribe") == ""
    with demo_sessions() as s:
        rider = s.scalars(select(Rider).where(Rider.openid == "rider-9")).one()
        assert (rider.qr_scene, rider.subscribed) == ("station42", False)


def test_thanks_get_a_polite_answer_and_a_greeting_a_greeting(chat):
    assert "不客气" in chat.text("rider-1", "谢谢！")
    hello = chat.text("rider-1", "你好")
    assert hello.startswith("您好！") and "不客气" not in hello
    assert "现场照片" in hello and "位置" in hello


def test_the_subscribe_welcome_says_how_to_report_once(chat):
    welcome = chat.event("rider-9", "subscribe")
    assert welcome.startswith("感谢关注")
    assert welcome.count("现场照片") == 1 and welcome.count("井盖缺失") == 1
    assert "帮助" in welcome


def test_a_rider_who_comes_back_is_subscribed_again_and_seen(chat, demo_sessions, clock):
    from sqlalchemy import select

    from models import Rider

    def rider():
        with demo_sessions() as s:
            return s.scalars(select(Rider).where(Rider.openid == "rider-9")).one()

    chat.event("rider-9", "subscribe")
    chat.event("rider-9", "unsubscribe")
    first_seen = rider().last_seen_at
    clock.advance(minutes=5)
    assert "已受理" not in chat.text("rider-9", "我的上报")
    back = rider()
    assert back.subscribed is True
    assert back.last_seen_at > first_seen


def test_loading_tickets_leaves_the_grid_polygons_in_the_database(chat, demo_sessions):
    """A ticket loads its grid and area with it; their polygons (kilobytes of GeoJSON in a
    real city) are read only by the grid index."""
    from sqlalchemy import event

    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1)
    statements = []
    engine = demo_sessions.kw["bind"]
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert "#1" in chat.text("rider-1", "我的上报")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert any("areas" in sql for sql in statements)
    assert not any("geometry" in sql for sql in statements)
