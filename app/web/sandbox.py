"""What the sandbox channel 'sent', for the demo's terminal client and tests."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request

router = APIRouter(prefix="/sandbox", tags=["sandbox"])


@router.get("/messages")
def messages(request: Request, to: str = Query(min_length=1), after: int = 0) -> list[dict]:
    channel = request.app.state.sandbox
    if channel is None:
        raise HTTPException(404, "the sandbox is off: GRIDBOT_CHANNEL is not 'sandbox'")
    return [
        {"id": m.id, "to": m.to_openid, "text": m.text, "created_at": m.created_at.isoformat()}
        for m in channel.messages_to(to, after_id=after)
    ]
