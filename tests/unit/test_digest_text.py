"""The digest's words and its split into WeChat-sized messages; the deadline rule."""

from datetime import UTC, datetime, timedelta

from app.domain.digest import (
    MAX_BYTES,
    MAX_CHARS,
    DigestFigures,
    GridOverdue,
    OverdueTicket,
    RiderActivity,
    Share,
    day_bounds,
    duration_text,
    format_digest,
)
from app.domain.untracked_deadlines import DEFAULT_POLICY
from tests.digestkit import TZ

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def figures(**kw) -> DigestFigures:
    base = dict(
        area_code="310199",
        area_name="示范区",
        day="2026-11-20",
        generated_at="",
        new=6,
        claimed=4,
        resolved=2,
        closed=1,
        reopened=1,
        merged=1,
        escalations=1,
        open_now=7,
        overdue_now=5,
        median_claim_minutes=35.0,
        median_resolve_minutes=480.5,
        claimed_in_time=Share(3, 4),
        resolved_in_time=Share(1, 2),
        by_category={"flooding": 2, "other": 1},
        top_grids=[GridOverdue("31019900100101", "枫苑一网格", 3)],
        overdue=[OverdueTicket(7, "street_light", "东安路", 4200, "王芳")],
        riders=[RiderActivity("骑手R0012", 3)],
    )
    base.update(kw)
    return DigestFigures(**base)


def test_one_message_says_it_all():
    (text,) = format_digest(figures())
    assert text.splitlines()[:6] == [
        "【工单日报】示范区 2026-11-20（周五）",
        "新增 6，认领 4，办结 2，关闭 1",
        "退回 0，不满意重办 1，合并 1，升级 1",
        "当前未结 7，其中超时 5",
        "认领用时中位 35分钟，按时认领 3/4（75%）",
        "办结用时中位 8小时，按时办结 1/2（50%）",
    ]
    assert "新增分类：道路积水 2，其他问题 1" in text
    assert "1. 枫苑一网格（31019900100101）3 件" in text
    assert "#7 路灯故障 东安路，已 2天22小时，王芳" in text
    assert "1. 骑手R0012 3 件" in text


def test_compared_with_the_day_before():
    previous = figures(new=3, resolved=2, open_now=9, overdue_now=5)
    (text,) = format_digest(figures(), previous)
    assert "新增 6（较前日 +3），认领 4，办结 2（较前日 ±0）" in text
    assert "当前未结 7（较前日 -2），其中超时 5（较前日 ±0）" in text


def test_a_long_digest_is_split_at_line_breaks_within_the_limits():
    many = [
        OverdueTicket(n, "flooding", "很长的地名" * 12, 600 + n, "张伟（未认领）")
        for n in range(1, 51)
    ]
    messages = format_digest(figures(overdue=many, overdue_now=50), max_chars=300)
    assert len(messages) > 1
    for i, m in enumerate(messages, 1):
        assert len(m) <= 300 and len(m.encode()) <= MAX_BYTES
        assert f"（{i}/{len(messages)}）" in m.splitlines()[0]
    body = "\n".join(messages)
    assert "……另有 40 件" in body  # only the 10 oldest are listed
    for n in range(1, 11):  # no ticket line is cut in two
        assert sum(f"#{n} 道路积水" in m for m in messages) == 1


def test_default_limits_keep_a_full_digest_under_wechats_cap():
    many = [OverdueTicket(n, "flooding", "地" * 200, 60, "张伟") for n in range(10)]
    for m in format_digest(figures(overdue=many, overdue_now=10)):
        assert len(m) <= MAX_CHARS and len(m.encode()) <= MAX_BYTES


def test_durations_read_naturally():
    assert [duration_text(m) for m in (None, 5, 60, 95, 1440, 1500)] == [
        "—",
        "5分钟",
        "1小时",
        "1小时35分",
        "1天",
        "1天1小时",
    ]


def test_a_shanghai_day_starts_at_16_utc_the_day_before():
    start, end = day_bounds(datetime(2026, 11, 20).date(), TZ)
    assert (start, end) == (
        datetime(2026, 11, 19, 16, 0, tzinfo=UTC),
        datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
    )


def test_urgent_and_normal_deadlines():
    p = DEFAULT_POLICY

    def overdue(category, age, claimed=False, status="assigned"):
        created = T0 - age
        return p.is_overdue(
            status=status,
            category=category,
            created_at=created,
            claimed_at=created if claimed else None,
            now=T0,
        )

    assert not overdue("flooding", timedelta(minutes=15))
    assert overdue("flooding", timedelta(minutes=16))
    assert not overdue("flooding", timedelta(hours=3), claimed=True, status="claimed")
    assert overdue("flooding", timedelta(hours=4, minutes=1), claimed=True, status="claimed")
    assert not overdue("bulky_waste", timedelta(hours=2))
    assert overdue("bulky_waste", timedelta(hours=2, minutes=1))
    assert not overdue("bulky_waste", timedelta(hours=23), claimed=True, status="claimed")
    assert overdue("bulky_waste", timedelta(hours=25), claimed=True, status="reopened")
    assert not overdue("bulky_waste", timedelta(days=9), status="resolved")
    assert not overdue("bulky_waste", timedelta(days=9), status="closed")
    assert overdue("a_future_category", timedelta(hours=3))  # the normal deadline


def test_a_digest_stored_before_rider_numbers_still_reads():
    """Yesterday's stored figures (for 较前日) may name riders by openid: masked as shown then."""
    stored = figures().to_json()
    stored["riders"] = [{"openid": "oRider1234", "reports": 3}]
    assert DigestFigures.from_json(stored).riders == [RiderActivity("骑手…1234", 3)]
