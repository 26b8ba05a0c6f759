"""Photos of Open311 requests: fetched from the request's media_url, with the checks a
PicUrl gets (allowed hosts only, also after redirects; never loopback or private
addresses; a size cap), from hosts of their own (GRIDBOT_OPEN311_MEDIA_HOSTS)."""

from __future__ import annotations

import httpx

from app.media.fetch_guard import MediaHosts, guarded_client
from app.media.sources import MediaSource, MediaUnavailable, download

OPEN311_MEDIA_ID = "open311-media-url"
"""The media_id the API gives such a photo (app/services/open311/open311_requests.py)."""


class Open311MediaSource:
    """media_url photos by their URL; every other photo from `inner` (WeChat, sandbox)."""

    def __init__(
        self,
        inner: MediaSource,
        hosts: MediaHosts,
        *,
        max_bytes: int,
        http: httpx.Client | None = None,
    ) -> None:
        self.inner = inner
        self.hosts = hosts
        self.max_bytes = max_bytes
        self.http = http or guarded_client(hosts)

    def fetch(self, media_id: str, pic_url: str) -> bytes:
        if media_id != OPEN311_MEDIA_ID:
            return self.inner.fetch(media_id, pic_url)
        if not pic_url:
            raise MediaUnavailable("media_url missing", retryable=False)
        return download(self.http, pic_url, self.max_bytes, self.hosts)

    def close(self) -> None:
        self.http.close()
        self.inner.close()
