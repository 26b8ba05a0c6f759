"""What the sandbox channel 'sent', for the demo's terminal client and tests; and the
photos the terminal client 'sends' (WeChat's media store, played by the sandbox)."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, HTTPException, Query, Request

from app.media.sources import SANDBOX_UPLOADS

router = APIRouter(prefix="/sandbox", tags=["sandbox"])


def _sandbox(request: Request):
    channel = request.app.state.sandbox
    if channel is None:
        raise HTTPException(404, "the sandbox is off: GRIDBOT_CHANNEL is not 'sandbox'")
    return channel


@router.get("/messages")
def messages(request: Request, to: str = Query(min_length=1), after: int = 0) -> list[dict]:
    channel = _sandbox(request)
    return [
        {"id": m.id, "to": m.to_openid, "text": m.text, "created_at": m.created_at.isoformat()}
        for m in channel.messages_to(to, after_id=after)
    ]


@router.post("/media")
async def upload_media(request: Request) -> dict:
    """Keep a photo for `/photo FILE`; its media id is derived from its bytes, so an
    upload can never replace another one's content."""
    _sandbox(request)
    limit = request.app.state.settings.photo_max_bytes
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, "photo too large")
    if not body:
        raise HTTPException(400, "empty upload")
    media_id = "sandbox-" + hashlib.sha256(body).hexdigest()[:24]
    uploads = request.app.state.settings.media_dir / SANDBOX_UPLOADS
    uploads.mkdir(parents=True, exist_ok=True)
    target = uploads / media_id
    if not target.exists():
        tmp = uploads / f".{media_id}.tmp"
        tmp.write_bytes(bytes(body))
        tmp.replace(target)
    return {"media_id": media_id}
