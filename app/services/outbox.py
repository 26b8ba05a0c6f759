"""Notices owed to other people, written in the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.domain.delivery import OutboxStatus
from models import API_OPENID_PREFIX, WECOM_PREFIX, OutboxMessage, Staff

PENDING_FLAG = "outbox_pending"


OUTBOX_INSERT = insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id)


def enqueue(
    session: Session,
    *,
    to_openid: str | None,
    kind: str,
    text: str,
    now: datetime,
    ticket_id: int | None = None,
    image: bytes | None = None,
    reply_to: str | None = None,
    not_before: datetime | None = None,
) -> int | None:
    """Owe `to_openid` a notice (an image when `image` holds PNG bytes); sent after the
    caller commits, and not before `not_before` when given. Returns the outbox row's id;
    no openid, no notice (None)."""
    if not to_openid or to_openid.startswith(API_OPENID_PREFIX):
        return None  # an API client hears through its own API, not WeChat
    to_openid = _on_wecom(session, to_openid)
    outbox_id = (
        session.connection()
        .execute(
            OUTBOX_INSERT,
            {
                "to_openid": to_openid,
                "kind": kind,
                "text": text,
                "ticket_id": ticket_id,
                "image": image,
                "reply_to": reply_to,
                "status": OutboxStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": not_before or now,
                "last_error": "",
                "delivered_via": "",
                "created_at": now,
            },
        )
        .scalar_one()
    )
    # Lets the caller wake the sender once the transaction has committed.
    session.info[PENDING_FLAG] = True
    return outbox_id


HELD_HEADER = "您有 {n} 条新通知："
HELD_MORE = "另有 {m} 条通知，回复任意消息查看。"


def deliver_held(session: Session, *, openid: str, now: datetime, budget_bytes: int) -> str:
    """The held notices for `openid` that fit in `budget_bytes`, marked delivered by reply.

    Held notices could not be sent (customer-service window closed, no template); they go
    out inside the passive reply to the user's next message, in the caller's transaction,
    so they count as delivered exactly when that reply is committed. Rows are locked, so
    two concurrent messages from one user cannot both carry the same notice. What does
    not fit stays held for the next message. "" when nothing is held.
    """
    rows = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.to_openid == openid, OutboxMessage.status == OutboxStatus.HELD)
            .order_by(OutboxMessage.id)
            .with_for_update()
        )
    )
    if not rows:
        return ""
    reserve = len((HELD_HEADER + "\n\n" + HELD_MORE).format(n=len(rows), m=len(rows)).encode())
    used, taken = reserve, []
    for row in rows:
        item = f"{len(taken) + 1}. {row.text}"
        size = len(item.encode()) + 1
        if used + size > budget_bytes:
            break
        taken.append((row, item))
        used += size
    if not taken:
        return ""
    for row, _ in taken:
        row.status = OutboxStatus.SENT
        row.delivered_via = "reply"
        row.sent_at = now
    lines = [HELD_HEADER.format(n=len(taken)), *(item for _, item in taken)]
    if len(rows) > len(taken):
        lines.append(HELD_MORE.format(m=len(rows) - len(taken)))
    return "\n".join(lines)


def listing(session: Session, *, status: str | None = None, limit: int = 100) -> list[dict]:
    """Outbox rows for operators, newest first."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    return [
        {
            "id": r.id,
            "status": r.status,
            "to": r.to_openid,
            "kind": r.kind,
            "ticket": r.ticket_id,
            "attempts": r.attempts,
            "errcode": r.last_errcode,
            "error": r.last_error,
            "via": r.delivered_via,
            "created_at": r.created_at.isoformat(),
            "text": r.text,
        }
        for r in session.scalars(query)
    ]


def retry(
    session: Session,
    *,
    ids: list[int] | None,
    now: datetime,
    only: ColumnElement[bool] | None = None,
) -> int:
    """Put dead (or held) notices back in the queue, attempts reset; `ids=None`: all dead.
    `only` narrows the rows further (the webhooks' deliveries, say)."""
    query = select(OutboxMessage) if only is None else select(OutboxMessage).where(only)
    if ids is None:
        query = query.where(OutboxMessage.status == OutboxStatus.DEAD)
    else:
        query = query.where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.status.in_([s for s in OutboxStatus if s.may_retry]),
        )
    count = 0
    for row in session.scalars(query.with_for_update()):
        row.status = OutboxStatus.PENDING
        row.attempts = 0
        row.next_attempt_at = now
        count += 1
    return count


def backlog(session: Session, *, now: datetime) -> dict:
    """Counts by status and the age in seconds of the oldest pending notice."""
    counts = dict(
        session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    oldest = session.scalar(
        select(func.min(OutboxMessage.created_at)).where(
            OutboxMessage.status == OutboxStatus.PENDING
        )
    )
    if isinstance(oldest, str):  # SQLite's min() over a datetime column comes back as text
        oldest = datetime.fromisoformat(oldest).replace(tzinfo=UTC)
    age = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    return {
        **{s.value: counts.get(s.value, 0) for s in OutboxStatus},
        "oldest_pending_age_seconds": round(age, 3),
    }


def _on_wecom(session: Session, openid: str) -> str:
    """Staff bound on WeCom are told there ("wecom:<userid>"), not on the official account:
    no 48-hour window, and one address per notice so each goes out once."""
    if ":" in openid:  # already an address of its own: "wecom:<userid>", "webhook:<id>"
        return openid
    loaded = _loaded_staff(session, openid)
    if loaded is not None:  # routing or the sender's arrival loaded them: no query
        userid = loaded.wecom_userid
    else:
        userid = session.scalar(WECOM_USERID, {"openid": openid})
    return WECOM_PREFIX + userid if userid else openid


WECOM_USERID = select(Staff.wecom_userid).where(
    Staff.openid == bindparam("openid"), Staff.wecom_userid.is_not(None)
)


def _loaded_staff(session: Session, openid: str) -> Staff | None:
    """The staff member with `openid` if this session holds their row, loaded (a notice
    usually goes to a worker the change itself loaded); None when it would take a query."""
    for obj in session.identity_map.values():
        if type(obj) is Staff:
            state = obj.__dict__
            if "openid" in state and "wecom_userid" in state and state["openid"] == openid:
                return obj
    return None
