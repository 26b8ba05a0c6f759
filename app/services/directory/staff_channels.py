"""One person, two channels: a staff member's WeChat openid and WeCom (企业微信) userid.

A staff record is one person whatever they write from. Its `openid` is their official
account openid, or "wecom:<userid>" for someone on WeCom only (the address every
openid-keyed record uses); its `wecom_userid` is set once they are on WeCom, and notices
then go there. Binding a second channel links it to the existing record (see
`person_for_invite`); an operator can set the userid directly (`gridbot staff link`).
The caller commits.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.errors import InvalidInput, NotFound
from models import WECOM_PREFIX, Staff, StaffInvite

WECOM_USERID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
"""WeCom's rule for a member's UserID: 1-64 letters, digits and _-@., starting with a
letter or digit (nothing else: "|" would address several people at once)."""


def checked_wecom_userid(userid: str) -> str:
    userid = userid.strip()
    if not WECOM_USERID.fullmatch(userid):
        raise InvalidInput(
            f"企业微信账号 {userid!r} 不合规：1-64 位字母、数字或 _-@.，以字母或数字开头"
        )
    return userid


def on_wecom_only(person: Staff) -> bool:
    return person.openid is None or person.openid.startswith(WECOM_PREFIX)


def find_staff(session: Session, ref: str) -> Staff:
    """The staff member `ref` names: their number (`gridbot staff list`), WeChat openid or
    WeCom userid."""
    ref = ref.strip()
    person = session.get(Staff, int(ref)) if ref.isdigit() and len(ref) < 12 else None
    person = person or session.scalars(select(Staff).where(Staff.openid == ref)).first()
    person = person or session.scalars(select(Staff).where(Staff.wecom_userid == ref)).first()
    if person is None:
        raise NotFound(
            f"没有编号、openid 或企业微信账号为 {ref} 的工作人员（见 gridbot staff list）"
        )
    return person


def _other_holder(session: Session, person: Staff, holds, what: str) -> Staff | None:
    """The deactivated record other than `person` that `holds` (a condition on Staff), which
    the caller makes let go; refuses when an active staff member holds it."""
    holder = session.scalars(select(Staff).where(holds, Staff.id != person.id)).first()
    if holder is not None and holder.active:
        raise InvalidInput(f"{what} 已绑定其他工作人员：{holder.name}（编号 {holder.id}）")
    return holder


def set_wecom_userid(session: Session, person: Staff, userid: str) -> None:
    """`person` is on WeCom as `userid` (replacing any userid they had). A deactivated
    record holding the userid lets go of it; an active one keeps it and this refuses."""
    userid = checked_wecom_userid(userid)
    if not person.active:
        raise InvalidInput(f"{person.name}（编号 {person.id}）已停用")
    if person.wecom_userid == userid:
        return
    holder = _other_holder(session, person, Staff.wecom_userid == userid, f"企业微信账号 {userid}")
    if holder is not None:
        holder.wecom_userid = None
        if holder.openid == WECOM_PREFIX + userid:
            holder.openid = None
        session.flush()  # the unique userid is free before it moves
    if on_wecom_only(person):
        person.openid = WECOM_PREFIX + userid  # their address follows their userid
    person.wecom_userid = userid
    session.flush()


def set_openid(session: Session, person: Staff, openid: str) -> None:
    """`person` is on the official account as `openid` (replacing any openid they had). A
    deactivated record holding it lets go of it; an active one keeps it and this refuses."""
    if person.openid == openid:
        return
    holder = _other_holder(session, person, Staff.openid == openid, f"openid {openid}")
    if holder is not None:
        holder.openid = None
        session.flush()  # the unique openid is free before it moves
    person.openid = openid
    session.flush()


def link_address(session: Session, person: Staff, address: str) -> None:
    """Bind the channel `address` is on ("wecom:<userid>" or an openid) to `person`."""
    if address.startswith(WECOM_PREFIX):
        set_wecom_userid(session, person, address.removeprefix(WECOM_PREFIX))
    else:
        set_openid(session, person, address)


def person_for_invite(session: Session, invite: StaffInvite, address: str) -> Staff | None:
    """The existing staff member a "绑定" with `invite` from `address` binds, or None for a
    new record.

    - An invite made for a staff member (`gridbot staff invite --staff`) binds them: the
      channel `address` is on becomes theirs.
    - A new person's invite whose name, role and area are exactly one active staff
      member's, who is bound on the other channel only, links that channel to them: the
      same person, not a second record. Without a name, or with two such people, it is a
      new record.
    """
    if invite.staff_id is not None:
        person = session.get(Staff, invite.staff_id)
        if person is None or not person.active:
            raise InvalidInput("这个绑定码对应的工作人员已停用，请向管理员索取新的绑定码。")
        return person
    if not invite.name:
        return None
    missing_here = (
        Staff.wecom_userid.is_(None)
        if address.startswith(WECOM_PREFIX)
        else Staff.openid.startswith(WECOM_PREFIX, autoescape=True)
    )
    matches = session.scalars(
        select(Staff).where(
            Staff.active,
            Staff.name == invite.name,
            Staff.role == invite.role,
            Staff.area_id == invite.area_id,
            Staff.openid.is_not(None),
            missing_here,
        )
    ).all()
    return matches[0] if len(matches) == 1 else None
