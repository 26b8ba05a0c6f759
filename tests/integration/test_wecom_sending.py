"""Notices to staff on WeCom (企业微信) through the one outbox: WeCom's errcodes handled as
the official account's are (token refreshed and retried, rate limits pause, a departed user
is a dead letter at once)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.delivery.outbox_sender import OutboxSender
from app.services.outbox import enqueue
from bot.channels import SandboxChannel
from bot.wecom_api import WeComAPI
from bot.wecom_channel import WeComRouting
from models import ChannelPause, OutboxMessage
from tests.fakewecom import AGENT_ID, CORP_ID, SECRET, FakeWeCom, start_fake_wecom


@pytest.fixture
def fake_wecom() -> Iterator[FakeWeCom]:
    server = start_fake_wecom()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sender(sessions, fake_wecom) -> Iterator[OutboxSender]:
    api = WeComAPI(corp_id=CORP_ID, secret=SECRET, agent_id=AGENT_ID, base_url=fake_wecom.base_url)
    yield OutboxSender(sessions, WeComRouting(SandboxChannel(sessions), api), max_attempts=5)
    api.close()


def _owe(sessions, to: str, text: str) -> int:
    with sessions() as s, s.begin():
        outbox_id = enqueue(s, to_openid=to, kind="new_ticket", text=text, now=datetime.now(UTC))
    assert outbox_id is not None
    return outbox_id


def _row(sessions, outbox_id: int) -> OutboxMessage:
    with sessions() as s:
        row = s.get(OutboxMessage, outbox_id)
        assert row is not None
        s.expunge(row)
        return row


def test_a_notice_goes_by_message_send_to_the_userid(sessions, sender, fake_wecom):
    outbox_id = _owe(sessions, "wecom:lina", "新工单 #7：路口积水")
    assert sender.drain().sent == 1
    (sent,) = fake_wecom.sent
    assert sent["touser"] == "lina" and sent["agentid"] == int(AGENT_ID)
    assert sent["text"]["content"] == "新工单 #7：路口积水"
    assert _row(sessions, outbox_id).status == "sent"
    # a rider on the official account is not sent through WeCom
    _owe(sessions, "rider-1", "已受理")
    assert sender.drain().sent == 1
    assert len(fake_wecom.sent) == 1
    assert [m.text for m in sender.channel.messages_to("rider-1")] == ["已受理"]


@pytest.mark.parametrize("errcode", [40014, 42001])
def test_an_expired_token_is_refreshed_and_the_send_retried(sessions, sender, fake_wecom, errcode):
    _owe(sessions, "wecom:lina", "新工单 #7")
    assert sender.drain().sent == 1  # the first token
    fake_wecom.fail_next(errcode)
    _owe(sessions, "wecom:lina", "新工单 #8")
    assert sender.drain().sent == 1
    assert fake_wecom.token_requests == 2
    assert [m["text"]["content"] for m in fake_wecom.sent] == ["新工单 #7", "新工单 #8"]


@pytest.mark.parametrize("errcode", [45009, 45033])
def test_a_rate_limit_pauses_the_channel_and_gives_the_attempt_back(
    sessions, sender, fake_wecom, errcode
):
    outbox_id = _owe(sessions, "wecom:lina", "新工单 #7")
    fake_wecom.fail_next(errcode)
    assert sender.drain().paused
    row = _row(sessions, outbox_id)
    assert row.status == "pending" and row.attempts == 0 and row.last_errcode == errcode
    with sessions() as s:
        assert s.get(ChannelPause, sender.channel_name) is not None
    assert fake_wecom.sent == []


@pytest.mark.parametrize("errcode", [60111, 81013])
def test_an_unknown_or_departed_user_is_a_dead_letter_at_once(
    sessions, sender, fake_wecom, errcode
):
    outbox_id = _owe(sessions, "wecom:gone", "新工单 #7")
    fake_wecom.fail_next(errcode)
    assert sender.drain().dead == 1
    row = _row(sessions, outbox_id)
    assert row.status == "dead" and row.attempts == 1 and row.last_errcode == errcode
