"""Delivering digests: the morning sweep (once per supervisor and day), and 日报 in chat."""

import threading
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.services.digest import digest_delivery
from app.services.digest.digest_chart import render_chart
from app.services.directory import people
from models import Digest, OutboxMessage
from tests.chatkit import Chat
from tests.digestkit import NOW, TZ, load_week

LEADS = ["lead-1", "lead-2", "lead-3", "lead-4", "street-1", "street-2", "supervisor"]
EIGHT = time(8, 0)


@pytest.fixture
def week(demo_sessions):
    load_week(demo_sessions)
    return demo_sessions


def sweep(sessions, now, chart=None):
    return digest_delivery.send_due(sessions, now=now, tz=TZ, send_at=EIGHT, chart=chart)


def owed(sessions, openid=None, kind="digest"):
    with sessions() as s:
        q = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        if openid:
            q = q.where(OutboxMessage.to_openid == openid)
        return list(s.scalars(q))


def digest_rows(sessions):
    with sessions() as s:
        return s.execute(select(Digest.staff_id, Digest.day).order_by(Digest.staff_id)).all()


def test_nothing_before_eight_then_every_lead_once(week):
    assert sweep(week, NOW - timedelta(minutes=1)).sent == 0
    assert owed(week) == []

    first = sweep(week, NOW, chart=render_chart)
    assert (first.day.isoformat(), first.sent) == ("2026-11-20", len(LEADS))
    recipients = {m.to_openid for m in owed(week)}
    assert recipients == set(LEADS)  # grid workers get no digest
    (head, *_) = [m.text for m in owed(week, "supervisor")]
    assert head.startswith("【工单日报】示范区 2026-11-20（周五）")
    assert "新增 6，认领 4，办结 2，关闭 1" in head
    assert "当前未结 7，其中超时 5" in head
    (community,) = [m.text for m in owed(week, "lead-1")][:1]
    assert "枫苑社区" in community and "新增 3" in community
    charts = owed(week, "supervisor", kind="digest_chart")
    assert len(charts) == 1 and charts[0].image[:4] == b"\x89PNG"

    before = len(owed(week))
    again = sweep(week, NOW + timedelta(hours=3))
    assert (again.sent, len(owed(week))) == (0, before)
    assert len(digest_rows(week)) == len(LEADS)


def test_a_lead_bound_after_eight_gets_todays_at_the_next_run(week):
    sweep(week, NOW)
    with unit_of_work(week) as s:
        people.add_staff(
            s, name="新书记", role="community_lead", area_code="310199001001", openid="lead-new"
        )
    result = sweep(week, NOW + timedelta(hours=2))
    assert result.sent == 1
    assert len(owed(week, "lead-new")) >= 1
    assert len(owed(week, "supervisor")) == 1  # nobody else twice


def test_yesterdays_stored_digest_gives_the_comparison(week):
    sweep(week, NOW - timedelta(days=1))  # 11-20 08:00: the digest of 11-19 (1 new)
    sweep(week, NOW)
    texts = [m.text for m in owed(week, "supervisor")]
    assert texts[0].startswith("【工单日报】示范区 2026-11-19")
    assert "新增 6（较前日 +5）" in texts[-1]
    assert "办结 2（较前日 +2）" in texts[-1]


def test_racing_sweeps_send_each_digest_once(week):
    barrier = threading.Barrier(3)
    results = []

    def run():
        barrier.wait()
        results.append(sweep(week, NOW))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(r.sent for r in results) == len(LEADS)
    assert len(digest_rows(week)) == len(LEADS)
    heads: dict[str, int] = {}
    for m in owed(week):
        if m.text.startswith("【工单日报】"):
            heads[m.to_openid] = heads.get(m.to_openid, 0) + 1
    assert heads == dict.fromkeys(LEADS, 1)


class TestChat:
    @pytest.fixture
    def chat(self, week, clock):
        clock.now = NOW
        return Chat(week, clock)

    def test_a_supervisor_asks_for_yesterday(self, chat):
        reply = chat.text("supervisor", "日报")
        assert reply.startswith("【工单日报】示范区 2026-11-20")
        assert "新增 6" in reply
        with chat.sessions() as s:
            chart = s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.to_openid == "supervisor", OutboxMessage.kind == "digest_chart"
                )
            ).one()
        assert chart.image[:4] == b"\x89PNG"

    def test_a_lead_asks_for_a_date(self, chat):
        reply = chat.text("lead-1", "日报 2026-11-19")
        assert reply.startswith("【工单日报】枫苑社区 2026-11-19")
        assert "新增 1" in reply

    def test_workers_are_refused_and_bad_dates_explained(self, chat):
        assert chat.text("worker-1", "日报") == "日报仅供社区、街道和区级负责人查看。"
        assert "格式" in chat.text("supervisor", "日报 昨天")
        assert "还没到" in chat.text("supervisor", "日报 2026-12-01")


def test_the_sender_delivers_the_chart_as_an_image(week, tmp_path):
    from app.delivery.outbox_sender import OutboxSender
    from bot.channels import SandboxChannel

    sweep(week, NOW, chart=render_chart)
    channel = SandboxChannel(week, tmp_path / "sandbox")
    assert OutboxSender(week, channel, clock=lambda: NOW).drain().failed == 0
    texts = [m.text for m in channel.messages_to("supervisor")]
    assert texts[0].startswith("【工单日报】示范区 2026-11-20")
    (image,) = [t for t in texts if t.startswith("[图片] ")]
    path = image.removeprefix("[图片] ")
    with open(path, "rb") as f:
        assert f.read(4) == b"\x89PNG"


def test_digest_time_off_sends_no_scheduled_digest(week):
    from app.settings import Settings

    with pytest.raises(ValueError, match="08:00"):
        Settings(database_url="sqlite://", digest_time="8点")
    off = Settings(database_url="sqlite://", digest_time="off")
    assert digest_delivery.daily_sweep(week, off, now=NOW + timedelta(hours=3)).sent == 0
    assert owed(week) == []
    on = Settings(database_url="sqlite://", digest_time="08:00", timezone="Asia/Shanghai")
    assert digest_delivery.daily_sweep(week, on, now=NOW + timedelta(hours=3)).sent == len(LEADS)
