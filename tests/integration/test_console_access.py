"""Console sign-in: one-time links from chat and the CLI, sessions, sign-out, refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.settings import Settings
from app.web.main import create_app
from models import utcnow
from tests.chatkit import FENGYUAN_1, Chat
from tests.consolekit import act, link_for, path_of, sign_in


@pytest.fixture
def chat(demo_sessions):
    # The console checks links and deadlines against the real clock.
    return Chat(demo_sessions, utcnow)


def test_a_lead_asks_in_chat_and_the_link_signs_a_browser_in_once(client, chat):
    answer = chat.text("lead-1", "登录")
    assert "控制台登录链接（10 分钟内有效，只能用一次" in answer
    url = next(line for line in answer.splitlines() if line.startswith("http"))
    assert url.startswith("http://127.0.0.1:8000/console/login/")
    link = path_of(url)
    # Opening the link (or a chat preview fetching it) does not use it up: a button does.
    assert "进入控制台" in client.get(link).text
    entered = client.post(link, follow_redirects=False)
    assert entered.status_code == 303 and entered.headers["location"] == "/console/"
    cookie = entered.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert "枫苑社区" in client.get("/console/tickets").text
    again = TestClient(client.app).post(link)
    assert again.status_code == 403
    assert "已经用过了" in again.text and "再发送一次「登录」获取新链接" in again.text


def test_opening_a_used_or_expired_link_says_how_to_get_a_new_one(client, demo_sessions):
    used = link_for(demo_sessions, "lead-1")
    assert client.post(used, follow_redirects=False).status_code == 303
    expired = link_for(demo_sessions, "lead-1", now=utcnow() - timedelta(minutes=11))
    for link, why in ((used, "已经用过了"), (expired, "已过期（有效期 10 分钟）")):
        page = TestClient(client.app).get(link)
        assert page.status_code == 403
        assert why in page.text and "再发送一次「登录」获取新链接" in page.text
        assert "进入控制台" not in page.text
    unknown = client.get("/console/login/not-a-token")
    assert unknown.status_code == 403 and "这个登录链接无效" in unknown.text


def test_workers_departments_and_riders_are_told_the_console_is_for_leads(chat):
    assert "控制台供社区、街道和区级负责人使用" in chat.text("worker-1", "登录")
    assert "控制台供社区、街道和区级负责人使用" in chat.text("dept-1", "console")
    rider = chat.text("rider-1", "登录")
    assert "控制台供社区、街道和区级负责人使用" in rider and "上报问题" in rider


def test_an_expired_link_is_refused_with_how_to_get_a_new_one(client, demo_sessions):
    link = link_for(demo_sessions, "lead-1", now=utcnow() - timedelta(minutes=11))
    answer = client.post(link)
    assert answer.status_code == 403
    assert "已过期（有效期 10 分钟）" in answer.text and "再发送一次「登录」" in answer.text
    assert client.post("/console/login/not-a-token").status_code == 403


def test_without_a_session_every_console_url_leads_to_the_sign_in_page(client):
    for path in ("/console/", "/console/tickets", "/console/tickets/1", "/console/?status=all"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/signin"
    for data in ("/console/map.json", "/console/grids.json", "/console/pins/1.json"):
        assert client.get(data).status_code == 401, data
    posted = client.post("/console/tickets/1/act", data={"action": "claim"}, follow_redirects=False)
    assert posted.status_code == 303
    page = client.get("/console/signin")
    assert page.status_code == 401 and "发送「<strong>登录</strong>」" in page.text


def test_a_forged_cookie_or_a_worker_session_shows_no_data(client, demo_sessions):
    client.cookies.set("gridbot_console", "forged", path="/console")
    assert client.get("/console/tickets", follow_redirects=False).status_code == 303
    # A lead who signed in and was then made a grid worker loses the console at once.
    sign_in(client, demo_sessions, "lead-1")
    with demo_sessions() as s, s.begin():
        from models import Staff

        s.query(Staff).filter_by(openid="lead-1").one().role = "grid_worker"
    assert client.get("/console/tickets", follow_redirects=False).status_code == 303


def test_a_post_without_the_form_token_is_refused_and_changes_nothing(client, chat, demo_sessions):
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    chat.text("rider-1", "路口积水很深")
    sign_in(client, demo_sessions, "lead-1")
    answer = act(client, 1, "wrong", "claim")
    assert answer.status_code == 403 and "表单已失效" in answer.text
    assert chat.ticket(1).status == "assigned"


def test_console_logout_cli_ends_the_session(client, demo_sessions, db_url, monkeypatch):
    from app.cli import app as cli
    from app.settings import get_settings

    sign_in(client, demo_sessions, "lead-1")
    monkeypatch.setenv("GRIDBOT_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(cli, ["console", "logout", "--openid", "lead-1"])
        assert out.exit_code == 0 and "1 session(s) ended" in out.output
        assert client.get("/console/tickets", follow_redirects=False).status_code == 303
        link = CliRunner().invoke(cli, ["console", "link", "--openid", "lead-1"])
        assert link.exit_code == 0
        last = link.output.strip().splitlines()[-1]
        assert last.startswith("http://127.0.0.1:8000/console/login/")
        assert client.post(path_of(last), follow_redirects=False).status_code == 303
        refused = CliRunner().invoke(cli, ["console", "link", "--openid", "worker-1"])
        assert refused.exit_code == 1 and "网格员请在聊天中处理工单" in refused.output
    finally:
        get_settings.cache_clear()


def test_the_cookie_is_secure_behind_tls(demo_sessions, db_url, tmp_path):
    settings = Settings(
        database_url=db_url, data_dir=tmp_path, channel="sandbox", public_url="https://grid.example"
    )
    with TestClient(create_app(settings, run_jobs=False)) as client:
        entered = client.post(link_for(demo_sessions, "lead-1"), follow_redirects=False)
    assert "secure" in entered.headers["set-cookie"].lower()


def test_the_demo_prints_a_working_sign_in_link_for_the_supervisor(client, demo_sessions):
    from app.cli_console import console_tour

    text = console_tour(demo_sessions, "http://127.0.0.1:8000")
    url = next(w for w in text.split() if "/console/login/" in w)
    assert client.post(path_of(url), follow_redirects=False).status_code == 303
    assert "区城运中心" in client.get("/console/tickets").text
