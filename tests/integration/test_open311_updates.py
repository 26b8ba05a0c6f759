"""mySociety's service request updates: the feed of what happened to tickets, and updates
an outside platform posts (as an actor of its own, through the one ticket-changing call)."""

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.services.directory import api_keys
from models import TicketEvent, utcnow
from tests.chatkit import FENGYUAN_1, Chat
from tests.conftest import Clock
from tests.open311kit import Open311


@pytest.fixture
def key(demo_sessions):
    with unit_of_work(demo_sessions) as s:
        return api_keys.create(s, name="12345热线", scope="write", now=utcnow())[1]


@pytest.fixture
def chat(demo_sessions):
    chat = Chat(demo_sessions, Clock(utcnow()))
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    return chat


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_platform_notes_resolves_and_the_rider_hears_it_by_the_platforms_name(
    client, key, chat, demo_sessions, fmt
):
    chat.text("worker-1", "认领 1")
    api = Open311(client, fmt, api_key=key)
    status, (posted,) = api.post_update(
        service_request_id="1", status="IN_PROGRESS", description="已派排水车前往"
    )
    assert status == 200 and posted["update_id"]
    assert chat.notices_to("rider-1")[-1] == "工单 #1 进展（12345热线）：已派排水车前往"
    assert chat.ticket(1).assignee.openid == "worker-1"  # the holder keeps it

    status, _ = api.post_update(service_request_id="1", status="FIXED", description="积水已排除")
    assert status == 200
    assert "已由12345热线办结：积水已排除" in chat.notices_to("rider-1")[-1]
    assert api.request("1")[1][0]["status"] == "closed"

    status, feed = api.updates()
    assert status == 200
    assert [(u["service_request_id"], u["status"]) for u in feed] == [
        ("1", "IN_PROGRESS"),  # 张伟 claimed it
        ("1", "IN_PROGRESS"),
        ("1", "FIXED"),
    ]
    assert feed[-1]["description"] == "已办结待确认：积水已排除"
    assert feed[1]["update_id"] == posted["update_id"]
    with demo_sessions() as s:
        roles = list(s.scalars(select(TicketEvent.actor_role).order_by(TicketEvent.id)))
    assert roles == ["rider", "grid_worker", "api_client", "api_client"]


def test_closing_statuses_resolve_then_close_and_reopen_works_on_resolved(client, key, chat):
    api = Open311(client, api_key=key)
    assert api.post_update(service_request_id="1", status="REOPEN")[0] == 409
    status, _ = api.post_update(
        service_request_id="1", status="NOT_COUNCILS_RESPONSIBILITY", description="属燃气公司"
    )
    assert status == 200 and chat.ticket(1).status == "resolved"
    assert "非本单位职责：属燃气公司" in chat.notices_to("rider-1")[-1]
    assert api.post_update(service_request_id="1", status="REOPEN")[0] == 200
    assert chat.ticket(1).status == "reopened"
    assert api.post_update(service_request_id="1", status="CLOSED")[0] == 200
    assert api.post_update(service_request_id="1", status="CLOSED")[0] == 200
    assert chat.ticket(1).status == "closed"
    status, errors = api.post_update(service_request_id="1", status="FIXED")
    assert status == 409 and "已关闭" in errors[0]["description"]
    assert [u["status"] for u in api.updates()[1]][-4:] == [
        "FIXED",
        "REOPEN",
        "FIXED",
        "CLOSED",
    ]


def test_bad_updates_are_refused_with_the_right_status(client, key, chat, demo_sessions):
    api = Open311(client, api_key=key)
    assert api.post_update(service_request_id="1", status="DONE")[0] == 400
    assert api.post_update(service_request_id="1", status="IN_PROGRESS")[0] == 400
    assert api.post_update(service_request_id="77", status="FIXED")[0] == 404
    assert api.post_update(status="FIXED")[0] == 400
    with unit_of_work(demo_sessions) as s:
        reader = api_keys.create(s, name="只读", scope="read", now=utcnow())[1]
    assert (
        Open311(client, api_key=reader).post_update(service_request_id="1", status="FIXED")[0]
        == 403
    )
    assert Open311(client).updates()[0] == 403
    assert api.updates(start_date="yesterday")[0] == 400
    assert chat.ticket(1).status == "assigned"


def test_the_feed_names_transfers_and_duplicates(client, key, chat):
    chat.text("rider-2", "这里积水")
    chat.location("rider-2", FENGYUAN_1, "枫林路口")
    chat.text("worker-1", "转派 1 31019900100102")
    status, feed = Open311(client, "xml", api_key=key).updates()
    assert status == 200
    assert [(u["service_request_id"], u["status"]) for u in feed] == [
        ("2", "DUPLICATE"),
        ("1", "INTERNAL_REFERRAL"),
    ]


def test_a_report_sent_back_as_not_valid_closes_as_no_further_action_not_as_not_ours(
    client, key, chat
):
    # 退回 split in two: "not valid" is closed by the level above (nothing to do), "not
    # ours" is passed on to whoever it belongs to (a referral, never a closure).
    assert "等待马书记确认" in chat.text("worker-1", "退回 1 无效 现场无积水，系误报")
    assert "已确认退回" in chat.text("lead-1", "同意 1")
    chat.text("rider-2", "枫林路口小区门口积水")
    chat.location("rider-2", FENGYUAN_1, "枫林路口")
    chat.text("worker-1", "退回 2 转办 属于小区物业内部管网")
    api = Open311(client, api_key=key)
    feed = [(u["service_request_id"], u["status"]) for u in api.updates()[1]]
    assert ("1", "NO_FURTHER_ACTION") in feed
    assert ("1", "NOT_COUNCILS_RESPONSIBILITY") not in feed
    assert ("2", "INTERNAL_REFERRAL") in feed
    assert api.request("1")[1][0]["status"] == "closed"
    assert api.request("2")[1][0]["status"] == "open"
