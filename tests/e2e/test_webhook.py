"""The webhook end to end: signed XML over HTTP into the running app, notices out to the
(fake) WeChat API, on SQLite and PostgreSQL, in plaintext, compatible and safe mode."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.domain.coords import wgs84_to_gcj02
from bot.security import sign
from models import InboxMessage, OutboxMessage, Ticket
from tests.chatkit import FENGYUAN_1
from tests.e2e.conftest import TOKEN, wait_for


def test_get_verification_echoes_the_bare_echostr(gridbot):
    bot = gridbot("plain")
    ts = str(int(time.time()))
    params = {"timestamp": ts, "nonce": "123456789", "echostr": "7319245519301229"}
    good = bot.http.get("/wechat", params={**params, "signature": sign(TOKEN, ts, "123456789")})
    assert good.status_code == 200
    assert good.headers["content-type"].startswith("text/plain")
    assert good.text == "7319245519301229"

    bad = bot.http.get("/wechat", params={**params, "signature": "0" * 40})
    assert bad.status_code == 403
    assert "7319245519301229" not in bad.text
    assert bot.http.get("/wechat", params=params).status_code == 403  # no signature at all


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
def test_the_whole_story_over_http(gridbot, mode):
    bot = gridbot(mode)

    assert "位置" in bot.say("rider-1", "路口积水很深")
    filed = bot.send_location("rider-1", FENGYUAN_1, "枫林路口")
    assert "#1" in filed and "枫苑一网格" in filed

    new = bot.wait_notice("worker-1", "新工单 #1")
    assert "路口积水很深" in new and "枫林路口" in new  # Chinese arrives intact, not \\u-escaped

    assert "已认领工单 #1" in bot.say("worker-1", "认领 1")
    assert "张伟" in bot.wait_notice("rider-1", "认领")

    assert "已办结" in bot.say("worker-1", "办结 1 积水已排除")
    resolved = bot.wait_notice("rider-1", "满意")
    assert "积水已排除" in resolved

    assert "已关闭" in bot.say("rider-1", "满意")
    bot.wait_notice("worker-1", "已关闭")

    with bot.sessions() as s:
        assert s.get(Ticket, 1).status == "closed"
    claimed, resolved_again = bot.notices_to("rider-1")
    assert "认领" in claimed and resolved_again == resolved
    assert len(bot.notices_to("worker-1")) == 2


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_concurrent_retries_file_one_ticket_and_send_one_notice(gridbot, mode):
    bot = gridbot(mode)
    assert "位置" in bot.say("rider-1", "路口积水很深")

    first = bot.sim.location("rider-1", *wgs84_to_gcj02(*FENGYUAN_1), label="枫林路口")
    deliveries = [first, bot.sim.resign(first), bot.sim.resign(first)]
    assert len({d.params["nonce"] for d in deliveries}) == 3
    start = threading.Barrier(len(deliveries))

    def deliver(req):
        start.wait()
        return bot.deliver(req)

    with ThreadPoolExecutor(len(deliveries)) as pool:
        replies = list(pool.map(deliver, deliveries))

    assert replies[0] and replies == [replies[0]] * 3
    assert "#1" in replies[0]
    assert bot.count(Ticket) == 1
    assert bot.count(InboxMessage, InboxMessage.dedup_key == f"msg:{first.msg_id}") == 1

    bot.wait_notice("worker-1", "新工单 #1")
    # Every notice owed is sent; there was exactly one, so WeChat got exactly one.
    wait_for(
        lambda: bot.count(OutboxMessage, OutboxMessage.status == "pending") == 0,
        "the outbox to drain",
    )
    assert bot.count(OutboxMessage, OutboxMessage.to_openid == "worker-1") == 1
    assert len(bot.notices_to("worker-1")) == 1


def test_nonsense_and_unsupported_kinds_get_answers_and_location_events_get_success(gridbot):
    bot = gridbot("compat")

    assert "位置" in bot.say("rider-7", "？？")

    video = bot.sim.message("rider-7", "video", {"MediaId": "v-1", "ThumbMediaId": "t-1"})
    response = bot.post(video)
    assert response.status_code == 200
    assert "位置" in bot.sim.reply_text(response.content)  # what the bot can take instead

    link = bot.sim.message(
        "rider-7", "link", {"Title": "标题", "Description": "描述", "Url": "http://x.cn/"}
    )
    assert bot.deliver(link).strip()

    event = bot.post(bot.sim.location_event("rider-7", *wgs84_to_gcj02(*FENGYUAN_1)))
    assert event.status_code == 200
    assert event.text == "success"

    assert bot.count(Ticket) == 0


def test_an_expired_token_is_refreshed_once_and_the_notice_still_arrives(gridbot, fake):
    bot = gridbot("plain")
    bot.say("rider-1", "路口积水很深")
    bot.send_location("rider-1", FENGYUAN_1)
    bot.wait_notice("worker-1", "新工单 #1")
    fetched = fake.token_requests
    assert fetched == 1

    fake.expire_tokens()
    bot.say("worker-1", "认领 1")
    assert "张伟" in bot.wait_notice("rider-1", "认领")
    assert fake.token_requests == fetched + 1
    wait_for(
        lambda: bot.count(OutboxMessage, OutboxMessage.status != "sent") == 0,
        "every notice to be marked sent",
    )


def test_sandbox_channel_serves_notices_over_http(gridbot, fake):
    bot = gridbot("plain", channel="sandbox")
    bot.say("rider-1", "路口积水很深")
    assert "#1" in bot.send_location("rider-1", FENGYUAN_1)

    def sandbox_notices():
        response = bot.http.get("/sandbox/messages", params={"to": "worker-1"})
        assert response.status_code == 200
        return [m for m in response.json() if "新工单 #1" in m["text"]]

    [notice] = wait_for(sandbox_notices, "the notice in the sandbox")
    assert notice["to"] == "worker-1" and "路口积水很深" in notice["text"]
    assert fake.sent == [] and fake.token_requests == 0  # nothing went to WeChat


def test_sandbox_endpoint_is_off_on_the_wechat_channel(gridbot):
    bot = gridbot("plain")
    assert bot.http.get("/sandbox/messages", params={"to": "worker-1"}).status_code == 404
