"""Who calls the API: the api_key (query string or form body), its scope, its rate."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from fastapi import Request

from app.db import unit_of_work
from app.services.directory import api_keys
from app.web.open311.formats import Open311Error


@dataclass(frozen=True)
class Caller:
    client_id: int
    name: str
    scope: str
    rider_id: int


class RateLimit:
    """At most `per_minute` calls per key in any sliding minute, in this process."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._calls: dict[int, list[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client_id: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            calls = [t for t in self._calls.get(client_id, ()) if t > now - 60.0]
            if len(calls) >= self.per_minute:
                self._calls[client_id] = calls
                return False
            calls.append(now)
            self._calls[client_id] = calls
            return True


def caller(request: Request, key: str | None, fmt: str, *, write: bool) -> Caller:
    """The client holding `key`, refused (403) without a valid key or the scope, 429 over
    its rate."""
    if not key:
        raise Open311Error(403, "缺少 api_key。", fmt)
    with unit_of_work(request.app.state.sessions) as session:
        client = api_keys.authenticate(session, key)
        if client is None:
            raise Open311Error(403, "api_key 无效或已停用。", fmt)
        found = Caller(client.id, client.name, client.scope, client.rider_id)
    if write and found.scope != "write":
        raise Open311Error(403, "此 api_key 只能读取，不能提交。", fmt)
    if not request.app.state.open311_rate.allow(found.client_id):
        raise Open311Error(429, "请求过于频繁，请稍后再试。", fmt)
    return found
