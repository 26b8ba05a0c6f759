"""Who may open the operations console, and how: one-time links and browser sessions.

A lead asks in chat (登录) or an operator runs `gridbot console link`; the link signs the
browser in once, within LINK_MINUTES. The session lasts the configured hours unless it is
revoked (`gridbot console logout`). Tokens are random; only their SHA-256 is stored.
The caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.people import Role
from app.services.errors import NotAllowed, NotFound, ServiceError
from models import ConsoleLink, ConsoleSession, Staff

LINK_MINUTES = 10
LINK_PATH = "/console/login/"


class LinkRefused(ServiceError):
    """A sign-in link that is unknown, used or expired."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_use_console(staff: Staff) -> bool:
    """The console is for the people above the grid: community, street and district leads."""
    return staff.active and Role(staff.role).is_lead


def _check(staff: Staff) -> None:
    if not staff.active:
        raise NotAllowed(f"{staff.name}已停用，不能登录控制台。")
    if not may_use_console(staff):
        raise NotAllowed("控制台供社区、街道和区级负责人使用；网格员请在聊天中处理工单。")


def issue_link(session: Session, staff: Staff, *, now: datetime) -> str:
    """A new one-time token for `staff` (NotAllowed for workers and departments)."""
    _check(staff)
    token = secrets.token_urlsafe(24)
    session.add(
        ConsoleLink(
            token_hash=_hash(token),
            staff_id=staff.id,
            created_at=now,
            expires_at=now + timedelta(minutes=LINK_MINUTES),
        )
    )
    session.flush()
    return token


def link_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{LINK_PATH}{token}"


def link_for_openid(session: Session, openid: str, *, now: datetime, public_url: str) -> str:
    staff = session.scalars(select(Staff).where(Staff.openid == openid)).first()
    if staff is None:
        raise NotFound(f"没有绑定 openid {openid} 的工作人员。")
    return link_url(public_url, issue_link(session, staff, now=now))


@dataclass(frozen=True)
class SignedIn:
    token: str
    """For the cookie; never stored."""
    record: ConsoleSession


def check_link(session: Session, token: str, *, now: datetime, lock: bool = False) -> ConsoleLink:
    """The link if it may still sign someone in (without using it); LinkRefused otherwise."""
    query = select(ConsoleLink).where(ConsoleLink.token_hash == _hash(token))
    link = session.scalars(query.with_for_update() if lock else query).first()
    if link is None:
        raise LinkRefused("这个登录链接无效。")
    if link.used_at is not None:
        raise LinkRefused("这个登录链接已经用过了，每个链接只能用一次。")
    if link.expires_at <= now:
        raise LinkRefused(f"这个登录链接已过期（有效期 {LINK_MINUTES} 分钟）。")
    return link


def redeem(session: Session, token: str, *, now: datetime, hours: float) -> SignedIn:
    """Use a link once: a new browser session. LinkRefused when used, expired or unknown."""
    link = check_link(session, token, now=now, lock=True)
    # Claim it with a conditional UPDATE: of two browsers opening it at once, one wins.
    won = session.execute(
        update(ConsoleLink)
        .where(ConsoleLink.id == link.id, ConsoleLink.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if not won:
        raise LinkRefused("这个登录链接已经用过了，每个链接只能用一次。")
    staff = session.get(Staff, link.staff_id)
    assert staff is not None
    _check(staff)
    raw = secrets.token_urlsafe(32)
    record = ConsoleSession(
        token_hash=_hash(raw),
        staff_id=staff.id,
        csrf=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(record)
    session.flush()
    return SignedIn(raw, record)


def current(session: Session, token: str | None, *, now: datetime) -> ConsoleSession | None:
    """The live session a cookie names: not expired, not revoked, its person still a lead."""
    if not token:
        return None
    record = session.scalars(
        select(ConsoleSession).where(ConsoleSession.token_hash == _hash(token))
    ).first()
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        return None
    return record if may_use_console(record.staff) else None


def sign_out(session: Session, token: str, *, now: datetime) -> None:
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.token_hash == _hash(token), ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_all(session: Session, openid: str, *, now: datetime) -> int:
    """End every session (and unused link) of the staff member bound to `openid`."""
    staff = session.scalars(select(Staff).where(Staff.openid == openid)).first()
    if staff is None:
        raise NotFound(f"没有绑定 openid {openid} 的工作人员。")
    ended = session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.staff_id == staff.id, ConsoleSession.revoked_at.is_(None))
        .where(ConsoleSession.expires_at > now)
        .values(revoked_at=now)
    ).rowcount
    session.execute(
        update(ConsoleLink)
        .where(ConsoleLink.staff_id == staff.id, ConsoleLink.used_at.is_(None))
        .values(used_at=now)
    )
    return int(ended or 0)
