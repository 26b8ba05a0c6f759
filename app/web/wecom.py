"""The WeCom (企业微信) app's callback: staff send the same commands as on the official
account and get the same answers, from the same chat engine.

The sender "wecom:<userid>" is first resolved to the person the chat engine knows (a staff
member bound on both channels is one person); the passive reply goes back encrypted.
A reply not ready in time is parked and sent later, as on /wechat.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import anyio
from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import PlainTextResponse

from app.db import unit_of_work
from app.inbox.chat import DatabaseUnavailable
from app.services.directory import people
from app.services.wecom_cards import CLAIM_KEY, owe_card_update
from app.web.wechat import DATABASE_DOWN, XML, _capped_body, handled
from bot.codec import BadRequest
from bot.inbound import InboundMessage
from bot.wecom import wecom_userid
from models import utcnow

router = APIRouter(tags=["wecom"])
log = logging.getLogger(__name__)


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
    pressed = _pressed_claim(received)
    if pressed is not None:  # the card's 认领 button: the chat command 认领 <number>
        received = replace(received, kind="text", text=f"认领 {pressed}")
    try:
        msg = await anyio.to_thread.run_sync(_as_known, state.sessions, received)
    except DATABASE_DOWN:
        return PlainTextResponse("database unavailable", status_code=503)  # WeCom retries

    try:
        reply = await handled(state, msg, 0)
    except DatabaseUnavailable:
        return PlainTextResponse("database unavailable", status_code=503)
    tasks = None
    if pressed is not None:
        tasks = BackgroundTasks()
        tasks.add_task(_owe_card_update, state, received, pressed)
    if not reply:
        return PlainTextResponse("success", background=tasks)
    return Response(codec.encode_reply(reply, received), media_type=XML, background=tasks)


def _pressed_claim(msg: InboundMessage) -> int | None:
    """The ticket number of a pressed 认领 button (template_card_event), else None."""
    if msg.event != "template_card_event" or not msg.event_key.startswith(CLAIM_KEY):
        return None
    number = msg.event_key.removeprefix(CLAIM_KEY)
    return int(number) if number.isdigit() and len(number) < 12 else None


def _owe_card_update(state, msg: InboundMessage, number: int) -> None:
    """After the answer is sent: the pressed card is owed "已由X认领" in place of its buttons,
    through the outbox (retried there). The claim is committed already; a failure here only
    leaves the buttons (pressing again says who holds it)."""
    userid = wecom_userid(msg.openid)
    if userid is None:
        return
    try:
        with unit_of_work(state.sessions) as session:
            owed = owe_card_update(
                session,
                userid=userid,
                response_code=msg.raw.get("ResponseCode", ""),
                number=number,
                press=msg.dedup_key,
                now=utcnow(),
            )
    except Exception as exc:
        log.warning("WeCom card of ticket #%s: update not owed: %s", number, exc)
        return
    if owed is not None:
        state.chat.on_outbox()
