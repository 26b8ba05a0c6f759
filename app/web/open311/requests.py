"""POST /open311/v2/requests.{fmt}, GET requests.{fmt}, GET requests/{id}.{fmt},
GET tokens/{token}.{fmt} (no request is ever queued: a POST answers its id at once)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import anyio
from fastapi import APIRouter, Request
from sqlalchemy.exc import IntegrityError

from app.db import unit_of_work
from app.media.fetch_guard import MediaHosts
from app.services.errors import ServiceError
from app.services.open311 import open311_requests as intake
from app.services.open311 import open311_views as views
from app.web.open311.access import caller
from app.web.open311.formats import Open311Error, answer, check_format, refusal
from models import ApiClient, utcnow

router = APIRouter(prefix="/open311/v2", tags=["open311"])

MAX_BODY = 64 * 1024


def _media_hosts(request: Request) -> MediaHosts | None:
    settings = request.app.state.settings
    if not settings.open311_media_hosts:
        return None
    return MediaHosts.parse(
        settings.open311_media_hosts, allow_private=settings.media_hosts_allow_private
    )


async def read_form(request: Request, fmt: str) -> dict[str, str]:
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        raise Open311Error(413, "请求体过大。", fmt)
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/requests.{fmt}")
async def post_request(request: Request, fmt: str):
    fmt = check_format(fmt)
    form = await read_form(request, fmt)
    # The key is looked up in the database: off the event loop.
    who = await anyio.to_thread.run_sync(
        lambda: caller(request, form.get("api_key"), fmt, write=True)
    )
    try:
        parsed = intake.parse(
            form, _media_hosts(request), request.headers.get("Idempotency-Key", "")
        )
    except ServiceError as exc:
        raise refusal(exc, fmt) from None
    app = request.app

    window = timedelta(minutes=app.state.settings.open311_repeat_minutes)

    def file() -> dict:
        try:
            return file_once()
        except IntegrityError:
            # A copy of this request filed first, in a transaction that ended while this
            # one was filing: this one rolled back, and now answers the copy's request.
            return file_once()

    def file_once() -> dict:
        with unit_of_work(app.state.sessions) as session:
            client = session.get_one(ApiClient, who.client_id)
            ticket = intake.file_request(
                session,
                client,
                parsed,
                now=utcnow(),
                rules=app.state.intake_rules,
                repeat_window=window,
            )
            notice = ""
            if ticket.merged_into_id:
                notice = f"与工单 #{ticket.merged_into_id} 为同一问题，已合并。"
            return {
                "service_request_id": str(ticket.id),
                "service_notice": notice,
                "account_id": parsed.contact.get("account_id") or None,
            }

    try:
        body = await app.state.handler_threads.run(file)
    except ServiceError as exc:
        raise refusal(exc, fmt) from None
    return answer(fmt, [body], root="service_requests", item="request")


def _tz(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.timezone)


@router.get("/requests.{fmt}")
def get_requests(request: Request, fmt: str):
    fmt = check_format(fmt)
    params = dict(request.query_params)
    caller(request, params.get("api_key"), fmt, write=False)
    try:
        query = views.Query.parse(params)
    except ServiceError as exc:
        raise refusal(exc, fmt) from None
    now = utcnow()
    with request.app.state.sessions() as session:
        tickets = views.find(session, query, now=now)
        body = views.as_service_requests(
            session, tickets, links=request.app.state.media_links, now=now, tz=_tz(request)
        )
    return answer(fmt, body, root="service_requests", item="request")


@router.get("/requests/{number}.{fmt}")
def get_request(request: Request, number: str, fmt: str):
    fmt = check_format(fmt)
    caller(request, request.query_params.get("api_key"), fmt, write=False)
    now = utcnow()
    with request.app.state.sessions() as session:
        try:
            ticket = views.one(session, number)
        except ServiceError as exc:
            raise refusal(exc, fmt) from None
        body = views.as_service_requests(
            session, [ticket], links=request.app.state.media_links, now=now, tz=_tz(request)
        )
    return answer(fmt, body, root="service_requests", item="request")


@router.get("/tokens/{token}.{fmt}")
def get_token(request: Request, token: str, fmt: str):
    fmt = check_format(fmt)
    raise Open311Error(
        404, "没有这个 token：本平台提交即返回 service_request_id，不发 token。", fmt
    )
