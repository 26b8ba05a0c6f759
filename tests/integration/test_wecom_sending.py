"""Notices to staff on WeCom (企业微信) through the one outbox: WeCom's errcodes handled as
the official account's are (token refreshed and retried, rate limits pause WeCom only, a
departed user is a dead letter at once), and a pressed card's update is retried the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.delivery.outbox_sender import OutboxSender
from app.services.outbox import enqueue
from app.services.wecom_cards import CARD_UPDATE_KIND, CardMaker
from bot.api import WeChatAPI
from bot.channels import SandboxChannel, WeChatChannel
from bot.wecom_api import WeComAPI
from bot.wecom_channel import WeComRouting
from models import ChannelPause, OutboxMessage
from tests.fakewecom import AGENT_ID, CORP_ID, SECRET


@pytest.fixture
def sender(sessions, fake_wecom) -> Iterator[OutboxSender]:
    api = WeComAPI(corp_id=CORP_ID, secret=SECRET, agent_id=AGENT_ID, base_url=fake_wecom.base_url)
    yield OutboxSender(sessions, WeComRouting(SandboxChannel(sessions), api), max_attempts=5)
    api.close()


@pytest.fixture
def both(sessions, fake_wecom, fake_wechat, clock) -> Iterator[OutboxSender]:
    """The official account (a fake WeChat) and the WeCom app, on a clock the test moves."""
    wechat = WeChatAPI(app_id="wx", app_secret="s", base_url=fake_wechat.base_url)
    wecom = WeComAPI(
        corp_id=CORP_ID, secret=SECRET, agent_id=AGENT_ID, base_url=fake_wecom.base_url
    )
    channel = WeComRouting(
        WeChatChannel(wechat), wecom, card_for=CardMaker(sessions, "Asia/Shanghai")
    )
    yield OutboxSender(sessions, channel, clock=clock, max_attempts=3)
    wechat.close()
    wecom.close()


def _owe(sessions, to: str, text: str, *, kind: str = "new_ticket", now=None) -> int:
    with sessions() as s, s.begin():
        outbox_id = enqueue(s, to_openid=to, kind=kind, text=text, now=now or datetime.now(UTC))
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
        assert s.get(ChannelPause, "wecom") is not None
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


def test_a_wecom_rate_limit_pauses_wecom_only(sessions, both, fake_wecom, fake_wechat, clock):
    first = _owe(sessions, "wecom:lina", "新工单 #7", now=clock())
    _owe(sessions, "rider-1", "已受理，工单号 #7", now=clock())
    second = _owe(sessions, "wecom:lina", "新工单 #8", now=clock())
    fake_wecom.fail_next(45009)
    result = both.drain()
    assert result.paused and result.sent == 1
    assert fake_wechat.messages_to("rider-1") == ["已受理，工单号 #7"]  # at once, not paused
    assert fake_wecom.sent == []
    for outbox_id in (first, second):
        row = _row(sessions, outbox_id)
        assert (row.status, row.attempts) == ("pending", 0)
    with sessions() as s:
        assert s.get(ChannelPause, "wecom") is not None
        assert s.get(ChannelPause, "wechat") is None

    # while WeCom waits, the official account's notices still go out at once
    _owe(sessions, "rider-2", "已受理，工单号 #9", now=clock())
    _owe(sessions, "wecom:lina", "新工单 #9", now=clock())
    assert both.drain().sent == 1
    assert fake_wechat.messages_to("rider-2") == ["已受理，工单号 #9"]
    assert fake_wecom.sent == []

    clock.advance(seconds=90)
    assert both.drain().sent == 3
    assert fake_wecom.texts_to("lina") == ["新工单 #7", "新工单 #8", "新工单 #9"]


def test_an_official_account_rate_limit_leaves_wecom_sending(
    sessions, both, fake_wecom, fake_wechat, clock
):
    _owe(sessions, "rider-1", "已受理，工单号 #7", now=clock())
    _owe(sessions, "wecom:lina", "新工单 #7", now=clock())
    fake_wechat.fail_next(45009)
    result = both.drain()
    assert result.paused and result.sent == 1
    assert fake_wecom.texts_to("lina") == ["新工单 #7"]
    assert fake_wechat.messages_to("rider-1") == []
    _owe(sessions, "wecom:lina", "新工单 #8", now=clock())
    assert both.drain().sent == 1
    assert fake_wecom.texts_to("lina") == ["新工单 #7", "新工单 #8"]
    clock.advance(seconds=90)
    assert both.drain().sent == 1
    assert fake_wechat.messages_to("rider-1") == ["已受理，工单号 #7"]


def _owe_card_update(sessions, clock) -> int:
    update = {"response_code": "rc-1", "replace_name": "已由张伟认领"}
    text = json.dumps(update, ensure_ascii=False)
    return _owe(sessions, "wecom:zhaomin", text, kind=CARD_UPDATE_KIND, now=clock())


@pytest.mark.parametrize("errcode", [-1, 45033])
def test_a_card_update_that_fails_is_retried_with_backoff(
    sessions, both, fake_wecom, clock, errcode
):
    outbox_id = _owe_card_update(sessions, clock)
    fake_wecom.fail_next(errcode)
    both.drain()
    assert fake_wecom.updates == []
    row = _row(sessions, outbox_id)
    assert row.status == "pending" and row.last_errcode == errcode
    assert row.next_attempt_at > clock()  # backoff, or WeCom's pause
    clock.advance(minutes=2)
    assert both.drain().sent == 1
    (update,) = fake_wecom.updates
    assert update["userids"] == ["zhaomin"] and update["response_code"] == "rc-1"
    assert update["button"] == {"replace_name": "已由张伟认领"}
    assert fake_wecom.sent == []  # an update, never a message of its own
    assert _row(sessions, outbox_id).status == "sent"


def test_a_card_update_that_keeps_failing_is_a_dead_letter(sessions, both, fake_wecom, clock):
    outbox_id = _owe_card_update(sessions, clock)
    fake_wecom.fail_next(-1, times=3)
    for _ in range(3):
        both.drain()
        clock.advance(minutes=10)
    row = _row(sessions, outbox_id)
    assert (row.status, row.attempts, row.last_errcode) == ("dead", 3, -1)
    assert fake_wecom.updates == []
