"""The console dashboard: the assessment indicators per area, any period, the trend, the
worst grids; a day's figures equal that day's digest; scoped to the viewer's area."""

from __future__ import annotations

import re

import pytest

from app.db import unit_of_work
from app.domain.digest import duration_text
from app.services.digest import digests
from app.services.directory.grids import area_by_code
from models import Ticket, TicketEvent, utcnow
from tests.consolekit import sign_in
from tests.digestkit import DAY, TZ, load_week, local

ONE_DAY = f"/console/dashboard?from={DAY}&to={DAY}"


@pytest.fixture
def week(demo_sessions):
    load_week(demo_sessions)
    with unit_of_work(demo_sessions) as s:
        # Deadlines for 结案率: #3 done in time, #5 done late and reopened, #7 not done.
        for number, due, resolved in (
            (3, "11-20 18:00", "11-20 10:00"),
            (5, "11-20 13:00", "11-20 15:00"),
            (7, "11-20 10:30", None),
            (4, "11-21 08:30", None),
        ):
            t = s.get(Ticket, number)
            t.resolve_due_at = local(due)
            t.resolved_at = local(resolved) if resolved else None
        s.add(
            TicketEvent(
                ticket_id=4,
                at=local("11-20 12:00"),
                action="approve_extension",
                actor_openid="lead-1",
                actor_role="community_lead",
                from_status="claimed",
                to_status="claimed",
            )
        )
    return demo_sessions


def row(page: str, code: str) -> list[str]:
    """The dashboard row of area `code`, as the cells' visible text."""
    found = re.search(rf'<tr[^>]*data-area="{code}">(.*?)</tr>', page, re.S)
    assert found, f"no row for {code}"
    cells = re.findall(r"<td>(.*?)</td>", found.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]


def test_a_days_dashboard_shows_that_days_digest_figures(client, week):
    sign_in(client, week, "supervisor")
    page = client.get(ONE_DAY).text
    with week() as s:
        d = digests.compute(s, area_by_code(s, "310199"), DAY, now=utcnow(), tz=TZ)
    name, new, close, on_time, rework, extension, claim_share, claim_med, resolve_med = row(
        page, "310199"
    )[:9]
    open_now, overdue_now = row(page, "310199")[9:]
    assert name == "示范区（合计）"
    assert new == str(d.new) == "6"
    claimed = d.claimed_in_time
    assert claim_share == f"{claimed.percent}% {claimed.hits}/{claimed.of}" == "75% 3/4"
    assert claim_med == duration_text(d.median_claim_minutes) == "35分钟"
    assert resolve_med == duration_text(d.median_resolve_minutes)
    assert rework == f"50% {d.reopened}/{d.resolved}"
    assert (open_now, overdue_now) == (str(d.open_now), str(d.overdue_now))
    # Due to close on the 20th: #3 (done in time), #5 (reopened), #7 (not done).
    assert close == "33% 1/3" and on_time == "33% 1/3"
    # One extension approved on the 20th, six tickets filed.
    assert extension == "17% 1/6"
    # Each street under the district has its own row.
    assert row(page, "310199001")[0] == "枫林街道"
    for words in ("结案数 ÷ 应结案数", "返工数 ÷ 办结数", "延期数 ÷ 新增数", "与日报相同"):
        assert words in page


def test_a_community_lead_sees_their_community_and_its_grids_only(client, week):
    sign_in(client, week, "lead-1")
    page = client.get(ONE_DAY).text
    assert row(page, "310199001001")[0] == "枫苑社区（合计）"
    assert row(page, "31019900100101")[0] == "枫苑一网格"
    assert 'data-area="310199"' not in page and "湖畔一网格" not in page
    # The worst grids are the community's: 枫苑一 has two overdue claims, 枫苑二 one.
    worst = re.search(r'<table class="tickets worst">(.*?)</table>', page, re.S).group(1)
    assert worst.index("枫苑一网格") < worst.index("枫苑二网格")


def test_the_trend_covers_thirty_days_and_any_period_can_be_asked(client, week):
    sign_in(client, week, "supervisor")
    page = client.get(ONE_DAY).text
    assert "<svg" in page and "<polyline" in page and "近30天趋势" in page
    days = re.findall(r"<tr><td>(\d\d-\d\d)</td><td>(\d+)</td><td>(\d+)</td></tr>", page)
    assert len(days) == 30 and days[-1] == ("11-20", "6", "2") and days[0][0] == "10-22"
    two_days = client.get("/console/dashboard?from=2026-11-19&to=2026-11-20").text
    assert "2026-11-19 至 2026-11-20" in two_days and row(two_days, "310199")[1] == "7"
    for preset in ("today", "yesterday", "7d", "30d", "month"):
        assert client.get(f"/console/dashboard?period={preset}").status_code == 200


def test_a_bad_period_is_explained_and_the_last_seven_days_shown(client, week):
    sign_in(client, week, "supervisor")
    bad = client.get("/console/dashboard?from=20261120&to=x")
    assert bad.status_code == 200 and "日期格式应为 2026-11-20，已显示近7天" in bad.text
    future = client.get("/console/dashboard?from=2026-01-01&to=2099-01-01").text
    assert "时间段须在今天之前、不超过一年" in future


def test_the_dashboard_is_refused_without_a_lead_session(client, week):
    answer = client.get("/console/dashboard", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/signin"
    client.cookies.set("gridbot_console", "forged", path="/console")
    assert client.get("/console/dashboard", follow_redirects=False).status_code == 303
