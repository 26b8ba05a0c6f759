"""The photo pipeline: download, check, strip and store every photo, off the message path.

A sweep over `ticket_photos` rows still pending: lease a batch (one short transaction),
fetch and process each outside any transaction, then record the outcome with what
follows from it (another short transaction per photo). Safe to run twice and after a
crash: a leased row whose process died is leased again when its lease runs out.

What follows from a stored photo:
- a draft still waiting for a location is filed at the photo's EXIF GPS position, when
  the photo was taken recently, and the rider is told;
- a photo taken long ago flags its ticket and warns the worker;
- a photo that nearly matches one on another open ticket merges the report into it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.domain.photos import PhotoRole, PhotoStatus
from app.domain.retry import backoff
from app.domain.tickets import Action, Status, allowed_actions
from app.media.imaging import Limits, ProcessedPhoto, RefusedImage, process
from app.media.sources import MediaSource, MediaUnavailable
from app.media.storage import MediaStore, StoreUnavailable
from app.services import notices
from app.services.handling.actors import SYSTEM
from app.services.handling.ticket_actions import act
from app.services.intake import duplicates, missing_details
from app.services.intake.reports import IntakeRules, file_ticket, photo_is_old
from app.services.outbox import enqueue
from app.settings import Settings
from models import ReportDraft, Rider, TicketPhoto, utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
CLOCK_SKEW = timedelta(minutes=10)
"""A camera clock this far ahead of ours still counts as 'just taken'."""

REFUSALS = {
    "format": "您发送的图片格式暂不支持（支持 JPG、PNG、WebP、HEIC），请换一张照片重新发送。",
    "not_image": "您发送的文件无法识别为图片，请重新拍照发送。",
    "broken": "您发送的图片已损坏，无法打开，请重新拍照发送。",
    "too_large": "您发送的图片太大，请压缩后重新发送。",
    "too_many_pixels": "您发送的图片尺寸过大，无法处理，请换一张照片。",
}
FAILED = "您发送的图片未能接收（可能已过期），请重新发送。"


@dataclass(frozen=True)
class PhotoRules:
    limits: Limits = field(default_factory=Limits)
    max_attempts: int = 6
    location_max_age: timedelta = timedelta(hours=2)
    timezone: str = "Asia/Shanghai"
    """Where cameras that record no UTC offset are assumed to be."""

    @classmethod
    def from_settings(cls, settings: Settings) -> PhotoRules:
        return cls(
            limits=Limits(
                max_bytes=settings.photo_max_bytes,
                max_pixels=settings.photo_max_pixels,
                long_side=settings.photo_long_side,
                thumb_side=settings.photo_thumb_side,
            ),
            max_attempts=settings.photo_max_attempts,
            location_max_age=timedelta(minutes=settings.photo_location_max_age_minutes),
            timezone=settings.timezone,
        )


@dataclass
class PipelineResult:
    stored: int = 0
    refused: int = 0
    retrying: int = 0
    failed: int = 0


Outcome = ProcessedPhoto | RefusedImage | MediaUnavailable


class PhotoPipeline:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        source: MediaSource,
        store: MediaStore,
        *,
        rules: PhotoRules,
        intake: IntakeRules,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 10,
    ) -> None:
        self.sessions = sessions
        self.source = source
        self.store = store
        self.rules = rules
        self.intake = intake
        self.clock = clock
        self.batch = batch

    def run(self) -> PipelineResult:
        """Process every photo due now."""
        result = PipelineResult()
        while leased := self._lease():
            for photo_id, media_id, pic_url in leased:
                outcome = self._fetch_and_process(media_id, pic_url)
                try:
                    self._record(photo_id, outcome, result)
                except Exception:  # the lease runs out and the photo is tried again
                    log.exception("recording photo %s failed", photo_id)
        return result

    def _lease(self) -> list[tuple[int, str, str]]:
        now = self.clock()
        with self.sessions() as session, session.begin():
            rows = session.scalars(
                select(TicketPhoto)
                .where(
                    TicketPhoto.status == PhotoStatus.PENDING, TicketPhoto.next_attempt_at <= now
                )
                .order_by(TicketPhoto.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.attempts += 1
                row.next_attempt_at = now + LEASE
            return [(r.id, r.media_id, r.pic_url) for r in rows]

    def _fetch_and_process(self, media_id: str, pic_url: str) -> Outcome:
        try:
            data = self.source.fetch(media_id, pic_url)
            processed = process(data, self.rules.limits)
        except (RefusedImage, MediaUnavailable) as exc:
            return exc
        except Exception as exc:  # a source bug must not stop the sweep
            log.exception("fetching media %s failed", media_id)
            return MediaUnavailable(f"{type(exc).__name__}: {exc}"[:200])
        # Files first: content-addressed, so a crash before the commit only leaves a
        # file that the retry writes again under the same name.
        try:
            self.store.put(processed.jpeg)
            self.store.put(processed.thumb)
        except StoreUnavailable as exc:  # the object store is down: back off, try again
            return MediaUnavailable(str(exc))
        return processed

    def _record(self, photo_id: int, outcome: Outcome, result: PipelineResult) -> None:
        with self.sessions() as session, session.begin():
            photo = session.get(TicketPhoto, photo_id, with_for_update=True)
            if photo is None or photo.status != PhotoStatus.PENDING:
                return
            now = self.clock()
            if isinstance(outcome, ProcessedPhoto):
                self._stored(session, photo, outcome, now)
                result.stored += 1
            elif isinstance(outcome, RefusedImage):
                photo.status = PhotoStatus.REFUSED
                photo.last_error = str(outcome)[:250]
                if not missing_details.photo_unusable(session, photo, outcome.reason, now=now):
                    self._tell_sender(session, photo, REFUSALS[outcome.reason], now)
                result.refused += 1
            elif outcome.retryable and photo.attempts < self.rules.max_attempts:
                photo.last_error = str(outcome)[:250]
                photo.next_attempt_at = now + backoff(
                    photo.attempts, first=5.0, cap=1800.0
                )  # media lives 3 days
                result.retrying += 1
            else:
                photo.status = PhotoStatus.FAILED
                photo.last_error = str(outcome)[:250]
                if not missing_details.photo_unusable(session, photo, "failed", now=now):
                    self._tell_sender(session, photo, FAILED, now)
                result.failed += 1

    def _tell_sender(self, session: Session, photo: TicketPhoto, text: str, now: datetime):
        """The answer to the sender's own photo (refused or lost), which the pipeline gives
        after the message's passive reply: not a change of its ticket (none may exist yet,
        nothing is logged), so not a notice of the table. A photo that was its ticket's
        only evidence is a change instead: REQUEST_DETAILS (app/services/intake/missing_details.py)."""
        enqueue(
            session,
            to_openid=photo.sender_openid,
            kind="photo_problem",
            text=text,
            now=now,
            ticket_id=photo.ticket_id,
        )

    def _stored(self, session: Session, photo: TicketPhoto, p: ProcessedPhoto, now: datetime):
        photo.status = PhotoStatus.STORED
        photo.last_error = ""
        photo.sha256, photo.thumb_sha256 = p.sha256, p.thumb_sha256
        photo.width, photo.height = p.width, p.height
        photo.dhash = f"{p.dhash:016x}"
        photo.exif_lat, photo.exif_lng = p.lat, p.lng
        photo.taken_at = self._utc(p.taken_at)
        photo.processed_at = now
        session.flush()
        if photo.role != PhotoRole.REPORT:
            return
        if photo.ticket_id is None:
            self._complete_draft(session, photo, now)
        ticket = photo.ticket
        if ticket is None:
            return
        if photo_is_old(photo, self.intake.photo_stale_after) and not ticket.old_photo:
            ticket.old_photo = True
            if Action.FLAG_OLD_PHOTO in allowed_actions(ticket.status):
                taken = notices.local_time(photo.taken_at, self.rules.timezone)
                act(
                    session,
                    ticket,
                    Action.FLAG_OLD_PHOTO,
                    SYSTEM,
                    now=now,
                    note=f"照片拍摄于 {taken}，不是近期拍摄",
                    notice_settings=self.intake.notice_settings,
                    taken=taken,
                )
        if ticket.status == Status.ASSIGNED.value:
            policy = self.intake.duplicates
            match = duplicates.find_duplicate(session, ticket, policy)
            if match is not None:
                # Its worker and rider heard of it as a new ticket: both are told of the merge.
                duplicates.merge(
                    session,
                    ticket,
                    match,
                    now=now,
                    policy=policy,
                    announced=True,
                    notice_settings=self.intake.notice_settings,
                )

    def _complete_draft(self, session: Session, photo: TicketPhoto, now: datetime) -> None:
        """File the sender's draft at the photo's GPS position if it still lacks one.

        The rider is answered here, as the passive reply answers a draft filed in chat:
        the notice table tells no rider of their own filing (CREATE's actor) nor of their
        fresh report joining another (MERGE, not announced), since that is the reply to
        their own messages; filed off the message path, that reply goes by the outbox."""
        if not self._locates(photo):
            return
        rider = session.scalars(select(Rider).where(Rider.openid == photo.sender_openid)).first()
        if rider is None:
            return
        draft = session.scalars(
            select(ReportDraft).where(ReportDraft.rider_id == rider.id).with_for_update()
        ).first()
        if (
            draft is None
            or draft.lat is not None
            or draft.started_at < now - self.intake.draft_window
            or photo.id not in [p.get("photo_id") for p in draft.photos]
        ):
            return
        assert photo.exif_lat is not None and photo.exif_lng is not None
        placement = self.intake.locator.place(session, photo.exif_lat, photo.exif_lng)
        if placement.routed_area is None:
            return  # taken outside the district: the rider is still asked for a location
        draft.lat, draft.lng = photo.exif_lat, photo.exif_lng
        ticket = file_ticket(
            session,
            rider,
            draft,
            now=now,
            rules=self.intake,
            location_source="photo",
            placement=placement,
        )
        session.delete(draft)
        text = duplicates.joined_text(ticket) if ticket.merged_into_id else filed_text(ticket)
        enqueue(
            session,
            to_openid=rider.openid,
            kind="ticket_filed",
            text=text,
            now=now,
            ticket_id=ticket.id,
        )

    def _locates(self, photo: TicketPhoto) -> bool:
        """EXIF GPS of a photo taken recently enough to say where the problem is now."""
        if not photo.exif_gps or photo.taken_at is None:
            return False
        age = photo.created_at - photo.taken_at
        return -CLOCK_SKEW <= age <= self.rules.location_max_age

    def _utc(self, taken_at: datetime | None) -> datetime | None:
        if taken_at is None:
            return None
        if taken_at.tzinfo is None:
            taken_at = taken_at.replace(tzinfo=ZoneInfo(self.rules.timezone))
        return taken_at.astimezone(UTC)


def filed_text(ticket) -> str:
    return (
        f"已根据照片中的位置受理！工单号 #{ticket.number}（{notices.category_label(ticket)}），"
        f"已派往{notices.routed_to(ticket)}，无需再发送位置。处理进展会通知您。"
    )
