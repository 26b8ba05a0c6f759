"""Signed, expiring photo links: HMAC-SHA256 over the photo id, the variant and the expiry.

Nothing lists photos; a link is the only way to see one, and it stops working at its
expiry time.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

VARIANTS = ("full", "thumb")


class MediaLinks:
    def __init__(self, secret: str, base_url: str, ttl: timedelta) -> None:
        self._key = secret.encode()
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl

    def signature(self, photo_id: int, variant: str, expires: int) -> str:
        message = f"{photo_id}:{variant}:{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def url(self, photo_id: int, *, now: datetime, variant: str = "full") -> str:
        expires = int((now + self.ttl).timestamp())
        path = f"/media/{photo_id}" + ("/thumb" if variant == "thumb" else "")
        sig = self.signature(photo_id, variant, expires)
        return f"{self.base_url}{path}?exp={expires}&sig={sig}"

    def valid(self, photo_id: int, variant: str, expires: int, sig: str, *, now: datetime) -> bool:
        if variant not in VARIANTS or expires < now.timestamp():
            return False
        return hmac.compare_digest(self.signature(photo_id, variant, expires), sig)
