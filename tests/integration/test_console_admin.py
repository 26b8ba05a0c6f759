"""Console administration (district supervisors only): areas and staff, invites with a
code and its QR image, deactivation, dead notices and their retry, the policy in force;
refused to leads, workers and browsers without a session."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from models import OutboxMessage, Staff, utcnow
from tests.chatkit import FENGYUAN_1, Chat
from tests.consolekit import sign_in

PAGES = ("/console/admin/", "/console/admin/outbox", "/console/admin/policy")


@pytest.fixture
def chat(demo_sessions):
    return Chat(demo_sessions, utcnow)


def staff_id(sessions, openid: str) -> int:
    with sessions() as s:
        return s.scalars(select(Staff.id).where(Staff.openid == openid)).one()


def test_the_supervisor_invites_a_worker_who_binds_in_chat(client, chat, demo_sessions):
    csrf = sign_in(client, demo_sessions, "supervisor")
    page = client.get("/console/admin/").text
    assert "枫苑一网格" in page and "张伟 · 网格员" in page and "管理" in page
    made = client.post(
        "/console/admin/invite",
        data={"csrf": csrf, "role": "grid_worker", "area": "31019900100101", "name": "李新"},
    )
    assert made.status_code == 200
    code = re.search(r'<strong class="code">([A-Z0-9]{8})</strong>', made.text).group(1)
    assert f"发送「<strong>绑定 {code}</strong>」，即成为枫苑一网格的网格员" in made.text
    assert "<svg" in made.text  # the QR image of the same words
    assert "李新" in chat.text("new-worker", f"绑定 {code}")
    assert "李新 · 网格员" in client.get("/console/admin/").text


def test_an_invite_outside_the_area_or_without_a_role_is_explained(client, demo_sessions):
    csrf = sign_in(client, demo_sessions, "supervisor")
    form = {"csrf": csrf, "role": "grid_worker", "area": "999999"}
    answer = client.post("/console/admin/invite", data=form)
    assert answer.status_code == 400 and "区域 999999 不在您管理的范围内" in answer.text
    answer = client.post("/console/admin/invite", data={**form, "role": "boss"})
    assert answer.status_code == 400 and "请选择角色和区域" in answer.text


def test_a_deactivated_lead_loses_chat_and_console_at_once(client, chat, demo_sessions):
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    chat.text("rider-1", "路口积水很深")  # #1, held by 张伟 (worker-1)
    lead = TestClient(client.app)
    sign_in(lead, demo_sessions, "lead-1")
    csrf = sign_in(client, demo_sessions, "supervisor")
    for openid in ("lead-1", "worker-1"):
        target = staff_id(demo_sessions, openid)
        answer = client.post(f"/console/admin/staff/{target}/deactivate", data={"csrf": csrf})
        assert answer.status_code == 200
    assert (
        "已停用张伟，其控制台登录已失效。其名下还有 1 件未办结工单，请在工单页转派" in answer.text
    )
    assert lead.get("/console/tickets", follow_redirects=False).status_code == 303
    assert "认领" not in chat.text("worker-1", "我的工单")
    again = client.post(f"/console/admin/staff/{target}/deactivate", data={"csrf": csrf})
    assert again.status_code == 400 and "张伟已经停用" in again.text
    me = staff_id(demo_sessions, "supervisor")
    mine = client.post(f"/console/admin/staff/{me}/deactivate", data={"csrf": csrf})
    assert mine.status_code == 400 and "不能停用自己" in mine.text


def test_dead_notices_are_listed_and_queued_again(client, chat, demo_sessions):
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    chat.text("rider-1", "路口积水很深")
    with demo_sessions() as s, s.begin():
        notice = s.scalars(select(OutboxMessage).where(OutboxMessage.to_openid == "worker-1")).one()
        notice.status, notice.last_error = "dead", "45015 window closed"
    csrf = sign_in(client, demo_sessions, "supervisor")
    page = client.get("/console/admin/outbox").text
    assert "张伟" in page and "#1" in page and "45015 window closed" in page
    answer = client.post("/console/admin/outbox/retry", data={"csrf": csrf, "ids": [notice.id]})
    assert "已重新排队 1 条通知，稍后发送" in answer.text
    assert "没有发送失败的通知" in answer.text
    with demo_sessions() as s:
        assert s.get(OutboxMessage, notice.id).status == "pending"


def test_the_policy_in_force_is_shown_read_only(client, demo_sessions):
    sign_in(client, demo_sessions, "supervisor")
    page = client.get("/console/admin/policy").text
    assert "道路积水" in page and "认领时限" in page and "工作时间" in page
    # The shipped policy's figures for flooding, not just the table's headings.
    flooding = re.search(r"<tr><td>道路积水</td>(.*?)</tr>", page, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", flooding)
    assert cells[:5] == ["自然时间", "15分钟", "4小时", "10分钟", "2小时"], cells
    assert "<form" not in page.split("</header>")[1]


def test_administration_is_refused_to_leads_and_without_a_session(client, demo_sessions):
    for path in PAGES:
        assert client.get(path, follow_redirects=False).status_code == 303
    assert client.post("/console/admin/invite", follow_redirects=False).status_code == 303
    csrf = sign_in(client, demo_sessions, "street-1")
    assert 'href="/console/admin/"' not in client.get("/console/tickets").text
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 403 and "只对区级督办（城运中心）开放" in answer.text
    target = staff_id(demo_sessions, "worker-1")
    posts = [
        ("/console/admin/invite", {"role": "grid_worker", "area": "31019900100101"}),
        (f"/console/admin/staff/{target}/deactivate", {}),
        ("/console/admin/outbox/retry", {}),
    ]
    for path, form in posts:
        assert client.post(path, data={"csrf": csrf, **form}).status_code == 403
        assert client.post(path, data={"csrf": "forged", **form}).status_code == 403
    with demo_sessions() as s:
        assert s.scalars(select(Staff.active).where(Staff.id == target)).one()


def test_dead_notices_and_staff_say_who_they_are_for(client, chat, demo_sessions):
    """A dead notice names its recipient as a supervisor knows them (the worker, the
    reporter), and a person bound on WeCom shows their userid."""
    from tests.consolekit import row_of

    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    chat.text("rider-1", "路口积水很深")
    chat.text("worker-1", "认领 1")  # the rider is told
    with demo_sessions() as s, s.begin():
        for notice in s.scalars(select(OutboxMessage)):
            notice.status = "dead"
        s.scalars(select(Staff).where(Staff.openid == "worker-2")).one().wecom_userid = "wangfang"
    sign_in(client, demo_sessions, "supervisor")
    page = client.get("/console/admin/outbox").text
    with demo_sessions() as s:
        to = dict(s.execute(select(OutboxMessage.to_openid, OutboxMessage.id)).tuples().all())
    assert row_of(page, to["worker-1"]).split()[0] == "张伟"
    assert row_of(page, to["rider-1"]).split()[0] == "上报人"
    staff_page = re.sub(r"<[^>]+>", " ", client.get("/console/admin/").text)
    assert "王芳 · 网格员 企业微信 wangfang" in " ".join(staff_page.split())
