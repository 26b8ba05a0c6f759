"""The plain message every handler sees: WeChat's XML stops at the bot package."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message or event a user sent to the official account.

    `kind` is WeChat's MsgType ("text", "image", "voice", "location", "event", ...).
    Coordinates are exactly as WeChat sent them (the configured CRS, usually
    GCJ-02); converting them is the application's job.
    """

    kind: str
    openid: str
    account: str
    created_at: datetime
    msg_id: str | None = None
    text: str = ""
    media_id: str | None = None
    pic_url: str | None = None
    lat: float | None = None
    lng: float | None = None
    label: str = ""
    event: str | None = None
    event_key: str = ""
    response_code: str = ""
    """WeCom's ResponseCode of a pressed template card: what updating that card quotes."""
    raw: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def qr_scene(self) -> str | None:
        """The scene of the QR code a subscribe or SCAN event came through, else None.

        WeChat prefixes it with "qrscene_" when the scan made the user subscribe.
        """
        if self.kind != "event" or self.event not in ("subscribe", "scan") or not self.event_key:
            return None
        return self.event_key.removeprefix("qrscene_")

    @property
    def dedup_key(self) -> str:
        """Unique per real message: MsgId, else sender + time + event."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return f"evt:{self.openid}:{int(self.created_at.timestamp())}:{self.event or self.kind}"
