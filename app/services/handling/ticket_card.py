"""What every notice about a ticket shows a worker, so they can act at once: where it is
(label, grid, GCJ-02 coordinates, a map link that navigates), how urgent, by when, and
its photos."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.domain.coords import wgs84_to_gcj02
from app.domain.photos import PhotoRole, PhotoStatus
from app.domain.policy import Phase, phase_of
from app.domain.ticket_notices import due_phrase, is_urgent, map_link
from app.media.links import MediaLinks
from models import Ticket

PHOTO_PLACE = "照片拍摄地点"
LEGACY_PHOTO_PLACE = "照片定位"
"""What tickets located from a photo's GPS stored as their place before: not a place."""


@dataclass(frozen=True)
class NoticeSettings:
    """What the words of notices depend on: signed photo links and the local time zone.
    Built by the wiring from the settings and passed down to `act`."""

    links: MediaLinks | None = None
    tz: str = "Asia/Shanghai"
    photo_limit: int = 3

    @classmethod
    def from_settings(cls, settings) -> NoticeSettings:
        return cls(
            links=MediaLinks(
                settings.media_secret,
                settings.public_url,
                timedelta(hours=settings.media_link_hours),
            ),
            tz=settings.timezone,
        )

    def photo_links(self, ticket: Ticket, now: datetime) -> list[str]:
        """Links to the ticket's report photos (at most `photo_limit`)."""
        if self.links is None:
            return []
        usable = [
            p
            for p in ticket.photos
            if p.role == PhotoRole.REPORT and PhotoStatus(p.status).usable and p.id
        ]
        return [self.links.url(p.id, now=now) for p in usable[: self.photo_limit]]


DEFAULT = NoticeSettings()


def place_label(ticket: Ticket) -> str:
    place = ticket.place if ticket.place != LEGACY_PHOTO_PLACE else ""
    if place:
        return place
    return PHOTO_PLACE if ticket.location_source == "photo" else "上报位置"


def place_lines(ticket: Ticket) -> list[str]:
    """地点 (label and grid), 坐标 in GCJ-02 (what Amap and Tencent Maps expect; stored
    points are WGS-84) and a link that opens navigation."""
    lat, lng = wgs84_to_gcj02(ticket.lat, ticket.lng)
    label = place_label(ticket)
    area = ticket.grid or ticket.area
    return [
        f"地点：{label}" + (f"（{area.name}）" if area is not None else ""),
        f"坐标：{lat:.6f},{lng:.6f}（GCJ-02）",
        f"导航：{map_link(lat, lng, label)}",
    ]


def urgent_tag(ticket: Ticket) -> str:
    return "【紧急】" if is_urgent(ticket.category, ticket.severe, ticket.severity) else ""


def deadline_line(ticket: Ticket, now: datetime, tz: str, claim_verb: str = "认领") -> str:
    """By when the holder must act, in local time ("" when nothing is pending)."""
    phase = phase_of(ticket.status) if ticket.status else None
    if phase is Phase.CLAIM and ticket.claim_due_at is not None:
        return due_phrase(claim_verb, ticket.claim_due_at, now, tz) + "。"
    if phase is Phase.RESOLVE and ticket.resolve_due_at is not None:
        return due_phrase("办结", ticket.resolve_due_at, now, tz) + "。"
    return ""


def photo_lines(ticket: Ticket, links: Sequence[str]) -> list[str]:
    photos = [p for p in ticket.photos if p.role == PhotoRole.REPORT]
    if not photos and not links:
        return []
    return [f"照片：{max(len(photos), len(links))} 张", *links]


def old_photo_line(ticket: Ticket, now: datetime, tz: str) -> str:
    """The warning for a report whose photo was taken long before it was sent."""
    if not ticket.old_photo:
        return ""
    taken = [p.taken_at for p in ticket.photos if p.taken_at is not None]
    first = min(taken).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if taken else ""
    when = f"拍摄于 {first}，" if first else ""
    return f"注意：照片{when}不是近期拍摄，请到现场核实。"
