"""Plain-data views of tickets for the command line and the JSON API."""

from __future__ import annotations

from models import Ticket


def ticket_dict(ticket: Ticket, *, with_events: bool = False) -> dict:
    data = {
        "number": ticket.number,
        "status": ticket.status,
        "category": ticket.category,
        "description": ticket.description,
        "place": ticket.place,
        "grid_code": ticket.grid.code if ticket.grid else None,
        "area_code": ticket.area.code if ticket.area else None,
        "assignee_openid": ticket.assignee.openid if ticket.assignee else None,
        "assignee_name": ticket.assignee.name if ticket.assignee else None,
        "reporter_openid": ticket.reporter.openid,
        "lat": ticket.lat,
        "lng": ticket.lng,
        "photos": [{"media_id": p.media_id, "pic_url": p.pic_url} for p in ticket.photos],
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "claimed_at": ticket.claimed_at.isoformat() if ticket.claimed_at else None,
        "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None,
        "closed_at": ticket.closed_at.isoformat() if ticket.closed_at else None,
        "severe": ticket.severe,
        "claim_due_at": ticket.claim_due_at.isoformat() if ticket.claim_due_at else None,
        "resolve_due_at": ticket.resolve_due_at.isoformat() if ticket.resolve_due_at else None,
        "escalation_level": ticket.escalation_level,
        "next_check_at": ticket.next_check_at.isoformat() if ticket.next_check_at else None,
    }
    if with_events:
        data["events"] = [
            {
                "at": e.at.isoformat(),
                "action": e.action,
                "actor_openid": e.actor_openid,
                "actor_role": e.actor_role,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
                "message_key": e.message_key,
            }
            for e in ticket.events
        ]
    return data
