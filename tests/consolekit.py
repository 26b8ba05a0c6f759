"""Drive the console over HTTP as a browser would: sign in by link, read pages, post forms.

Loaded as a pytest plugin (tests/conftest.py), so its `client` fixture serves every test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from app.db import unit_of_work
from app.services.directory import console_access
from app.settings import Settings
from app.web.main import create_app
from models import Staff, utcnow

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def client(demo_sessions, db_url, tmp_path) -> Iterator[TestClient]:
    """The app over HTTP on the demo district (sandbox channel, no background jobs), with
    no one signed in yet."""
    settings = Settings(database_url=db_url, data_dir=tmp_path, channel="sandbox")
    with TestClient(create_app(settings, run_jobs=False)) as client:
        yield client


def link_for(sessions, openid: str, *, now=None) -> str:
    """A one-time sign-in path for the staff member bound to `openid`."""
    with unit_of_work(sessions) as s:
        staff = s.query(Staff).filter_by(openid=openid).one()
        token = console_access.issue_link(s, staff, now=now or utcnow())
    return console_access.LINK_PATH + token


def path_of(url: str) -> str:
    return urlsplit(url).path


def sign_in(client: TestClient, sessions, openid: str) -> str:
    """Sign `client` in as `openid`; the session's form token (csrf)."""
    link = link_for(sessions, openid)
    assert "进入控制台" in client.get(link).text
    answer = client.post(link, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return csrf_of(client)


def csrf_of(client: TestClient) -> str:
    page = client.get("/console/tickets")
    assert page.status_code == 200, page.text
    return CSRF.search(page.text).group(1)


def act(client: TestClient, number: int, csrf: str, action: str, **fields):
    return client.post(
        f"/console/tickets/{number}/act",
        data={"csrf": csrf, "action": action, **fields},
        follow_redirects=True,
    )


def row_of(page: str, number: int) -> str:
    """The visible text of ticket `number`'s row in the list."""
    found = re.search(rf'<tr[^>]*data-n="{number}">(.*?)</tr>', page, re.S)
    assert found, f"no row for #{number}"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def local(value: datetime) -> str:
    """A time as the console shows it (the demo's Asia/Shanghai)."""
    return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%m-%d %H:%M")
