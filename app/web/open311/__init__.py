"""Open311 GeoReport v2 (/open311/v2) with mySociety's service request updates, and the
discovery document (/open311/discovery.json, .xml).

`install(app)` adds the routers and answers every refusal in the spec's error format.
"""

from __future__ import annotations

from fastapi import FastAPI, Request

from app.web.open311 import discovery, requests, services, updates
from app.web.open311.access import RateLimit
from app.web.open311.formats import Open311Error, error_answer


async def _open311_error(request: Request, exc: Exception):
    assert isinstance(exc, Open311Error)
    return error_answer(exc.fmt, exc.status, exc.description)


def install(app: FastAPI) -> None:
    app.state.open311_rate = RateLimit(app.state.settings.open311_requests_per_minute)
    app.include_router(discovery.router)
    app.include_router(services.router)
    app.include_router(requests.router)
    app.include_router(updates.router)
    app.add_exception_handler(Open311Error, _open311_error)
