"""Issue 15 item 2: a captured request cannot be replayed on another process or after a
restart, and its query string never reaches the access log."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db import unit_of_work
from app.inbox.deliveries import Delivery, record
from models import InboxMessage, SeenDelivery, Ticket
from tests.chatkit import FENGYUAN_1
from tests.e2e.conftest import text_xml
from tests.e2e.server import ServeProcess
from tests.fakewechat import start_fake_wechat


def test_item_02_a_captured_request_is_refused_by_another_instance_and_after_restart(gridbot):
    first, second = gridbot("plain"), gridbot("plain")
    assert "位置" in first.say("rider-1", "路口积水很深")
    assert "已受理" in first.send_location("rider-1", FENGYUAN_1)
    captured = first.sim.text("worker-9", "我的工单")
    assert first.post(captured).status_code == 200

    # The query string, logged or sniffed, with a body of the attacker's choosing.
    forged = text_xml("worker-1", "认领 1", msg_id=5555555555555555).encode()
    for bot in (second, first):
        answer = bot.http.post("/wechat", params=captured.params, content=forged)
        assert answer.status_code == 403, answer.text
    assert second.post(captured).status_code == 403  # byte for byte, on another process

    first.stop()  # a restart forgets everything in memory
    restarted = gridbot("plain")
    assert restarted.http.post("/wechat", params=captured.params, content=forged).status_code == 403
    assert restarted.count(InboxMessage, InboxMessage.body == "认领 1") == 0
    with restarted.sessions() as s:
        assert s.scalar(select(Ticket.status)) == "assigned"  # nobody claimed it

    # WeChat's own retry (fresh timestamp and nonce) still gets its stored answer.
    assert restarted.post(restarted.sim.resign(captured)).status_code == 200


def test_item_02_seen_deliveries_are_forgotten_once_out_of_the_window(sessions):
    old, new = Delivery(1000, "1", "a" * 40), Delivery(2000, "2", "b" * 40)
    with unit_of_work(sessions) as s:
        assert record(s, {old: "msg:1", new: "msg:2"}) == {old, new}
    with unit_of_work(sessions) as s:
        assert record(s, {old: "msg:1", new: "msg:3"}) == set()
    with unit_of_work(sessions) as s:
        assert record(s, {}, forget_before=1500) == set()
        assert s.scalar(select(func.count()).select_from(SeenDelivery)) == 1


postgres_only = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


@postgres_only
def test_item_02_serve_warns_in_plaintext_mode_and_logs_no_query_strings(
    demo_sessions, db_url, tmp_path
):
    fake = start_fake_wechat()
    serve = ServeProcess(db_url=db_url, api_base=fake.base_url, log_dir=tmp_path).start()
    try:
        req = serve.simulator.text("rider-1", "路口积水很深")
        assert "位置" in serve.post(req)
    finally:
        serve.stop()
        fake.stop()
    log = (tmp_path / "serve-1.log").read_text()
    assert "PLAINTEXT MODE" in log
    assert '"POST /wechat HTTP/1.1" 200' in log
    for secret in ("signature=", "nonce=", "timestamp=", "openid=", req.params["signature"]):
        assert secret not in log
