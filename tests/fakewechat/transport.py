"""The fake WeChat's HTTP side: a quiet threaded server, its request handler, and the
JSON answers WeChat gives (errors are {"errcode", "errmsg"} with HTTP 200; \\uXXXX
escapes in a request body stay literal text, as WeChat reads them).
"""

from __future__ import annotations

import json
import re
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from tests.fakewechat.server import FakeWeChat

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


def load_json(body: bytes) -> dict[str, Any] | None:
    try:
        text = body.decode("utf-8")
        # Keep \uXXXX escapes literal, as WeChat does.
        text = _ESCAPE.sub(lambda m: m.group(0) if m.group(1) == "\\" else "\\\\u", text)
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def answer_json(data: dict[str, Any]):
    return 200, "application/json; charset=utf-8", json.dumps(data).encode()


def answer_error(errcode: int):
    return answer_json({"errcode": errcode, "errmsg": ERRMSG.get(errcode, "error")})


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is expected in tests, not an error.
        pass


def handler_for(server: FakeWeChat) -> type[BaseHTTPRequestHandler]:
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
