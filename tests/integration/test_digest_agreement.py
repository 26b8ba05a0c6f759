"""The digest a lead reads: its text and its chart state the same figures for the same day,
and riders appear as something a lead recognises, never as a masked openid."""

from __future__ import annotations

from app.services.digest import digest_delivery
from app.services.directory.grids import area_by_code
from tests.chatkit import FENGYUAN_1, Chat
from tests.digestkit import TZ


def _rendered(sessions, clock, code="310199"):
    with sessions() as s:
        area = area_by_code(s, code)
        day = clock.now.astimezone(TZ).date()
        return digest_delivery.render(s, area, day, now=clock.now, tz=TZ, chart=lambda f: f)


def test_text_and_chart_agree_when_a_ticket_is_resolved_twice_in_a_day(demo_sessions, clock):
    chat = Chat(demo_sessions, clock)
    problems = {"rider-1": "路口积水很深", "rider-2": "楼下有大件垃圾", "rider-3": "路灯不亮"}
    for rider, words in problems.items():  # three problems, none a duplicate of another
        chat.text(rider, words)
        chat.location(rider, FENGYUAN_1, "枫林路口")
        clock.advance(minutes=1)
    for number in (1, 2, 3):
        chat.text("worker-1", f"认领 {number}")
        chat.text("worker-1", f"办结 {number} 积水已排除")
    # The rider of #1 is not satisfied, the worker resolves it again the same day.
    chat.text("rider-1", "不满意 还有积水")
    chat.text("worker-1", "办结 1 已抽干，复查无积水")

    rendered = _rendered(demo_sessions, clock)
    figures, text = rendered.figures, "\n".join(rendered.messages)
    assert "新增 3，认领 3，办结 3" in text
    assert "不满意重办 1" in text
    today = rendered.chart.trend[-1]  # the chart's last point is the digest's day
    assert (today.day, today.new, today.resolved) == (figures.day, 3, 3)


def test_the_most_active_riders_are_named_by_rider_number(demo_sessions, clock):
    chat = Chat(demo_sessions, clock)
    chat.text("oAbCdEf-long-openid-77", "路口积水很深")
    chat.location("oAbCdEf-long-openid-77", FENGYUAN_1)
    with demo_sessions() as s:
        from models import Rider

        rider_id = s.query(Rider.id).filter_by(openid="oAbCdEf-long-openid-77").scalar()
    text = "\n".join(_rendered(demo_sessions, clock).messages)
    assert f"1. 骑手R{rider_id:04d} 1 件" in text
    assert "id-77" not in text and "…" not in text.split("最活跃骑手")[1]
