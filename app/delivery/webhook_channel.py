"""Deliveries to "webhook:<id>" addresses are POSTed to the hook's URL, signed; every
other notice goes through the channel underneath (the official account, WeCom, the
sandbox).

One channel to the outbox sender, as with WeCom (bot/wecom_channel.py): a delivery is
leased, retried with backoff and dead-lettered exactly as a notice is, by the same
sender. A failed delivery raises with the HTTP status as its errcode (-1 when no answer
came: refused, timed out), which `gridbot webhooks list` shows.

The connection goes only to an address the guard allows (app/media/fetch_guard.py):
public ones unless GRIDBOT_WEBHOOK_ALLOW_PRIVATE, checked on the address actually
connected to, so a name that resolves inside later cannot make gridbot call in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import httpx
from sqlalchemy.orm import Session, sessionmaker

from app.domain.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from app.media.fetch_guard import MediaHosts, guarded_client
from models import WEBHOOK_PREFIX, Webhook

DELIVERY_HEADER = "X-Gridbot-Delivery"
SILENT_PAUSE = 30.0
"""Seconds after a receiver timed out or refused the connection during which deliveries
to it fail at once (each a failed attempt, retried with backoff) instead of waiting."""


class WebhookFailed(Exception):
    def __init__(self, message: str, errcode: int) -> None:
        super().__init__(message)
        self.errcode = errcode


class WebhookRouting:
    def __init__(
        self,
        inner,
        sessions: sessionmaker[Session],
        *,
        allow_private: bool = False,
        timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.inner = inner
        self.sessions = sessions
        self.name = getattr(inner, "name", "default")
        self.clock = clock
        timeout = httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 3.0))
        self._hosts = MediaHosts.anywhere(allow_private=allow_private)
        self._timeout = timeout
        self._http: httpx.Client | None = None
        self._silent: dict[str, float] = {}
        """URL -> when (monotonic) it last failed to answer."""

    def __getattr__(self, name: str):
        # The sandbox's readers (messages_to) and WeCom's API reach the channel underneath.
        return getattr(self.inner, name)

    def send_text(self, openid: str, text: str, *, outbox_id: int) -> None:
        if not openid.startswith(WEBHOOK_PREFIX):
            self.inner.send_text(openid, text, outbox_id=outbox_id)
            return
        url, secret = self._hook(openid)
        body = text.encode()
        timestamp = int(self.clock())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "gridbot-webhooks",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(secret, timestamp, body),
            DELIVERY_HEADER: str(outbox_id),
        }
        quiet_since = self._silent.get(url)
        if quiet_since is not None and time.monotonic() - quiet_since < SILENT_PAUSE:
            # One sender drains notices and deliveries alike: a receiver that does not
            # answer costs one timeout per pause, not one per delivery owed to it.
            raise WebhookFailed(f"not tried: {url} did not answer a moment ago", -1)
        try:
            answer = self._client().post(url, content=body, headers=headers)
        except (httpx.TimeoutException, httpx.ConnectError) as exc:
            self._silent[url] = time.monotonic()
            raise WebhookFailed(f"{type(exc).__name__}: {exc}", -1) from exc
        except httpx.HTTPError as exc:
            raise WebhookFailed(f"{type(exc).__name__}: {exc}", -1) from exc
        self._silent.pop(url, None)
        if not 200 <= answer.status_code < 300:
            raise WebhookFailed(f"HTTP {answer.status_code} from {url}", answer.status_code)

    def send_image(self, openid: str, png: bytes, *, outbox_id: int) -> None:
        self.inner.send_image(openid, png, outbox_id=outbox_id)

    def send_template(
        self, openid: str, template_id: str, fields: Mapping[str, str], *, outbox_id: int
    ) -> None:
        # Only WeChat's window errcodes ask for a template: a delivery never raises them.
        self.inner.send_template(openid, template_id, fields, outbox_id=outbox_id)

    def _hook(self, address: str) -> tuple[str, str]:
        hook_id = address.removeprefix(WEBHOOK_PREFIX)
        with self.sessions() as session:
            hook = session.get(Webhook, int(hook_id)) if hook_id.isdigit() else None
            if hook is None or hook.removed_at is not None:
                raise WebhookFailed(f"webhook {hook_id} was removed", 410)
            return hook.url, hook.secret

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = guarded_client(self._hosts, self._timeout)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
