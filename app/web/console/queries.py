"""What the console reads: tickets in the viewer's area, filtered as the URL says.

Every query here is scoped to an area (the signed-in lead's): a ticket is in scope when
the area it was routed to lies under it, the same rule as the digest's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from urllib.parse import urlencode

from sqlalchemy import Row, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from app.domain.categories import Category
from app.domain.tickets import OPEN_STATUSES, Status
from app.web.console import word_search
from models import Area, Ticket

PAGE_SIZE = 50
COUNT_CAP = 10_000
"""The list counts matching tickets up to this many and then says "more than": an exact
count of a district's million tickets costs a second; the CSV export has them all."""
OPEN = [s.value for s in OPEN_STATUSES]
PERIODS = {"today": "今天", "7d": "近7天", "30d": "近30天", "all": "全部时间"}
SORTS = {"new": "最新上报", "old": "最早上报", "due": "期限最近", "updated": "最近变动"}
STATUS_CHOICES = {"open": "未办结（全部）", "all": "全部状态"} | {
    s.value: s.label for s in Status if s is not Status.MERGED
}


@dataclass(frozen=True)
class Filters:
    """The list's (and the map's) query, as it appears in the URL."""

    status: str = "open"
    category: str = ""
    period: str = "all"
    overdue: bool = False
    grid: str = ""
    q: str = ""
    sort: str = "new"
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Filters:
        """Unknown values fall back to the defaults: a hand-edited URL still shows a list."""
        status = params.get("status", "open")
        category = params.get("category", "")
        period = params.get("period", "all")
        sort = params.get("sort", "new")
        try:
            page = max(1, min(int(params.get("page", "1")), 100_000))
        except ValueError:
            page = 1
        return cls(
            status=status if status in STATUS_CHOICES else "open",
            category=category if category in {c.value for c in Category} else "",
            period=period if period in PERIODS else "all",
            overdue=params.get("overdue", "") in ("1", "on", "true"),
            grid=params.get("grid", "")[:64],
            q=params.get("q", "").strip()[:100],
            sort=sort if sort in SORTS else "new",
            page=page,
        )

    def query_string(self, **changes) -> str:
        """This query with `changes`, defaults left out (short, bookmarkable URLs)."""
        f = replace(self, **changes)
        pairs = {
            "status": f.status if f.status != "open" else "",
            "category": f.category,
            "period": f.period if f.period != "all" else "",
            "overdue": "1" if f.overdue else "",
            "grid": f.grid,
            "q": f.q,
            "sort": f.sort if f.sort != "new" else "",
            "page": str(f.page) if f.page != 1 else "",
        }
        return urlencode({k: v for k, v in pairs.items() if v})


def in_scope(area: Area):
    """Tickets routed to `area` or anywhere under it."""
    return Ticket.area_id.in_(select(Area.id).where(Area.path.startswith(area.path)))


def overdue_condition(now: datetime):
    """Open and past a deadline: unclaimed past the claim deadline, or past the resolve one."""
    return and_(
        Ticket.status.in_(OPEN),
        or_(
            and_(Ticket.claimed_at.is_(None), Ticket.claim_due_at < now),
            Ticket.resolve_due_at < now,
        ),
    )


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    if ticket.status not in OPEN:
        return False
    if ticket.claimed_at is None and ticket.claim_due_at and ticket.claim_due_at < now:
        return True
    return bool(ticket.resolve_due_at and ticket.resolve_due_at < now)


def _period_start(period: str, now: datetime, tz: tzinfo) -> datetime | None:
    if period == "today":
        local = now.astimezone(tz)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period in ("7d", "30d"):
        return now - timedelta(days=int(period[:-1]))
    return None


def filtered(area: Area, f: Filters, *, now: datetime, tz: tzinfo) -> Select:
    """SELECT tickets in `area` matching `f` (no order, no paging)."""
    query = select(Ticket).where(in_scope(area))
    if f.status == "open":
        query = query.where(Ticket.status.in_(OPEN))
    elif f.status == "all":
        query = query.where(Ticket.status != Status.MERGED.value)
    else:
        query = query.where(Ticket.status == f.status)
    if f.category:
        query = query.where(Ticket.category == f.category)
    start = _period_start(f.period, now, tz)
    if start is not None:
        query = query.where(Ticket.created_at >= start)
    if f.overdue:
        query = query.where(overdue_condition(now))
    if f.grid:
        grid_ids = select(Area.id).where(or_(Area.code == f.grid, Area.name == f.grid))
        query = query.where(Ticket.grid_id.in_(grid_ids))
    if f.q:
        words = f.q.lstrip("#")
        if words.isdigit():
            query = query.where(Ticket.id == int(words))
        else:
            query = query.where(word_search.matches(words))
    return query


ORDER = {
    "new": (Ticket.created_at.desc(), Ticket.id.desc()),
    "old": (Ticket.created_at.asc(), Ticket.id.asc()),
    "due": (func.coalesce(Ticket.resolve_due_at, Ticket.claim_due_at).asc(), Ticket.id.asc()),
    "updated": (Ticket.updated_at.desc(), Ticket.id.desc()),
}


@dataclass
class Page:
    tickets: list[Ticket]
    total: int
    filters: Filters

    @property
    def more(self) -> bool:
        """More than COUNT_CAP tickets match (`total` is then COUNT_CAP)."""
        return self.total > COUNT_CAP

    @property
    def total_text(self) -> str:
        return f"超过 {COUNT_CAP} 件" if self.more else f"共 {self.total} 件"

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, COUNT_CAP) // PAGE_SIZE))


def ticket_page(session: Session, area: Area, f: Filters, *, now: datetime, tz: tzinfo) -> Page:
    base = filtered(area, f, now=now, tz=tz).with_only_columns(Ticket.id)
    capped = base.limit(COUNT_CAP + 1).subquery()
    total = session.scalar(select(func.count()).select_from(capped))
    # The page's numbers first, then their tickets: choosing 50 of a community's tickets
    # reads the covering index alone (ix_tickets_scope_list), not every ticket's row.
    numbers = (
        base.order_by(*ORDER[f.sort]).limit(PAGE_SIZE).offset((f.page - 1) * PAGE_SIZE)
    ).scalar_subquery()
    rows = session.scalars(
        select(Ticket).where(Ticket.id.in_(numbers)).order_by(*ORDER[f.sort])
    ).unique()
    return Page(list(rows), int(total or 0), f)


def grids_in(session: Session, area: Area) -> list[Row[tuple[int, str, str]]]:
    """(id, code, name) of the grids under `area`, for the pages' grid choices: plain
    rows, as a district has thousands and the list is drawn on every page."""
    return list(
        session.execute(
            select(Area.id, Area.code, Area.name)
            .where(Area.level == "grid", Area.path.startswith(area.path))
            .order_by(Area.code)
        )
    )


def ticket_in_scope(session: Session, area: Area, number: int) -> Ticket | bool | None:
    """The ticket; None when there is none; False when it lies outside `area`."""
    ticket = session.get(Ticket, number)
    if ticket is None:
        return None
    routed = ticket.area or ticket.grid
    if routed is None or not area.covers(routed):
        return False
    return ticket
