"""WeChat webhook XML in and out: verify, decrypt and parse requests; render passive replies.

Everything a caller can get from `decode` on a bad request is `BadRequest`, so the web
layer answers 400 and WeChat does not retry a request that can never succeed.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import xmltodict
from wechatpy.crypto import PrpCrypto

from bot.inbound import InboundMessage
from bot.security import DecryptError, MessageCipher, sign, signature_valid

DEFAULT_MAX_BODY = 256 * 1024
_FORBIDDEN = (b"<!doctype", b"<!entity")
# Characters XML 1.0 cannot carry at all; WeChat rejects a reply that contains them.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")
FIELD_LIMITS = {
    "ToUserName": 64,
    "FromUserName": 64,  # an openid is 28 characters
    "MsgType": 32,
    "MsgId": 64,  # a 64-bit number
    "Event": 32,
    "EventKey": 1024,  # a VIEW event's key is the menu's URL
    "MediaId": 128,
    "PicUrl": 512,
}
"""Longest value accepted per field (characters): the columns that keep them are no wider,
so a longer one is refused with 400 before anything reaches the database."""
NONCE_LIMIT = 64
"""WeChat's nonces are about 10 digits; the replay table keeps at most 64 characters."""
SCENE_LIMIT = 64
"""A QR code's scene string (EventKey of subscribe/SCAN, after "qrscene_") is 1-64 characters."""


class BadRequest(Exception):
    """The request is not a valid WeChat message for this account."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_xml(body: bytes | str) -> dict[str, Any]:
    """The children of the root element; BadRequest for anything but plain, entity-free XML."""
    data = body.encode() if isinstance(body, str) else body
    lowered = data.lower()
    if any(marker in lowered for marker in _FORBIDDEN):
        raise BadRequest("DTD or entity declarations are not allowed")
    try:
        doc = xmltodict.parse(data, disable_entities=True)
    except Exception as exc:  # expat errors, ValueError for entities, encoding errors
        raise BadRequest("malformed XML") from exc
    if not isinstance(doc, dict) or len(doc) != 1:
        raise BadRequest("malformed XML")
    root = next(iter(doc.values()))
    if not isinstance(root, dict):
        raise BadRequest("empty XML document")
    return root


def flatten(fields: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Leaf text of every element, nested ones as "Parent.Child"; repeated elements dropped."""
    flat: dict[str, str] = {}
    for key, value in fields.items():
        if key.startswith("@"):
            continue
        name = f"{prefix}{key}"
        if value is None:
            flat[name] = ""
        elif isinstance(value, str):
            flat[name] = value
        elif isinstance(value, dict):
            if "#text" in value:
                flat[name] = str(value["#text"])
            else:
                flat.update(flatten(value, f"{name}."))
    return flat


def cdata(text: str) -> str:
    """`text` as CDATA; a "]]>" inside is split across two sections."""
    text = _INVALID_XML_CHARS.sub("", text)
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_xml(fields: Mapping[str, str | int]) -> str:
    """A flat <xml> document the way WeChat writes it: strings in CDATA, numbers bare."""
    parts = ["<xml>"]
    for key, value in fields.items():
        text = str(value) if isinstance(value, int) else cdata(value)
        parts.append(f"<{key}>{text}</{key}>")
    parts.append("</xml>")
    return "".join(parts)


def is_encrypted(query: Mapping[str, str]) -> bool:
    """Whether a webhook request arrived in the AES envelope (`encrypt_type=aes`, in any
    case): such a request is answered encrypted, one that did not, in plaintext."""
    return (query.get("encrypt_type") or "raw").lower() == "aes"


def new_nonce() -> str:
    return str(secrets.randbelow(9_000_000_000) + 1_000_000_000)


class WeChatCodec:
    """Knows one official account's token, app id and EncodingAESKey ("" = plaintext only)."""

    def __init__(
        self,
        token: str,
        app_id: str,
        aes_key: str = "",
        *,
        max_body: int = DEFAULT_MAX_BODY,
        prp: type[PrpCrypto] = PrpCrypto,
    ):
        self.token = token
        self.app_id = app_id
        self.max_body = max_body
        self._cipher = MessageCipher(aes_key, app_id, prp) if aes_key else None

    # -- inbound ---------------------------------------------------------------------------

    def verify_echo(self, query: Mapping[str, str]) -> str:
        """The echostr of WeChat's GET check, once its signature is right."""
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if not signature_valid(self.token, query.get("signature", ""), timestamp, nonce):
            raise BadRequest("bad signature")
        echostr = query.get("echostr")
        if not echostr:
            raise BadRequest("missing echostr")
        return echostr

    def decode(self, query: Mapping[str, str], body: bytes) -> InboundMessage:
        """Verify, decrypt if needed and parse one webhook POST. Raises only BadRequest."""
        try:
            return self._decode(query, body)
        except BadRequest:
            raise
        except Exception as exc:  # defence in depth: a bad request must never become a 500
            raise BadRequest("malformed request") from exc

    def _decode(self, query: Mapping[str, str], body: bytes) -> InboundMessage:
        if len(body) > self.max_body:
            raise BadRequest("body too large")
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if not signature_valid(self.token, query.get("signature", ""), timestamp, nonce):
            raise BadRequest("bad signature")
        if len(nonce) > NONCE_LIMIT:
            raise BadRequest("too long: nonce")
        fields = parse_xml(body)
        encrypt_type = (query.get("encrypt_type") or "raw").lower()
        if is_encrypted(query):
            fields = self._open_envelope(fields, query.get("msg_signature", ""), timestamp, nonce)
        elif encrypt_type != "raw":
            raise BadRequest(f"unsupported encrypt_type {encrypt_type[:16]!r}")
        elif self._cipher is not None:
            # The plain signature does not cover the body; once an EncodingAESKey is set
            # (compatible or safe mode) only msg_signature-checked ciphertext is trusted.
            raise BadRequest("encryption required: this account is in compatible/safe mode")
        return to_inbound(flatten(fields))

    def _open_envelope(
        self, fields: Mapping[str, Any], msg_signature: str, timestamp: str, nonce: str
    ) -> dict[str, Any]:
        if self._cipher is None:
            raise BadRequest("encrypted message but no EncodingAESKey configured")
        encrypted = fields.get("Encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise BadRequest("missing Encrypt")
        if not signature_valid(self.token, msg_signature, timestamp, nonce, encrypted):
            raise BadRequest("bad msg_signature")
        try:
            inner = self._cipher.decrypt(encrypted)
        except DecryptError as exc:
            raise BadRequest(str(exc)) from exc
        return parse_xml(inner)

    # -- passive replies -------------------------------------------------------------------

    def encode_reply(
        self,
        text: str,
        inbound: InboundMessage,
        *,
        encrypted: bool,
        timestamp: str | None = None,
        nonce: str | None = None,
    ) -> str:
        """A passive text reply to `inbound`, in the encrypted envelope when `encrypted`."""
        xml = render_xml(
            {
                "ToUserName": inbound.openid,
                "FromUserName": inbound.account,
                "CreateTime": int(time.time()),
                "MsgType": "text",
                "Content": text,
            }
        )
        if not encrypted:
            return xml
        return self.seal(xml, timestamp=timestamp, nonce=nonce)

    def seal(self, xml: str, *, timestamp: str | None = None, nonce: str | None = None) -> str:
        """`xml` encrypted and signed in WeChat's envelope (Encrypt, MsgSignature, ...)."""
        if self._cipher is None:
            raise ValueError("encryption requested but no EncodingAESKey configured")
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or new_nonce()
        encrypted = self._cipher.encrypt(xml)
        return (
            "<xml>"
            f"<Encrypt>{cdata(encrypted)}</Encrypt>"
            f"<MsgSignature>{cdata(sign(self.token, timestamp, nonce, encrypted))}</MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp>"
            f"<Nonce>{cdata(nonce)}</Nonce>"
            "</xml>"
        )

    def open_sealed(self, body: str | bytes) -> str:
        """The XML inside an envelope made by `seal`, once its MsgSignature is right."""
        env = parse_xml(body)
        encrypted = env.get("Encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise BadRequest("missing Encrypt")
        timestamp, nonce = env.get("TimeStamp") or "", env.get("Nonce") or ""
        if not signature_valid(
            self.token, env.get("MsgSignature") or "", timestamp, nonce, encrypted
        ):
            raise BadRequest("bad MsgSignature")
        if self._cipher is None:
            raise BadRequest("encrypted reply but no EncodingAESKey configured")
        try:
            return self._cipher.decrypt(encrypted)
        except DecryptError as exc:
            raise BadRequest(str(exc)) from exc

    def decode_reply(self, body: str | bytes, *, encrypted: bool) -> str:
        """The Content of a passive reply; "" for "success" or an empty body."""
        text = body.decode() if isinstance(body, bytes) else body
        if text.strip() in ("", "success"):
            return ""
        xml = self.open_sealed(text) if encrypted else text
        fields = parse_xml(xml)
        content = fields.get("Content")
        return content if isinstance(content, str) else ""


def to_inbound(raw: dict[str, str]) -> InboundMessage:
    """Map WeChat's flat message fields onto InboundMessage. BadRequest on missing fields."""
    missing = [name for name in _REQUIRED if not raw.get(name)]
    if missing:
        raise BadRequest("missing " + ", ".join(missing))
    too_long = [name for name, limit in FIELD_LIMITS.items() if len(raw.get(name) or "") > limit]
    if too_long:
        raise BadRequest("too long: " + ", ".join(too_long))
    kind = raw["MsgType"].lower()
    try:
        created_at = datetime.fromtimestamp(int(raw["CreateTime"]), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise BadRequest("bad CreateTime") from exc
    values: dict[str, Any] = {}
    if kind == "text":
        values["text"] = raw.get("Content", "")
    elif kind == "image":
        values["media_id"] = raw.get("MediaId") or None
        values["pic_url"] = raw.get("PicUrl") or None
    elif kind == "voice":
        values["media_id"] = raw.get("MediaId") or None
        values["text"] = raw.get("Recognition", "")
    elif kind == "location":
        values["lat"] = _coordinate(raw, "Location_X")
        values["lng"] = _coordinate(raw, "Location_Y")
        values["label"] = raw.get("Label", "")
    elif kind == "event":
        event = raw.get("Event", "").lower()
        if not event:
            raise BadRequest("missing Event")
        values["event"] = event
        values["event_key"] = raw.get("EventKey", "")
        scene = values["event_key"].removeprefix("qrscene_")
        if event in ("subscribe", "scan") and len(scene) > SCENE_LIMIT:
            raise BadRequest("too long: EventKey (a QR scene is at most 64 characters)")
        if event == "location":
            values["lat"] = _coordinate(raw, "Latitude")
            values["lng"] = _coordinate(raw, "Longitude")
    elif kind in ("video", "shortvideo"):
        values["media_id"] = raw.get("MediaId") or None
    return InboundMessage(
        kind=kind,
        openid=raw["FromUserName"],
        account=raw["ToUserName"],
        created_at=created_at,
        msg_id=raw.get("MsgId") or None,
        raw=raw,
        **values,
    )


def _coordinate(raw: Mapping[str, str], name: str) -> float:
    try:
        value = float(raw[name])
    except (KeyError, ValueError) as exc:
        raise BadRequest(f"missing or bad {name}") from exc
    if value != value or abs(value) > 180:  # NaN or out of range
        raise BadRequest(f"bad {name}")
    return value
