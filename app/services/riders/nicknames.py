"""Riders' nicknames (昵称): set or cleared in chat, and the names the boards show.

Changes the session only; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.domain import nicknames
from app.domain.nicknames import rider_label
from app.services.errors import InvalidInput
from models import Rider, Staff


def set_nickname(session: Session, rider: Rider, text: str) -> str | None:
    """Give `rider` the nickname `text` asks for (None: 「昵称 删除」 clears it); the
    nickname kept. InvalidInput, with the reason, when it may not be one: an account id
    (anyone's openid or WeCom userid) is never shown as a name."""
    if text.strip() in nicknames.CLEAR_WORDS:
        rider.nickname = None
        return None
    try:
        name = nicknames.nickname(text)
    except nicknames.BadNickname as exc:
        raise InvalidInput(str(exc)) from None
    lowered = name.lower()
    account = (
        select(Rider.id)
        .where(func.lower(Rider.openid) == lowered)
        .union_all(
            select(Staff.id).where(
                or_(func.lower(Staff.openid) == lowered, func.lower(Staff.wecom_userid) == lowered)
            )
        )
    )
    if session.execute(account.limit(1)).first() is not None:
        raise InvalidInput("昵称不能是微信账号编号，请换一个。")
    rider.nickname = name
    return name


def labels(session: Session, rider_ids: Iterable[int]) -> dict[int, str]:
    """How each rider is shown on a board: nickname with rider number, or the number."""
    ids = sorted(set(rider_ids))
    if not ids:
        return {}
    named = dict(
        session.execute(
            select(Rider.id, Rider.nickname).where(Rider.id.in_(ids), Rider.nickname.is_not(None))
        ).all()
    )
    return {rider_id: rider_label(rider_id, named.get(rider_id)) for rider_id in ids}
