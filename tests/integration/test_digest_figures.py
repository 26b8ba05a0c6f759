"""Every digest figure against the hand count in tests/digestkit.py, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest

from app.services.digest import digests
from app.services.directory.grids import area_by_code
from tests.digestkit import DAY, NOW, TZ, load_week


@pytest.fixture
def week(demo_sessions):
    load_week(demo_sessions)
    return demo_sessions


def _digest(sessions, code, day=DAY, now=NOW):
    with sessions() as s:
        return digests.compute(s, area_by_code(s, code), day, now=now, tz=TZ)


def _number(sessions, openid: str) -> str:
    """How the digest names a rider: by rider number, not by openid."""
    from models import Rider

    with sessions() as s:
        return f"骑手R{s.query(Rider.id).filter_by(openid=openid).scalar():04d}"


def test_district_digest_matches_the_hand_count(week):
    f = _digest(week, "310199")
    assert (f.area_code, f.area_name, f.day) == ("310199", "示范区", "2026-11-20")
    # #1 at 23:59 local counts on the 20th; #2 at 00:01 on the 21st and #3 at 23:59 on
    # the 19th do not.
    assert f.new == 6
    assert f.by_category == {
        "flooding": 1,
        "road_damage": 1,
        "manhole_cover": 1,
        "other": 1,
        "traffic_signal": 1,
        "bulky_waste": 1,
    }
    # #3's claim at 00:01 local belongs to the 20th; #5's progress note is not a claim.
    assert f.claimed == 4
    assert (f.resolved, f.closed, f.reopened, f.merged, f.escalations, f.rejected) == (
        2,
        1,
        1,
        1,
        1,
        0,
    )
    # Claims took 2, 150, 10 and 60 minutes; #4 missed its 2-hour deadline.
    assert f.median_claim_minutes == 35.0
    assert (f.claimed_in_time.hits, f.claimed_in_time.of) == (3, 4)
    # Resolves took 601 (#3, normal: in time) and 360 minutes (#5, urgent: late).
    assert f.median_resolve_minutes == 480.5
    assert (f.resolved_in_time.hits, f.resolved_in_time.of) == (1, 2)

    assert (f.open_now, f.overdue_now) == (7, 5)
    assert [(g.code, g.name, g.overdue) for g in f.top_grids] == [
        ("31019900100101", "枫苑一网格", 3),
        ("31019900100102", "枫苑二网格", 1),
        ("31019900200101", "湖畔一网格", 1),
    ]
    assert [(t.number, t.category, t.place, t.age_minutes, t.holder) for t in f.overdue] == [
        (7, "street_light", "地点7", 2 * 1440 + 22 * 60, "王芳"),
        (5, "manhole_cover", "地点5", 23 * 60, "周婷"),
        (6, "other", "地点6", 12 * 60, "张伟（未认领）"),
        (1, "flooding", "地点1", 8 * 60 + 1, "张伟（未认领）"),
        (2, "flooding", "地点2", 7 * 60 + 59, "张伟（未认领）"),
    ]
    assert [(r.rider, r.reports) for r in f.riders] == [
        (_number(week, "rider-a"), 3),
        (_number(week, "rider-b"), 2),
        (_number(week, "rider-c"), 1),
    ]
    assert [(d.day, d.new, d.resolved) for d in f.trend] == [
        ("2026-11-14", 0, 0),
        ("2026-11-15", 0, 0),
        ("2026-11-16", 0, 0),
        ("2026-11-17", 0, 0),
        ("2026-11-18", 1, 0),
        ("2026-11-19", 1, 0),
        ("2026-11-20", 6, 2),
    ]


def test_a_community_digest_sees_only_its_own_grids(week):
    f = _digest(week, "310199001001")  # 枫苑社区: grids 0101-0104 hold #1, 2, 3, 6, 7, 8
    assert f.new == 3  # 1, 6, 8
    assert f.by_category == {"flooding": 1, "other": 1, "traffic_signal": 1}
    assert (f.claimed, f.resolved, f.closed, f.reopened, f.merged, f.escalations) == (
        2,
        1,
        1,
        0,
        0,
        1,
    )
    assert (f.open_now, f.overdue_now) == (5, 4)  # 1, 2, 6, 7 overdue; 8 not
    assert [r.rider for r in f.riders] == [
        _number(week, "rider-a"),
        _number(week, "rider-b"),
        _number(week, "rider-c"),
    ]
    assert [t.number for t in f.overdue] == [7, 6, 1, 2]


def test_the_day_before_in_shanghai_is_not_the_day_before_in_utc(week):
    # 11-19 local is 11-18 16:00 .. 11-19 16:00 UTC: #3 (11-19 15:59 UTC) is in it.
    f = _digest(week, "310199", day=DAY - timedelta(days=1))
    assert f.new == 1
    assert f.by_category == {"bulky_waste": 1}
    assert (f.claimed, f.resolved, f.closed) == (0, 0, 0)
    # 11-21: only #2, filed at 00:01 local (11-20 16:01 UTC).
    assert _digest(week, "310199", day=DAY + timedelta(days=1)).new == 1


def test_overdue_moves_with_now(week):
    # At 11-20 09:05 local only #7 is late (by 23 h); #5 was filed 5 minutes ago, and
    # tickets filed later that day are not late yet.
    early = _digest(week, "310199", now=NOW - timedelta(hours=22, minutes=55))
    assert early.overdue_now == 1
    assert [t.number for t in early.overdue] == [7]


def test_the_digest_reads_each_tickets_own_deadlines_and_counts_rejections(demo_sessions, clock):
    """Tickets filed through chat carry the escalation policy's deadlines: an approved
    extension is honoured, and a send-back the lead confirms counts as rejected."""
    from tests.chatkit import FENGYUAN_1, NANYUAN_4, Chat

    chat = Chat(demo_sessions, clock)
    filed = clock.now
    chat.text("rider-1", "路口积水很深")  # flooding: claim within 15 minutes
    chat.location("rider-1", FENGYUAN_1)
    chat.text("rider-2", "这里有个废弃沙发")
    chat.location("rider-2", NANYUAN_4)
    chat.text("worker-16", "退回 2 现场没有沙发，系误报")
    chat.text("lead-4", "同意 2")
    day = filed.astimezone(TZ).date()

    f = _digest(demo_sessions, "310199", day=day, now=filed + timedelta(minutes=10))
    assert (f.open_now, f.overdue_now, f.rejected) == (1, 0, 1)
    f = _digest(demo_sessions, "310199", day=day, now=filed + timedelta(minutes=16))
    assert f.overdue_now == 1
    assert [t.number for t in f.overdue] == [1]


def test_in_time_means_by_the_tickets_own_deadlines(demo_sessions, clock):
    """The digest's 按时认领 judges a claim by the deadline the worker was given (the
    escalation policy: a fallen tree 30 minutes, a pile of old furniture 240 working
    minutes), as the worker's notice and the dashboard do, not by a fixed table."""
    from tests.chatkit import FENGYUAN_1, Chat

    chat = Chat(demo_sessions, clock)
    chat.text("rider-1", "路边一棵树倒了")
    assert "已受理" in chat.location("rider-1", FENGYUAN_1, "枫林路口")
    tree = chat.ticket(1)
    assert tree.category == "fallen_tree"
    assert tree.claim_due_at - tree.created_at == timedelta(minutes=30)
    clock.advance(minutes=20)
    assert "已认领" in chat.text("worker-1", "认领 1")

    chat.text("rider-2", "楼道口堆了很多旧家具")
    assert "已受理" in chat.location("rider-2", FENGYUAN_1, "3号楼")
    assert chat.ticket(2).category == "bulky_waste"
    clock.advance(hours=3)  # 13:20 local, within 240 working minutes of 10:20
    assert "已认领" in chat.text("worker-1", "认领 2")

    f = _digest(demo_sessions, "310199", day=DAY, now=clock.now)
    assert (f.claimed_in_time.hits, f.claimed_in_time.of) == (2, 2)
