"""Wiring for the photo and duplicate sweeps: which media source and store, which rules."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.media.fetch_guard import MediaHosts
from app.media.open311_source import Open311MediaSource
from app.media.sources import (
    SANDBOX_UPLOADS,
    MediaSource,
    SandboxMediaSource,
    WeChatMediaSource,
)
from app.media.storage import LocalMediaStore, MediaStore
from app.services.intake.duplicates import more_reports_sweep
from app.services.intake.photos import PhotoPipeline, PhotoRules
from app.services.intake.reports import IntakeRules
from app.settings import Settings
from bot.api import WeChatAPI
from models import utcnow

PHOTOS_JOB = "photos"
MORE_REPORTS_JOB = "more_reports"


@dataclass
class PhotoJobs:
    pipeline: PhotoPipeline
    source: MediaSource
    store: MediaStore
    sessions: sessionmaker[Session]
    intake: IntakeRules

    def more_reports(self) -> int:
        with unit_of_work(self.sessions) as session:
            return more_reports_sweep(session, now=utcnow(), policy=self.intake.duplicates)


def photo_jobs(
    settings: Settings,
    sessions: sessionmaker[Session],
    api: WeChatAPI | None,
    intake: IntakeRules,
) -> PhotoJobs:
    """The sandbox 'downloads' what the terminal client uploaded; WeChat uses media/get."""
    media_dir = settings.media_dir
    assert media_dir is not None
    source: MediaSource
    if api is None:
        source = SandboxMediaSource(media_dir / SANDBOX_UPLOADS)
    else:
        hosts = MediaHosts.parse(
            settings.media_hosts, allow_private=settings.media_hosts_allow_private
        )
        source = WeChatMediaSource(api, max_bytes=settings.photo_max_bytes, hosts=hosts)
    if settings.open311_media_hosts:
        api_hosts = MediaHosts.parse(
            settings.open311_media_hosts, allow_private=settings.media_hosts_allow_private
        )
        source = Open311MediaSource(source, api_hosts, max_bytes=settings.photo_max_bytes)
    store = media_store(settings)
    pipeline = PhotoPipeline(
        sessions, source, store, rules=PhotoRules.from_settings(settings), intake=intake
    )
    return PhotoJobs(pipeline, source, store, sessions, intake)


def media_store(settings: Settings) -> MediaStore:
    """The photo store the settings name: GRIDBOT_MEDIA_STORE=s3://bucket/prefix, or the
    media directory on this machine's disk."""
    if settings.media_store:
        from app.media.s3 import S3MediaStore  # boto3 is imported only when used

        return S3MediaStore.connect(
            settings.media_store,
            endpoint_url=settings.media_s3_endpoint_url,
            region=settings.media_s3_region,
            access_key_id=settings.media_s3_access_key_id,
            secret_access_key=settings.media_s3_secret_access_key,
        )
    assert settings.media_dir is not None
    return LocalMediaStore(settings.media_dir)
