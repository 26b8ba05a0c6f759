"""Open311 service requests: POSTed by an outside platform through the same intake as a
rider's report, and read back (JSON and XML) as the GeoReport v2 spec describes them."""

from datetime import datetime, timedelta
from io import BytesIO
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select, update

from app.db import unit_of_work
from app.media.fetch_guard import MediaHosts
from app.media.open311_source import Open311MediaSource
from app.services.directory import api_keys
from app.settings import Settings
from app.web.main import create_app
from models import ApiRequest, OutboxMessage, Ticket, TicketEvent, TicketPhoto, utcnow
from tests.chatkit import FENGYUAN_1, NANYUAN_4, Chat
from tests.conftest import Clock
from tests.images import jpeg, scene
from tests.open311kit import Open311

LAT, LONG = FENGYUAN_1


@pytest.fixture
def http(demo_sessions, db_url, tmp_path):
    settings = Settings(
        database_url=db_url,
        data_dir=tmp_path,
        channel="sandbox",
        open311_media_hosts="photos.example.cn",
    )
    with TestClient(create_app(settings, run_jobs=False)) as client:
        yield client


def _key(sessions, name="12345热线", scope="write") -> str:
    with unit_of_work(sessions) as s:
        return api_keys.create(s, name=name, scope=scope, now=utcnow())[1]


@pytest.fixture
def key(demo_sessions):
    return _key(demo_sessions)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_request_is_filed_routed_and_read_back_as_the_spec_describes(
    http, key, demo_sessions, fmt
):
    api = Open311(http, fmt, api_key=key)
    status, answer = api.post_request(
        service_code="flooding",
        lat=str(LAT),
        long=str(LONG),
        address_string="枫林路与东安路口",
        description="路口积水很深，电动车过不去",
        first_name="三",
        last_name="张",
        phone="13800000000",
        device_id="hotline-seat-7",
    )
    assert status == 200
    (created,) = answer
    number = created["service_request_id"]

    status, (request,) = api.request(number)
    assert status == 200
    assert request["service_request_id"] == number
    assert request["status"] == "open"
    assert request["service_code"] == "flooding" and request["service_name"] == "道路积水"
    assert request["agency_responsible"] == "枫苑一网格"
    assert request["address"] == "枫林路与东安路口"
    assert float(request["lat"]) == LAT and float(request["long"]) == LONG
    requested = datetime.fromisoformat(request["requested_datetime"])
    assert requested.utcoffset() == timedelta(hours=8)
    with demo_sessions() as s:
        ticket = s.get(Ticket, int(number))
        due = ticket.resolve_due_at.replace(microsecond=0)
        assert datetime.fromisoformat(request["expected_datetime"]) == due
        assert ticket.category == "flooding"
        (event,) = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))
        assert event.actor_role == "api_client" and "来自12345热线（Open311）" in event.note
        to = list(s.scalars(select(OutboxMessage.to_openid)))
    assert to == ["worker-1"]  # the grid's worker hears of it; nobody is told "api:…"
    assert "13800000000" not in str(request)  # contact details are for staff only


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_address_without_lat_long_is_refused_with_the_specs_error(http, key, fmt):
    status, errors = Open311(http, fmt, api_key=key).post_request(
        service_code="flooding", address_string="枫林路与东安路口", description="积水"
    )
    assert status == 400
    (error,) = errors
    assert str(error["code"]) == "400" and "lat 和 long" in error["description"]


def test_keys_scopes_and_bad_input_get_the_right_status(http, key, demo_sessions):
    body = {"service_code": "flooding", "lat": str(LAT), "long": str(LONG), "description": "积水"}
    assert Open311(http).post_request(**body)[0] == 403
    assert Open311(http, api_key="gbk_nonsense").post_request(**body)[0] == 403
    reader = _key(demo_sessions, "城运平台只读", "read")
    status, errors = Open311(http, api_key=reader).post_request(**body)
    assert status == 403 and "只能读取" in errors[0]["description"]
    assert Open311(http, api_key=reader).requests()[0] == 200
    api = Open311(http, api_key=key)
    assert api.post_request(**{**body, "service_code": "nope"})[0] == 404
    assert api.post_request(**{**body, "lat": "north"})[0] == 400
    status, errors = api.post_request(**{**body, "lat": "40.0", "long": "116.4"})
    assert status == 400 and "不在本平台服务范围（示范区）" in errors[0]["description"]
    status, errors = api.post_request(**{**body, "media_url": "http://10.0.0.1/a.jpg"})
    assert status == 400 and "不在允许列表" in errors[0]["description"]
    assert api.request("999999")[0] == 404
    assert http.get("/open311/v2/tokens/abc.json").status_code == 404
    with unit_of_work(demo_sessions) as s:
        api_keys.revoke(s, name="12345热线", now=utcnow())
    assert api.post_request(**body)[0] == 403


def test_a_request_repeating_a_riders_report_is_merged_by_the_same_rules(http, key, demo_sessions):
    chat = Chat(demo_sessions, Clock(utcnow()))
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    api = Open311(http, "xml", api_key=key)
    status, (created,) = api.post_request(
        service_code="flooding", lat=str(LAT + 0.0002), long=str(LONG), description="积水"
    )
    assert status == 200 and "与工单 #1 为同一问题" in created["service_notice"]
    status, (request,) = api.request(created["service_request_id"])
    assert request["status"] == "closed" and request["status_notes"].startswith("已合并")
    assert chat.ticket(1).confirmations == 1


def test_the_list_filters_pages_and_keeps_to_90_days_by_default(http, key, demo_sessions):
    api = Open311(http, api_key=key)
    numbers = []
    for code, point in (("flooding", FENGYUAN_1), ("bulky_waste", NANYUAN_4)) * 2:
        lat, lng = point
        numbers.append(
            api.post_request(
                service_code=code, lat=str(lat), long=str(lng), description=f"{code} 上报"
            )[1][0]["service_request_id"]
        )
    old = int(numbers[0])
    with unit_of_work(demo_sessions) as s:
        s.execute(
            update(Ticket).where(Ticket.id == old).values(created_at=utcnow() - timedelta(days=91))
        )
    listed = [r["service_request_id"] for r in api.requests()[1]]
    assert str(old) not in listed and len(listed) == 3
    assert [r["service_code"] for r in api.requests(service_code="bulky_waste")[1]] == [
        "bulky_waste"
    ] * 2
    start = (utcnow() - timedelta(days=100)).isoformat()
    assert str(old) in [r["service_request_id"] for r in api.requests(start_date=start)[1]]
    ids = f"{numbers[0]},{numbers[1]}"
    assert {r["service_request_id"] for r in api.requests(service_request_id=ids)[1]} == set(
        numbers[:2]
    )
    assert len(api.requests(page_size="2")[1]) == 2
    assert len(api.requests(page="2", page_size="2")[1]) == 1
    # The second pair repeats the first at the same places: merged, so closed (DUPLICATE).
    closed = {r["service_request_id"] for r in api.requests(status="closed")[1]}
    assert closed == set(numbers[2:])
    assert [r["service_request_id"] for r in api.requests(status="open")[1]] == [numbers[1]]
    assert api.requests(start_date="2026-11-20")[0] == 400  # no offset: ambiguous
    assert api.requests(status="pending")[0] == 400


def test_media_url_is_fetched_by_the_photo_job_and_served_as_a_signed_link(
    http, key, demo_sessions
):
    data = jpeg(scene(7))

    def photos_host(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "photos.example.cn"
        return httpx.Response(200, content=data)

    pipeline = http.app.state.photos.pipeline
    pipeline.source = Open311MediaSource(
        pipeline.source,
        MediaHosts.parse("photos.example.cn"),
        max_bytes=10_000_000,
        http=httpx.Client(transport=httpx.MockTransport(photos_host)),
    )
    api = Open311(http, api_key=key)
    number = api.post_request(
        service_code="bulky_waste",
        lat=str(LAT),
        long=str(LONG),
        media_url="https://photos.example.cn/report/1.jpg",
    )[1][0]["service_request_id"]
    assert api.request(number)[1][0]["media_url"] == ""  # not fetched yet
    assert pipeline.run().stored == 1
    media_url = api.request(number)[1][0]["media_url"]
    link = urlsplit(media_url)
    assert link.path.startswith("/media/") and "sig=" in link.query
    image = http.get(f"{link.path}?{link.query}")
    assert image.status_code == 200 and Image.open(BytesIO(image.content)).format == "JPEG"
    with demo_sessions() as s:
        (photo,) = s.scalars(select(TicketPhoto))
        assert photo.ticket_id == int(number) and photo.status == "stored"


def test_tickets_show_names_the_platform_and_who_asked(http, key, db_url, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from app.cli import app as cli_app
    from app.settings import get_settings

    number = Open311(http, api_key=key).post_request(
        service_code="flooding",
        lat=str(LAT),
        long=str(LONG),
        description="积水",
        first_name="三",
        last_name="张",
        phone="13800000000",
    )[1][0]["service_request_id"]
    monkeypatch.setenv("GRIDBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("GRIDBOT_DATA_DIR", str(tmp_path / "cli"))
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(cli_app, ["tickets", "show", number])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    assert "12345热线（Open311），联系人 张三 13800000000" in out.output


def test_a_client_retrying_the_same_post_gets_the_same_request_not_a_second_ticket(
    http, key, demo_sessions
):
    api = Open311(http, api_key=key)
    fields = dict(
        service_code="flooding",
        lat=str(LAT),
        long=str(LONG),
        description="路口积水很深（热线 0731 号来电）",
        device_id="hotline-desk-3",
    )
    status, (first,) = api.post_request(**fields)
    assert status == 200
    assert api.post_request(**fields) == (200, [first])
    with demo_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1

    # Another device, or other words: another request (merged as a repeat by the chat's
    # rules, but its own service_request_id).
    _, (other_device,) = api.post_request(**{**fields, "device_id": "hotline-desk-4"})
    _, (other_words,) = api.post_request(**{**fields, "description": "积水已漫上人行道"})
    assert len({first["service_request_id"], other_device["service_request_id"]}) == 2
    assert other_words["service_request_id"] not in (first["service_request_id"],)
    # Another client's identical POST is its own request.
    _, (elsewhere,) = Open311(http, api_key=_key(demo_sessions, "城运平台")).post_request(**fields)
    assert elsewhere["service_request_id"] != first["service_request_id"]

    # Past the window (10 minutes), the same words at the same place are a new request.
    with unit_of_work(demo_sessions) as s:
        s.execute(update(ApiRequest).values(created_at=utcnow() - timedelta(minutes=11)))
    _, (later,) = api.post_request(**fields)
    assert later["service_request_id"] != first["service_request_id"]
    assert api.post_request(**fields)[1] == [later]

    # Without a device_id two calls in the same words are two callers: two requests...
    anonymous = {k: v for k, v in fields.items() if k != "device_id"}
    _, (one,) = api.post_request(**anonymous)
    _, (two,) = api.post_request(**anonymous)
    assert one != two

    # ... unless the client names its retries with an Idempotency-Key header.
    def post_with(idempotency_key, description):
        r = http.post(
            "/open311/v2/requests.json",
            data={**anonymous, "api_key": key, "description": description},
            headers={"Idempotency-Key": idempotency_key},
        )
        assert r.status_code == 200, r.text
        return r.json()[0]["service_request_id"]

    keyed = post_with("call-0731-1", "第一次提交")
    assert post_with("call-0731-1", "第一次提交") == keyed
    assert post_with("call-0731-2", "第一次提交") != keyed
    with demo_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 9
