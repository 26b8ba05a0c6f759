"""WeChat retries: the same message, even concurrently, is handled once and answered alike."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import func, select

from app.bootstrap import chat_engine
from app.settings import Settings
from bot.inbound import InboundMessage
from models import InboxMessage, Rider, Ticket
from tests.chatkit import FENGYUAN_1, Chat


def _engine(sessions, clock):
    return chat_engine(Settings(database_url="sqlite://"), sessions, clock=clock)


def _count(sessions, model):
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_concurrent_retries_make_one_ticket_and_one_reply(demo_sessions, clock):
    chat = Chat(demo_sessions, clock)
    chat.text("rider-1", "路口积水")
    engine = _engine(demo_sessions, clock)
    from app.domain.coords import wgs84_to_gcj02

    lat, lng = wgs84_to_gcj02(*FENGYUAN_1)
    msg = InboundMessage(
        kind="location",
        openid="rider-1",
        account="gh",
        created_at=datetime.now(UTC),
        msg_id="6100000000000000001",
        lat=lat,
        lng=lng,
        label="枫林路口",
    )
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: engine.handle(msg), range(4)))
    assert len(set(replies)) == 1 and "工单号 #1" in replies[0]
    assert _count(demo_sessions, Ticket) == 1
    assert len(chat.notices_to("worker-1")) == 1


def test_a_new_riders_first_messages_racing_are_both_handled(demo_sessions, clock):
    engine = _engine(demo_sessions, clock)
    msgs = [
        InboundMessage(
            kind="text",
            openid="rider-new",
            account="gh",
            created_at=datetime.now(UTC),
            msg_id=f"62000000000000000{i}",
            text="谢谢",
        )
        for i in range(6)
    ]
    with ThreadPoolExecutor(6) as pool:
        replies = list(pool.map(engine.handle, msgs))
    assert all("不客气" in r for r in replies)
    assert _count(demo_sessions, InboxMessage) == 6
    assert _count(demo_sessions, Rider) == 1


def test_a_connection_the_database_dropped_costs_no_message(demo_sessions, db_url, clock):
    """PostgreSQL restarted, or an idle connection was cut: the next message still lands
    (there is no ping before each message; the failed attempt is retried)."""
    import psycopg
    import pytest

    from tests.conftest import PG_ADMIN

    if not db_url.startswith("postgresql"):
        pytest.skip("only a server drops connections")
    chat = Chat(demo_sessions, clock)
    assert "您还没有上报过问题" in chat.text("rider-1", "我的上报")  # a pooled connection
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        cut = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [db_url.rsplit("/", 1)[1]],
        ).fetchone()[0]
    assert cut >= 1
    chat.text("rider-1", "路口积水很深")
    assert "已受理" in chat.location("rider-1", FENGYUAN_1)
    assert _count(demo_sessions, Ticket) == 1
