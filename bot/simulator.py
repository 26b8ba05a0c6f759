"""WeChat's side of the webhook, for end-to-end tests and the terminal chat client.

Requests are built and signed the way WeChat's servers do it: XML with string fields in
CDATA, a fresh timestamp and nonce per delivery, and in encrypted modes `encrypt_type=aes`
with `msg_signature` over the ciphertext.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from bot.codec import WeChatCodec, new_nonce, parse_xml, render_xml
from bot.security import sign

Mode = Literal["plain", "compat", "safe"]


@dataclass(frozen=True)
class SimulatedRequest:
    """One delivery: the query parameters and the body to POST to the webhook."""

    params: dict[str, str]
    body: bytes
    msg_id: str | None = None
    openid: str = field(default="", compare=False)


class WeChatSimulator:
    def __init__(
        self,
        token: str,
        app_id: str,
        aes_key: str = "",
        account: str = "gh_gridbot",
        mode: Mode = "plain",
    ):
        if mode not in ("plain", "compat", "safe"):
            raise ValueError(f"unknown mode {mode!r}")
        if mode != "plain" and not aes_key:
            raise ValueError(f"{mode} mode needs an EncodingAESKey")
        self.token = token
        self.account = account
        self.mode = mode
        self._codec = WeChatCodec(token, app_id, aes_key)
        self._lock = threading.Lock()
        # MsgIds are 64-bit numbers of about 17 digits; start somewhere random, then count.
        self._next_msg_id = 10**16 + secrets.randbelow(8 * 10**16)

    # -- messages --------------------------------------------------------------------------

    def text(self, openid: str, content: str, msg_id: str | None = None) -> SimulatedRequest:
        return self.message(openid, "text", {"Content": content}, msg_id=msg_id)

    def image(
        self, openid: str, media_id: str, pic_url: str = "", msg_id: str | None = None
    ) -> SimulatedRequest:
        pic_url = pic_url or f"http://mmbiz.qpic.cn/mmbiz_jpg/{media_id}/0"
        return self.message(
            openid, "image", {"PicUrl": pic_url, "MediaId": media_id}, msg_id=msg_id
        )

    def voice(
        self, openid: str, media_id: str, recognition: str = "", msg_id: str | None = None
    ) -> SimulatedRequest:
        fields = {"MediaId": media_id, "Format": "amr", "Recognition": recognition}
        return self.message(openid, "voice", fields, msg_id=msg_id)

    def location(
        self,
        openid: str,
        lat: float,
        lng: float,
        label: str = "",
        scale: int = 15,
        msg_id: str | None = None,
    ) -> SimulatedRequest:
        fields: dict[str, str | int] = {
            "Location_X": f"{lat:.6f}",
            "Location_Y": f"{lng:.6f}",
            "Scale": scale,
            "Label": label,
        }
        return self.message(openid, "location", fields, msg_id=msg_id)

    def message(
        self,
        openid: str,
        msg_type: str,
        fields: Mapping[str, str | int],
        msg_id: str | None = None,
    ) -> SimulatedRequest:
        """Any message kind (video, link, file, ...) with the given type-specific fields."""
        msg_id = msg_id or self._new_msg_id()
        body = {**self._header(openid, msg_type), **fields, "MsgId": _number(msg_id)}
        return self._deliver(openid, body, msg_id)

    # -- events ----------------------------------------------------------------------------

    def event(self, openid: str, event: str, event_key: str = "") -> SimulatedRequest:
        """An event as WeChat names it: "subscribe", "unsubscribe", "SCAN", "CLICK", "VIEW".

        A subscribe or SCAN with a key also carries the QR code's Ticket, as WeChat's does.
        """
        fields: dict[str, str | int] = {**self._header(openid, "event"), "Event": event}
        if event != "unsubscribe" or event_key:
            fields["EventKey"] = event_key
        if event_key and event.lower() in ("subscribe", "scan"):
            fields["Ticket"] = "gQ" + secrets.token_hex(12)
        return self._deliver(openid, fields, None)

    def subscribe(self, openid: str, scene: str = "") -> SimulatedRequest:
        """A follow: by scanning a QR code with `scene`, or from a search when it is empty."""
        return self.event(openid, "subscribe", f"qrscene_{scene}" if scene else "")

    def location_event(
        self, openid: str, lat: float, lng: float, precision: float = 65.0
    ) -> SimulatedRequest:
        """The LOCATION event an account with location reporting receives on chat entry."""
        fields: dict[str, str | int] = {
            **self._header(openid, "event"),
            "Event": "LOCATION",
            "Latitude": f"{lat:.6f}",
            "Longitude": f"{lng:.6f}",
            "Precision": f"{precision:.6f}",
        }
        return self._deliver(openid, fields, None)

    # -- delivery --------------------------------------------------------------------------

    def resign(self, req: SimulatedRequest) -> SimulatedRequest:
        """The same message delivered again (WeChat's retry): new timestamp and nonce."""
        timestamp, nonce = str(int(time.time())), new_nonce()
        params = {**req.params, "timestamp": timestamp, "nonce": nonce}
        params["signature"] = sign(self.token, timestamp, nonce)
        if "msg_signature" in params:
            encrypted = parse_xml(req.body)["Encrypt"]
            params["msg_signature"] = sign(self.token, timestamp, nonce, encrypted)
        return SimulatedRequest(params=params, body=req.body, msg_id=req.msg_id, openid=req.openid)

    def reply_text(self, body: str | bytes) -> str:
        """The text the user would see for a passive reply body; "" for "success" or empty.

        In compatible mode WeChat takes a plaintext or an encrypted reply; in safe mode
        only an encrypted one.
        """
        text = body.decode() if isinstance(body, bytes) else body
        encrypted = self.mode == "safe" or (self.mode == "compat" and "<Encrypt>" in text)
        return self._codec.decode_reply(text, encrypted=encrypted)

    def _header(self, openid: str, msg_type: str) -> dict[str, str | int]:
        return {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": msg_type,
        }

    def _new_msg_id(self) -> str:
        with self._lock:
            self._next_msg_id += 1
            return str(self._next_msg_id)

    def _deliver(
        self, openid: str, fields: Mapping[str, str | int], msg_id: str | None
    ) -> SimulatedRequest:
        timestamp, nonce = str(int(time.time())), new_nonce()
        params = {
            "signature": sign(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": openid,
        }
        plain = render_xml(fields)
        if self.mode == "plain":
            return SimulatedRequest(params, plain.encode(), msg_id, openid)
        envelope = self._codec.seal(plain, timestamp=timestamp, nonce=nonce)
        encrypted = parse_xml(envelope)["Encrypt"]
        params["encrypt_type"] = "aes"
        params["msg_signature"] = sign(self.token, timestamp, nonce, encrypted)
        if self.mode == "safe":
            outer = {"ToUserName": self.account, "Encrypt": encrypted}
        else:
            outer = {**fields, "Encrypt": encrypted}
        return SimulatedRequest(params, render_xml(outer).encode(), msg_id, openid)


def _number(value: str) -> str | int:
    """WeChat writes numeric fields bare, not in CDATA."""
    return int(value) if value.isdigit() else value
