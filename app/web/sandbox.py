"""What the sandbox channel 'sent', for the demo's terminal client and tests; and the
photos the terminal client 'sends' (WeChat's media store, played by the sandbox)."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, HTTPException, Query, Request

from app.media.sources import SANDBOX_UPLOADS
from app.services.directory import people
from app.web.deps import SandboxDep, SessionsDep, SettingsDep

router = APIRouter(prefix="/sandbox", tags=["sandbox"])


@router.get("/messages")
def messages(
    channel: SandboxDep, sessions: SessionsDep, to: str = Query(min_length=1), after: int = 0
) -> list[dict]:
    """What was 'sent' to `to`, and to their WeCom app when they are staff bound there too
    ("to" says which)."""
    with sessions() as session:
        addresses = people.addresses_of(session, to)
    return [
        {"id": m.id, "to": m.to_openid, "text": m.text, "created_at": m.created_at.isoformat()}
        for m in channel.messages_to(*addresses, after_id=after)
    ]


@router.post("/media")
async def upload_media(request: Request, _: SandboxDep, settings: SettingsDep) -> dict:
    """Keep a photo for `/photo FILE`; its media id is derived from its bytes, so an
    upload can never replace another one's content."""
    limit = settings.photo_max_bytes
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, "photo too large")
    if not body:
        raise HTTPException(400, "empty upload")
    media_id = "sandbox-" + hashlib.sha256(body).hexdigest()[:24]
    uploads = settings.media_dir / SANDBOX_UPLOADS
    uploads.mkdir(parents=True, exist_ok=True)
    target = uploads / media_id
    if not target.exists():
        tmp = uploads / f".{media_id}.tmp"
        tmp.write_bytes(bytes(body))
        tmp.replace(target)
    return {"media_id": media_id}
