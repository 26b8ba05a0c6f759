"""Riders and staff: registration, staff records, one-time invites and binding."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, make_transient_to_detached

from app.services.directory import staff_channels
from app.services.directory.grids import area_by_code
from app.services.errors import InvalidInput, NotFound
from models import ROLES, WECOM_PREFIX, BindFailure, Rider, Staff, StaffInvite

INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, typed on a phone
INVITE_LENGTH = 8
INVITE_DAYS = 7
BIND_FAILURES_ALLOWED = 5
BIND_FAILURE_WINDOW = timedelta(hours=1)
"""After this many codes that were no invite within the window, "绑定" waits until the
oldest of them leaves it: 31^8 codes cannot be guessed at five an hour."""

ROLE_LABELS = {
    "grid_worker": "网格员",
    "community_lead": "社区书记",
    "street_lead": "街道负责人",
    "supervisor": "区级督办",
    "department": "部门联络员",
}


def staff_by_openid(session: Session, openid: str) -> Staff | None:
    return session.scalars(select(Staff).where(Staff.openid == openid, Staff.active)).first()


def is_wecom_address(address: str) -> bool:
    """Whether `address` is a WeCom user's ("wecom:<userid>"), not an official-account openid."""
    return address.startswith(WECOM_PREFIX)


def addresses_of(session: Session, openid: str) -> list[str]:
    """`openid` and, for a staff member bound on WeCom too, their WeCom address."""
    userid = session.scalar(
        select(Staff.wecom_userid).where(Staff.openid == openid, Staff.wecom_userid.is_not(None))
    )
    return [openid, WECOM_PREFIX + userid] if userid and not is_wecom_address(openid) else [openid]


def wecom_sender(session: Session, address: str) -> str:
    """Who a WeCom message ("wecom:<userid>") is from, as the chat engine knows people: the
    openid of the active staff member bound to that userid (so one person bound on both
    channels is one person), else the address itself."""
    userid = address.removeprefix(WECOM_PREFIX)
    openid = session.scalar(
        select(Staff.openid).where(Staff.wecom_userid == userid, Staff.active).limit(1)
    )
    return openid or address


RIDER_INSERT = insert(Rider.__table__).returning(Rider.__table__.c.id)

SEEN_EVERY = timedelta(minutes=1)
"""A rider's `last_seen_at` is written at most this often, not with every message."""


def register_rider(
    session: Session,
    rider: Rider | None,
    openid: str,
    now: datetime,
    *,
    qr_scene: str | None = None,
) -> Rider:
    """The sender's rider row, created on first contact; keeps the first QR scene seen.

    `rider`: the row as app/inbox/arrival.py found it, None on a person's first message.
    """
    if rider is None:
        # One INSERT ... RETURNING, and the row joins the session as loaded: cheaper than
        # a flush of a new object on the path of every new rider's first message.
        values = {
            "openid": openid,
            "qr_scene": qr_scene,
            "subscribed": True,
            "created_at": now,
            "last_seen_at": now,
        }
        rider = Rider(id=session.connection().execute(RIDER_INSERT, values).scalar_one(), **values)
        make_transient_to_detached(rider)
        session.add(rider)
        return rider
    if not rider.subscribed:
        rider.subscribed = True
    if qr_scene and not rider.qr_scene:
        rider.qr_scene = qr_scene
    if rider.last_seen_at < now - SEEN_EVERY:
        rider.last_seen_at = now
    return rider


def unsubscribe(session: Session, openid: str) -> None:
    rider = session.scalars(select(Rider).where(Rider.openid == openid)).first()
    if rider is not None:
        rider.subscribed = False


def _checked(role: str, area_code: str, session: Session):
    if role not in ROLES:
        raise InvalidInput(f"未知角色 {role}，可选：{', '.join(ROLES)}")
    area = area_by_code(session, area_code)
    if area is None:
        raise NotFound(f"区域 {area_code} 不存在")
    return area


def add_staff(
    session: Session,
    *,
    name: str,
    role: str,
    area_code: str,
    openid: str | None = None,
    wecom_userid: str | None = None,
    priority: int = 0,
) -> Staff:
    """A staff record; with only a WeCom userid, its address "wecom:<userid>" is the openid."""
    area = _checked(role, area_code, session)
    if wecom_userid:
        wecom_userid = staff_channels.checked_wecom_userid(wecom_userid)
    if openid and staff_by_openid(session, openid) is not None:
        raise InvalidInput(f"openid {openid} 已绑定其他工作人员")
    if wecom_userid and session.scalar(select(Staff.id).where(Staff.wecom_userid == wecom_userid)):
        raise InvalidInput(f"企业微信账号 {wecom_userid} 已绑定其他工作人员")
    if wecom_userid and not openid:
        openid = WECOM_PREFIX + wecom_userid
    staff = Staff(
        name=name,
        role=role,
        area=area,
        openid=openid or None,
        wecom_userid=wecom_userid or None,
        priority=priority,
    )
    session.add(staff)
    session.flush()
    return staff


def create_invite(
    session: Session,
    *,
    role: str,
    area_code: str,
    now: datetime,
    name: str = "",
    priority: int = 0,
    for_staff: Staff | None = None,
) -> StaffInvite:
    """A one-time code for a new staff member (role, area, name), or, `for_staff`, for an
    existing one to bind the channel they send it from (their role and area stay)."""
    if for_staff is not None:
        if not for_staff.active:
            raise InvalidInput(f"{for_staff.name}（编号 {for_staff.id}）已停用")
        role, area_code = for_staff.role, for_staff.area.code
        name, priority = for_staff.name, for_staff.priority
    area = _checked(role, area_code, session)
    code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
    invite = StaffInvite(
        code=code,
        role=role,
        area=area,
        name=name,
        priority=priority,
        created_at=now,
        expires_at=now + timedelta(days=INVITE_DAYS),
        staff_id=for_staff.id if for_staff is not None else None,
    )
    session.add(invite)
    session.flush()
    return invite


class BadInviteCode(InvalidInput):
    """The code names no usable invite (unknown, used or expired): a guess, maybe."""


def bind_cooldown(session: Session, openid: str, now: datetime) -> timedelta | None:
    """How long `openid` must wait before trying another code; None when it may now."""
    recent = session.scalars(
        select(BindFailure.failed_at)
        .where(BindFailure.openid == openid, BindFailure.failed_at > now - BIND_FAILURE_WINDOW)
        .order_by(BindFailure.failed_at.desc())
        .limit(BIND_FAILURES_ALLOWED)
    ).all()
    if len(recent) < BIND_FAILURES_ALLOWED:
        return None
    return recent[-1] + BIND_FAILURE_WINDOW - now


def record_bind_failure(session: Session, openid: str, now: datetime) -> int:
    """Count a failed code for `openid`; how many it has within the window now."""
    session.execute(
        delete(BindFailure).where(
            BindFailure.openid == openid, BindFailure.failed_at <= now - BIND_FAILURE_WINDOW
        )
    )
    session.add(BindFailure(openid=openid, failed_at=now))
    session.flush()
    return session.scalar(
        select(func.count()).where(
            BindFailure.openid == openid, BindFailure.failed_at > now - BIND_FAILURE_WINDOW
        )
    )


@dataclass(frozen=True)
class Binding:
    staff: Staff
    linked: bool
    """True when the code bound a channel to an existing staff member, not a new one."""


def bind_staff(session: Session, *, openid: str, code: str, now: datetime) -> Binding:
    """Use a one-time invite from `openid` (an official-account openid or "wecom:<userid>").

    The sender's channel is linked to an existing staff member when the invite was made
    for them, or names exactly one person already bound on the other channel (see
    staff_channels.person_for_invite); otherwise the sender becomes a new staff member with
    the invite's role and area. Someone whose staff record was deactivated starts a new
    record; the old one keeps its history and lets go of the account."""
    invite = session.scalars(
        select(StaffInvite)
        .where(StaffInvite.code == code.strip().upper())
        .with_for_update(of=StaffInvite)
    ).first()
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        raise BadInviteCode("绑定码无效或已使用，请向管理员索取新的绑定码。")
    if staff_by_openid(session, openid) is not None:
        # Neutral words: someone bound on both channels writes from WeCom as their openid.
        raise InvalidInput("您已绑定工作人员身份，无需重复绑定。")
    staff = staff_channels.person_for_invite(session, invite, openid)
    linked = staff is not None
    if staff is None:
        staff = Staff(
            name=invite.name or f"{ROLE_LABELS[invite.role]}{openid[-4:]}",
            role=invite.role,
            area=invite.area,
            priority=invite.priority,
            created_at=now,
        )
        session.add(staff)
        session.flush()
    staff_channels.link_address(session, staff, openid)
    invite.used_at = now
    invite.staff_id = staff.id
    return Binding(staff, linked)
