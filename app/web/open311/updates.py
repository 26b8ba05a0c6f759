"""mySociety's extension: GET and POST /open311/v2/servicerequestupdates.{fmt}."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import anyio
from fastapi import APIRouter, Request

from app.db import unit_of_work
from app.services.errors import ServiceError
from app.services.open311 import open311_updates as updates
from app.web.open311.access import caller
from app.web.open311.formats import answer, check_format, refusal
from app.web.open311.requests import read_form
from models import ApiClient, utcnow

router = APIRouter(prefix="/open311/v2", tags=["open311"])


@router.get("/servicerequestupdates.{fmt}")
def get_updates(request: Request, fmt: str):
    fmt = check_format(fmt)
    params = dict(request.query_params)
    caller(request, params.get("api_key"), fmt, write=False)
    try:
        query = updates.FeedQuery.parse(params)
    except ServiceError as exc:
        raise refusal(exc, fmt) from None
    tz = ZoneInfo(request.app.state.settings.timezone)
    with request.app.state.sessions() as session:
        body = updates.feed(
            session, query, now=utcnow(), links=request.app.state.media_links, tz=tz
        )
    return answer(fmt, body, root="service_requests_updates", item="request_update")


@router.post("/servicerequestupdates.{fmt}")
async def post_update(request: Request, fmt: str):
    fmt = check_format(fmt)
    form = await read_form(request, fmt)
    # The key is looked up in the database: off the event loop.
    who = await anyio.to_thread.run_sync(
        lambda: caller(request, form.get("api_key"), fmt, write=True)
    )
    app = request.app

    def apply() -> dict:
        with unit_of_work(app.state.sessions) as session:
            client = session.get_one(ApiClient, who.client_id)
            event = updates.post_update(session, client, form, now=utcnow())
            return {"update_id": str(event.id)}

    try:
        body = await app.state.handler_threads.run(apply)
    except ServiceError as exc:
        raise refusal(exc, fmt) from None
    return answer(fmt, [body], root="service_request_updates", item="request_update")
