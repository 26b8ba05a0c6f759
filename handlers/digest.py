"""Digest on demand: '日报' (yesterday) or '日报 2026-11-20' for community, street and
district leads; grid workers are told it is not for them."""

from __future__ import annotations

from datetime import date, timedelta

from app.services.digest import digest_delivery
from app.services.digest.digest_chart import render_chart
from app.services.errors import ServiceError
from bot.router import Router
from handlers.context import ChatContext, is_staff

router = Router("digest")

USAGE = "格式：「日报」查看昨天，「日报 2026-11-20」查看指定日期。"
EARLIEST = date(2000, 1, 1)
"""Older dates are typing mistakes (and 0001-01-01 overflowed the day's time range)."""


def _day(ctx: ChatContext, args: str) -> date | str:
    today = ctx.now.astimezone(ctx.tz).date()
    if not args:
        return today - timedelta(days=1)
    try:
        day = date.fromisoformat(args.split()[0].replace("/", "-"))
    except ValueError:
        return USAGE
    if day > today:
        return "这一天还没到，没有日报。"
    if day < EARLIEST:
        yesterday = today - timedelta(days=1)
        return f"日期超出范围：请发送 {EARLIEST.isoformat()} 以后的日期，如「日报 {yesterday.isoformat()}」。"
    return day


@router.command("日报", "digest", when=is_staff)
def digest(ctx: ChatContext, args: str) -> str:
    day = _day(ctx, args)
    if isinstance(day, str):
        return day
    try:
        messages = digest_delivery.on_request(
            ctx.session, ctx.staff, day, now=ctx.now, tz=ctx.tz, chart=render_chart
        )
    except ServiceError as exc:
        return exc.message
    return messages[0]
