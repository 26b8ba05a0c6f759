"""The scale data generator other benchmarks build on: consistent tickets, usable database."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.db import make_engine, make_sessionmaker, unit_of_work
from app.domain.tickets import OPEN_STATUSES, Action, apply
from bench.scale_data import generate
from models import Area, Rider, Ticket, TicketEvent

END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_generated_tickets_follow_the_transition_table(db_url):
    stats = generate(db_url, tickets=600, grids=30, open_share=0.2, seed=3, end=END)
    assert stats["tickets"] == 600
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as session:
            tickets = {t.id: t for t in session.scalars(select(Ticket)).unique()}
            events = defaultdict(list)
            for e in session.scalars(select(TicketEvent).order_by(TicketEvent.id)):
                events[e.ticket_id].append(e)
            assert session.scalar(select(func.count(Area.id)).where(Area.level == "grid")) == 30
        assert len(tickets) == 600
        open_count = 0
        for tid, ticket in tickets.items():
            status = None
            for e in events[tid]:
                assert (e.from_status or None) == status
                status = apply(status, Action(e.action)).to_status
                assert END - timedelta(days=366) <= e.at <= END
            assert ticket.status == status
            assert ticket.updated_at == events[tid][-1].at
            assert ticket.assignee is not None and ticket.grid is not None
            open_count += status in OPEN_STATUSES
        # About the asked share of open tickets (a few more: cut short by the year's end).
        assert 0.15 <= open_count / len(tickets) <= 0.3
    finally:
        engine.dispose()


def test_the_app_keeps_working_on_a_generated_database(db_url):
    generate(db_url, tickets=50, grids=5, seed=1, end=END)
    engine = make_engine(db_url)
    try:
        sessions = make_sessionmaker(engine)
        with unit_of_work(sessions) as session:  # ids continue after the generated ones
            rider = Rider(openid="new-rider", created_at=END, last_seen_at=END)
            session.add(rider)
            session.flush()
            grid = session.scalars(select(Area).where(Area.level == "grid")).first()
            ticket = Ticket(
                status="assigned",
                category="other",
                lat=31.0,
                lng=121.2,
                grid=grid,
                area=grid,
                reporter=rider,
                created_at=END,
                updated_at=END,
            )
            session.add(ticket)
            session.flush()
            assert ticket.id > 50
        stats = generate(db_url, tickets=20, grids=5, seed=2, end=END)
        assert stats["tickets"] == 20
        with sessions() as session:
            assert session.scalar(select(func.count(Ticket.id))) == 71
    finally:
        engine.dispose()
