"""GET /open311/discovery.{json,xml}: where the GeoReport v2 endpoint is and what it speaks."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.web.open311.formats import answer, check_format

router = APIRouter(prefix="/open311", tags=["open311"])

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-01T00:00:00Z"


@router.get("/discovery.{fmt}")
def discovery(request: Request, fmt: str):
    fmt = check_format(fmt)
    base = request.app.state.settings.public_url.rstrip("/")
    body = {
        "changeset": CHANGESET,
        "contact": "gridbot 运维（gridbot api-key create 发放 api_key）",
        "key_service": "由平台运维用 gridbot api-key create 发放",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": f"{base}/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return answer(fmt, body, root="discovery", item=None)
