"""A rider asks for a rest station (驿站), as the conversation reads."""

from datetime import timedelta

from sqlalchemy import delete, select

from app.db import unit_of_work
from app.domain.coords import wgs84_to_gcj02
from app.services.riders.station_import import import_stations, parse_file
from models import Station
from tests.chatkit import FENGYUAN_1

# The demo stations (app/demo/stations.geojson); the clock starts at 10:00 Shanghai time.
NEAR_FL01 = (31.1918, 121.4330)  # about 60 m from 枫林路暖新驿站


def test_without_a_recent_location_it_asks_and_answers_when_the_location_comes(chat):
    assert chat.text("rider-1", "驿站") == (
        "请发送您的位置，我帮您找附近开放的驿站：点击输入框旁的＋号→位置。"
    )
    reply = chat.location("rider-1", NEAR_FL01, "枫林路")
    assert reply.startswith("离您最近的驿站（正在开放）：\n1. 枫林路暖新驿站：60米，骑行约1分钟")
    assert "开放到22:00；有饮水、充电、微波炉、休息、卫生间" in reply
    assert "地址：枫林路88号（便利店旁）" in reply
    assert "导航：https://uri.amap.com/navigation?to=" in reply
    assert reply.count("导航：") == 3
    assert "24小时开放" in reply  # 东安路暖蜂驿站
    assert chat.tickets() == []  # the location answered the question, it filed nothing


def test_with_a_recent_location_it_answers_at_once(chat, clock):
    chat.location("rider-1", NEAR_FL01)  # starts a report draft, and is remembered
    clock.advance(minutes=9)
    assert chat.text("rider-1", "驿站").startswith(
        "离您最近的驿站（正在开放）：\n1. 枫林路暖新驿站"
    )


def test_a_location_older_than_ten_minutes_is_asked_again(chat, clock):
    chat.location("rider-1", NEAR_FL01)
    clock.advance(minutes=11)
    assert "请发送您的位置" in chat.text("rider-1", "驿站")


def test_filter_by_amenity(chat):
    chat.text("rider-1", "驿站 医药箱")
    reply = chat.location("rider-1", NEAR_FL01)
    assert reply.startswith("离您最近的能取药的驿站（正在开放）：\n1. 湖畔骑手之家")
    assert "枫林路暖新驿站" not in reply


def test_asking_for_what_no_station_offers_says_the_choices(chat):
    assert chat.text("rider-1", "驿站 洗澡") == (
        "没有「洗澡」这一项。可以查：饮水、充电、微波炉、雨伞、工具箱、休息、卫生间、医药箱，"
        "例如「驿站 充电」。"
    )


def test_a_report_that_names_a_station_is_still_a_report(chat):
    assert "请发送位置" in chat.text("rider-1", "驿站门口积水很深，电动车过不去")


def test_a_late_night_rider_hears_when_the_stations_open(chat, clock):
    clock.advance(hours=16)  # 02:00 local: only the 24h station and the night one
    chat.text("rider-1", "驿站 微波炉")
    reply = chat.location("rider-1", NEAR_FL01)
    assert reply.startswith("附近能热饭的驿站现在都没开门，最近的几个：")
    assert "1. 枫林路暖新驿站：60米，骑行约1分钟\n   已关门，08:00开门" in reply


def test_an_overnight_station_says_it_closes_tomorrow(chat, clock):
    clock.advance(hours=13)  # 23:00 local
    chat.text("rider-1", "驿站 微波炉")
    reply = chat.location("rider-1", (31.2040, 121.4460))
    assert "1. 湖南路夜间驿站：10米" in reply and "开放到明天02:00" in reply


def test_no_station_anywhere_near(chat):
    chat.text("rider-1", "驿站")
    reply = chat.location("rider-1", (31.30, 121.60))
    assert reply == "您附近5公里内暂时没有驿站。需要帮助可拨打 12345 市民热线。"


def test_a_location_event_answers_a_pending_question_by_message(chat, clock):
    chat.text("rider-1", "驿站 充电")
    lat, lng = wgs84_to_gcj02(*NEAR_FL01)
    assert chat._send("rider-1", "event", event="location", lat=lat, lng=lng, msg_id="") == ""
    (notice,) = chat.notices_to("rider-1")
    assert notice.startswith("离您最近的能充电的驿站（正在开放）：\n1. 枫林路暖新驿站")
    # asked once, answered once
    clock.advance(minutes=1)
    chat._send("rider-1", "event", event="location", lat=lat, lng=lng, msg_id="")
    assert len(chat.notices_to("rider-1")) == 1


def test_a_location_event_alone_is_remembered_silently(chat, clock):
    lat, lng = wgs84_to_gcj02(*FENGYUAN_1)
    assert chat._send("rider-1", "event", event="location", lat=lat, lng=lng, msg_id="") == ""
    assert chat.notices_to("rider-1") == []
    clock.advance(minutes=5)
    assert chat.text("rider-1", "驿站").startswith("离您最近的驿站（正在开放）：")


def test_a_menu_click_asks_for_stations(chat):
    assert "请发送您的位置" in chat.event("rider-1", "click", "STATIONS")


def test_a_question_left_unanswered_for_ten_minutes_lapses(chat, clock):
    chat.text("rider-1", "驿站")
    clock.advance(minutes=11)
    # the location goes to report intake, which asks for the photo or words
    assert (
        chat.location("rider-1", FENGYUAN_1) == "已收到位置。请再发一张现场照片或一句话描述问题。"
    )


def test_stations_are_updated_in_place_by_code(chat, demo_sessions, clock):
    with unit_of_work(demo_sessions) as s:
        s.execute(delete(Station).where(Station.code != "FL01"))
        raw = (
            "name,code,address,hours,amenities,lat,lng\n"
            "枫林路暖新驿站（改）,FL01,枫林路90号,12:00-13:00,饮水,31.1915,121.4335\n"
        ).encode()
        result = import_stations(s, parse_file(raw, "x.csv"), now=clock())
    assert (result.created, result.updated) == (0, 1)
    chat.text("rider-1", "驿站")
    reply = chat.location("rider-1", NEAR_FL01)
    assert "枫林路暖新驿站（改）：60米" in reply and "已关门，12:00开门" in reply


def test_a_late_copy_of_an_older_location_does_not_move_the_position_back(
    chat, demo_sessions, clock
):
    from app.services.riders import stations
    from models import Rider

    chat.location("rider-1", NEAR_FL01)
    now = clock()
    with unit_of_work(demo_sessions) as s:
        rider = s.scalars(select(Rider).where(Rider.openid == "rider-1")).one()
        sent = stations.recent_position(s, rider, now=now)
        before = now - timedelta(minutes=1)
        stations.record_position(s, rider, 31.0, 121.0, now=before, source="event")
        assert stations.recent_position(s, rider, now=now) == sent
        stations.record_position(s, rider, 31.2, 121.5, now=now, source="event")
        assert stations.recent_position(s, rider, now=now) == (31.2, 121.5)


def test_one_location_files_the_waiting_report_and_lists_the_stations(chat):
    chat.text("rider-1", "驿站")
    assert "请发送位置" in chat.text("rider-1", "路口积水很深")
    reply = chat.location("rider-1", NEAR_FL01, "枫林路")
    report, stations = reply.split("\n\n")
    assert report.startswith("已受理！工单号 #1（")
    assert stations.startswith("离您最近的驿站（正在开放）：\n1. 枫林路暖新驿站")
    [ticket] = chat.tickets()
    assert ticket.description == "路口积水很深"
    # Neither waits for another location: the next one starts a new report.
    assert chat.location("rider-1", NEAR_FL01) == (
        "已收到位置。请再发一张现场照片或一句话描述问题。"
    )


def test_a_report_begun_before_asking_for_stations_is_filed_by_the_same_location(chat):
    assert "请发送位置" in chat.text("rider-1", "路口积水很深")
    chat.text("rider-1", "驿站 充电")
    reply = chat.location("rider-1", NEAR_FL01, "枫林路")
    assert reply.startswith("已受理！工单号 #1")
    assert "\n\n离您最近的能充电的驿站（正在开放）：" in reply
    assert len(chat.tickets()) == 1
