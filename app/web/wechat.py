"""The WeChat webhook: verify, authenticate, decode, handle once, reply passively.

A reply not ready within the ack budget is sent later by customer-service message; the
webhook answers "success" once the message is parked (see app/inbox/inflight.py).
"""

from __future__ import annotations

import time

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from app.inbox.deliveries import Delivery
from bot.codec import BadRequest, is_encrypted
from bot.metrics import METRICS

router = APIRouter(tags=["wechat"])

XML = "application/xml; charset=utf-8"


@router.get("/wechat")
def verify(request: Request) -> Response:
    if not request.app.state.replay_guard.fresh(request.query_params.get("timestamp", "")):
        return PlainTextResponse("stale request", status_code=403)
    try:
        echo = request.app.state.codec.verify_echo(dict(request.query_params))
    except BadRequest as exc:
        return PlainTextResponse(exc.reason, status_code=403)
    return PlainTextResponse(echo)


async def _capped_body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


@router.post("/wechat")
async def receive(request: Request) -> Response:
    state = request.app.state
    arrived = time.perf_counter()
    body = await _capped_body(request, state.settings.max_body_bytes)
    if body is None:
        return PlainTextResponse("body too large", status_code=413)
    query = dict(request.query_params)
    try:
        msg = state.codec.decode(query, body)
    except BadRequest as exc:
        return PlainTextResponse(exc.reason, status_code=getattr(exc, "status", 400))
    if not state.replay_guard.accept(query.get("timestamp", ""), query.get("nonce", "")):
        return PlainTextResponse("stale or replayed request", status_code=403)
    if not await state.seen_deliveries.first_time(Delivery.of(query)):
        return PlainTextResponse("replayed request", status_code=403)
    chat = state.chat
    reply = await state.in_flight.run(
        msg.dedup_key,
        lambda: anyio.to_thread.run_sync(state.timed_handle, msg, limiter=state.chat_limiter),
        budget=state.backlog.budget(state.settings.ack_budget_seconds),
        park=lambda: state.parking.park(msg),
        settle=lambda reply: anyio.to_thread.run_sync(
            chat.answer_late, msg, reply, limiter=state.late_limiter
        ),
    )
    if not reply:
        answer = PlainTextResponse("success")
    else:
        answer = Response(
            state.codec.encode_reply(reply, msg, encrypted=is_encrypted(query)), media_type=XML
        )
    METRICS.observe("gridbot_answer_seconds", time.perf_counter() - arrived)
    return answer
