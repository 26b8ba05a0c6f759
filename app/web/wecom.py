"""The WeCom (企业微信) app's callback: staff send the same commands as on the official
account and get the same answers, from the same chat engine.

The sender "wecom:<userid>" is first resolved to the person the chat engine knows (a staff
member bound on both channels is one person); the passive reply goes back encrypted.
A reply not ready in time is parked and sent later, as on /wechat. A pressed card's 认领
button is an event its handler answers (handlers/wecom_card.py), updating the card too.
"""

from __future__ import annotations

from dataclasses import replace

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from app.inbox.chat import DatabaseUnavailable
from app.services.directory import people
from app.web.wechat import DATABASE_DOWN, XML, _capped_body, handled
from bot.codec import BadRequest
from bot.inbound import InboundMessage

router = APIRouter(tags=["wecom"])


@router.get("/wecom")
def verify(request: Request) -> Response:
    codec = request.app.state.wecom_codec
    if codec is None:
        return PlainTextResponse("WeCom is not configured", status_code=404)
    if not request.app.state.replay_guard.fresh(request.query_params.get("timestamp", "")):
        return PlainTextResponse("stale request", status_code=403)
    try:
        return PlainTextResponse(codec.verify_echo(dict(request.query_params)))
    except BadRequest as exc:
        return PlainTextResponse(exc.reason, status_code=403)


def _as_known(sessions, msg: InboundMessage) -> InboundMessage:
    with sessions() as session:
        return replace(msg, openid=people.wecom_sender(session, msg.openid))


@router.post("/wecom")
async def receive(request: Request) -> Response:
    state = request.app.state
    codec = state.wecom_codec
    if codec is None:
        return PlainTextResponse("WeCom is not configured", status_code=404)
    body = await _capped_body(request, state.settings.max_body_bytes)
    if body is None:
        return PlainTextResponse("body too large", status_code=413)
    query = dict(request.query_params)
    try:
        received = codec.decode(query, body)
    except BadRequest as exc:
        return PlainTextResponse(exc.reason, status_code=403)
    if not state.replay_guard.accept(query.get("timestamp", ""), query.get("nonce", "")):
        return PlainTextResponse("stale or replayed request", status_code=403)
    try:
        msg = await anyio.to_thread.run_sync(_as_known, state.sessions, received)
    except DATABASE_DOWN:
        return PlainTextResponse("database unavailable", status_code=503)  # WeCom retries

    try:
        reply = await handled(state, msg, 0)
    except DatabaseUnavailable:
        return PlainTextResponse("database unavailable", status_code=503)
    if not reply:
        return PlainTextResponse("success")
    return Response(codec.encode_reply(reply, received), media_type=XML)
