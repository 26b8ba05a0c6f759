"""What a handler is given: the message, the session, the clock and who is talking."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.services.handling.ticket_card import NoticeSettings
from app.services.intake.reports import IntakeRules
from app.settings import Settings
from bot.inbound import InboundMessage
from models import Rider, Staff


@dataclass
class ChatContext:
    msg: InboundMessage
    session: Session
    now: datetime
    settings: Settings
    rules: IntakeRules
    rider: Rider
    staff: Staff | None
    station_request: bool = True
    """The rider may wait for stations (驿站) to be found where their location says: the
    chat engine knows from the message's arrival (app/inbox/arrival.py); True when not known."""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    @property
    def message_key(self) -> str:
        return self.msg.dedup_key

    @property
    def notice_settings(self) -> NoticeSettings:
        return self.rules.notice_settings

    def as_staff(self, use_case, **kwargs):
        """Run a ticket use case as the sending staff member. A refusal (ServiceError)
        propagates: the dispatcher answers it."""
        return use_case(
            self.session,
            staff=self.staff,
            now=self.now,
            message_key=self.message_key,
            notice_settings=self.notice_settings,
            **kwargs,
        )


def is_staff(ctx: ChatContext) -> bool:
    return ctx.staff is not None


NUMBER = re.compile(r"^#?\s*(\d{1,9})(?:\s+|$)(.*)$", re.S)


def split_number(args: str) -> tuple[int | None, str]:
    """'12 路面已清理' -> (12, '路面已清理'); '#12' -> (12, ''); '路面已清理' -> (None, ...)."""
    m = NUMBER.match(args.strip())
    if not m:
        return None, args.strip()
    return int(m.group(1)), m.group(2).strip()
