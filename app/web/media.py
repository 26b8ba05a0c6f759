"""Photos for staff, through signed expiring links only: there is no listing."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response

from app.media.storage import StoreUnavailable
from models import TicketPhoto, utcnow

log = logging.getLogger(__name__)

router = APIRouter(prefix="/media", tags=["media"])

HEADERS = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}


def _serve(request: Request, photo_id: int, variant: str, exp: int, sig: str) -> Response:
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
    if not sha:
        raise HTTPException(404, "photo not processed yet; try again shortly")
    store = state.media_store
    path = store.path(sha)
    if path is not None:
        return FileResponse(path, media_type="image/jpeg", headers=HEADERS)
    try:
        data = store.get(sha)  # an object store: the bytes pass through this server
    except StoreUnavailable as exc:
        log.warning("photo %s: %s", photo_id, exc)
        raise HTTPException(503, "photo storage unavailable; try again shortly") from None
    if data is None:
        raise HTTPException(404, "photo not processed yet; try again shortly")
    return Response(data, media_type="image/jpeg", headers=HEADERS)


@router.get("/{photo_id}")
def photo(request: Request, photo_id: int, exp: int = Query(), sig: str = Query(max_length=64)):
    return _serve(request, photo_id, "full", exp, sig)


@router.get("/{photo_id}/thumb")
def thumb(request: Request, photo_id: int, exp: int = Query(), sig: str = Query(max_length=64)):
    return _serve(request, photo_id, "thumb", exp, sig)
