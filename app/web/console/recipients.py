"""Who a notice went to, as a lead reads it on the console: staff by name, the reporter of
its ticket, the riders whose reports were merged into it, riders alerted nearby, an
outside system (a webhook). Never an openid."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from models import OutboxMessage, Rider, Staff, Ticket


def recipient_names(session: Session, notices: Sequence[OutboxMessage]) -> list[str]:
    """One name per notice, in order (three queries whatever the number of notices)."""
    addresses = {n.to_openid for n in notices if n.to_openid}
    tickets = {n.ticket_id for n in notices if n.ticket_id is not None}
    userids = {a.removeprefix("wecom:") for a in addresses if a.startswith("wecom:")}
    staff: dict[str, str] = {}
    for openid, userid, name in session.execute(
        select(Staff.openid, Staff.wecom_userid, Staff.name).where(
            or_(Staff.openid.in_(addresses), Staff.wecom_userid.in_(userids))
        )
    ):
        staff[openid or ""] = name
        if userid:
            staff[f"wecom:{userid}"] = name
    reporters = set(
        session.execute(
            select(Ticket.id, Rider.openid)
            .join(Rider, Rider.id == Ticket.reporter_id)
            .where(Ticket.id.in_(tickets))
        ).tuples()
    )
    merged = aliased(Ticket)
    confirmers = set(
        session.execute(
            select(merged.merged_into_id, Rider.openid)
            .join(Rider, Rider.id == merged.reporter_id)
            .where(merged.merged_into_id.in_(tickets))
        ).tuples()
    )
    return [_name(n, staff, reporters, confirmers) for n in notices]


def _name(n: OutboxMessage, staff, reporters, confirmers) -> str:
    address = n.to_openid or ""
    if address in staff:
        return staff[address]
    if address.startswith("webhook:"):
        return "外部系统"
    if (n.ticket_id, address) in reporters:
        return "上报人"
    if (n.ticket_id, address) in confirmers:
        return "同一问题的上报人"
    return "附近骑手" if n.kind.startswith("hazard_") else "骑手"
