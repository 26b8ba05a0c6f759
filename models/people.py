"""People: riders who report, staff who handle, and one-time invites that bind staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.area import Area
from models.base import Base, UTCDateTime, utcnow

ROLES = ("grid_worker", "community_lead", "street_lead", "supervisor", "department")
"""A `department` staff member is a city department's liaison; their name is the department's."""
WECOM_PREFIX = "wecom:"
"""A WeCom (企业微信) user's address is "wecom:<userid>" wherever an openid goes."""


class Rider(Base):
    __tablename__ = "riders"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    qr_scene: Mapped[str | None] = mapped_column(String(64))
    nickname: Mapped[str | None] = mapped_column(String(32))
    """What the rider chose to be called on the points boards (昵称 小王); shown with the
    rider number, never instead of it (app/domain/nicknames.py)."""
    subscribed: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    """None until the person binds their WeChat with an invite code; "wecom:<userid>" for
    someone bound only on WeCom (the address every openid-keyed record uses)."""
    wecom_userid: Mapped[str | None] = mapped_column(String(64), unique=True)
    """Their WeCom (企业微信) userid once bound there: notices then go to WeCom."""
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    priority: Mapped[int] = mapped_column(default=0)
    """0 for the primary worker of an area, higher numbers for backups."""
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    area: Mapped[Area] = relationship(lazy="joined")


class StaffInvite(Base):
    __tablename__ = "staff_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    name: Mapped[str] = mapped_column(String(64), default="")
    priority: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    area: Mapped[Area] = relationship(lazy="joined")


class BindFailure(Base):
    """A "绑定" with a code that was no valid invite: counted per openid to slow guessing."""

    __tablename__ = "bind_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_bind_failures_openid_failed_at", "openid", "failed_at"),)
