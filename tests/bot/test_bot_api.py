import threading
import time

import httpx
import pytest

from bot.api import WeChatAPI, WeChatAPIError, WeChatTransportError
from tests.fakewechat import start_fake_wechat

OPENID = "oRider0001"


@pytest.fixture(scope="module")
def server():
    fake = start_fake_wechat(app_id="wxapp", app_secret="secret")
    yield fake
    fake.stop()


@pytest.fixture
def fake(server):
    server.reset()
    return server


class Clock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def api(fake, clock):
    client = WeChatAPI(app_id="wxapp", app_secret="secret", base_url=fake.base_url, clock=clock)
    yield client
    client.close()


def test_token_is_cached_across_sends(api, fake):
    for i in range(5):
        api.send_text(OPENID, f"msg {i}")
    assert api.token_fetches == 1
    assert fake.token_requests == 1
    assert fake.messages_to(OPENID) == [f"msg {i}" for i in range(5)]


def test_token_refreshed_five_minutes_before_expiry(api, clock):
    first = api.access_token()
    clock.now += 7200 - 301
    assert api.access_token() == first
    clock.now += 2
    api.access_token()
    assert api.token_fetches == 2


@pytest.mark.parametrize("errcode", [42001, 40001])
def test_token_expiry_mid_run_refreshes_once(api, fake, errcode):
    api.send_text(OPENID, "before")
    fake.expire_tokens(errcode)
    api.send_text(OPENID, "after")
    assert api.token_fetches == 2
    assert fake.messages_to(OPENID) == ["before", "after"]
    api.send_text(OPENID, "again")
    assert api.token_fetches == 2


def test_token_error_retried_only_once(api, fake):
    fake.fail_next(40001, times=5)
    with pytest.raises(WeChatAPIError) as info:
        api.send_text(OPENID, "x")
    assert info.value.errcode == 40001
    assert fake.messages_to(OPENID) == []


def test_rejected_token_still_served_uses_force_refresh(api, fake):
    # WeChat refuses the token although stable_token keeps handing it out: force mode.
    token = api.access_token()
    fake.fail_next(40001)
    api.send_text(OPENID, "x")
    assert api.access_token() != token
    assert api.token_fetches == 3
    assert fake.messages_to(OPENID) == ["x"]


def test_concurrent_callers_fetch_one_token(fake, clock):
    client = WeChatAPI(app_id="wxapp", app_secret="secret", base_url=fake.base_url, clock=clock)
    fake.delay(0.2, path_contains="stable_token")
    threads = [threading.Thread(target=client.send_text, args=(OPENID, "x")) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    assert client.token_fetches == 1
    assert len(fake.messages_to(OPENID)) == 8


def test_window_closed_raises_45015(api, fake):
    fake.fail_next(45015)
    with pytest.raises(WeChatAPIError) as info:
        api.send_text(OPENID, "x")
    assert info.value.errcode == 45015
    assert api.token_fetches == 1


def test_chinese_arrives_intact(api, fake):
    text = "您好，工单 #12 已派给网格员张三 😀"
    api.send_text(OPENID, text)
    assert fake.messages_to(OPENID) == [text]


def test_fake_keeps_ascii_escapes_literal(api, fake):
    token = api.access_token()
    httpx.post(
        f"{fake.base_url}/cgi-bin/message/custom/send?access_token={token}",
        content=b'{"touser":"o","msgtype":"text","text":{"content":"\\u4f60"}}',
    )
    assert fake.messages_to("o") == ["\\u4f60"]


def test_send_template(api, fake):
    api.send_template(OPENID, "TPL1", {"thing1": "积水"}, url="https://x")
    record = fake.sent[-1]
    assert record["template_id"] == "TPL1"
    assert record["data"] == {"thing1": {"value": "积水"}}


def test_get_media(api, fake):
    fake.add_media("M1", b"\xff\xd8jpegbytes", "image/jpeg")
    assert api.get_media("M1") == (b"\xff\xd8jpegbytes", "image/jpeg")


def test_unknown_media_raises_40007(api):
    with pytest.raises(WeChatAPIError) as info:
        api.get_media("nope")
    assert info.value.errcode == 40007
    assert info.value.media_gone  # the photo job stops asking for it


def test_media_token_refresh(api, fake):
    fake.add_media("M1", b"data", "audio/amr")
    api.access_token()
    fake.expire_tokens()
    assert api.get_media("M1") == (b"data", "audio/amr")


def test_http_error_is_transport_error(api, fake):
    fake.fail_http(502)
    with pytest.raises(WeChatTransportError) as info:
        api.send_text(OPENID, "x")
    assert info.value.errcode == -1


def test_timeout_is_transport_error_without_token_in_message(fake, clock):
    client = WeChatAPI(
        app_id="wxapp", app_secret="secret", base_url=fake.base_url, clock=clock, timeout=0.2
    )
    client.access_token()
    fake.delay(1.0)
    started = time.monotonic()
    with pytest.raises(WeChatTransportError) as info:
        client.send_text(OPENID, "x")
    assert time.monotonic() - started < 0.9
    assert "tok-" not in str(info.value)
    client.close()
    # The server still sends it once its delay is over, as WeChat may have: a timeout is
    # no proof of failure. Waiting for that here also keeps the late send out of the
    # records of the tests that follow (on a loaded machine it landed in one).
    deadline = time.monotonic() + 10
    while fake.messages_to(OPENID) != ["x"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake.messages_to(OPENID) == ["x"]


def test_unreachable_server_is_transport_error(clock):
    client = WeChatAPI(
        app_id="wxapp", app_secret="secret", base_url="http://127.0.0.1:9", clock=clock
    )
    with pytest.raises(WeChatTransportError):
        client.access_token()
    client.close()


def test_bad_credentials(fake, clock):
    client = WeChatAPI(app_id="wxapp", app_secret="wrong", base_url=fake.base_url, clock=clock)
    with pytest.raises(WeChatAPIError) as info:
        client.access_token()
    assert info.value.errcode == 40125
    client.close()


def test_fake_starts_and_stops_quickly():
    started = time.monotonic()
    fake = start_fake_wechat()
    fake.stop()
    assert time.monotonic() - started < 0.5


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def test_an_image_is_uploaded_then_sent_as_an_image_message(api, fake):
    media_id = api.upload_image(PNG, "digest.png")
    ((kind, stored_id, data),) = fake.uploads
    assert (kind, stored_id, data) == ("image", media_id, PNG)
    api.send_image(OPENID, media_id)
    assert fake.images_to(OPENID) == [PNG]
    assert fake.messages_to(OPENID) == []


def test_sending_unknown_media_is_refused(api, fake):
    with pytest.raises(WeChatAPIError) as err:
        api.send_image(OPENID, "never-uploaded")
    assert err.value.errcode == 40007


def test_an_upload_retries_once_with_a_new_token(api, fake):
    api.access_token()
    fake.expire_tokens(42001)
    media_id = api.upload_image(PNG)
    assert fake.uploads[0][1] == media_id
    assert api.token_fetches == 2


def test_the_wechat_channel_delivers_an_outbox_image(api, fake):
    from bot.channels import WeChatChannel

    WeChatChannel(api).send_image(OPENID, PNG, outbox_id=7)
    assert fake.images_to(OPENID) == [PNG]
    # Carries the outbox id like a text notice: a resend after a crash is recognisable.
    assert [m["dedup"] for m in fake.sent] == ["outbox-7"]
