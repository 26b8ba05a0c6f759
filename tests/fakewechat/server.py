"""The fake WeChat API itself: `FakeWeChat` (tokens, customer-service and template
sends, media upload and download, and what was sent) and `start_fake_wechat`.
"""

from __future__ import annotations

import email.policy
import random
import threading
import time
from dataclasses import dataclass
from email.parser import BytesParser
from typing import Any

from tests.fakewechat.failures import FailureModes, Rule
from tests.fakewechat.transport import (
    QuietServer,
    answer_error,
    answer_json,
    handler_for,
    load_json,
)

TOKEN_LIFETIME = 7200


@dataclass
class _Token:
    value: str
    expires_at: float
    expired_code: int = 0  # non-zero once expire_tokens() hit it


class FakeWeChat(FailureModes):
    """The fake API; its failure modes come from `FailureModes`."""

    def __init__(self, *, app_id: str | None = None, app_secret: str | None = None):
        self.app_id = app_id
        self.app_secret = app_secret
        self._lock = threading.Lock()
        self._httpd = QuietServer(("127.0.0.1", 0), handler_for(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.reset()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- control ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget sent messages, rules, media and tokens (issued tokens become unknown)."""
        with self._lock:
            self.sent: list[dict[str, Any]] = []
            self.requests: list[tuple[str, str]] = []
            self._rules: list[Rule] = []
            self._media: dict[str, tuple[bytes, str]] = {}
            self.uploads: list[tuple[str, str, bytes]] = []
            self._tokens: dict[str, _Token] = {}
            self._stable: str | None = None
            self._issued = 0
            self.token_requests = 0
            self.resends = 0  # deliveries refused as repeats of an X-Gridbot-Dedup key
            self._dedup: set[str] = set()
            self._chaos: tuple[float, tuple[int, ...], str] | None = None
            self._rng = random.Random(7)

    def add_media(self, media_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        with self._lock:
            self._media[media_id] = (data, content_type)

    def expire_tokens(self, errcode: int = 42001) -> None:
        """Every token issued so far is refused from now on (42001 expired, or 40001)."""
        with self._lock:
            for token in self._tokens.values():
                token.expired_code = errcode
            self._stable = None

    def messages_to(self, openid: str) -> list[str]:
        with self._lock:
            return [m["content"] for m in self.sent if m["touser"] == openid and "content" in m]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeWeChat:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- request handling (called from server threads) ---------------------------------------

    def _issue(self) -> _Token:
        self._issued += 1
        token = _Token(f"tok-{self._issued}", time.time() + TOKEN_LIFETIME)
        self._tokens[token.value] = token
        return token

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: bytes,
        headers: dict[str, str] | None = None,
    ):
        """(status, content_type, body bytes) for one request; None = drop the connection."""
        dedup = (headers or {}).get("x-gridbot-dedup", "")
        with self._lock:
            self.requests.append((method, path))
            if dedup and path.startswith("/cgi-bin/message/") and dedup in self._dedup:
                # A repeat of a delivered notice: real WeChat would show it again (it has
                # no idempotency key); the fake counts it and answers as if it had sent it.
                self.resends += 1
                return answer_json({"errcode": 0, "errmsg": "ok"})
            chaos = self._chaos
            roll = self._rng.random()
            outcome = self._rng.choice(chaos[1]) if chaos else None
        if chaos and chaos[2] in path and roll < chaos[0]:
            if outcome == 0:
                return None
            if outcome == -2:  # act on the call, then drop the answer
                self._answer(method, path, query, body, headers)
                return None
            if 500 <= outcome < 600:
                return outcome, "text/html", b"<html>error</html>"
            return answer_error(outcome)
        return self._answer(method, path, query, body, headers)

    def _answer(self, method, path, query, body, headers):
        failure = None
        for rule in self._take_rules(path):
            if rule.kind == "delay":
                time.sleep(rule.value)
            elif failure is None:
                failure = rule
        if failure is not None and failure.kind == "drop":
            return None
        if failure is not None and failure.kind == "http":
            return int(failure.value), "text/html", b"<html>error</html>"
        if failure is not None:
            return answer_error(int(failure.value))

        route = (method, path)
        if route == ("POST", "/cgi-bin/stable_token"):
            return self._stable_token(body)
        if route == ("GET", "/cgi-bin/token"):
            return self._classic_token(query)
        auth_error = self._check_token(query.get("access_token"))
        if auth_error:
            return answer_error(auth_error)
        dedup = (headers or {}).get("x-gridbot-dedup", "")
        if route == ("POST", "/cgi-bin/message/custom/send"):
            answer = self._custom_send(body, dedup)
        elif route == ("POST", "/cgi-bin/message/template/send"):
            answer = self._template_send(body, dedup)
        else:
            answer = None
        if answer is not None:
            return answer
        if route == ("GET", "/cgi-bin/media/get"):
            return self._media_get(query.get("media_id", ""))
        if route == ("POST", "/cgi-bin/media/upload"):
            return self._media_upload(
                query.get("type", ""), body, (headers or {}).get("content-type", "")
            )
        return 404, "application/json", b'{"errcode":-1,"errmsg":"no such api"}'

    def _token_request_error(self, params: dict[str, Any] | None) -> int:
        """The errcode for a token request's grant type and credentials, 0 when fine."""
        if params is None or params.get("grant_type") != "client_credential":
            return 47001
        appid, secret = params.get("appid"), params.get("secret")
        if self.app_id is not None and appid != self.app_id:
            return 40013
        if self.app_secret is not None and secret != self.app_secret:
            return 40125
        return 0 if appid and secret else 40013

    def _stable_token(self, body: bytes):
        payload = load_json(body)
        error = self._token_request_error(payload)
        if payload is None or error:
            return answer_error(error)
        with self._lock:
            self.token_requests += 1
            current = self._tokens.get(self._stable or "")
            stale = (
                current is None
                or current.expired_code
                or time.time() >= current.expires_at - 300  # WeChat renews 5 min early
            )
            if payload.get("force_refresh") or stale:
                if current is not None and payload.get("force_refresh"):
                    current.expired_code = 40001  # force mode revokes the previous token
                current = self._issue()
                self._stable = current.value
            expires_in = max(0, int(current.expires_at - time.time()))
            return answer_json({"access_token": current.value, "expires_in": expires_in})

    def _classic_token(self, query: dict[str, str]):
        error = self._token_request_error(query)
        if error:
            return answer_error(error)
        with self._lock:
            self.token_requests += 1
            token = self._issue()
        return answer_json({"access_token": token.value, "expires_in": TOKEN_LIFETIME})

    def _check_token(self, value: str | None) -> int:
        if not value:
            return 41001
        with self._lock:
            token = self._tokens.get(value)
            if token is None:
                return 40001
            if token.expired_code:
                return token.expired_code
            if time.time() >= token.expires_at:
                return 42001
        return 0

    def _custom_send(self, body: bytes, dedup: str = ""):
        payload = load_json(body)
        if payload is None or not payload.get("touser") or not payload.get("msgtype"):
            return answer_error(47001)
        record: dict[str, Any] = {"touser": payload["touser"], "msgtype": payload["msgtype"]}
        if payload["msgtype"] == "text":
            content = (payload.get("text") or {}).get("content")
            if not isinstance(content, str):
                return answer_error(47001)
            record["content"] = content
        if payload["msgtype"] == "image":
            media_id = (payload.get("image") or {}).get("media_id")
            with self._lock:
                if media_id not in self._media:
                    return answer_error(40007)
            record["media_id"] = media_id
        record["payload"] = payload
        record["dedup"] = dedup
        with self._lock:
            if dedup:
                self._dedup.add(dedup)
            self.sent.append(record)
        return answer_json({"errcode": 0, "errmsg": "ok"})

    def _template_send(self, body: bytes, dedup: str = ""):
        payload = load_json(body)
        if payload is None or not payload.get("touser") or not payload.get("template_id"):
            return answer_error(47001)
        record = {
            "touser": payload["touser"],
            "msgtype": "template",
            "template_id": payload["template_id"],
            "data": payload.get("data") or {},
            "url": payload.get("url", ""),
            "payload": payload,
            "dedup": dedup,
        }
        with self._lock:
            if dedup:
                self._dedup.add(dedup)
            self.sent.append(record)
            msgid = len(self.sent)
        return answer_json({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    def _media_upload(self, kind: str, body: bytes, content_type: str):
        """Multipart upload of one file in the field "media", like media/upload."""
        if kind not in ("image", "voice", "video", "thumb"):
            return answer_error(40004)
        message = BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        parts = [p for p in message.iter_parts()] if message.is_multipart() else []
        media = next(
            (p for p in parts if p.get_param("name", header="content-disposition") == "media"), None
        )
        data = media.get_payload(decode=True) if media is not None else None
        if not data:
            return answer_error(41005)
        with self._lock:
            media_id = f"upload-{len(self._media) + 1}"
            self._media[media_id] = (data, media.get_content_type())
            self.uploads.append((kind, media_id, data))
        return answer_json({"type": kind, "media_id": media_id, "created_at": int(time.time())})

    def images_to(self, openid: str) -> list[bytes]:
        """The bytes of every image message sent to `openid`, in order."""
        with self._lock:
            return [
                self._media[m["media_id"]][0]
                for m in self.sent
                if m["touser"] == openid and m["msgtype"] == "image"
            ]

    def _media_get(self, media_id: str):
        with self._lock:
            media = self._media.get(media_id)
        if media is None:
            return answer_error(40007)
        return 200, media[1], media[0]


def start_fake_wechat(*, app_id: str | None = None, app_secret: str | None = None) -> FakeWeChat:
    """A running fake; with app_id/app_secret set, token calls check them."""
    server = FakeWeChat(app_id=app_id, app_secret=app_secret)
    server._thread.start()
    return server
