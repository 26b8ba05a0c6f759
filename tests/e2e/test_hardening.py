"""Issue 15 (hardening): one regression test per item, named for it, over HTTP against the
running app."""

from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.codec import render_xml
from bot.metrics import METRICS
from bot.security import sign
from models import InboxFailure, InboxMessage
from tests.e2e.conftest import TOKEN, signed_query
from tests.prometheus import sample


def test_item_03_upper_case_aes_is_answered_encrypted(gridbot):
    bot = gridbot("safe")
    req = bot.sim.text("rider-1", "路口积水很深")
    params = {**req.params, "encrypt_type": "AES"}
    response = bot.http.post("/wechat", params=params, content=req.body)
    assert response.status_code == 200
    assert "<Encrypt>" in response.text and "位置" not in response.text
    assert "位置" in bot.sim.reply_text(response.content)


def test_item_14_get_verification_checks_the_timestamp_window(gridbot):
    bot = gridbot("plain")
    for age in (-3600, 3600, 10**9):
        ts, nonce = str(int(time.time()) - age), "123456789"
        stale = {
            "timestamp": ts,
            "nonce": nonce,
            "echostr": "42",
            "signature": sign(TOKEN, ts, nonce),
        }
        response = bot.http.get("/wechat", params=stale)
        assert response.status_code == 403 and "42" not in response.text
    ts = str(int(time.time()))
    fresh = {"timestamp": ts, "nonce": "1", "echostr": "42", "signature": sign(TOKEN, ts, "1")}
    assert bot.http.get("/wechat", params=fresh).text == "42"
    assert bot.count(InboxMessage) == 0


def _plain_request(fields: dict[str, str | int]) -> tuple[dict[str, str], bytes]:
    return signed_query(), render_xml(fields).encode()


@pytest.mark.parametrize(
    "field, value",
    [
        ("FromUserName", "o" * 65),
        ("MsgType", "t" * 33),
        ("MsgId", "9" * 65),
        ("Event", "e" * 33),
        ("EventKey", "qrscene_" + "s" * 65),
        ("EventKey", "k" * 1025),
    ],
)
def test_item_04_over_long_fields_are_refused_before_the_database(gridbot, field, value):
    bot = gridbot("plain")
    fields: dict[str, str | int] = {
        "ToUserName": "gh_gridbot",
        "FromUserName": "rider-1",
        "CreateTime": int(time.time()),
        "MsgType": "event" if field.startswith("Event") else "text",
        "Content": "路口积水",
        "MsgId": "1234567890123456",
    }
    if field.startswith("Event"):
        fields |= {"Event": "subscribe", "EventKey": "qrscene_1"}
    fields[field] = value
    params, body = _plain_request(fields)
    response = bot.http.post("/wechat", params=params, content=body)
    assert response.status_code == 400, response.text
    assert field in response.text
    assert bot.count(InboxMessage) == 0 and bot.count(InboxFailure) == 0


def test_item_12_api_docs_are_off_unless_a_setting_turns_them_on(gridbot):
    bot = gridbot("plain")
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert bot.http.get(path).status_code == 404, path
    docs = gridbot("plain", api_docs=True)
    assert docs.http.get("/openapi.json").status_code == 200
    assert docs.http.get("/docs").status_code == 200


def test_item_12_metric_labels_stay_bounded(gridbot):
    bot = gridbot("plain")
    before = METRICS.value("gridbot_messages_in_total", type="other")
    for i in range(60):
        assert (
            bot.post(bot.sim.message("rider-1", f"weird{i}", {"Content": "x"})).status_code == 200
        )
        assert bot.post(bot.sim.event("rider-1", f"odd_event_{i}")).status_code == 200
    body = bot.http.get("/metrics").text
    assert "weird" not in body and "odd_event" not in body
    assert sample(body, "gridbot_messages_in_total", type="other") == before + 60
    assert sample(body, "gridbot_messages_in_total", type="event:other") >= 60
    # The exposition is Prometheus's own, parsed by its own parser.
    names = {family.name for family in text_string_to_metric_families(body)}
    assert {"gridbot_messages_in", "gridbot_handler_seconds", "gridbot_database_up"} <= names
