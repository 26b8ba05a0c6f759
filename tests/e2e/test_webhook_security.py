"""Hostile or broken requests: each is answered 4xx (never 500, which WeChat would retry)
and nothing reaches the inbox."""

from __future__ import annotations

import time

from bot.codec import WeChatCodec, parse_xml, render_xml
from bot.security import sign
from models import InboxMessage, Ticket
from tests.e2e.conftest import AES_KEY, TOKEN, signed_query, text_xml

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n'
    '<!DOCTYPE xml [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + "]>\n<xml><ToUserName>gh_gridbot</ToUserName><FromUserName>rider-1</FromUserName>"
    "<CreateTime>1700000000</CreateTime><MsgType>text</MsgType>"
    "<Content>&lol9;</Content><MsgId>1</MsgId></xml>"
)


def _assert_refused(response, *statuses: int) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    if statuses:
        assert response.status_code in statuses, (response.status_code, response.text)


def test_hostile_requests_are_refused_and_nothing_is_stored(gridbot):
    bot = gridbot("safe")
    post = bot.http.post
    good = bot.sim.text("rider-1", "路口积水很深")

    # A forged signature.
    forged = {**good.params, "signature": "f" * 40}
    _assert_refused(post("/wechat", params=forged, content=good.body))
    _assert_refused(post("/wechat", params={}, content=good.body))

    # A right signature but a forged msg_signature over the ciphertext.
    fresh = bot.sim.resign(good)
    forged = {**fresh.params, "msg_signature": sign(TOKEN, "1", "2", "other ciphertext")}
    _assert_refused(post("/wechat", params=forged, content=fresh.body))
    no_msg_signature = {
        k: v for k, v in bot.sim.resign(good).params.items() if k != "msg_signature"
    }
    _assert_refused(post("/wechat", params=no_msg_signature, content=good.body))

    # Correctly signed, but ten minutes old (and ten minutes in the future).
    for skew in (-600, 600):
        params = signed_query(int(time.time()) + skew)
        _assert_refused(post("/wechat", params=params, content=text_xml().encode()))

    # Billion laughs, correctly signed.
    _assert_refused(post("/wechat", params=signed_query(), content=BILLION_LAUGHS.encode()), 400)

    # Over max_body_bytes: declared up front, and streamed without a Content-Length.
    big = b"<xml>" + b"x" * (bot.settings.max_body_bytes + 1) + b"</xml>"
    _assert_refused(post("/wechat", params=signed_query(), content=big), 413)

    def chunks():
        for _ in range(bot.settings.max_body_bytes // 4096 + 2):
            yield b"x" * 4096

    _assert_refused(post("/wechat", params=signed_query(), content=chunks()), 413)

    # Garbage, correctly signed: not XML, XML without the fields, an unknown encrypt_type.
    for body in (b"\x00\xffnot xml at all", b"<xml><a>1</a></xml>", b"", b"<xml>"):
        _assert_refused(post("/wechat", params=signed_query(), content=body), 400)
    params = {**signed_query(), "encrypt_type": "rot13"}
    _assert_refused(post("/wechat", params=params, content=text_xml().encode()), 400)

    # An AES payload sealed for another app id, every signature right.
    other = WeChatCodec(TOKEN, "wxsomeoneelse00001", AES_KEY)
    params = signed_query()
    encrypted = parse_xml(other.seal(text_xml(), timestamp=params["timestamp"]))["Encrypt"]
    params |= {
        "encrypt_type": "aes",
        "msg_signature": sign(TOKEN, params["timestamp"], params["nonce"], encrypted),
    }
    body = render_xml({"ToUserName": "gh_gridbot", "Encrypt": encrypted}).encode()
    _assert_refused(post("/wechat", params=params, content=body), 400)

    # Ciphertext that is not even base64 / not a block multiple.
    for junk in ("!!!not-base64!!!", "QUJD"):
        params = signed_query()
        params |= {
            "encrypt_type": "aes",
            "msg_signature": sign(TOKEN, params["timestamp"], params["nonce"], junk),
        }
        body = render_xml({"ToUserName": "gh_gridbot", "Encrypt": junk}).encode()
        _assert_refused(post("/wechat", params=params, content=body), 400)

    assert bot.count(InboxMessage) == 0
    assert bot.count(Ticket) == 0

    # The genuine message still goes through afterwards.
    assert "位置" in bot.deliver(bot.sim.resign(good))
    assert bot.count(InboxMessage) == 1


def test_a_replayed_timestamp_and_nonce_is_refused(gridbot):
    bot = gridbot("compat")
    req = bot.sim.text("rider-1", "路口积水很深")
    first = bot.post(req)
    assert first.status_code == 200 and "位置" in bot.sim.reply_text(first.content)

    again = bot.post(req)  # byte-for-byte the same request: same timestamp and nonce
    _assert_refused(again, 403)
    assert bot.count(InboxMessage) == 1

    # A plaintext message under the captured (timestamp, nonce, signature) is refused too.
    other = bot.http.post(
        "/wechat",
        params={k: req.params[k] for k in ("signature", "timestamp", "nonce")},
        content=text_xml("rider-9", "伪造").encode(),
    )
    _assert_refused(other)
    assert bot.count(InboxMessage) == 1


def test_safe_mode_refuses_a_plaintext_body(gridbot):
    """In safe mode only the ciphertext is signed (msg_signature); the plain `signature`
    covers just token, timestamp and nonce. If a plaintext POST is still accepted, anyone
    who sees one delivery's query string can post their own message under it first."""
    bot = gridbot("safe")
    response = bot.http.post("/wechat", params=signed_query(), content=text_xml().encode())
    _assert_refused(response)
    assert bot.count(InboxMessage) == 0
