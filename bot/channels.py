"""Delivery channels: the sandbox (stores what would be sent) and WeChat itself.

A channel delivers one notice or raises; an exception with an `errcode` attribute
(bot.api.WeChatAPIError, bot.wecom_api's errors) tells the sender which of WeChat's or
WeCom's failures it was: the sets below name them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from models import SandboxMessage, utcnow

RATE_LIMITED = frozenset({45009, 45011, 45033})
"""45033 is WeCom's "too many concurrent calls"; 45009 is both platforms' frequency limit."""
UNDELIVERABLE = frozenset({60111, 81013})
"""WeCom: no such userid / the user left or is outside the app's visible range. Retrying
cannot help: the notice is dead at once, for an operator to see."""
WINDOW_CLOSED = frozenset({45015, 45047})
"""The customer-service window is closed (45015) or its quota used up (45047)."""
TEMPLATE_FIELD_CHARS = 20


class Channel(Protocol):
    name: str

    def send_text(self, openid: str, text: str, *, outbox_id: int) -> None:
        """Deliver or raise; any exception counts as a failed attempt."""

    def send_image(self, openid: str, png: bytes, *, outbox_id: int) -> None:
        """Deliver an image (PNG bytes) or raise."""

    def send_template(
        self, openid: str, template_id: str, fields: Mapping[str, str], *, outbox_id: int
    ) -> None:
        """Deliver a template message or raise."""


def errcode_of(exc: BaseException) -> int:
    """The platform's errcode a channel's exception carries; -1 for any other failure."""
    code = getattr(exc, "errcode", None)
    return code if isinstance(code, int) else -1


def short_field(text: str, limit: int = TEMPLATE_FIELD_CHARS) -> str:
    """One line of at most `limit` characters, as template fields must be since 2023."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def template_fields(text: str, ticket_id: int | None) -> dict[str, str]:
    """The fallback template's fields: thing1 headline, character_string2 ticket, thing3 rest."""
    head, _, rest = text.strip().partition("\n")
    return {
        "thing1": short_field(head),
        "character_string2": f"#{ticket_id}" if ticket_id else "-",
        "thing3": short_field(rest or "详情请在公众号内回复任意消息查看"),
    }


_INSERT_ONCE = {
    "postgresql": postgresql.insert(SandboxMessage.__table__).on_conflict_do_nothing(
        index_elements=["outbox_id"]
    ),
    "sqlite": sqlite.insert(SandboxMessage.__table__).on_conflict_do_nothing(
        index_elements=["outbox_id"]
    ),
}
"""A sandbox row per outbox id, once, in one statement (the sandbox stands in for WeChat)."""


class SandboxChannel:
    name = "sandbox"

    def __init__(self, sessions: sessionmaker[Session], media_dir: Path | None = None) -> None:
        self.sessions = sessions
        self.media_dir = media_dir

    def send_image(self, openid: str, png: bytes, *, outbox_id: int) -> None:
        """Stores the image as a file (when there is a media_dir) and its path as the text."""
        if self.media_dir is None:
            self.send_text(openid, f"[图片] {len(png)} 字节", outbox_id=outbox_id)
            return
        self.media_dir.mkdir(parents=True, exist_ok=True)
        path = self.media_dir / f"outbox-{outbox_id}.png"
        path.write_bytes(png)
        self.send_text(openid, f"[图片] {path}", outbox_id=outbox_id)

    def send_text(self, openid: str, text: str, *, outbox_id: int) -> None:
        # Idempotent by outbox id: a resend after a crash stores nothing new.
        with self.sessions() as session, session.begin():
            insert = _INSERT_ONCE[session.get_bind().dialect.name]
            session.execute(
                insert,
                {"to_openid": openid, "text": text, "outbox_id": outbox_id, "created_at": utcnow()},
            )

    def send_template(
        self, openid: str, template_id: str, fields: Mapping[str, str], *, outbox_id: int
    ) -> None:
        text = " | ".join(f"{k}: {v}" for k, v in fields.items())
        self.send_text(openid, f"[模板 {template_id}] {text}", outbox_id=outbox_id)

    def messages_to(self, *openids: str, after_id: int = 0) -> list[SandboxMessage]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(SandboxMessage)
                    .where(SandboxMessage.to_openid.in_(openids), SandboxMessage.id > after_id)
                    .order_by(SandboxMessage.id)
                )
            )


class WeChatChannel:
    """Customer-service text and image messages through the official API; template
    messages as the fallback when the customer-service window is closed."""

    name = "wechat"

    def __init__(self, api) -> None:
        self.api = api

    def send_text(self, openid: str, text: str, *, outbox_id: int) -> None:
        self.api.send_text(openid, text, dedup_key=f"outbox-{outbox_id}")

    def send_image(self, openid: str, png: bytes, *, outbox_id: int) -> None:
        """Upload as temporary media, then send it as a customer-service image message."""
        media_id = self.api.upload_image(png, f"outbox-{outbox_id}.png")
        self.api.send_image(openid, media_id, dedup_key=f"outbox-{outbox_id}")

    def send_template(
        self, openid: str, template_id: str, fields: Mapping[str, str], *, outbox_id: int
    ) -> None:
        self.api.send_template(openid, template_id, fields, dedup_key=f"outbox-{outbox_id}")
