"""WeChat's failure modes at the outbox: rate limits pause the channel, a closed window
falls back to a template or to the next passive reply, dead letters wait for operators."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.delivery.outbox_sender import OutboxSender
from app.services.outbox import enqueue
from bot.api import WeChatAPI
from bot.channels import WeChatChannel
from models import ChannelPause, OutboxMessage, utcnow
from tests.chatkit import FENGYUAN_1, Chat
from tests.fakewechat import start_fake_wechat


@pytest.fixture(scope="module")
def server():
    fake = start_fake_wechat()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server):
    server.reset()
    return server


@pytest.fixture
def api(fake):
    client = WeChatAPI(app_id="wx", app_secret="s", base_url=fake.base_url)
    yield client
    client.close()


def _sender(sessions, api, clock, **kw):
    return OutboxSender(sessions, WeChatChannel(api), clock=clock, **kw)


def _owe(sessions, clock, *texts, to="worker-1", kind="ticket_assigned"):
    with unit_of_work(sessions) as s:
        return [
            enqueue(s, to_openid=to, kind=kind, text=t, now=clock(), ticket_id=None) for t in texts
        ]


def _rows(sessions):
    with sessions() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_rate_limit_pauses_the_whole_channel_for_every_sender(sessions, clock, api, fake):
    _owe(sessions, clock, "一", "二", "三")
    fake.fail_next(45009)
    first = _sender(sessions, api, clock, rate_limit_pause=timedelta(seconds=60))
    other = _sender(sessions, api, clock)  # another process sharing the database
    assert first.drain().paused
    assert other.drain().sent == 0  # honours the pause it did not see happen
    with sessions() as s:
        assert s.get(ChannelPause, "wechat").paused_until > clock()
    rows = _rows(sessions)
    assert {(r.status, r.attempts, r.last_errcode) for r in rows} == {("pending", 0, 45009)}
    assert fake.messages_to("worker-1") == []
    clock.advance(seconds=80)
    assert other.drain().sent == 3
    assert fake.messages_to("worker-1") == ["一", "二", "三"]


def test_closed_window_falls_back_to_a_configured_template(sessions, clock, api, fake):
    text = "【新工单 #7】道路积水\n位置：枫林路与东安路口，积水很深电动车过不去\n回复「认领 7」接单"
    _owe(sessions, clock, text, kind="ticket_assigned")
    fake.fail_next(45015)
    sender = _sender(sessions, api, clock, template_ids={"ticket_assigned": "TPL-NEW"})
    assert sender.drain().sent == 1
    (sent,) = fake.sent
    assert (sent["msgtype"], sent["template_id"]) == ("template", "TPL-NEW")
    values = [field["value"] for field in sent["data"].values()]
    assert values[0] == "【新工单 #7】道路积水"
    assert all(len(v) <= 20 and "\n" not in v for v in values)
    (row,) = _rows(sessions)
    assert (row.status, row.delivered_via) == ("sent", "template")


def test_without_a_template_a_notice_is_held_and_rides_the_next_reply(
    demo_sessions, clock, api, fake
):
    chat = Chat(demo_sessions, clock)
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    chat.text("worker-1", "认领 1")  # the rider is owed "已认领" (and worker-1 the new ticket)
    fake.fail_next(45015, times=1)  # the new-ticket notice to worker-1 is sent first
    fake.fail_next(45047, times=1)
    result = _sender(demo_sessions, api, clock).drain()
    assert (result.sent, result.held) == (0, 2)
    assert fake.sent == []

    reply = chat.text("rider-1", "我的上报")
    assert "您有 1 条新通知：" in reply and "认领" in reply.split("您有 1 条新通知：")[1]
    assert "您有" not in chat.text("rider-1", "我的上报")  # delivered once
    worker_reply = chat.text("worker-1", "我的工单")
    assert "您有 1 条新通知：" in worker_reply and "新工单 #1" in worker_reply
    statuses = {(r.to_openid, r.status, r.delivered_via) for r in _rows(demo_sessions)}
    assert statuses == {("worker-1", "sent", "reply"), ("rider-1", "sent", "reply")}


def test_held_notices_that_do_not_fit_wait_for_the_following_reply(demo_sessions, clock):
    chat = Chat(demo_sessions, clock)
    ids = _owe(demo_sessions, clock, *[f"第{i}条：" + "很长的通知内容" * 20 for i in range(6)])
    with unit_of_work(demo_sessions) as s:
        for row in s.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))):
            row.status = "held"
    first = chat.text("worker-1", "我的工单")
    assert len(first.encode()) <= 2048 and "另有" in first
    shown = first.count("很长的通知内容" * 20)
    second = chat.text("worker-1", "我的工单")
    third = chat.text("worker-1", "我的工单")
    total = shown + second.count("很长的通知内容" * 20) + third.count("很长的通知内容" * 20)
    assert 0 < shown < 6 and total == 6
    assert all(r.status == "sent" for r in _rows(demo_sessions))


def test_operators_list_and_retry_dead_letters(sessions, clock, api, fake, cli):
    ids = _owe(sessions, clock, "送不出去一", "送不出去二", "能送到")
    fake.fail_next(-1, times=2)  # the first two notices fail twice each
    sender = _sender(sessions, api, clock, max_attempts=2)
    assert sender.drain().sent == 1
    clock.advance(minutes=5)
    fake.fail_next(-1, times=2)
    assert sender.drain().dead == 2

    dead = json.loads(cli("outbox", "list", "--status", "dead", "--json").stdout)
    assert [(d["id"], d["attempts"], d["errcode"]) for d in dead] == [
        (ids[1], 2, -1),
        (ids[0], 2, -1),
    ]
    assert "送不出去一" in cli("outbox", "list").stdout
    assert cli("outbox", "retry", ok=False).exit_code == 1  # neither ids nor --all-dead
    assert "queued 1" in cli("outbox", "retry", str(ids[0])).stdout
    assert "queued 1" in cli("outbox", "retry", "--all-dead").stdout
    assert json.loads(cli("outbox", "list", "--status", "dead", "--json").stdout) == []
    clock.now = utcnow() + timedelta(seconds=1)  # the CLI queued them at the real time
    assert sender.drain().sent == 2
    assert sorted(fake.messages_to("worker-1")) == sorted(["送不出去一", "送不出去二", "能送到"])
