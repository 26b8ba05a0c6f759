"""A fake WeCom (企业微信) API and a WeCom client that posts encrypted callbacks.

`FakeWeCom` answers gettoken, message/send and message/update_template_card on 127.0.0.1,
records what it got, and fails on demand (`fail_next(errcode, times)`): errors are JSON
{"errcode", "errmsg"} with HTTP 200, as WeCom answers. `WeComUser` builds callbacks the
way WeCom does, encrypted with wechatpy.enterprise's crypto.

Loaded as a pytest plugin (tests/conftest.py): its `fake_wecom` fixture serves every test,
and so does `fake_wechat` (the official account's fake, for tests that send on both).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.codec import parse_xml
from tests.fakewechat import FakeWeChat, start_fake_wechat
from tests.fakewechat.transport import QuietServer, handler_for

CORP_ID = "wwe2e0000000000001"
AGENT_ID = "1000002"
SECRET = "wecom-secret"
TOKEN = "wecom-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

assert len(AES_KEY) == 43


class FakeWeCom:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.token_requests = 0
        self.uploads = 0
        self._tokens: set[str] = set()
        self._failures: list[int] = []
        self._httpd = QuietServer(("127.0.0.1", 0), handler_for(self))  # type: ignore[arg-type]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeWeCom:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def fail_next(self, errcode: int, times: int = 1) -> None:
        """The next `times` sends (message/send or update_template_card) answer `errcode`;
        40014/42001 also forget every token issued so far, as an expired token is."""
        with self._lock:
            self._failures += [errcode] * times

    def messages_to(self, userid: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.sent if userid in m["touser"].split("|")]

    def texts_to(self, userid: str) -> list[str]:
        return [m["text"]["content"] for m in self.messages_to(userid) if m["msgtype"] == "text"]

    # -- the HTTP side ---------------------------------------------------------------------

    def handle(self, method, path, query, body, headers):
        if path == "/cgi-bin/gettoken":
            if query.get("corpid") != CORP_ID or query.get("corpsecret") != SECRET:
                return _answer({"errcode": 40001, "errmsg": "invalid credential"})
            with self._lock:
                self.token_requests += 1
                token = secrets.token_hex(8)
                self._tokens.add(token)
            return _answer({"errcode": 0, "access_token": token, "expires_in": 7200})
        with self._lock:
            if query.get("access_token") not in self._tokens:
                return _answer({"errcode": 40014, "errmsg": "invalid access_token"})
            if self._failures:
                code = self._failures.pop(0)
                if code in (40014, 42001):
                    self._tokens.clear()
                return _answer({"errcode": code, "errmsg": "failing on demand"})
            if path == "/cgi-bin/media/upload":
                self.uploads += 1
                return _answer({"errcode": 0, "type": "image", "media_id": f"media-{self.uploads}"})
            payload = json.loads(body)
            if path == "/cgi-bin/message/send":
                self.sent.append(payload)
                return _answer({"errcode": 0, "errmsg": "ok", "msgid": f"m{len(self.sent)}"})
            if path == "/cgi-bin/message/update_template_card":
                self.updates.append(payload)
                return _answer({"errcode": 0, "errmsg": "ok"})
        return _answer({"errcode": 404, "errmsg": "unknown path"})


def _answer(data: dict[str, Any]):
    return 200, "application/json; charset=utf-8", json.dumps(data, ensure_ascii=False).encode()


def start_fake_wecom() -> FakeWeCom:
    return FakeWeCom()


class WeComUser:
    """Posts what WeCom posts for one app: encrypted XML, msg_signature in the query."""

    def __init__(self, http: httpx.Client, *, corp_id: str = CORP_ID, agent_id: str = AGENT_ID):
        self.http = http
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, corp_id)
        self._seq = 0

    def _seal(self, inner: str) -> tuple[dict[str, str], str]:
        nonce, ts = secrets.token_hex(5), str(int(time.time()))
        env = parse_xml(self.crypto.encrypt_message(inner, nonce, ts))
        body = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<AgentID><![CDATA[{self.agent_id}]]></AgentID>"
            f"<Encrypt><![CDATA[{env['Encrypt']}]]></Encrypt></xml>"
        )
        return {"msg_signature": env["MsgSignature"], "timestamp": ts, "nonce": nonce}, body

    def post(self, userid: str, fields: str) -> httpx.Response:
        self._seq += 1
        inner = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<FromUserName><![CDATA[{userid}]]></FromUserName>"
            f"<CreateTime>{int(time.time()) + self._seq}</CreateTime>"
            f"{fields}<AgentID>{self.agent_id}</AgentID></xml>"
        )
        params, body = self._seal(inner)
        return self.http.post("/wecom", params=params, content=body.encode())

    def reply_of(self, response: httpx.Response) -> str:
        """The text the user sees ("" for "success"), decrypted with wechatpy."""
        assert response.status_code == 200, (response.status_code, response.text)
        if response.text in ("", "success"):
            return ""
        env = parse_xml(response.content)
        inner = self.crypto.decrypt_message(
            response.text, env["MsgSignature"], env["TimeStamp"], env["Nonce"]
        )
        return parse_xml(inner).get("Content") or ""

    def say(self, userid: str, text: str) -> str:
        self._seq += 1
        fields = (
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
            f"<MsgId>{int(time.time() * 1000)}{self._seq}</MsgId>"
        )
        return self.reply_of(self.post(userid, fields))

    def press(self, userid: str, task_id: str, key: str) -> str:
        """Press a template card's button (event template_card_event)."""
        fields = (
            "<MsgType><![CDATA[event]]></MsgType>"
            "<Event><![CDATA[template_card_event]]></Event>"
            f"<EventKey><![CDATA[{key}]]></EventKey><TaskId><![CDATA[{task_id}]]></TaskId>"
            "<CardType><![CDATA[button_interaction]]></CardType>"
            f"<ResponseCode><![CDATA[rc-{task_id}-{self._seq}]]></ResponseCode>"
        )
        return self.reply_of(self.post(userid, fields))

    def echo_check(self, echostr_plain: str, *, signature: str | None = None) -> httpx.Response:
        nonce, ts = secrets.token_hex(5), str(int(time.time()))
        env = parse_xml(self.crypto.encrypt_message(echostr_plain, nonce, ts))
        echostr = env["Encrypt"]
        from bot.security import sign

        sig = signature or sign(TOKEN, ts, nonce, echostr)
        params = {"msg_signature": sig, "timestamp": ts, "nonce": nonce, "echostr": echostr}
        return self.http.get("/wecom", params=params)


@pytest.fixture
def fake_wecom() -> Iterator[FakeWeCom]:
    """A fake WeCom API on 127.0.0.1 for one test."""
    with start_fake_wecom() as server:
        yield server


@pytest.fixture
def fake_wechat() -> Iterator[FakeWeChat]:
    """A fake WeChat API (the official account) on 127.0.0.1 for one test."""
    with start_fake_wechat() as server:
        yield server
