"""Rest stations (暖"新"驿站): "驿站", "驿站 充电", and the location that answers them.

Every location a rider sends (message or LOCATION event) is remembered first; a location
message then goes on to report intake unless it answers a pending "驿站". One that answers
a "驿站" while a report waits for its location serves both: the report is filed and the
stations are listed in the one reply (a rider on a scooter sends one location, not two).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.domain.coords import to_wgs84
from app.domain.stations import AMENITIES, SEARCH_RADIUS_M, Nearby, Suggestion, amenity_for
from app.domain.stations import navigation_link as nav_link
from app.services import outbox
from app.services.intake import drafts
from app.services.riders import stations
from bot.router import Router
from handlers import report
from handlers.context import ChatContext

router = Router("stations")

MENU_KEYS = frozenset({"驿站", "STATIONS", "stations", "STATION"})
"""EventKeys of a custom-menu button that asks for stations."""

ASK_LOCATION = "请发送您的位置，我帮您找附近{what}的驿站：点击输入框旁的＋号→位置。"


@router.command("驿站", "附近驿站", "stations")
def stations_command(ctx: ChatContext, args: str) -> str | None:
    amenity: str | None = None
    if args:
        amenity = amenity_for(args)
        if amenity is None:
            if len(args) > 4:  # "驿站门口积水…": a report that names a station
                return None
            return f"没有「{args}」这一项。可以查：{'、'.join(AMENITIES)}，例如「驿站 充电」。"
    return _answer_or_ask(ctx, amenity)


@router.on("event:click", when=lambda ctx: ctx.msg.event_key.strip() in MENU_KEYS)
def menu_click(ctx: ChatContext, args: str) -> str:
    return _answer_or_ask(ctx, None)


def _answer_or_ask(ctx: ChatContext, amenity: str | None) -> str:
    here = stations.recent_position(ctx.session, ctx.rider, now=ctx.now)
    if here is None:
        stations.ask_later(ctx.session, ctx.rider, amenity, now=ctx.now)
        return ASK_LOCATION.format(what=f"能{_verb(amenity)}" if amenity else "开放")
    return _answer(ctx, here, amenity)


@router.on("location")
def location(ctx: ChatContext, args: str) -> str | None:
    msg = ctx.msg
    if msg.lat is None or msg.lng is None or not (-90 <= msg.lat <= 90 and -180 <= msg.lng <= 180):
        return None  # intake answers an unreadable location
    here = to_wgs84(msg.lat, msg.lng, ctx.settings.location_crs)
    stations.record_position(ctx.session, ctx.rider, *here, now=ctx.now, source="message")
    amenity = _pending_request(ctx)
    if amenity is None:
        return None  # a report's location
    found = _answer(ctx, here, amenity or None)
    if _report_waits_for_location(ctx):
        return f"{report.location(ctx, args)}\n\n{found}"
    return found


def _report_waits_for_location(ctx: ChatContext) -> bool:
    """Whether the rider has a report under way (a photo or words) that lacks a location."""
    draft = drafts.active_draft(ctx.session, ctx.rider, now=ctx.now, window=ctx.rules.draft_window)
    return draft is not None and draft.lat is None


@router.on("event:location")
def location_event(ctx: ChatContext, args: str) -> str:
    """WeChat's periodic LOCATION report: remembered; a pending "驿站" is answered by a
    customer-service message (no passive reply is shown for this event)."""
    msg = ctx.msg
    if msg.lat is None or msg.lng is None or not (-90 <= msg.lat <= 90 and -180 <= msg.lng <= 180):
        return ""
    crs = ctx.settings.location_event_crs or ctx.settings.location_crs
    here = to_wgs84(msg.lat, msg.lng, crs)
    stations.record_position(ctx.session, ctx.rider, *here, now=ctx.now, source="event")
    amenity = _pending_request(ctx)
    if amenity is not None:
        text = _answer(ctx, here, amenity or None)
        outbox.enqueue(
            ctx.session, to_openid=ctx.rider.openid, kind="stations", text=text, now=ctx.now
        )
    return ""


def _pending_request(ctx: ChatContext) -> str | None:
    """The amenity of the "驿站" this location answers ('' for any), consumed; None when
    the rider asked none (known on arrival: no read of the requests per location)."""
    if not ctx.station_request:
        return None
    return stations.take_request(ctx.session, ctx.rider, now=ctx.now)


def _verb(amenity: str) -> str:
    return {
        "饮水": "喝水",
        "充电": "充电",
        "微波炉": "热饭",
        "雨伞": "借伞",
        "工具箱": "借工具",
        "休息": "休息",
        "卫生间": "上厕所",
        "医药箱": "取药",
    }.get(amenity, f"用{amenity}")


def _answer(ctx: ChatContext, here: tuple[float, float], amenity: str | None) -> str:
    local_now = ctx.now.astimezone(ctx.tz).replace(tzinfo=None)
    found = stations.near(ctx.session, *here, now=ctx.now, tz=ctx.tz, amenity=amenity)
    return stations_text(found, local_now, amenity)


def stations_text(found: Nearby, local_now: datetime, amenity: str | None) -> str:
    """What a rider reads: the open stations, or why there is none and what is next."""
    radius = f"{SEARCH_RADIUS_M / 1000:g}公里"
    offering = f"能{_verb(amenity)}的" if amenity else ""
    if found.open:
        head = f"离您最近的{offering}驿站（正在开放）："
        return head + "".join(_entry(i, s, local_now) for i, s in enumerate(found.open, 1))
    if found.closed:
        head = f"附近{offering}驿站现在都没开门，最近的几个："
        body = "".join(_entry(i, s, local_now) for i, s in enumerate(found.closed, 1))
        return head + body
    if amenity and found.any_in_reach:
        return f"您附近{radius}内没有{offering}驿站。回复「驿站」查看附近所有开放的驿站。"
    return f"您附近{radius}内暂时没有驿站。需要帮助可拨打 12345 市民热线。"


def _entry(i: int, s: Suggestion, local_now: datetime) -> str:
    place = s.place
    lines = [
        f"\n{i}. {place.name}：{_distance(s.distance_m)}，骑行约{s.ride_minutes}分钟",
        f"   {_when(s, local_now)}；有{'、'.join(place.amenities) or '休息处'}",
    ]
    if place.address:
        lines.append(f"   地址：{place.address}")
    lines.append(f"   导航：{nav_link(place)}")
    return "\n".join(lines)


def _distance(metres: float) -> str:
    if metres < 1000:
        return f"{max(10, round(metres, -1)):.0f}米"
    return f"{metres / 1000:.1f}公里"


def _when(s: Suggestion, local_now: datetime) -> str:
    if s.opens_at is not None:
        return f"已关门，{_day(s.opens_at, local_now)}{s.opens_at:%H:%M}开门"
    if s.open_until is None:
        return "24小时开放"
    midnight = s.open_until.hour == 0 and s.open_until.minute == 0
    if midnight and s.open_until.date() == local_now.date() + timedelta(days=1):
        return "开放到24:00"
    return f"开放到{_day(s.open_until, local_now)}{s.open_until:%H:%M}"


def _day(at: datetime, local_now: datetime) -> str:
    days = (at.date() - local_now.date()).days
    return {0: "", 1: "明天"}.get(days, f"{at:%m月%d日} ")
