"""Delivery channels: the sandbox (stores what would be sent) and WeChat itself.

A channel delivers one notice or raises; an exception with an `errcode` attribute
(bot.api.WeChatAPIError) tells the sender which of WeChat's failures it was.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import SandboxMessage, utcnow


class SandboxChannel:
    name = "sandbox"

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def send_text(self, openid: str, text: str, *, outbox_id: int) -> None:
        # Idempotent by outbox id: a resend after a crash stores nothing new.
        with self.sessions() as session, session.begin():
            already = session.scalar(
                select(SandboxMessage.id).where(SandboxMessage.outbox_id == outbox_id)
            )
            if already is None:
                session.add(
                    SandboxMessage(
                        to_openid=openid, text=text, outbox_id=outbox_id, created_at=utcnow()
                    )
                )

    def send_template(
        self, openid: str, template_id: str, fields: Mapping[str, str], *, outbox_id: int
    ) -> None:
        text = " | ".join(f"{k}: {v}" for k, v in fields.items())
        self.send_text(openid, f"[模板 {template_id}] {text}", outbox_id=outbox_id)

    def messages_to(self, openid: str, *, after_id: int = 0) -> list[SandboxMessage]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(SandboxMessage)
                    .where(SandboxMessage.to_openid == openid, SandboxMessage.id > after_id)
                    .order_by(SandboxMessage.id)
                )
            )


class WeChatChannel:
    """Customer-service text messages through the official API; template messages as fallback."""

    name = "wechat"

    def __init__(self, api) -> None:
        self.api = api

    def send_text(self, openid: str, text: str, *, outbox_id: int) -> None:
        self.api.send_text(openid, text, dedup_key=f"outbox-{outbox_id}")

    def send_template(
        self, openid: str, template_id: str, fields: Mapping[str, str], *, outbox_id: int
    ) -> None:
        self.api.send_template(openid, template_id, fields, dedup_key=f"outbox-{outbox_id}")
