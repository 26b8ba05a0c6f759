"""Outbound WeCom (企业微信) app API: access token, message/send, update_template_card.

Blocking httpx with explicit timeouts, for the outbox worker only. Errors carry WeCom's
errcode as bot.api.WeChatAPIError does, so the outbox sender tells them apart the same
way; an expired or invalid token (40014/42001) is refreshed and the call retried once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from bot.api import DEFAULT_TIMEOUT, WeChatAPIError, WeChatTransportError

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"
TOKEN_ERRORS = frozenset({40014, 42001})
REFRESH_EARLY_SECONDS = 300


class WeComAPI:
    def __init__(
        self,
        *,
        corp_id: str,
        secret: str,
        agent_id: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.corp_id = corp_id
        self._secret = secret
        self.agent_id = int(agent_id)
        self._clock = clock
        self._http = httpx.Client(base_url=base_url.rstrip("/") + "/", timeout=timeout)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def access_token(self, *, rejected: str | None = None) -> str:
        """A cached token; a fresh one when `rejected` is the cached one (WeCom refused it)."""
        with self._lock:
            stale = self._token is None or self._clock() >= self._expires_at - REFRESH_EARLY_SECONDS
            if stale or self._token == rejected:
                data = self._call(
                    "GET", "cgi-bin/gettoken", corpid=self.corp_id, corpsecret=self._secret
                )
                token, expires_in = data.get("access_token"), data.get("expires_in")
                if not isinstance(token, str) or not token or not isinstance(expires_in, int):
                    raise WeChatTransportError("gettoken answer without access_token/expires_in")
                self._token, self._expires_at = token, self._clock() + expires_in
            assert self._token is not None
            return self._token

    def send_text(self, userid: str, text: str) -> dict[str, Any]:
        return self.send(userid, "text", {"content": text})

    def send_image(self, userid: str, png: bytes, filename: str = "image.png") -> dict[str, Any]:
        """Upload `png` as temporary media (kept 3 days), then send it as an image message."""
        token = self.access_token()
        files = {"media": (filename, png, "image/png")}
        try:
            data = self._call(
                "POST", "cgi-bin/media/upload", files=files, access_token=token, type="image"
            )
        except WeChatAPIError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            token = self.access_token(rejected=token)
            data = self._call(
                "POST", "cgi-bin/media/upload", files=files, access_token=token, type="image"
            )
        media_id = data.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise WeChatTransportError("media/upload answer without media_id")
        return self.send(userid, "image", {"media_id": media_id})

    def send_card(self, userid: str, card: Mapping[str, Any]) -> dict[str, Any]:
        return self.send(userid, "template_card", card)

    def send(self, userid: str, msgtype: str, content: Mapping[str, Any]) -> dict[str, Any]:
        """message/send to one user (touser joins several with "|"; one here)."""
        payload = {"touser": userid, "msgtype": msgtype, "agentid": self.agent_id, msgtype: content}
        return self._post("cgi-bin/message/send", payload)

    def update_card(
        self, userids: list[str], response_code: str, button_text: str
    ) -> dict[str, Any]:
        """Turn a pressed button_interaction card's buttons into one grey line of text."""
        payload = {
            "userids": userids,
            "agentid": self.agent_id,
            "response_code": response_code,
            "button": {"replace_name": button_text},
        }
        return self._post("cgi-bin/message/update_template_card", payload)

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        token = self.access_token()
        try:
            return self._call("POST", path, content=body, access_token=token)
        except WeChatAPIError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
        return self._call(
            "POST", path, content=body, access_token=self.access_token(rejected=token)
        )

    def _call(
        self, method: str, path: str, *, content: bytes | None = None, **params: str
    ) -> dict[str, Any]:
        headers = {"Content-Type": "application/json; charset=utf-8"} if content else {}
        try:
            response = self._http.request(
                method, path, params=params, content=content, headers=headers
            )
        except httpx.HTTPError as exc:
            raise WeChatTransportError(f"{type(exc).__name__}") from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("errcode"):
            raise WeChatAPIError(int(data["errcode"]), str(data.get("errmsg", "")))
        if response.status_code >= 400 or not isinstance(data, dict):
            raise WeChatTransportError(f"HTTP {response.status_code}")
        return data
