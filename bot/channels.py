"""Delivery channels: the sandbox (stores what would be sent) and WeChat itself."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import SandboxMessage, utcnow


class SandboxChannel:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def send_text(self, openid: str, text: str, *, outbox_id: int) -> None:
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
    """Customer-service text messages through the official API."""

    def __init__(self, api) -> None:
        self.api = api

    def send_text(self, openid: str, text: str, *, outbox_id: int) -> None:
        self.api.send_text(openid, text)
