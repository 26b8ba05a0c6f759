"""Hazard alerts for riders on their way (issue 19 §3): which tickets warrant one, what it
says, and which of the riders seen nearby get it.

An alert goes out when a ticket of a road-blocking category (flooding, a fallen tree, a
manhole cover, a blocked road) is severe, or when a lead asks for it ("预警 <号>"). Riders
seen within `RADIUS_M` in the last `SEEN_WITHIN` (a location they sent, a LOCATION event,
a report) hear of it once per ticket; when the ticket is resolved they hear "已恢复通行".
Pure: the service loads the riders and their state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from app.domain.categories import Category
from app.domain.coords import wgs84_to_gcj02

RADIUS_M = 1000.0
SEEN_WITHIN = timedelta(hours=2)
CHAT_WINDOW = timedelta(hours=48)
"""WeChat's customer-service window: messages may be sent this long after the rider's
last message; outside it an alert would wait for their next message, too late to help."""
PER_HOUR = 3
"""At most this many alerts per rider in any hour: a storm must not flood a phone."""
ALERT_CAP_WINDOW = timedelta(hours=1)

HAZARDS: dict[Category, tuple[str, str]] = {
    # category -> (the alert's head, what the rider cannot do there)
    Category.FLOODING: ("前方积水", "无法通行，请绕行"),
    Category.FALLEN_TREE: ("前方倒树", "无法通行，请绕行"),
    Category.MANHOLE_COVER: ("前方井盖缺失", "路面有危险，请绕行"),
    Category.BLOCKED_PASSAGE: ("前方道路堵塞", "无法通行，请绕行"),
}
"""Categories whose severe tickets alert riders by themselves."""


def warrants_alert(category: str, severe: bool) -> bool:
    """A ticket alerts nearby riders by itself only when it blocks the road and is severe."""
    return severe and category in HAZARDS


def map_link(lat: float, lng: float, place: str) -> str:
    """An Amap marker link to the hazard, in GCJ-02 as Amap expects."""
    glat, glng = wgs84_to_gcj02(lat, lng)
    name = quote(place or "危险路段", safe="")
    return (
        f"https://uri.amap.com/marker?position={glng:.6f},{glat:.6f}&name={name}"
        "&coordinate=gaode&callnative=1"
    )


def alert_text(category: str, place: str, link: str) -> str:
    # A lead's 预警 may name a category without words of its own.
    fallback = (f"前方{Category(category).label}", "附近通行受阻，请绕行")
    head, advice = HAZARDS.get(Category(category), fallback)
    return f"{head}：{place}{advice}。\n位置：{link}\n不想再收到路况提醒，回复「退订预警」。"


def clear_text(category: str, place: str) -> str:
    return f"已恢复通行：{place}的{Category(category).label}已处理完毕，可以正常通行了。"


@dataclass(frozen=True, slots=True)
class Recipients:
    chosen: list[int]
    """Rider ids to alert, nearest first."""
    opted_out: int = 0
    window_closed: int = 0
    capped: int = 0
    warned: int = 0
    """Riders nearby who were alerted about this ticket and not yet told it is clear."""

    @property
    def skipped(self) -> int:
        """Riders nearby who could not be alerted (not those warned already)."""
        return self.opted_out + self.window_closed + self.capped


def choose(
    nearby: Iterable[int],
    *,
    now: datetime,
    opted_out: set[int],
    last_message: Mapping[int, datetime],
    alerts_last_hour: Mapping[int, int],
    warned: Set[int] = frozenset(),
) -> Recipients:
    """Which of the riders seen nearby (nearest first) get the alert, and why the others
    do not: they were warned of this ticket already, they unsubscribed (退订预警), their
    chat window is closed, or they had `PER_HOUR` alerts in the last hour."""
    chosen: list[int] = []
    opted = closed = capped = already = 0
    for rider_id in nearby:
        if rider_id in warned:
            already += 1
        elif rider_id in opted_out:
            opted += 1
        elif (spoke := last_message.get(rider_id)) is None or now - spoke > CHAT_WINDOW:
            closed += 1
        elif alerts_last_hour.get(rider_id, 0) >= PER_HOUR:
            capped += 1
        else:
            chosen.append(rider_id)
    return Recipients(chosen, opted, closed, capped, already)


def timeline_note(sent: int, recipients: Recipients, by: str | None = None) -> str:
    """What the ticket's timeline records of an alert: how many riders heard of it, and
    why the others seen nearby did not. Riders warned already are named only when nobody
    was alerted (an earlier line of the timeline counted them), so that the note never
    says no rider was nearby when some were."""
    who = f"{by}发起预警：" if by else ""
    reasons = "，".join(
        f"{n} 位骑手{why}"
        for n, why in (
            (0 if sent else recipients.warned, "已收到本工单的预警"),
            (recipients.opted_out, "已退订"),
            (recipients.window_closed, "超过48小时未互动"),
            (recipients.capped, "1小时内已收到多条提醒"),
        )
        if n
    )
    if sent:
        note = f"{who}已向附近 {sent} 位骑手发送绕行预警"
        return f"{note}；{reasons}，未发送" if reasons else note
    if reasons:
        return f"{who}附近 {reasons}，未发送绕行预警"
    return f"{who}附近 {RADIUS_M / 1000:g} 公里内 2 小时内没有骑手，未发送绕行预警"
