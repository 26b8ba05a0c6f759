"""Photos for staff, through signed expiring links only: there is no listing."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse

from models import TicketPhoto, utcnow

router = APIRouter(prefix="/media", tags=["media"])

HEADERS = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}


def _serve(request: Request, photo_id: int, variant: str, exp: int, sig: str) -> FileResponse:
    state = request.app.state
    if not state.media_links.valid(photo_id, variant, exp, sig, now=utcnow()):
        raise HTTPException(403, "link invalid or expired")
    with state.sessions() as session:
        photo = session.get(TicketPhoto, photo_id)
        if photo is None:
            raise HTTPException(404, "no such photo")
        status, sha = photo.status, photo.sha256 if variant == "full" else photo.thumb_sha256
    if status in ("refused", "failed"):
        raise HTTPException(410, "this photo could not be kept")
    path = state.media_store.path(sha) if sha else None
    if path is None:
        raise HTTPException(404, "photo not processed yet; try again shortly")
    return FileResponse(path, media_type="image/jpeg", headers=HEADERS)


@router.get("/{photo_id}")
def photo(request: Request, photo_id: int, exp: int = Query(), sig: str = Query(max_length=64)):
    return _serve(request, photo_id, "full", exp, sig)


@router.get("/{photo_id}/thumb")
def thumb(request: Request, photo_id: int, exp: int = Query(), sig: str = Query(max_length=64)):
    return _serve(request, photo_id, "thumb", exp, sig)
