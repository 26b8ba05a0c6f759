"""Photos from chat to storage: downloaded off the message path, stripped, located, retried."""

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image

from app.media.fetch_guard import MediaHosts
from app.media.sources import WeChatMediaSource
from bot.api import WeChatAPI
from tests.chatkit import FENGYUAN_1, NANYUAN_4
from tests.fakewechat import start_fake_wechat
from tests.images import jpeg, scene
from tests.photokit import Photos


def _local(clock, minutes_ago: float):
    """A camera clock in Shanghai, `minutes_ago` before the test clock (no UTC offset)."""
    from zoneinfo import ZoneInfo

    when = clock() - timedelta(minutes=minutes_ago)
    return when.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)


def test_a_photo_is_stored_stripped_and_listed_with_the_ticket(chat, photos, clock):
    original = jpeg(scene(1, (3000, 2000)), gps=NANYUAN_4, taken=_local(clock, 60 * 24 * 5))
    photos.send("rider-1", "m-1", original)
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    assert photos.run().stored == 1

    (photo,) = photos.ticket_json(1)["photos"]
    assert photo["status"] == "stored" and photo["exif_gps"] is True
    assert (photo["width"], photo["height"]) == (2048, 1365)
    stored = Path(photo["path"])
    assert stored.name == f"{photo['sha256']}.jpg"
    with Image.open(stored) as img:
        assert img.size == (2048, 1365) and dict(img.getexif()) == {}
    assert b"TestCam" not in stored.read_bytes()
    # the photo was taken five days ago: flagged, and the worker warned
    assert photos.ticket_json(1)["old_photo"] is True
    assert "不是近期拍摄" in chat.notices_to("worker-1")[-1]
    assert photos.run().stored == 0  # nothing left to do


def test_a_recent_photo_with_gps_files_the_report_without_a_location(chat, photos, clock):
    reply = photos.send("rider-1", "m-1", jpeg(scene(2), gps=FENGYUAN_1, taken=_local(clock, 5)))
    assert "请发送位置" in reply
    assert chat.tickets() == []
    clock.advance(seconds=20)
    photos.run()

    (ticket,) = chat.tickets()
    assert ticket.grid.code == "31019900100101" and ticket.location_source == "photo"
    assert ticket.lat == pytest.approx(FENGYUAN_1[0], abs=1e-5)
    assert not ticket.old_photo
    (told,) = chat.notices_to("rider-1")
    assert "已根据照片中的位置受理" in told and "#1" in told
    assert "新工单 #1" in chat.notices_to("worker-1")[0]
    # what the rider sends next adds to the ticket
    assert "已补充到工单 #1" in chat.text("rider-1", "路口积水很深")


def test_an_old_photo_does_not_locate_the_report_and_flags_it(chat, photos, clock):
    photos.send("rider-1", "m-1", jpeg(scene(3), gps=FENGYUAN_1, taken=_local(clock, 60 * 30)))
    photos.run()
    assert chat.tickets() == []
    assert "工单号 #1" in chat.location("rider-1", FENGYUAN_1)
    (ticket,) = chat.tickets()
    assert ticket.location_source == "chat" and ticket.old_photo
    # the photo was checked before the ticket existed: the new-ticket notice warns
    assert "不是近期拍摄" in chat.notices_to("worker-1")[0]


def test_a_photo_without_gps_leaves_the_draft_waiting(chat, photos):
    photos.send("rider-1", "m-1", jpeg(scene(4)))
    photos.run()
    assert chat.tickets() == []
    assert "工单号 #1" in chat.location("rider-1", FENGYUAN_1)


def test_a_renamed_non_image_is_refused_with_a_message_to_the_sender(chat, photos):
    photos.send("rider-1", "m-1", b"%PDF-1.4 not a photo at all")
    chat.location("rider-1", FENGYUAN_1)
    result = photos.run()
    assert (result.stored, result.refused) == (0, 1)
    assert "无法识别为图片" in chat.notices_to("rider-1")[-1]
    assert photos.ticket_json(1)["photos"][0]["status"] == "refused"


def test_a_cancelled_draft_takes_its_photo_with_it(chat, photos):
    photos.send("rider-1", "m-1", jpeg(scene(5)))
    chat.text("rider-1", "取消")
    assert photos.run().stored == 0


def test_media_errors_from_the_wechat_api_are_retried_with_backoff(chat, tmp_path, clock):
    data = jpeg(scene(6))
    with (
        start_fake_wechat() as wx,
        WeChatAPI(app_id="wx", app_secret="s", base_url=wx.base_url) as api,
    ):
        source = WeChatMediaSource(api, max_bytes=10_000_000, http=httpx.Client())
        photos = Photos(chat, tmp_path / "media", source=source)
        wx.add_media("m-1", data)
        wx.fail_next(-1, path_contains="media/get")  # {"errcode": -1} with HTTP 200
        chat.photo("rider-1", "m-1")
        chat.location("rider-1", FENGYUAN_1)

        first = photos.run()
        assert (first.stored, first.retrying) == (0, 1)
        (photo,) = photos.ticket_json(1)["photos"]
        assert photo["status"] == "pending" and "-1" in photo["error"]
        assert photos.run().stored == 0  # waiting for its backoff

        wx.fail_http(502, path_contains="media/get")
        clock.advance(seconds=10)
        assert photos.run().retrying == 1
        clock.advance(seconds=30)
        assert photos.run().stored == 1
        assert photos.ticket_json(1)["photos"][0]["status"] == "stored"


def test_pic_url_is_the_fallback_when_media_get_refuses(chat, tmp_path):
    data = jpeg(scene(7))
    fetched = []

    def pic_server(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        return httpx.Response(200, content=data, headers={"content-type": "image/jpeg"})

    with (
        start_fake_wechat() as wx,
        WeChatAPI(app_id="wx", app_secret="s", base_url=wx.base_url) as api,
    ):
        http = httpx.Client(transport=httpx.MockTransport(pic_server))
        hosts = MediaHosts.parse("pic")  # the test's PicUrl host (tests/chatkit.py)
        source = WeChatMediaSource(api, max_bytes=10**7, hosts=hosts, http=http)
        photos = Photos(chat, tmp_path / "media", source=source)
        chat.photo("rider-1", "expired-id")  # media/get answers 40007
        chat.location("rider-1", FENGYUAN_1)
        assert photos.run().stored == 1
    assert fetched == ["http://pic/expired-id"]


def test_a_photo_that_never_downloads_ends_failed_and_the_sender_is_told(chat, photos, clock):
    chat.photo("rider-1", "gone")  # not in the media store: 40007, not retryable
    chat.location("rider-1", FENGYUAN_1)
    assert photos.run().failed == 1
    assert "未能接收" in chat.notices_to("rider-1")[-1]
    assert photos.ticket_json(1)["photos"][0]["status"] == "failed"
