"""Liveness, readiness and metrics for process supervisors and Prometheus."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text

from app.services import outbox
from app.web.deps import SessionsDep
from bot.metrics import CONTENT_TYPE, METRICS, gauges
from models import utcnow

router = APIRouter(tags=["ops"])
log = logging.getLogger(__name__)


@router.get("/healthz")
def healthz() -> dict:
    """The process is up (nothing else is checked)."""
    return {"status": "ok"}


def _backlog(sessions) -> dict:
    with sessions() as session:
        session.execute(text("SELECT 1"))
        return outbox.backlog(session, now=utcnow())


@router.get("/readyz")
def readyz(sessions: SessionsDep) -> JSONResponse:
    """Ready when the database answers; also the outbox backlog. 503 when it does not."""
    try:
        backlog = _backlog(sessions)
    except Exception as exc:
        log.warning("readyz: database unreachable: %s", exc)
        return JSONResponse(
            {"status": "unavailable", "database": f"{type(exc).__name__}"}, status_code=503
        )
    return JSONResponse({"status": "ok", "database": "ok", "outbox": backlog})


@router.get("/metrics")
def metrics(sessions: SessionsDep) -> PlainTextResponse:
    """Prometheus text: this process's counters plus database-wide outbox gauges."""
    up = "gridbot_database_up", "1 when the database answered this scrape."
    try:
        backlog = _backlog(sessions)
    except Exception:
        now = gauges((*up, {(): 0}))
    else:
        now = gauges(
            (*up, {(): 1}),
            (
                "gridbot_outbox_notices",
                "Notices in the outbox by status.",
                {(("status", s),): backlog[s] for s in ("pending", "held", "dead")},
            ),
            (
                "gridbot_outbox_oldest_pending_age_seconds",
                "Age of the oldest notice still waiting to be sent.",
                {(): backlog["oldest_pending_age_seconds"]},
            ),
        )
    return PlainTextResponse(METRICS.render() + now, media_type=CONTENT_TYPE)
