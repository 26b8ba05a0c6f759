"""Drive the chat engine with plain InboundMessages, as the webhook would after decoding.

Loaded as a pytest plugin (tests/conftest.py), so its `chat` fixture serves every test.
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.bootstrap import chat_engine, intake_rules
from app.domain.coords import wgs84_to_gcj02
from app.settings import Settings
from bot.inbound import InboundMessage
from models import OutboxMessage, Ticket

_ids = itertools.count(7_000_000_000_000_000_000)

# Centres of two demo grids (WGS-84), from app/demo/district.geojson.
FENGYUAN_1 = (31.19225, 121.432625)  # 31019900100101 枫苑一网格, worker-1 张伟
NANYUAN_4 = (31.20575, 121.448375)  # 31019900200204 南园四网格, worker-16


class Chat:
    def __init__(self, sessions, clock, **settings) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = Settings(database_url="sqlite://", **settings)
        self.rules = intake_rules(self.settings)
        self.engine = chat_engine(self.settings, sessions, rules=self.rules, clock=clock)

    def _send(self, openid: str, kind: str, **fields) -> str:
        msg = InboundMessage(
            kind=kind,
            openid=openid,
            account="gh_gridbot",
            created_at=self.clock(),
            msg_id=fields.pop("msg_id", None) or str(next(_ids)),
            **fields,
        )
        return self.engine.handle(msg)

    def text(self, openid: str, text: str, **kw) -> str:
        return self._send(openid, "text", text=text, **kw)

    def voice(self, openid: str, recognition: str) -> str:
        return self._send(openid, "voice", text=recognition, media_id="voice-1")

    def photo(self, openid: str, media_id: str = "media-1") -> str:
        return self._send(openid, "image", media_id=media_id, pic_url=f"http://pic/{media_id}")

    def location(self, openid: str, wgs: tuple[float, float], label: str = "路口", **kw) -> str:
        """Send a point as WeChat would: converted to GCJ-02."""
        lat, lng = wgs84_to_gcj02(*wgs)
        return self._send(openid, "location", lat=lat, lng=lng, label=label, **kw)

    def event(self, openid: str, event: str, key: str = "") -> str:
        return self._send(openid, "event", event=event, event_key=key, msg_id="")

    def notices_to(self, openid: str) -> list[str]:
        with self.sessions() as s:
            return list(
                s.scalars(
                    select(OutboxMessage.text)
                    .where(OutboxMessage.to_openid == openid)
                    .order_by(OutboxMessage.id)
                )
            )

    def notices_due(self, openid: str) -> list[str]:
        """The notices to `openid` the outbox may send now (not those waiting for later)."""
        with self.sessions() as s:
            return list(
                s.scalars(
                    select(OutboxMessage.text)
                    .where(
                        OutboxMessage.to_openid == openid,
                        OutboxMessage.next_attempt_at <= self.clock(),
                    )
                    .order_by(OutboxMessage.id)
                )
            )

    def ticket(self, number: int) -> Ticket:
        with self.sessions() as s:
            t = s.get(Ticket, number)
            _ = t.events, t.photos
            return t

    def tickets(self) -> list[Ticket]:
        with self.sessions() as s:
            query = select(Ticket).options(selectinload(Ticket.events)).order_by(Ticket.id)
            return list(s.scalars(query).unique())


class Told:
    """The notices owed since the last look, by person (what a test of "who is told"
    reads after each step)."""

    def __init__(self, sessions) -> None:
        self.sessions = sessions
        self.seen = 0

    def new(self) -> dict[str, list[str]]:
        with self.sessions() as s:
            rows = s.execute(
                select(OutboxMessage.id, OutboxMessage.to_openid, OutboxMessage.text)
                .where(OutboxMessage.id > self.seen)
                .order_by(OutboxMessage.id)
            ).all()
        out: dict[str, list[str]] = {}
        for row_id, openid, text in rows:
            out.setdefault(openid, []).append(text)
            self.seen = row_id
        return out

    def who(self) -> set[str]:
        """Who was told since the last look; nobody may have been told twice."""
        told = self.new()
        assert all(len(texts) == 1 for texts in told.values()), told  # nobody twice
        return set(told)


@pytest.fixture
def chat(demo_sessions, clock) -> Chat:
    """A chat with the demo district, on the test's clock; nobody has said anything yet."""
    return Chat(demo_sessions, clock)
