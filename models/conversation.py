"""Conversation state: a rider's report draft that is not yet a ticket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class ReportDraft(Base):
    __tablename__ = "report_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    rider_id: Mapped[int] = mapped_column(ForeignKey("riders.id"), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    """WGS-84."""
    place: Mapped[str] = mapped_column(String(256), default="")
    photos: Mapped[list[dict]] = mapped_column(JSON, default=list)
    """[{"media_id": ..., "pic_url": ...}] in the order they arrived."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
