"""Outbound WeChat API client: access token, customer-service messages, media up and down.

Blocking httpx with explicit timeouts; meant for the outbox worker, never for the
5-second webhook path.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from bot.metrics import METRICS

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
INVALID_MEDIA_ID = 40007
"""media/get's answer for an unknown or expired MediaId (temporary media live 3 days)."""
REFRESH_EARLY_SECONDS = 300
# stable_token's force mode is limited to 20 calls a day, at least 30 s apart.
FORCE_REFRESH_INTERVAL = 30.0
_TOKEN_IN_TEXT = re.compile(r"access_token=[^&\s'\"]+")


class WeChatAPIError(Exception):
    """WeChat answered with a non-zero errcode (or, for errcode -1, could not be reached)."""

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg

    @property
    def media_gone(self) -> bool:
        """The media id is unknown or expired: asking again will not help."""
        return self.errcode == INVALID_MEDIA_ID


class WeChatTransportError(WeChatAPIError):
    """Network failure, timeout, HTTP error status or an unreadable answer (errcode -1)."""

    def __init__(self, errmsg: str):
        super().__init__(-1, _TOKEN_IN_TEXT.sub("access_token=***", errmsg))


class WeChatAPI:
    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ):
        self.app_id = app_id
        self._secret = app_secret
        self._clock = clock
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/", timeout=timeout, transport=transport
        )
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._last_forced = float("-inf")
        self.token_fetches = 0

    # -- access token ----------------------------------------------------------------------

    def access_token(self) -> str:
        """A valid access token, fetched with stable_token and cached until 5 min before expiry."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - REFRESH_EARLY_SECONDS:
                self._fetch_token(force_refresh=False)
            assert self._token is not None
            return self._token

    def refresh_token(self, rejected: str) -> str:
        """A token other than `rejected`, which WeChat just refused.

        If another thread already replaced it, that token is returned without a fetch. A
        normal stable_token call comes first (it returns a new token once the old one has
        expired); force mode, which revokes the token and is limited to 20 calls a day, is
        used only when WeChat hands back the rejected token again.
        """
        with self._lock:
            if self._token is not None and self._token != rejected:
                return self._token
            self._fetch_token(force_refresh=False)
            if self._token == rejected:
                now = self._clock()
                if now - self._last_forced < FORCE_REFRESH_INTERVAL:
                    raise WeChatAPIError(40001, "access token rejected; force refresh too soon")
                self._last_forced = now
                self._fetch_token(force_refresh=True)
            assert self._token is not None
            return self._token

    def _fetch_token(self, *, force_refresh: bool) -> None:
        payload = {
            "grant_type": "client_credential",
            "appid": self.app_id,
            "secret": self._secret,
            "force_refresh": force_refresh,
        }
        self.token_fetches += 1
        METRICS.inc("gridbot_token_refreshes_total", force=str(force_refresh).lower())
        data = _check(self._request("POST", "cgi-bin/stable_token", content=_json(payload)))
        token, expires_in = data.get("access_token"), data.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise WeChatTransportError("stable_token answer without access_token/expires_in")
        self._token = token
        self._expires_at = self._clock() + expires_in

    # -- calls -----------------------------------------------------------------------------

    def send_text(self, openid: str, text: str, *, dedup_key: str = "") -> None:
        """Customer-service text message; 45015 means the 48-hour window is closed.

        `dedup_key` travels as the X-Gridbot-Dedup header. WeChat ignores it (its API has
        no idempotency key); the test fake uses it to count resends of one notice.
        """
        self.post_json(
            "cgi-bin/message/custom/send",
            {"touser": openid, "msgtype": "text", "text": {"content": text}},
            dedup_key=dedup_key,
        )

    def send_template(
        self,
        openid: str,
        template_id: str,
        data: Mapping[str, str],
        *,
        url: str = "",
        dedup_key: str = "",
    ) -> dict[str, Any]:
        """Template message (verified service accounts); `data` maps field name to value."""
        payload: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {name: {"value": value} for name, value in data.items()},
        }
        if url:
            payload["url"] = url
        return self.post_json("cgi-bin/message/template/send", payload, dedup_key=dedup_key)

    def upload_image(self, data: bytes, filename: str = "image.png") -> str:
        """Upload temporary image media (kept by WeChat for 3 days); its media_id."""
        answer = self._authenticated(lambda token: self._upload(token, "image", data, filename))
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise WeChatTransportError("media/upload answer without media_id")
        return media_id

    def send_image(self, openid: str, media_id: str, *, dedup_key: str = "") -> None:
        """Customer-service image message of uploaded media (`dedup_key` as for send_text)."""
        self.post_json(
            "cgi-bin/message/custom/send",
            {"touser": openid, "msgtype": "image", "image": {"media_id": media_id}},
            dedup_key=dedup_key,
        )

    def post_json(
        self, path: str, payload: Mapping[str, Any], *, dedup_key: str = ""
    ) -> dict[str, Any]:
        """POST `payload` as UTF-8 JSON to an authenticated endpoint; the decoded answer."""
        body = _json(payload)
        headers = {"X-Gridbot-Dedup": dedup_key} if dedup_key else {}
        return self._authenticated(lambda token: self._post(path, token, body, headers))

    def get_media(self, media_id: str) -> tuple[bytes, str]:
        """A temporary media file's bytes and content type; 40007 for unknown/expired ids.

        Video media comes back as JSON with a `video_url` (no errcode); it is returned as
        is with content type application/json.
        """
        return self._authenticated(lambda token: self._get_media(token, media_id))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WeChatAPI:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _authenticated(self, call: Callable[[str], Any]) -> Any:
        token = self.access_token()
        try:
            return call(token)
        except WeChatAPIError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
        return call(self.refresh_token(token))

    def _post(
        self, path: str, token: str, body: bytes, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        response = self._request(
            "POST", path, params={"access_token": token}, content=body, extra_headers=headers
        )
        return _check(response)

    def _upload(self, token: str, kind: str, data: bytes, filename: str) -> dict[str, Any]:
        response = self._request(
            "POST",
            "cgi-bin/media/upload",
            params={"access_token": token, "type": kind},
            files={"media": (filename, data, "image/png")},
        )
        return _check(response)

    def _get_media(self, token: str, media_id: str) -> tuple[bytes, str]:
        response = self._request(
            "GET", "cgi-bin/media/get", params={"access_token": token, "media_id": media_id}
        )
        content_type = response.headers.get("content-type", "application/octet-stream")
        if "json" in content_type or "text/plain" in content_type:
            try:
                data = response.json()
            except ValueError:
                data = None
            if isinstance(data, dict) and data.get("errcode"):
                _check(response)
        if response.status_code >= 400:
            raise WeChatTransportError(f"HTTP {response.status_code}")
        return response.content, content_type.split(";")[0].strip()

    def _request(
        self,
        method: str,
        path: str,
        extra_headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json; charset=utf-8"} if "content" in kwargs else {}
        headers.update(extra_headers or {})
        try:
            return self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise WeChatTransportError(f"{type(exc).__name__}: {exc}") from exc


def _json(payload: Mapping[str, Any]) -> bytes:
    # WeChat does not decode \uXXXX escapes: Chinese must travel as raw UTF-8.
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _check(response: httpx.Response) -> dict[str, Any]:
    """The decoded JSON answer; WeChatAPIError on a non-zero errcode or a bad answer."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("errcode"):
        raise WeChatAPIError(int(data["errcode"]), str(data.get("errmsg", "")))
    if response.status_code >= 400:
        raise WeChatTransportError(f"HTTP {response.status_code}")
    if not isinstance(data, dict):
        raise WeChatTransportError("answer is not a JSON object")
    return data
