"""A fake WeChat API server for tests: tokens, customer-service and template sends, media.

    server = start_fake_wechat()
    api = WeChatAPI(app_id="wx", app_secret="s", base_url=server.base_url)
    ...
    server.stop()

It runs a ThreadingHTTPServer on 127.0.0.1 in a daemon thread (starts in milliseconds).
Like the real API, errors are JSON {"errcode", "errmsg"} with HTTP 200, and \\uXXXX
escapes in a JSON body are NOT decoded (they arrive as literal text), so a client that
ASCII-escapes Chinese is caught.
"""

from __future__ import annotations

import email.policy
import json
import random
import re
import socket
import threading
import time
from dataclasses import dataclass
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN_LIFETIME = 7200
ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40007: "invalid media_id",
    40004: "invalid media type",
    40013: "invalid appid",
    40014: "invalid access_token",
    40125: "invalid appsecret",
    41001: "access_token missing",
    41005: "media data missing",
    42001: "access_token expired",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
}
_ESCAPE = re.compile(r"\\(\\|u)")


@dataclass
class _Rule:
    kind: str  # "errcode" | "http" | "delay" | "drop"
    value: float
    times: int
    path_contains: str


@dataclass
class _Token:
    value: str
    expires_at: float
    expired_code: int = 0  # non-zero once expire_tokens() hit it


class FakeWeChat:
    def __init__(self, *, app_id: str | None = None, app_secret: str | None = None):
        self.app_id = app_id
        self.app_secret = app_secret
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
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
            self._rules: list[_Rule] = []
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

    def fail_next(
        self,
        errcode: int,
        times: int = 1,
        path_contains: str = "message/custom/send",
    ) -> None:
        """The next `times` matching calls answer {"errcode": errcode} with HTTP 200."""
        self._add_rule(_Rule("errcode", errcode, times, path_contains))

    def fail_http(
        self, status: int, times: int = 1, path_contains: str = "message/custom/send"
    ) -> None:
        self._add_rule(_Rule("http", status, times, path_contains))

    def chaos(
        self,
        share: float,
        outcomes: tuple[int, ...] = (-1, 45009, 500, 0),
        path_contains: str = "message/",
    ) -> None:
        """Fail `share` of matching calls at random with one of `outcomes`: an errcode,
        an HTTP status (500-599), 0 = drop the connection without acting, or -2 = act on
        the call, then drop the connection (the answer is lost)."""
        with self._lock:
            self._chaos = (share, tuple(outcomes), path_contains) if share > 0 else None

    def drop_next(self, times: int = 1, path_contains: str = "message/custom/send") -> None:
        """The next `times` matching calls close the connection without an answer."""
        self._add_rule(_Rule("drop", 0, times, path_contains))

    def delay(self, seconds: float, times: int = 1, path_contains: str = "") -> None:
        """The next `times` matching calls sleep `seconds` before answering."""
        self._add_rule(_Rule("delay", seconds, times, path_contains))

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

    def _add_rule(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def _take_rules(self, path: str) -> list[_Rule]:
        taken: list[_Rule] = []
        with self._lock:
            seen_kinds: set[str] = set()
            for rule in self._rules:
                if rule.kind in seen_kinds or rule.path_contains not in path or rule.times <= 0:
                    continue
                seen_kinds.add(rule.kind)
                rule.times -= 1
                taken.append(rule)
            self._rules = [r for r in self._rules if r.times > 0]
        return taken

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
                return _ok({"errcode": 0, "errmsg": "ok"})
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
            return _error(outcome)
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
            return _error(int(failure.value))

        route = (method, path)
        if route == ("POST", "/cgi-bin/stable_token"):
            return self._stable_token(body)
        if route == ("GET", "/cgi-bin/token"):
            return self._classic_token(query)
        auth_error = self._check_token(query.get("access_token"))
        if auth_error:
            return _error(auth_error)
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

    def _credentials_error(self, appid: Any, secret: Any) -> int:
        if self.app_id is not None and appid != self.app_id:
            return 40013
        if self.app_secret is not None and secret != self.app_secret:
            return 40125
        return 0 if appid and secret else 40013

    def _stable_token(self, body: bytes):
        payload = _load(body)
        if payload is None or payload.get("grant_type") != "client_credential":
            return _error(47001)
        error = self._credentials_error(payload.get("appid"), payload.get("secret"))
        if error:
            return _error(error)
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
            return _ok({"access_token": current.value, "expires_in": expires_in})

    def _classic_token(self, query: dict[str, str]):
        if query.get("grant_type") != "client_credential":
            return _error(47001)
        error = self._credentials_error(query.get("appid"), query.get("secret"))
        if error:
            return _error(error)
        with self._lock:
            self.token_requests += 1
            token = self._issue()
        return _ok({"access_token": token.value, "expires_in": TOKEN_LIFETIME})

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
        payload = _load(body)
        if payload is None or not payload.get("touser") or not payload.get("msgtype"):
            return _error(47001)
        record: dict[str, Any] = {"touser": payload["touser"], "msgtype": payload["msgtype"]}
        if payload["msgtype"] == "text":
            content = (payload.get("text") or {}).get("content")
            if not isinstance(content, str):
                return _error(47001)
            record["content"] = content
        if payload["msgtype"] == "image":
            media_id = (payload.get("image") or {}).get("media_id")
            with self._lock:
                if media_id not in self._media:
                    return _error(40007)
            record["media_id"] = media_id
        record["payload"] = payload
        record["dedup"] = dedup
        with self._lock:
            if dedup:
                self._dedup.add(dedup)
            self.sent.append(record)
        return _ok({"errcode": 0, "errmsg": "ok"})

    def _template_send(self, body: bytes, dedup: str = ""):
        payload = _load(body)
        if payload is None or not payload.get("touser") or not payload.get("template_id"):
            return _error(47001)
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
        return _ok({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    def _media_upload(self, kind: str, body: bytes, content_type: str):
        """Multipart upload of one file in the field "media", like media/upload."""
        if kind not in ("image", "voice", "video", "thumb"):
            return _error(40004)
        message = BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        parts = [p for p in message.iter_parts()] if message.is_multipart() else []
        media = next(
            (p for p in parts if p.get_param("name", header="content-disposition") == "media"), None
        )
        data = media.get_payload(decode=True) if media is not None else None
        if not data:
            return _error(41005)
        with self._lock:
            media_id = f"upload-{len(self._media) + 1}"
            self._media[media_id] = (data, media.get_content_type())
            self.uploads.append((kind, media_id, data))
        return _ok({"type": kind, "media_id": media_id, "created_at": int(time.time())})

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
            return _error(40007)
        return 200, media[1], media[0]


def start_fake_wechat(*, app_id: str | None = None, app_secret: str | None = None) -> FakeWeChat:
    """A running fake; with app_id/app_secret set, token calls check them."""
    server = FakeWeChat(app_id=app_id, app_secret=app_secret)
    server._thread.start()
    return server


def _load(body: bytes) -> dict[str, Any] | None:
    try:
        text = body.decode("utf-8")
        # Keep \uXXXX escapes literal, as WeChat does.
        text = _ESCAPE.sub(lambda m: m.group(0) if m.group(1) == "\\" else "\\\\u", text)
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _ok(data: dict[str, Any]):
    return 200, "application/json; charset=utf-8", json.dumps(data).encode()


def _error(errcode: int):
    return _ok({"errcode": errcode, "errmsg": ERRMSG.get(errcode, "error")})


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is expected in tests, not an error.
        pass


def _handler_for(server: FakeWeChat) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; without this, Nagle plus delayed
            # ACKs add ~40 ms to every keep-alive request.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = server.handle(method, url.path, query, body, headers)
            if answer is None:  # drop: close the socket without a word
                self.close_connection = True
                self.connection.shutdown(2)
                return
            status, content_type, data = answer
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
