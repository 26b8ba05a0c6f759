"""The supervisor's daily digest: its figures, the local day they cover, and its Chinese text.

Pure: the figures are computed elsewhere (app/services/digest/digests.py) and arrive here as a
`DigestFigures`; `format_digest` turns them (and the previous day's, for "较前日")
into WeChat messages that each fit the customer-service text limits.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from app.domain.categories import category_label

MAX_CHARS = 600
MAX_BYTES = 2000
"""A message longer than this is split: WeChat cuts text near 2048 bytes, and a long
message is hard to read on a phone anyway."""
OVERDUE_SHOWN = 10
WEEKDAYS = "一二三四五六日"


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of local calendar day `day` in `tz`."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def median_minutes(durations: list[timedelta]) -> float | None:
    if not durations:
        return None
    return round(statistics.median(d.total_seconds() for d in durations) / 60, 1)


@dataclass
class Share:
    hits: int = 0
    of: int = 0

    @property
    def percent(self) -> int | None:
        return None if not self.of else round(100 * self.hits / self.of)


@dataclass
class GridOverdue:
    code: str
    name: str
    overdue: int


@dataclass
class OverdueTicket:
    number: int
    category: str
    place: str
    age_minutes: int
    holder: str


@dataclass
class RiderActivity:
    rider: str
    """How a lead knows the rider: the nickname with the rider number (小王（R0012）) or
    the number alone (骑手R0012), never an openid (app/domain/nicknames.py rider_label)."""
    reports: int

    @classmethod
    def from_json(cls, data: dict) -> RiderActivity:
        if "openid" in data:  # stored before riders had numbers: masked as it was shown
            openid = data["openid"]
            return cls(
                f"骑手…{openid[-4:]}" if len(openid) > 4 else f"骑手{openid}", data["reports"]
            )
        return cls(**data)


@dataclass
class DayTrend:
    day: str
    new: int
    resolved: int


@dataclass
class DigestFigures:
    """Everything a digest says, JSON-ready (`to_json` / `from_json`)."""

    area_code: str
    area_name: str
    day: str
    generated_at: str
    new: int = 0
    claimed: int = 0
    resolved: int = 0
    closed: int = 0
    rejected: int = 0
    reopened: int = 0
    merged: int = 0
    escalations: int = 0
    open_now: int = 0
    overdue_now: int = 0
    median_claim_minutes: float | None = None
    median_resolve_minutes: float | None = None
    claimed_in_time: Share = field(default_factory=Share)
    resolved_in_time: Share = field(default_factory=Share)
    by_category: dict[str, int] = field(default_factory=dict)
    top_grids: list[GridOverdue] = field(default_factory=list)
    overdue: list[OverdueTicket] = field(default_factory=list)
    riders: list[RiderActivity] = field(default_factory=list)
    trend: list[DayTrend] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> DigestFigures:
        data = dict(data)
        data["claimed_in_time"] = Share(**data.get("claimed_in_time", {}))
        data["resolved_in_time"] = Share(**data.get("resolved_in_time", {}))
        data["top_grids"] = [GridOverdue(**g) for g in data.get("top_grids", [])]
        data["overdue"] = [OverdueTicket(**t) for t in data.get("overdue", [])]
        data["riders"] = [RiderActivity.from_json(r) for r in data.get("riders", [])]
        data["trend"] = [DayTrend(**d) for d in data.get("trend", [])]
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


# -- text ------------------------------------------------------------------------------------


def duration_text(minutes: float | None) -> str:
    if minutes is None:
        return "—"
    m = round(minutes)
    if m < 60:
        return f"{m}分钟"
    hours, rest = divmod(m, 60)
    if hours < 24:
        return f"{hours}小时{rest}分" if rest else f"{hours}小时"
    days, hours = divmod(hours, 24)
    return f"{days}天{hours}小时" if hours else f"{days}天"


def _compare(now: int, before: int | None) -> str:
    if before is None:
        return ""
    diff = now - before
    return f"（较前日 {'+' if diff > 0 else '±' if diff == 0 else ''}{diff}）"


def _share(s: Share) -> str:
    return f"{s.hits}/{s.of}（{s.percent}%）" if s.of else "—"


def sections(f: DigestFigures, previous: DigestFigures | None = None) -> list[list[str]]:
    """The digest as sections of lines; a section stays in one message when it can."""
    p = previous
    d = date.fromisoformat(f.day)
    head = [
        f"【工单日报】{f.area_name} {d:%Y-%m-%d}（周{WEEKDAYS[d.weekday()]}）",
        f"新增 {f.new}{_compare(f.new, p.new if p else None)}，认领 {f.claimed}，"
        f"办结 {f.resolved}{_compare(f.resolved, p.resolved if p else None)}，关闭 {f.closed}",
        f"退回 {f.rejected}，不满意重办 {f.reopened}，合并 {f.merged}，升级 {f.escalations}",
        f"当前未结 {f.open_now}{_compare(f.open_now, p.open_now if p else None)}，"
        f"其中超时 {f.overdue_now}{_compare(f.overdue_now, p.overdue_now if p else None)}",
        f"认领用时中位 {duration_text(f.median_claim_minutes)}，"
        f"按时认领 {_share(f.claimed_in_time)}",
        f"办结用时中位 {duration_text(f.median_resolve_minutes)}，"
        f"按时办结 {_share(f.resolved_in_time)}",
    ]
    out = [head]
    if f.by_category:
        ranked = sorted(f.by_category.items(), key=lambda kv: (-kv[1], kv[0]))
        out.append(["新增分类：" + "，".join(f"{category_label(c)} {n}" for c, n in ranked)])
    if f.top_grids:
        out.append(
            ["超时最多的网格："]
            + [f"{i}. {g.name}（{g.code}）{g.overdue} 件" for i, g in enumerate(f.top_grids, 1)]
        )
    if f.overdue:
        shown = f.overdue[:OVERDUE_SHOWN]
        lines = [f"超时工单（{f.overdue_now}）："]
        lines += [
            f"#{t.number} {category_label(t.category)} {t.place or '—'}，"
            f"已 {duration_text(t.age_minutes)}，{t.holder or '无人认领'}"
            for t in shown
        ]
        if f.overdue_now > len(shown):
            lines.append(f"……另有 {f.overdue_now - len(shown)} 件")
        out.append(lines)
    if f.riders:
        out.append(
            ["最活跃骑手（受理上报）："]
            + [f"{i}. {r.rider} {r.reports} 件" for i, r in enumerate(f.riders, 1)]
        )
    return out


def _fits(text: str, max_chars: int, max_bytes: int) -> bool:
    return len(text) <= max_chars and len(text.encode()) <= max_bytes


def pack(
    parts: list[list[str]], *, max_chars: int = MAX_CHARS, max_bytes: int = MAX_BYTES
) -> list[str]:
    """Join sections into as few messages as fit the limits, splitting a section only at
    line breaks, and a line only when it alone is too long. Room is kept for a "（1/3）"
    page mark, which is added to each message's first line when there are several."""
    mark_room = len("（99/99）")
    limit_c, limit_b = max_chars - mark_room, max_bytes - len("（99/99）".encode())
    messages: list[str] = []
    current = ""
    for section in parts:
        block = "\n".join(section)
        candidate = f"{current}\n\n{block}" if current else block
        if _fits(candidate, limit_c, limit_b):
            current = candidate
            continue
        if current:
            messages.append(current)
            current = ""
        for line in section:
            for piece in _cut(line, limit_c, limit_b):
                candidate = f"{current}\n{piece}" if current else piece
                if _fits(candidate, limit_c, limit_b):
                    current = candidate
                else:
                    messages.append(current)
                    current = piece
    if current:
        messages.append(current)
    if len(messages) > 1:
        total = len(messages)
        messages = [_mark(m, f"（{i}/{total}）") for i, m in enumerate(messages, 1)]
    return messages


def _mark(message: str, mark: str) -> str:
    first, _, rest = message.partition("\n")
    return f"{first}{mark}\n{rest}" if rest else first + mark


def _cut(line: str, max_chars: int, max_bytes: int) -> list[str]:
    pieces, current = [], ""
    for ch in line:
        if not _fits(current + ch, max_chars, max_bytes):
            pieces.append(current)
            current = ""
        current += ch
    return [*pieces, current]


def format_digest(
    figures: DigestFigures,
    previous: DigestFigures | None = None,
    *,
    max_chars: int = MAX_CHARS,
    max_bytes: int = MAX_BYTES,
) -> list[str]:
    """The digest as one or more WeChat text messages, in order."""
    return pack(sections(figures, previous), max_chars=max_chars, max_bytes=max_bytes)
