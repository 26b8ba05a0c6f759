"""Plain-data views of tickets for the command line and the JSON API."""

from __future__ import annotations

from app.media.storage import MediaStore
from models import Ticket, TicketPhoto


def photo_dict(photo: TicketPhoto, store: MediaStore | None = None) -> dict:
    path = store.locate(photo.sha256) if store is not None and photo.sha256 else None
    return {
        "id": photo.id,
        "role": photo.role,
        "status": photo.status,
        "media_id": photo.media_id,
        "pic_url": photo.pic_url,
        "sha256": photo.sha256,
        "path": path,
        "width": photo.width,
        "height": photo.height,
        "exif_gps": photo.exif_gps,
        "taken_at": photo.taken_at.isoformat() if photo.taken_at else None,
        "error": photo.last_error or None,
    }


def ticket_dict(
    ticket: Ticket, *, with_events: bool = False, store: MediaStore | None = None
) -> dict:
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
        "photos": [photo_dict(p, store) for p in ticket.photos],
        "location_source": ticket.location_source,
        "old_photo": ticket.old_photo,
        "merged_into": ticket.merged_into_id,
        "confirmations": ticket.confirmations,
        "severity": ticket.severity,
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
