"""Where photo bytes come from: WeChat (its media API, then PicUrl) or the sandbox uploads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

import httpx

from app.media.fetch_guard import ForbiddenAddress, MediaHosts, guarded_client
from bot.api import WeChatAPI, WeChatAPIError

MAX_REDIRECTS = 3
SANDBOX_UPLOADS = "sandbox-uploads"
"""Under the media directory: what the terminal client uploaded (sandbox only)."""
SANDBOX_MEDIA_ID = re.compile(r"^sandbox-[0-9a-f]{24}$")


class MediaUnavailable(Exception):
    """The bytes could not be had now; `retryable` says whether trying later may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class MediaSource(Protocol):
    def fetch(self, media_id: str, pic_url: str) -> bytes:
        """The photo's bytes (at most max_bytes + 1 of them), or MediaUnavailable."""

    def close(self) -> None: ...


def download(http: httpx.Client, url: str, max_bytes: int, hosts: MediaHosts) -> bytes:
    """GET `url`, reading at most max_bytes + 1 bytes (enough to tell it is too big).

    Only from `hosts`, also after a redirect (each hop is checked; at most MAX_REDIRECTS).
    The client should be `guarded_client(hosts)`, which also refuses to connect to a
    loopback or private address whatever the name resolves to.
    """
    for _hop in range(MAX_REDIRECTS + 1):
        target = _checked_url(url, hosts)
        try:
            with http.stream("GET", target, follow_redirects=False) as response:
                if response.is_redirect and response.next_request is not None:
                    url = str(response.next_request.url)
                    continue
                if response.status_code != 200:
                    raise MediaUnavailable(
                        f"PicUrl HTTP {response.status_code}",
                        retryable=response.status_code >= 500 or response.status_code == 429,
                    )
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > max_bytes:
                        break
                return bytes(data[: max_bytes + 1])
        except httpx.HTTPError as exc:
            if isinstance(exc.__cause__, ForbiddenAddress):
                raise MediaUnavailable(f"PicUrl {exc.__cause__}", retryable=False) from exc
            raise MediaUnavailable(f"PicUrl {type(exc).__name__}: {exc}"[:200]) from exc
    raise MediaUnavailable(f"PicUrl more than {MAX_REDIRECTS} redirects", retryable=False)


def _checked_url(url: str, hosts: MediaHosts) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise MediaUnavailable(f"not a URL: {url[:60]}", retryable=False) from None
    if parsed.scheme not in ("http", "https"):
        raise MediaUnavailable(f"not an http(s) URL: {url[:60]}", retryable=False)
    if not hosts.allows(parsed.host):
        raise MediaUnavailable(f"PicUrl host not allowed: {parsed.host[:60]}", retryable=False)
    return parsed


class WeChatMediaSource:
    """WeChat's media API with the MediaId (bot.api.WeChatAPI.get_media); PicUrl as fallback."""

    def __init__(
        self,
        api: WeChatAPI,
        *,
        max_bytes: int,
        hosts: MediaHosts | None = None,
        http: httpx.Client | None = None,
    ):
        self.api = api
        self.max_bytes = max_bytes
        self.hosts = hosts or MediaHosts()
        self.http = http or guarded_client(self.hosts)

    def fetch(self, media_id: str, pic_url: str) -> bytes:
        try:
            data, _content_type = self.api.get_media(media_id)
            return data[: self.max_bytes + 1]
        except WeChatAPIError as exc:
            first = exc
        if not pic_url:
            raise MediaUnavailable(str(first), retryable=not first.media_gone)
        try:
            return download(self.http, pic_url, self.max_bytes, self.hosts)
        except MediaUnavailable as exc:
            retryable = exc.retryable or not first.media_gone
            raise MediaUnavailable(f"{first}; {exc}"[:250], retryable=retryable) from exc

    def close(self) -> None:
        self.http.close()


class SandboxMediaSource:
    """Photos the terminal client uploaded to POST /sandbox/media, named by their hash."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def fetch(self, media_id: str, pic_url: str) -> bytes:
        if not SANDBOX_MEDIA_ID.match(media_id):
            raise MediaUnavailable(f"not a sandbox media id: {media_id[:40]}", retryable=False)
        path = self.root / media_id
        if not path.is_file():
            raise MediaUnavailable(f"no sandbox upload {media_id}")
        return path.read_bytes()

    def close(self) -> None:
        pass
