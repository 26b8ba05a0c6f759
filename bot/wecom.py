"""The WeCom (企业微信) app's callback: always encrypted, receive id = CorpID, plus AgentID.

A WeCom user becomes the same plain InboundMessage as an official-account user, with the
address "wecom:<userid>" as its openid, so the one chat engine handles both. The envelope
(AES, msg_signature, passive reply) is WeChat's, reused from bot.codec with the CorpID as
the receive id, on wechatpy.enterprise's PrpCrypto.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace

from wechatpy.enterprise.crypto import PrpCrypto

from bot.codec import BadRequest, WeChatCodec, flatten, parse_xml, render_xml, to_inbound
from bot.inbound import InboundMessage
from bot.security import DecryptError, MessageCipher, signature_valid
from models.people import WECOM_PREFIX


def wecom_address(userid: str) -> str:
    """The openid-shaped address of a WeCom user (never a WeChat openid)."""
    return WECOM_PREFIX + userid


def wecom_userid(address: str) -> str | None:
    """The userid in a "wecom:<userid>" address; None for any other address."""
    return address.removeprefix(WECOM_PREFIX) if address.startswith(WECOM_PREFIX) else None


class WeComCodec:
    """Knows one WeCom app: the CorpID, AgentID, callback Token and EncodingAESKey."""

    def __init__(self, *, corp_id: str, agent_id: str, token: str, aes_key: str) -> None:
        self.corp_id = corp_id
        self.agent_id = str(agent_id)
        self.token = token
        self._envelope = WeChatCodec(token, corp_id, aes_key, prp=PrpCrypto)
        self._cipher = MessageCipher(aes_key, corp_id, PrpCrypto)

    def verify_echo(self, query: Mapping[str, str]) -> str:
        """The decrypted echostr of WeCom's GET check, once its msg_signature is right."""
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        echostr = query.get("echostr") or ""
        if not echostr:
            raise BadRequest("missing echostr")
        if not signature_valid(
            self.token, query.get("msg_signature", ""), timestamp, nonce, echostr
        ):
            raise BadRequest("bad msg_signature")
        try:
            return self._cipher.decrypt(echostr)
        except DecryptError as exc:
            raise BadRequest(str(exc)) from exc

    def decode(self, query: Mapping[str, str], body: bytes) -> InboundMessage:
        """Verify, decrypt and parse one callback POST. Raises only BadRequest."""
        try:
            return self._decode(query, body)
        except BadRequest:
            raise
        except Exception as exc:  # a bad request must never become a 500 WeCom retries
            raise BadRequest("malformed request") from exc

    def _decode(self, query: Mapping[str, str], body: bytes) -> InboundMessage:
        outer = parse_xml(body)
        inner = self._envelope._open_envelope(
            outer,
            query.get("msg_signature", ""),
            query.get("timestamp", ""),
            query.get("nonce", ""),
        )
        raw = flatten(inner)
        if raw.get("ToUserName") != self.corp_id:
            raise BadRequest("wrong CorpID")
        if (raw.get("AgentID") or "").strip() != self.agent_id:
            raise BadRequest("wrong AgentID")
        msg = to_inbound(raw)
        code = raw.get("ResponseCode", "")
        return replace(msg, openid=wecom_address(msg.openid), response_code=code)

    def encode_reply(self, text: str, inbound: InboundMessage) -> str:
        """A passive text reply to `inbound`, encrypted (WeCom accepts nothing else)."""
        xml = render_xml(
            {
                "ToUserName": wecom_userid(inbound.openid) or inbound.openid,
                "FromUserName": self.corp_id,
                "CreateTime": int(time.time()),
                "MsgType": "text",
                "Content": text,
            }
        )
        return self._envelope.seal(xml)

    def decode_reply(self, body: str | bytes) -> str:
        """The Content of a passive reply made by `encode_reply` ("" for "success")."""
        return self._envelope.decode_reply(body, encrypted=True)
