"""The dashboard (/console/dashboard): the assessment indicators for the signed-in
person's area and each area under it, over any period (?from=YYYY-MM-DD&to=YYYY-MM-DD
or ?period=today|yesterday|7d|30d|month), a 30-day trend drawn as inline SVG, and the
grids doing worst."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request

from app.domain.digest import duration_text
from app.services.supervision import indicators
from app.web.console.auth import DB, CurrentViewer
from app.web.console.templating import render

router = APIRouter(prefix="/console", tags=["console"])

PERIODS = {
    "today": "今天",
    "yesterday": "昨天",
    "7d": "近7天",
    "30d": "近30天",
    "month": "本月",
}
LONGEST_DAYS = 366


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    preset: str
    error: str = ""


def parse_period(params: Mapping[str, str], today: date) -> Period:
    """The period the URL asks for; a bad or reversed range falls back to 近7天 with why."""
    seven = Period(today - timedelta(days=6), today, "7d")
    start, end = params.get("from", ""), params.get("to", "")
    if start or end:
        try:
            first = date.fromisoformat(start or end)
            last = date.fromisoformat(end or start)
        except ValueError:
            return Period(seven.first, seven.last, "7d", "日期格式应为 2026-11-20，已显示近7天。")
        if last < first:
            first, last = last, first
        if (last - first).days >= LONGEST_DAYS or first.year < 2000 or last > today:
            message = "时间段须在今天之前、不超过一年，已显示近7天。"
            return Period(seven.first, seven.last, "7d", message)
        return Period(first, last, "")
    preset = params.get("period", "7d")
    if preset == "today":
        return Period(today, today, preset)
    if preset == "yesterday":
        return Period(today - timedelta(days=1), today - timedelta(days=1), preset)
    if preset == "30d":
        return Period(today - timedelta(days=29), today, preset)
    if preset == "month":
        return Period(today.replace(day=1), today, preset)
    return seven


def trend_chart(days: list[indicators.TrendDay], width: int = 720, height: int = 200) -> dict:
    """Coordinates for the inline SVG: two polylines (filed, resolved) and axis labels."""
    left, right, top, bottom = 36, 22, 10, 24  # room for the last day's label
    peak = max([1, *(d.new for d in days), *(d.resolved for d in days)])
    step = (width - left - right) / max(1, len(days) - 1)

    def y(value: int) -> float:
        return round(top + (height - top - bottom) * (1 - value / peak), 1)

    def line(values: list[int]) -> str:
        return " ".join(f"{round(left + i * step, 1)},{y(v)}" for i, v in enumerate(values))

    return {
        "width": width,
        "height": height,
        "new": line([d.new for d in days]),
        "resolved": line([d.resolved for d in days]),
        "peak": peak,
        "y_peak": y(peak),
        "y_zero": y(0),
        "left": left,
        "right": width - right,
        "labels": [
            {"x": round(left + i * step, 1), "text": f"{d.day:%m-%d}"}
            for i, d in enumerate(days)
            if i % 5 == 0 or i == len(days) - 1
        ],
        "rows": [(f"{d.day:%m-%d}", d.new, d.resolved) for d in days],
    }


@router.get("/dashboard")
def dashboard_page(request: Request, session: DB, who: CurrentViewer):
    tz = ZoneInfo(request.app.state.settings.timezone)
    now = datetime.now(UTC)
    period = parse_period(request.query_params, now.astimezone(tz).date())
    board = indicators.dashboard(session, who.area, period.first, period.last, now=now, tz=tz)
    return render(
        request,
        "dashboard.html",
        viewer=who,
        board=board,
        period=period,
        periods=PERIODS,
        chart=trend_chart(board.trend),
        duration=duration_text,
    )
