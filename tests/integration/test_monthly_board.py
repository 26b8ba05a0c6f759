"""The month's riders' leaderboard goes to leads with the digest sent on the 1st."""

from datetime import UTC, datetime, time

import pytest
from sqlalchemy import select

from app.domain.recognition import PointsRules
from app.services.digest import digest_delivery
from models import OutboxMessage
from tests.chatkit import FENGYUAN_1, Chat
from tests.digestkit import TZ

RULES = PointsRules()
DEC_1_EIGHT = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
NOV_21_EIGHT = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


@pytest.fixture
def chat(demo_sessions, clock):
    chat = Chat(demo_sessions, clock)
    chat.text("rider-1", "路口积水很深，电动车过不去")
    chat.location("rider-1", FENGYUAN_1, "路口")
    chat.text("worker-1", "认领 1")
    chat.text("worker-1", "办结 1 积水已排除")
    chat.text("rider-1", "满意 1")
    return chat


def digest_texts(sessions, openid):
    with sessions() as s:
        query = select(OutboxMessage.text).where(
            OutboxMessage.to_openid == openid, OutboxMessage.kind == "digest"
        )
        return list(s.scalars(query.order_by(OutboxMessage.id)))


def sweep(sessions, now):
    return digest_delivery.send_due(sessions, now=now, tz=TZ, send_at=time(8, 0), points=RULES)


def test_the_digest_on_the_first_ends_with_the_months_board(chat, demo_sessions):
    sweep(demo_sessions, DEC_1_EIGHT)
    *_, board = digest_texts(demo_sessions, "street-1")
    lines = board.split("\n")
    assert lines[0] == "【11月骑手积分榜】枫林街道"
    assert lines[1].startswith("1. 骑手R") and lines[1].endswith("10 分")
    assert "rider-1" not in board
    assert lines[2] == "上报的问题处理完并关闭得 10 分，确认别人已上报的问题得 2 分。"
    # a street where nobody earned points hears so
    *_, other = digest_texts(demo_sessions, "street-2")
    assert other == "【11月骑手积分榜】湖南路街道\n11月还没有骑手因上报得分。"


def test_other_days_have_no_board(chat, demo_sessions):
    sweep(demo_sessions, NOV_21_EIGHT)
    texts = digest_texts(demo_sessions, "street-1")
    assert texts[0].startswith("【工单日报】")  # the day's digest went out, without a board
    assert not any("积分榜" in t for t in texts)


def test_the_board_and_the_most_active_riders_name_riders_by_nickname(chat, demo_sessions, clock):
    assert "小王" in chat.text("rider-1", "昵称 小王")
    sweep(demo_sessions, DEC_1_EIGHT)
    *_, board = digest_texts(demo_sessions, "street-1")
    assert board.split("\n")[1].startswith("1. 小王（R") and "rider-1" not in board

    clock.now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # a report on the 25th, local time
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "路口")
    sweep(demo_sessions, datetime(2026, 11, 26, 0, 0, tzinfo=UTC))
    text = "\n".join(digest_texts(demo_sessions, "street-1"))
    assert "1. 小王（R" in text.split("最活跃骑手")[1]
