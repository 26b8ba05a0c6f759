"""A customer's webhook receiver on 127.0.0.1, written from the documented scheme (not
from gridbot's code): X-Gridbot-Signature = hex HMAC-SHA256(secret, timestamp + "." + body)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Answers `status` (200 by default) after `delay` seconds; keeps what it accepted."""

    def __init__(self) -> None:
        self.secret = ""
        self.status = 200
        self.delay = 0.0
        self.accepted: list[dict] = []
        self.refused: list[str] = []
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts += 1
                if receiver.delay:
                    time.sleep(receiver.delay)
                problem = receiver.check(self.headers, body)
                status = 401 if problem else receiver.status
                if problem:
                    receiver.refused.append(problem)
                elif status == 200:
                    receiver.accepted.append(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/gridbot-hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def check(self, headers, body: bytes) -> str:
        """What a customer checks: a fresh timestamp and the signature over it and the body."""
        timestamp = headers.get("X-Gridbot-Timestamp", "")
        given = headers.get("X-Gridbot-Signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return "stale or missing timestamp"
        expected = hmac.new(
            self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, given):
            return "bad signature"
        return ""

    @property
    def events(self) -> list[tuple[str, int | None]]:
        return [(e["event"], e.get("ticket")) for e in self.accepted]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
