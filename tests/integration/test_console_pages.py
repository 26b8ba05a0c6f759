"""Console pages and actions: the list, a ticket, the map's data, actions through act(),
and refusals across areas."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import OutboxMessage, utcnow
from tests.chatkit import FENGYUAN_1, NANYUAN_4, Chat
from tests.consolekit import act, local, row_of, sign_in


@pytest.fixture
def chat(demo_sessions):
    chat = Chat(demo_sessions, utcnow)
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    chat.text("rider-1", "路口积水很深，电动车过不去")  # #1 in 枫苑一网格 (lead-1's community)
    chat.location("rider-2", NANYUAN_4, "南园路")
    chat.text("rider-2", "人行道上堆了旧沙发")  # #2 in 南园四网格 (another street)
    return chat


def notices(sessions, openid: str) -> list[str]:
    with sessions() as s:
        query = select(OutboxMessage.text).where(OutboxMessage.to_openid == openid)
        return list(s.scalars(query.order_by(OutboxMessage.id)))


def test_the_list_shows_only_the_leads_area_with_filters_in_the_url(client, chat, demo_sessions):
    sign_in(client, demo_sessions, "lead-1")
    page = client.get("/console/tickets").text
    assert 'href="/console/tickets/1"' in page and "道路积水" in page and "待认领" in page
    assert 'href="/console/tickets/2"' not in page
    assert "共 1 件" in page
    assert "共 0 件" in client.get("/console/tickets?category=bulky_waste").text
    assert "共 1 件" in client.get("/console/tickets?q=积水").text
    assert "共 1 件" in client.get("/console/tickets?q=%231").text
    assert "共 0 件" in client.get("/console/tickets?overdue=1").text
    assert "共 0 件" in client.get("/console/tickets?status=closed").text
    # A hand-edited URL still answers a list.
    assert client.get("/console/tickets?status=nonsense&page=x&sort=zz").status_code == 200


def test_word_search_finds_words_in_the_description_or_the_place(client, chat, demo_sessions):
    # On PostgreSQL through the index of two-character pieces, then LIKE: pieces that are
    # all there but not side by side are no match.
    chat.location("rider-3", (31.19225, 121.437875), "东安路")  # 枫苑二网格
    chat.text("rider-3", "水积水了，很深")  # #3: the pieces of 积水积 but not the words
    sign_in(client, demo_sessions, "lead-1")

    def found(words: str) -> str:
        page = client.get("/console/tickets", params={"status": "all", "q": words}).text
        return page[page.index("共 ") :].split("件")[0] + "件"

    assert found("积水很深") == "共 1 件"  # #1's description
    assert found("枫林路") == "共 1 件"  # #1's place
    assert found("积水") == "共 2 件"
    assert found("积水积") == "共 0 件"
    assert found("深") == "共 2 件"  # one character: LIKE alone
    assert found("沙发") == "共 0 件"  # #2 is another street's


def test_the_list_marks_urgent_tickets_and_shows_the_deadline_that_comes_next(
    client, chat, demo_sessions
):
    """A flooded crossing is 紧急 as in the worker's 【紧急】 notice; its deadline column
    says what is due next: 认领 by the claim deadline until someone holds it, then 办结."""
    sign_in(client, demo_sessions, "lead-1")
    t = chat.ticket(1)
    row = row_of(client.get("/console/tickets").text, 1)
    assert "紧急" in row and f"认领 {local(t.claim_due_at)}" in row
    assert "紧急" in client.get("/console/tickets/1").text
    chat.text("worker-1", "认领 1")
    row = row_of(client.get("/console/tickets").text, 1)
    assert f"办结 {local(chat.ticket(1).resolve_due_at)}" in row and "认领 " not in row


def test_the_ticket_page_tells_everything_and_another_areas_ticket_is_refused(
    client, chat, demo_sessions
):
    sign_in(client, demo_sessions, "lead-1")
    page = client.get("/console/tickets/1").text
    # The facts' values and the timeline's entry (the labels alone are always there, and
    # every grid's name is in the transfer form).
    assert "工单 #1 · 道路积水" in page and "uri.amap.com" in page
    assert "<dt>网格</dt><dd>枫苑一网格</dd>" in page and "<dt>负责人</dt><dd>张伟</dd>" in page
    assert "上报（待认领）：派往 31019900100101 枫苑一网格" in page
    assert re.search(r"<dt>认领期限</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d</dd>", page)
    assert re.search(r"<dt>办结期限</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d</dd>", page)
    refused = client.get("/console/tickets/2")
    assert refused.status_code == 403 and "不在您负责的区域（枫苑社区）" in refused.text
    assert client.get("/console/tickets/99").status_code == 404
    data = client.get("/console/map.json").json()
    assert [p[0] for p in data["pins"]] == [1]
    assert data["load"] == {"31019900100101": [1, 0]}
    shapes = client.get("/console/grids.json")
    assert [name for _, name, _ in shapes.json()["grids"]] == [
        "枫苑一网格",
        "枫苑二网格",
        "枫苑三网格",
        "枫苑四网格",
    ]
    # The shapes change only on a grid import: the browser revalidates them by ETag.
    again = client.get("/console/grids.json", headers={"If-None-Match": shapes.headers["ETag"]})
    assert again.status_code == 304 and not again.content
    # A pin's popup: its place, on click; another community's ticket is refused.
    assert client.get("/console/pins/1.json").json()["place"] == "枫林路口"
    assert client.get("/console/pins/2.json").status_code == 403
    assert client.get("/console/pins/99.json").status_code == 404


def test_a_refresh_downloads_the_map_and_the_list_only_when_they_changed(
    client, chat, demo_sessions
):
    sign_in(client, demo_sessions, "lead-1")
    live = {"X-Live": "1"}
    pins = client.get("/console/map.json")
    rows = client.get("/console/tickets", headers=live)
    # The list's refresh is the regions it replaces, not the page with its filters.
    assert 'id="total"' in rows.text and 'data-n="1"' in rows.text
    assert "<select" not in rows.text and "<html" not in rows.text
    for path, first, headers in (
        ("/console/map.json", pins, {}),
        ("/console/tickets", rows, live),
    ):
        again = client.get(path, headers={**headers, "If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and not again.content, path

    chat.location("rider-3", FENGYUAN_1, "枫林路")
    chat.text("rider-3", "人行道上堆了旧沙发，挡路")  # #3, in lead-1's community
    pins_now = client.get("/console/map.json", headers={"If-None-Match": pins.headers["ETag"]})
    assert [p[0] for p in pins_now.json()["pins"]] == [3, 1]
    rows_now = client.get(
        "/console/tickets", headers={**live, "If-None-Match": rows.headers["ETag"]}
    )
    assert rows_now.status_code == 200 and 'data-n="3"' in rows_now.text
    assert "共 2 件" in rows_now.text


def test_the_browser_finds_an_icon(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg")


def test_over_an_amap_basemap_pins_and_grids_are_drawn_in_gcj02(
    chat, demo_sessions, db_url, tmp_path
):
    from fastapi.testclient import TestClient

    from app.domain.coords import wgs84_to_gcj02
    from app.settings import Settings
    from app.web.main import create_app

    settings = Settings(
        database_url=db_url,
        data_dir=tmp_path,
        channel="sandbox",
        console_tile_url="https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}",
        console_tile_crs="gcj02",
    )
    with TestClient(create_app(settings, run_jobs=False)) as client:
        sign_in(client, demo_sessions, "lead-1")
        pin = client.get("/console/map.json").json()["pins"][0]
        ticket = chat.ticket(1)
        lat, lng = wgs84_to_gcj02(ticket.lat, ticket.lng)
        assert pin[1:3] == [round(lat, 5), round(lng, 5)]
        assert abs(pin[2] - ticket.lng) > 0.003  # Shanghai's offset: hundreds of metres
        shapes = client.get("/console/grids.json").json()["grids"]
        corner = shapes[0][2]["coordinates"][0][0]  # 枫苑一网格's first corner
        lat, lng = wgs84_to_gcj02(31.19, 121.43)
        assert corner == [round(lng, 5), round(lat, 5)]


def test_transfer_from_the_console_tells_the_new_worker_as_chat_would(client, chat, demo_sessions):
    csrf = sign_in(client, demo_sessions, "lead-1")
    answer = act(client, 1, csrf, "transfer", grid="31019900100102")
    assert "已转派，新网格员已收到通知" in answer.text
    # The ticket's grid reads the new one (the page lists every grid in the transfer form,
    # so the grid's name alone is always there) and the timeline tells the transfer.
    assert "<dt>网格</dt><dd>枫苑二网格</dd>" in answer.text
    assert "转派：转派至 31019900100102 枫苑二网格" in answer.text
    told = notices(demo_sessions, "worker-2")
    assert any("#1" in n for n in told), told


def test_actions_follow_the_chat_rules(client, chat, demo_sessions):
    csrf = sign_in(client, demo_sessions, "lead-1")
    assert "请填写处理结果" in act(client, 1, csrf, "resolve").text
    claimed = act(client, 1, csrf, "claim")
    assert "已认领" in claimed.text and chat.ticket(1).assignee.name != "张伟"
    resolved = act(client, 1, csrf, "resolve", note="积水已排除")
    assert "已办结" in resolved.text
    assert any("积水已排除" in n for n in notices(demo_sessions, "rider-1"))
    again = act(client, 1, csrf, "claim")
    assert again.status_code == 400 and "不能执行此操作" in again.text


def test_a_lead_of_another_area_cannot_act_on_a_ticket(client, chat, demo_sessions):
    csrf = sign_in(client, demo_sessions, "lead-1")
    answer = act(client, 2, csrf, "claim")
    assert answer.status_code == 403 and "不在您负责的区域" in answer.text
    assert chat.ticket(2).status == "assigned"


def test_a_send_back_is_decided_on_the_console(client, chat, demo_sessions):
    chat.text("worker-1", "认领 1")
    chat.text("worker-1", "退回 1 现场无积水，系误报")
    csrf = sign_in(client, demo_sessions, "lead-1")
    page = client.get("/console/tickets/1").text
    assert "待审批" in page and "现场无积水，系误报" in page
    assert "驳回请写明理由" in act(client, 1, csrf, "refuse").text
    done = act(client, 1, csrf, "approve")
    assert "已同意申请" in done.text and chat.ticket(1).status == "rejected"


def test_a_ticket_passed_on_as_not_ours_is_offered_transfer_not_approval(
    client, chat, demo_sessions
):
    chat.text("worker-1", "认领 1")
    chat.text("worker-1", "退回 1 转办 是小区物业的管网")
    csrf = sign_in(client, demo_sessions, "lead-1")
    page = client.get("/console/tickets/1").text
    assert "网格员转办：问题存在但不归本网格处理" in page
    assert "转办（不归本网格，交上级派单）" in page  # the timeline in words, not pass_on
    assert "pass_on" not in page
    assert 'value="approve"' not in page and "待审批" not in page
    # The buttons offered (the words 驳回 and 转派 are in the explanation above them too).
    assert 'name="do" value="refuse"' in page and 'name="do" value="transfer"' in page
    act(client, 1, csrf, "approve")
    assert chat.ticket(1).status == "returned"  # the chat's rule holds: nothing closed


def test_the_csv_export_has_a_bom_the_lists_filters_and_only_the_leads_area(
    client, chat, demo_sessions
):
    sign_in(client, demo_sessions, "lead-1")
    answer = client.get("/console/tickets.csv?status=all")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith("\ufeff".encode())
    lines = answer.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("工单号,类别,状态,超时")
    assert len(lines) == 2 and lines[1].startswith("1,道路积水,待认领,")
    assert "枫苑一网格,张伟" in lines[1]
    assert len(client.get("/console/tickets.csv?category=bulky_waste").text.splitlines()) == 1
    client.cookies.clear()
    assert client.get("/console/tickets.csv", follow_redirects=False).status_code == 303


def test_the_events_export_lists_the_listed_tickets_timelines_without_openids(
    client, chat, demo_sessions
):
    chat.text("worker-1", "认领 1")
    sign_in(client, demo_sessions, "lead-1")
    answer = client.get("/console/events.csv?status=all")
    assert answer.status_code == 200 and answer.content.startswith("\ufeff".encode())
    lines = answer.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "工单号,时间,操作,操作人,身份,原状态,新状态,说明"
    # Ticket #2 lies in another street: none of its events.
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "1"]
    assert ",上报,上报人," in lines[1] and ",认领,张伟,网格员,待认领,处理中," in lines[2]
    assert "rider-1" not in answer.text
    assert len(client.get("/console/events.csv?status=closed").text.splitlines()) == 1
    client.cookies.clear()
    assert client.get("/console/events.csv", follow_redirects=False).status_code == 303


def test_a_huge_list_says_more_than_the_cap_and_still_pages_on(
    client, chat, demo_sessions, monkeypatch
):
    from app.web.console import queries

    monkeypatch.setattr(queries, "COUNT_CAP", 1)
    monkeypatch.setattr(queries, "PAGE_SIZE", 1)
    sign_in(client, demo_sessions, "supervisor")
    page = client.get("/console/tickets").text
    assert "超过 1 件" in page and "共 2 件" not in page
    assert 'href="?page=2">下一页</a>' in page


def test_the_ticket_page_says_who_each_notice_went_to(client, demo_sessions, clock):
    """The worker by name, the reporter, a rider whose report was merged in, and riders
    alerted nearby: never all of them called 上报人."""
    from app.domain.coords import wgs84_to_gcj02
    from app.jobs import JobContext, run_hazard_alerts

    chat = Chat(demo_sessions, clock)
    chat.text("rider-9", "帮助")
    lat, lng = wgs84_to_gcj02(FENGYUAN_1[0] + 0.003, FENGYUAN_1[1])
    chat._send("rider-9", "event", event="location", lat=lat, lng=lng, msg_id="")
    chat.text("rider-1", "路口积水很深，电动车无法通行")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    chat.text("rider-2", "这里积水很深")
    chat.location("rider-2", FENGYUAN_1, "枫林路口")  # merged into #1 as a confirmation
    run_hazard_alerts(JobContext(sessions=chat.sessions, settings=chat.settings, clock=clock))
    chat.text("worker-1", "认领 1")  # told to the reporter and to the rider merged in
    sign_in(client, demo_sessions, "lead-1")
    page = client.get("/console/tickets/1").text
    told = re.findall(r"给 ([^：<]+)：", page[page.index("<h2>通知</h2>") :])
    assert "张伟" in told and "上报人" in told
    assert "同一问题的上报人" in told and "附近骑手" in told


def test_a_pressed_wecom_cards_update_is_no_notice_on_the_ticket_page(client, chat, demo_sessions):
    from app.db import unit_of_work
    from app.services.directory import staff_channels
    from app.services.wecom_cards import owe_card_update

    with unit_of_work(demo_sessions) as s:
        staff_channels.set_wecom_userid(s, staff_channels.find_staff(s, "worker-1"), "zhangwei")
    chat.text("worker-1", "认领 1")
    with unit_of_work(demo_sessions) as s:
        owed = owe_card_update(
            s, userid="zhangwei", response_code="rc-1", number=1, press="evt:1", now=utcnow()
        )
        assert owed is not None
    sign_in(client, demo_sessions, "lead-1")
    page = client.get("/console/tickets/1").text
    told = page[page.index("<h2>通知</h2>") :]
    assert "给 上报人：" in told  # the rider heard of the claim
    assert "response_code" not in told and "rc-1" not in told


def test_the_ticket_page_says_where_a_ticket_came_from(client, chat, demo_sessions):
    """A rider's report came by WeChat; one the 12345 hotline POSTed by Open311 names the
    hotline and its caller, as `tickets show` does."""
    from app.db import unit_of_work
    from app.services.directory import api_keys

    with unit_of_work(demo_sessions) as s:
        key = api_keys.create(s, name="12345热线", scope="write", now=utcnow())[1]
    posted = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "flooding",
            "lat": str(FENGYUAN_1[0]),
            "long": str(FENGYUAN_1[1] + 0.004),
            "description": "热线来电：路口积水",
            "last_name": "张",
            "first_name": "三",
        },
    )
    assert posted.status_code == 200, posted.text
    number = posted.json()[0]["service_request_id"]
    sign_in(client, demo_sessions, "lead-1")
    assert "<dt>来源</dt><dd>微信</dd>" in client.get("/console/tickets/1").text
    page = client.get(f"/console/tickets/{number}").text
    assert "<dt>来源</dt><dd>12345热线（Open311），联系人 张三</dd>" in page
