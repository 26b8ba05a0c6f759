"""A hand-made week of tickets in the demo district, and the digest figures counted by hand.

Times are Asia/Shanghai (UTC+8). The digest day is 2026-11-20; "now" is 2026-11-21 08:00.

 #  category        grid            filed          what happened (local time)                   now
 1  flooding        枫苑一 0101     11-20 23:59    -                                             assigned, overdue (claim)
 2  flooding        枫苑一 0101     11-21 00:01    - (the next day: not new on the 20th)         assigned, overdue (claim)
 3  bulky_waste     枫苑二 0102     11-19 23:59    claim 11-20 00:01, resolve 10:00, close 12:00 closed
 4  road_damage     林荫一 0201     11-20 08:30    claim 11:00 (late: 2 h 30 > 2 h)              claimed, not overdue (23 h 30 < 24 h)
 5  manhole_cover   湖畔一 200101   11-20 09:00    claim 09:10, resolve 15:00 (late), reopen 16:00 reopened, overdue (resolve)
 6  other           枫苑一 0101     11-20 20:00    escalate 22:30                                assigned, overdue (claim)
 7  street_light    枫苑二 0102     11-18 10:00    claim 11-18 10:30                             claimed, overdue (resolve)
 8  traffic_signal  枫苑三 0103     11-20 22:00    claim 23:00                                   claimed, not overdue
 9  bulky_waste     湖畔一 200101   11-20 10:00    merge 10:30                                   closed

Reporters: rider-a filed 1, 4, 9 on the 20th; rider-b 5, 6; rider-c 8 (and 2, 3 on other days).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.db import unit_of_work
from models import Area, Rider, Staff, Ticket, TicketEvent

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 20)


def local(text: str) -> datetime:
    """'11-20 23:59' -> that instant in Asia/Shanghai, 2026."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


NOW = local("11-21 08:00")

# (number, category, grid, filed, reporter, [(action, from, to, at)], final status)
TICKETS = [
    (1, "flooding", "31019900100101", "11-20 23:59", "rider-a", [], "assigned"),
    (2, "flooding", "31019900100101", "11-21 00:01", "rider-c", [], "assigned"),
    (
        3,
        "bulky_waste",
        "31019900100102",
        "11-19 23:59",
        "rider-c",
        [
            ("claim", "assigned", "claimed", "11-20 00:01"),
            ("resolve", "claimed", "resolved", "11-20 10:00"),
            ("confirm", "resolved", "closed", "11-20 12:00"),
        ],
        "closed",
    ),
    (
        4,
        "road_damage",
        "31019900100201",
        "11-20 08:30",
        "rider-a",
        [("claim", "assigned", "claimed", "11-20 11:00")],
        "claimed",
    ),
    (
        5,
        "manhole_cover",
        "31019900200101",
        "11-20 09:00",
        "rider-b",
        [
            ("claim", "assigned", "claimed", "11-20 09:10"),
            ("note", "claimed", "claimed", "11-20 09:30"),
            ("resolve", "claimed", "resolved", "11-20 15:00"),
            ("reopen", "resolved", "reopened", "11-20 16:00"),
        ],
        "reopened",
    ),
    (
        6,
        "other",
        "31019900100101",
        "11-20 20:00",
        "rider-b",
        [("escalate", "assigned", "assigned", "11-20 22:30")],
        "assigned",
    ),
    (
        7,
        "street_light",
        "31019900100102",
        "11-18 10:00",
        "rider-c",
        [("claim", "assigned", "claimed", "11-18 10:30")],
        "claimed",
    ),
    (
        8,
        "traffic_signal",
        "31019900100103",
        "11-20 22:00",
        "rider-c",
        [("claim", "assigned", "claimed", "11-20 23:00")],
        "claimed",
    ),
    (
        9,
        "bulky_waste",
        "31019900200101",
        "11-20 10:00",
        "rider-a",
        [("merge", "assigned", "closed", "11-20 10:30")],
        "closed",
    ),
]


def load_week(sessions) -> None:
    with unit_of_work(sessions) as s:
        riders = {}
        for openid in ("rider-a", "rider-b", "rider-c"):
            riders[openid] = Rider(openid=openid, created_at=local("11-01 00:00"))
            riders[openid].last_seen_at = riders[openid].created_at
            s.add(riders[openid])
        s.flush()
        for number, category, grid_code, filed, reporter, events, status in TICKETS:
            grid = s.scalars(select(Area).where(Area.code == grid_code)).one()
            worker = s.scalars(select(Staff).where(Staff.area_id == grid.id)).one()
            created = local(filed)
            claims = [local(at) for action, _, to, at in events if to == "claimed"]
            t = Ticket(
                id=number,
                status=status,
                category=category,
                description="",
                lat=31.2,
                lng=121.44,
                place=f"地点{number}",
                grid=grid,
                area=grid,
                assignee=worker,
                reporter=riders[reporter],
                created_at=created,
                updated_at=created,
                claimed_at=claims[0] if claims else None,
            )
            s.add(t)
            s.flush()
            s.add(
                TicketEvent(
                    ticket_id=number,
                    at=created,
                    action="create",
                    actor_openid=reporter,
                    actor_role="rider",
                    from_status=None,
                    to_status="assigned",
                )
            )
            for action, before, after, at in events:
                s.add(
                    TicketEvent(
                        ticket_id=number,
                        at=local(at),
                        action=action,
                        actor_openid=worker.openid,
                        actor_role="grid_worker",
                        from_status=before,
                        to_status=after,
                    )
                )
