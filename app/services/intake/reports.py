"""Report intake: a rider's photo, location and words gather in a draft until they make a
ticket; what follows soon after is added to that ticket."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.categories import classify
from app.domain.duplicates import DuplicatePolicy
from app.domain.photos import PhotoStatus
from app.domain.rider_words import names_another_problem
from app.domain.tickets import Action
from app.media.links import MediaLinks
from app.services.directory.grids import GridLocator, Placement, responsible_staff, served_district
from app.services.handling.actors import Actor
from app.services.handling.ticket_actions import act
from app.services.handling.ticket_card import NoticeSettings
from app.services.handling.ticket_notices import tell
from app.services.intake import additions, drafts, duplicates
from app.services.intake.additions import AdditionRules
from app.services.intake.in_progress import in_progress
from app.settings import Settings
from models import ReportDraft, Rider, Ticket, TicketPhoto


class Outcome(StrEnum):
    FILED = "filed"
    JOINED = "joined"
    """Filed, and merged into an open ticket about the same problem."""
    ADDED = "added"
    ANOTHER_REPORT = "another_report"
    """Words about a different problem than the ticket just filed: a new draft."""
    NEED_LOCATION = "need_location"
    NEED_DETAILS = "need_details"
    OUTSIDE = "outside"
    """The location lies outside every area of the district: refused, nothing kept."""


@dataclass(frozen=True)
class Intake:
    outcome: Outcome
    ticket: Ticket | None = None
    draft: ReportDraft | None = None
    district: str = ""
    """For OUTSIDE: the name(s) of the district(s) served."""
    corrected: bool = False
    """For ADDED: the words changed the ticket's category or severity."""


@dataclass(frozen=True)
class Piece:
    """One thing a rider sent towards a report."""

    text: str = ""
    media_id: str | None = None
    pic_url: str = ""
    lat: float | None = None
    lng: float | None = None
    """WGS-84."""
    place: str = ""


@dataclass
class IntakeRules:
    draft_window: timedelta
    followup_window: timedelta
    locator: GridLocator
    links: MediaLinks | None = None
    duplicates: DuplicatePolicy = field(default_factory=DuplicatePolicy)
    photo_stale_after: timedelta = timedelta(hours=24)
    timezone: str = "Asia/Shanghai"
    additions: AdditionRules = field(default_factory=AdditionRules)

    @property
    def notice_settings(self) -> NoticeSettings:
        """What the words of ticket notices need: photo links and the time zone."""
        return NoticeSettings(links=self.links, tz=self.timezone)

    @classmethod
    def from_settings(cls, settings: Settings, locator: GridLocator) -> IntakeRules:
        return cls(
            draft_window=timedelta(minutes=settings.draft_window_minutes),
            followup_window=timedelta(minutes=settings.followup_minutes),
            locator=locator,
            links=MediaLinks(
                settings.media_secret,
                settings.public_url,
                timedelta(hours=settings.media_link_hours),
            ),
            duplicates=DuplicatePolicy(
                distance_m=settings.duplicate_distance_m,
                window=timedelta(hours=settings.duplicate_window_hours),
                max_hamming=settings.duplicate_max_hamming,
                notice_interval=timedelta(minutes=settings.more_reports_interval_minutes),
            ),
            photo_stale_after=timedelta(hours=settings.photo_stale_hours),
            timezone=settings.timezone,
            additions=AdditionRules(
                interval=timedelta(minutes=settings.more_info_interval_minutes),
                window=timedelta(minutes=settings.followup_minutes),
                timezone=settings.timezone,
            ),
        )

    def photo_links(self, photos: list[TicketPhoto], now: datetime, limit: int = 3) -> list[str]:
        if self.links is None:
            return []
        usable = [p for p in photos if PhotoStatus(p.status).usable]
        return [self.links.url(p.id, now=now) for p in usable[:limit]]


def submit(
    session: Session,
    rider: Rider,
    piece: Piece,
    *,
    now: datetime,
    rules: IntakeRules,
    message_key: str | None = None,
) -> Intake:
    """Take one piece of a report and say what became of it."""
    recent = None  # the ticket words or a photo without a draft may add to
    if piece.lat is None:
        draft, recent = in_progress(
            session,
            rider,
            now=now,
            draft_window=rules.draft_window,
            followup_window=rules.followup_window,
        )
    else:
        draft = drafts.active_draft(session, rider, now=now, window=rules.draft_window)
    placement = None
    if piece.lat is not None and piece.lng is not None:
        placement = rules.locator.place(session, piece.lat, piece.lng)
        if placement.routed_area is None:
            return Intake(Outcome.OUTSIDE, draft=draft, district=served_district(session))
    another = False
    if recent is not None:
        if not (piece.text and names_another_problem(recent.category, piece.text)):
            corrected = add_to_ticket(
                session, recent, rider, piece, now=now, rules=rules, message_key=message_key
            )
            return Intake(Outcome.ADDED, ticket=recent, corrected=corrected)
        another = True
    new = draft is None
    if draft is None:
        draft = ReportDraft(rider_id=rider.id, started_at=now, photos=[], description="")
    _merge(session, rider, draft, piece, now)
    if draft.lat is None or (not draft.photos and not draft.description):
        if new:
            drafts.insert_draft(session, draft)
        else:
            drafts.save_draft(session, draft)
        if another:
            return Intake(Outcome.ANOTHER_REPORT, ticket=recent, draft=draft)
        if draft.lat is None:
            return Intake(Outcome.NEED_LOCATION, draft=draft)
        return Intake(Outcome.NEED_DETAILS, draft=draft)
    if not new:
        drafts.drop_draft(session, draft)
    ticket = file_ticket(
        session,
        rider,
        draft,
        now=now,
        message_key=message_key,
        rules=rules,
        placement=placement,
    )
    return Intake(Outcome.JOINED if ticket.merged_into_id else Outcome.FILED, ticket=ticket)


def new_photo(
    session: Session,
    *,
    media_id: str,
    pic_url: str,
    sender_openid: str,
    now: datetime,
    role: str = "report",
    ticket: Ticket | None = None,
) -> TicketPhoto:
    """A photo row, pending download, from the moment it arrives (for a draft: no ticket)."""
    photo = TicketPhoto(
        media_id=media_id,
        pic_url=pic_url,
        sender_openid=sender_openid,
        created_at=now,
        next_attempt_at=now,
        role=role,
        ticket=ticket,
    )
    session.add(photo)
    session.flush()
    return photo


def _merge(session: Session, rider: Rider, draft: ReportDraft, piece: Piece, now: datetime) -> None:
    if piece.text:
        draft.description = (
            f"{draft.description}；{piece.text}" if draft.description else piece.text
        )
    if piece.media_id:
        photo = new_photo(
            session,
            media_id=piece.media_id,
            pic_url=piece.pic_url,
            sender_openid=rider.openid,
            now=now,
        )
        # Reassign, not append: JSON columns only notice a new value.
        draft.photos = [
            *draft.photos,
            {"media_id": piece.media_id, "pic_url": piece.pic_url, "photo_id": photo.id},
        ]
    if piece.lat is not None and piece.lng is not None:
        draft.lat, draft.lng, draft.place = piece.lat, piece.lng, piece.place
    draft.updated_at = now


def file_ticket(
    session: Session,
    rider: Rider,
    draft: ReportDraft,
    *,
    now: datetime,
    rules: IntakeRules,
    message_key: str | None = None,
    location_source: str = "chat",
    placement: Placement | None = None,
    category: str | None = None,
    actor: Actor | None = None,
    source: str = "",
) -> Ticket:
    """Turn a complete draft into a ticket routed to the grid that contains its point
    (`placement`, when the caller has placed it already: it must lie in the district).

    A report of a problem that already has an open ticket nearby (or the same photo) is
    merged into it: see `ticket.merged_into`.

    An outside platform's request (Open311) names its `category`, files as its own
    `actor` and says where it came from (`source`, put before the routing in the log).
    """
    assert draft.lat is not None and draft.lng is not None
    if placement is None:
        placement = rules.locator.place(session, draft.lat, draft.lng)
    area = placement.routed_area
    ticket = Ticket(
        category=category or classify(draft.description).value,
        description=draft.description,
        lat=draft.lat,
        lng=draft.lng,
        place=draft.place,
        grid=placement.grid,
        area=area,
        assignee=placement.worker or responsible_staff(session, area),
        reporter=rider,
        created_at=now,
        updated_at=now,
        location_source=location_source,
    )
    photos = _draft_photos(session, rider, draft, now)
    ticket.old_photo = any(photo_is_old(p, rules.photo_stale_after) for p in photos)
    routing = f"派往 {area.code} {area.name}" if area else "无匹配区域"
    if placement.distance_m:
        routing += f"（不在任何网格内，最近网格 {placement.distance_m:.0f} 米）"
    if source:
        routing = f"{source}，{routing}"
    created = act(
        session,
        ticket,
        Action.CREATE,
        actor or Actor.of_rider(rider),
        now=now,
        note=routing,
        message_key=message_key,
        notify=False,  # a duplicate is not news for the worker: decided below
        notice_settings=rules.notice_settings,
    )
    if photos:  # the ticket is written: the photos' rows now point at it
        ticket.photos = photos
    match = duplicates.find_duplicate(session, ticket, rules.duplicates)
    if match is not None:
        duplicates.merge(
            session,
            ticket,
            match,
            now=now,
            policy=rules.duplicates,
            message_key=message_key,
            notice_settings=rules.notice_settings,
        )
        return ticket
    created.details["photo_links"] = rules.photo_links(ticket.photos, now)
    tell(session, created)
    return ticket


def photo_is_old(photo: TicketPhoto, stale_after: timedelta) -> bool:
    return photo.taken_at is not None and photo.created_at - photo.taken_at > stale_after


def _draft_photos(
    session: Session, rider: Rider, draft: ReportDraft, now: datetime
) -> list[TicketPhoto]:
    """The draft's photo rows (made as they arrived), in order."""
    ids = [p["photo_id"] for p in draft.photos if p.get("photo_id")]
    rows = (
        {
            p.id: p
            for p in session.scalars(select(TicketPhoto).where(TicketPhoto.id.in_(ids)))
            if ids
        }
        if ids
        else {}
    )
    photos = []
    for p in draft.photos:
        row = rows.get(p.get("photo_id"))
        if row is None:  # a draft from before photos had rows of their own
            row = TicketPhoto(
                media_id=p["media_id"],
                pic_url=p.get("pic_url") or "",
                sender_openid=rider.openid,
                created_at=now,
                next_attempt_at=now,
            )
        photos.append(row)
    return photos


def add_to_ticket(
    session: Session,
    ticket: Ticket,
    rider: Rider,
    piece: Piece,
    *,
    now: datetime,
    rules: IntakeRules,
    message_key: str | None = None,
) -> bool:
    """Add the piece to the ticket; whether it changed the ticket's category or severity."""
    photo = None
    if piece.media_id:
        photo = new_photo(
            session,
            media_id=piece.media_id,
            pic_url=piece.pic_url,
            sender_openid=rider.openid,
            now=now,
            ticket=ticket,
        )
    return additions.add(
        session,
        ticket,
        rider,
        text=piece.text,
        photo=photo,
        now=now,
        rules=rules.additions,
        message_key=message_key,
    )
