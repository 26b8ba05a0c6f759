from datetime import UTC, datetime

import pytest

from bot.codec import BadRequest, WeChatCodec
from bot.inbound import InboundMessage
from bot.security import MessageCipher, sign
from bot.simulator import WeChatSimulator

TOKEN = "gridtoken"
APP_ID = "wx1234567890abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OPENID = "oRider0001"
MODES = ["plain", "compat", "safe"]


@pytest.fixture
def codec():
    return WeChatCodec(TOKEN, APP_ID, AES_KEY)


def simulator(mode: str) -> WeChatSimulator:
    return WeChatSimulator(TOKEN, APP_ID, AES_KEY, mode=mode)


def decode(codec: WeChatCodec, req) -> InboundMessage:
    """Decode as the account would: a plaintext-mode request reaches a plaintext account."""
    if "encrypt_type" not in req.params:
        codec = WeChatCodec(TOKEN, APP_ID)
    return codec.decode(req.params, req.body)


# -- every kind, every mode ------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_text(codec, mode):
    req = simulator(mode).text(OPENID, "路口积水 <深> & ]]> 了")
    msg = decode(codec, req)
    assert msg.kind == "text"
    assert msg.openid == OPENID
    assert msg.account == "gh_gridbot"
    assert msg.text == "路口积水 <深> & ]]> 了"
    assert msg.msg_id == req.msg_id and msg.msg_id
    assert msg.created_at.tzinfo is not None
    assert abs((datetime.now(UTC) - msg.created_at).total_seconds()) < 5
    assert msg.raw["Content"] == msg.text


@pytest.mark.parametrize("mode", MODES)
def test_image(codec, mode):
    msg = decode(codec, simulator(mode).image(OPENID, "MEDIA1", "http://pic/1.jpg"))
    assert (msg.kind, msg.media_id, msg.pic_url) == ("image", "MEDIA1", "http://pic/1.jpg")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("recognition", ["", "这里有个坑"])
def test_voice(codec, mode, recognition):
    msg = decode(codec, simulator(mode).voice(OPENID, "VOICE1", recognition))
    assert (msg.kind, msg.media_id, msg.text) == ("voice", "VOICE1", recognition)


@pytest.mark.parametrize("mode", MODES)
def test_location(codec, mode):
    msg = decode(codec, simulator(mode).location(OPENID, 31.230416, 121.473701, "人民广场"))
    assert msg.kind == "location"
    assert msg.lat == pytest.approx(31.230416)
    assert msg.lng == pytest.approx(121.473701)
    assert msg.label == "人民广场"
    assert msg.raw["Scale"] == "15"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "event, key, expected, scene",
    [
        ("subscribe", "", "subscribe", None),
        ("subscribe", "qrscene_grid42", "subscribe", "grid42"),
        ("SCAN", "grid42", "scan", "grid42"),
        ("unsubscribe", "", "unsubscribe", None),
        ("CLICK", "MENU_REPORT", "click", None),
        ("VIEW", "https://example.com/", "view", None),
    ],
)
def test_events(codec, mode, event, key, expected, scene):
    msg = decode(codec, simulator(mode).event(OPENID, event, key))
    assert msg.kind == "event"
    assert msg.event == expected
    assert msg.event_key == key
    assert msg.qr_scene == scene  # the QR code's scene, whether the scan subscribed or not
    assert msg.msg_id is None
    assert msg.dedup_key.startswith(f"evt:{OPENID}:")


@pytest.mark.parametrize("mode", MODES)
def test_location_event(codec, mode):
    msg = decode(codec, simulator(mode).location_event(OPENID, 31.2, 121.5))
    assert (msg.kind, msg.event) == ("event", "location")
    assert (msg.lat, msg.lng) == (pytest.approx(31.2), pytest.approx(121.5))


@pytest.mark.parametrize("mode", MODES)
def test_other_kinds_pass_through(codec, mode):
    req = simulator(mode).message(
        OPENID, "link", {"Title": "标题", "Description": "d", "Url": "http://x"}
    )
    msg = decode(codec, req)
    assert msg.kind == "link"
    assert msg.raw["Url"] == "http://x"


def test_msg_ids_are_unique_and_kept_on_retry(codec):
    sim = simulator("safe")
    reqs = [sim.text(OPENID, "x") for _ in range(50)]
    assert len({r.msg_id for r in reqs}) == 50
    retry = sim.resign(reqs[0])
    assert retry.params["nonce"] != reqs[0].params["nonce"]
    first, again = decode(codec, reqs[0]), decode(codec, retry)
    assert first.dedup_key == again.dedup_key


def test_event_retry_keeps_dedup_key(codec):
    sim = simulator("compat")
    req = sim.event(OPENID, "subscribe", "qrscene_x")
    assert decode(codec, req).dedup_key == decode(codec, sim.resign(req)).dedup_key


def test_plaintext_refused_once_an_aes_key_is_configured(codec):
    # The plain signature does not cover the body: with a key set, only ciphertext counts.
    req = simulator("plain").text(OPENID, "hi")
    with pytest.raises(BadRequest, match="encryption required"):
        codec.decode(req.params, req.body)


def test_plaintext_only_codec_refuses_encrypted():
    plain_codec = WeChatCodec(TOKEN, APP_ID)
    with pytest.raises(BadRequest):
        decode(plain_codec, simulator("safe").text(OPENID, "hi"))


def test_compat_mode_uses_the_ciphertext(codec):
    sim = simulator("compat")
    req = sim.text(OPENID, "真的")
    forged = req.body.replace("真的".encode(), "假的".encode(), 1)
    assert forged != req.body
    assert decode(codec, type(req)(req.params, forged, req.msg_id)).text == "真的"


# -- refusals ----------------------------------------------------------------------------------


def test_bad_plain_signature(codec):
    req = simulator("plain").text(OPENID, "hi")
    with pytest.raises(BadRequest, match="signature"):
        codec.decode({**req.params, "signature": "0" * 40}, req.body)
    with pytest.raises(BadRequest):
        codec.decode({k: v for k, v in req.params.items() if k != "signature"}, req.body)


@pytest.mark.parametrize("mode", ["compat", "safe"])
def test_forged_msg_signature(codec, mode):
    req = simulator(mode).text(OPENID, "hi")
    with pytest.raises(BadRequest, match="msg_signature"):
        codec.decode({**req.params, "msg_signature": "0" * 40}, req.body)
    with pytest.raises(BadRequest):
        codec.decode({k: v for k, v in req.params.items() if k != "msg_signature"}, req.body)


def test_wrong_app_id(codec):
    other = WeChatSimulator(TOKEN, "wxOTHERAPP", AES_KEY, mode="safe")
    with pytest.raises(BadRequest, match="app id"):
        decode(codec, other.text(OPENID, "hi"))


def test_tampered_ciphertext(codec):
    cipher = MessageCipher(AES_KEY, APP_ID)
    encrypted = cipher.encrypt("<xml><MsgType>text</MsgType></xml>")
    tampered = encrypted[:10] + ("A" if encrypted[10] != "A" else "B") + encrypted[11:]
    params = _signed_params(tampered)
    body = f"<xml><Encrypt><![CDATA[{tampered}]]></Encrypt></xml>".encode()
    with pytest.raises(BadRequest):
        codec.decode(params, body)


def _signed_params(encrypted: str | None = None) -> dict[str, str]:
    ts, nonce = "1700000000", "987654"
    params = {"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
    if encrypted is not None:
        params["encrypt_type"] = "aes"
        params["msg_signature"] = sign(TOKEN, ts, nonce, encrypted)
    return params


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol2;</Content></xml>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&xxe;</Content></xml>"""


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        EXTERNAL_ENTITY,
        BILLION_LAUGHS.replace(b"DOCTYPE", b"doctype"),
        b"",
        b"not xml at all",
        b"<xml><unclosed></xml>",
        b"\xff\xfe\x00garbage",
        b"<xml></xml>",
        b"<xml>text only</xml>",
        b"<a/><b/>",
        b"<xml><ToUserName>gh</ToUserName></xml>",
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName>"
        b"<CreateTime>x</CreateTime><MsgType>text</MsgType></xml>",
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName>"
        b"<CreateTime>99999999999999999999</CreateTime><MsgType>text</MsgType></xml>",
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName>"
        b"<CreateTime>1</CreateTime><MsgType>location</MsgType><Location_X>abc</Location_X>"
        b"<Location_Y>1</Location_Y></xml>",
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName>"
        b"<CreateTime>1</CreateTime><MsgType>event</MsgType></xml>",
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName>"
        b"<CreateTime>1</CreateTime><MsgType>event</MsgType><Event>LOCATION</Event></xml>",
    ],
)
def test_malformed_plain_bodies(codec, body):
    with pytest.raises(BadRequest):
        codec.decode(_signed_params(), body)


@pytest.mark.parametrize("inner", [BILLION_LAUGHS, EXTERNAL_ENTITY, b"garbage", b"<xml/>"])
def test_malformed_encrypted_inner_xml(codec, inner):
    encrypted = MessageCipher(AES_KEY, APP_ID).encrypt(inner.decode())
    body = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()
    with pytest.raises(BadRequest):
        codec.decode(_signed_params(encrypted), body)


@pytest.mark.parametrize("encrypted", ["", "!!notbase64", "QUJD", "A" * 64])
def test_encrypted_request_without_usable_encrypt(codec, encrypted):
    body = f"<xml><ToUserName>gh</ToUserName><Encrypt>{encrypted}</Encrypt></xml>".encode()
    with pytest.raises(BadRequest):
        codec.decode(_signed_params(encrypted), body)


def test_unknown_encrypt_type(codec):
    req = simulator("plain").text(OPENID, "hi")
    with pytest.raises(BadRequest):
        codec.decode({**req.params, "encrypt_type": "rsa"}, req.body)


def test_oversized_body():
    small = WeChatCodec(TOKEN, APP_ID, max_body=100)
    req = simulator("plain").text(OPENID, "x" * 200)
    with pytest.raises(BadRequest, match="large"):
        small.decode(req.params, req.body)


def test_minimal_valid_body_parses():
    codec = WeChatCodec(TOKEN, APP_ID)
    body = (
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName>"
        b"<CreateTime>1700000000</CreateTime><MsgType>text</MsgType><Content/></xml>"
    )
    msg = codec.decode(_signed_params(), body)
    assert msg.text == ""
    assert msg.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


# -- GET verification ------------------------------------------------------------------------


def test_verify_echo(codec):
    params = {**_signed_params(), "echostr": "4869402563837207000"}
    assert codec.verify_echo(params) == "4869402563837207000"
    with pytest.raises(BadRequest):
        codec.verify_echo({**params, "signature": "bad"})
    with pytest.raises(BadRequest):
        codec.verify_echo({"echostr": "1"})


# -- replies -----------------------------------------------------------------------------------

TRICKY = '收到！工单 #12 已登记 ]]> <b>&amp; "引号" ]]]]><![CDATA[ 完'


@pytest.mark.parametrize("encrypted", [False, True])
def test_reply_roundtrip(codec, encrypted):
    inbound = decode(codec, simulator("safe").text(OPENID, "hi"))
    body = codec.encode_reply(TRICKY, inbound, encrypted=encrypted)
    assert codec.decode_reply(body, encrypted=encrypted) == TRICKY


def test_plain_reply_shape(codec):
    inbound = decode(codec, simulator("plain").text(OPENID, "hi"))
    body = codec.encode_reply("好", inbound, encrypted=False)
    assert "<ToUserName><![CDATA[oRider0001]]></ToUserName>" in body
    assert "<FromUserName><![CDATA[gh_gridbot]]></FromUserName>" in body
    assert "<MsgType><![CDATA[text]]></MsgType>" in body


def test_encrypted_reply_envelope(codec):
    inbound = decode(codec, simulator("safe").text(OPENID, "hi"))
    body = codec.encode_reply("好", inbound, encrypted=True, timestamp="1700000000", nonce="42")
    assert "<TimeStamp>1700000000</TimeStamp>" in body
    assert "<Nonce><![CDATA[42]]></Nonce>" in body
    assert "<Content>" not in body


def test_encrypted_reply_readable_by_wechatpy(codec):
    from wechatpy.crypto import WeChatCrypto

    inbound = decode(codec, simulator("safe").text(OPENID, "hi"))
    body = codec.encode_reply("你好", inbound, encrypted=True, timestamp="1700000000", nonce="42")
    sig = body.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    xml = WeChatCrypto(TOKEN, AES_KEY, APP_ID).decrypt_message(body, sig, "1700000000", "42")
    assert "<![CDATA[你好]]>" in xml


def test_forged_reply_signature_refused(codec):
    inbound = decode(codec, simulator("safe").text(OPENID, "hi"))
    body = codec.encode_reply("好", inbound, encrypted=True)
    forged = body.replace("<MsgSignature><![CDATA[", "<MsgSignature><![CDATA[0", 1)
    with pytest.raises(BadRequest):
        codec.decode_reply(forged, encrypted=True)


def test_reply_strips_characters_xml_cannot_carry(codec):
    inbound = decode(codec, simulator("plain").text(OPENID, "hi"))
    body = codec.encode_reply("a\x00b\x07c\nd", inbound, encrypted=False)
    assert codec.decode_reply(body, encrypted=False) == "abc\nd"


@pytest.mark.parametrize("body", ["", "success", b"success"])
def test_empty_replies(codec, body):
    assert codec.decode_reply(body, encrypted=True) == ""


@pytest.mark.parametrize("mode", MODES)
def test_simulator_reads_replies(codec, mode):
    sim = simulator(mode)
    req = sim.text(OPENID, "hi")
    inbound = decode(codec, req)
    encrypted = req.params.get("encrypt_type") == "aes"
    body = codec.encode_reply("已收到", inbound, encrypted=encrypted)
    assert sim.reply_text(body) == "已收到"
    assert sim.reply_text("success") == ""


def test_safe_simulator_refuses_plain_reply(codec):
    sim = simulator("safe")
    inbound = decode(codec, sim.text(OPENID, "hi"))
    with pytest.raises(BadRequest):
        sim.reply_text(codec.encode_reply("x", inbound, encrypted=False))


def test_simulator_needs_key_for_encrypted_modes():
    with pytest.raises(ValueError):
        WeChatSimulator(TOKEN, APP_ID, mode="safe")
