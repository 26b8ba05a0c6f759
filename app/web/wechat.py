"""The WeChat webhook: verify, authenticate, decode, handle once, reply passively.

A reply not ready within the ack budget is sent later by customer-service message; the
webhook answers "success" once the message is parked (see app/inbox/inflight.py). When
the database cannot be reached (refused, dropped, or slower than the budget), the message
is kept in the local spool instead and answered the same way (app/inbox/spool.py).

A request whose (timestamp, nonce, signature) was seen before, by any process, is refused
(403): its delivery is recorded in the transaction of the message it carries, first
(app/inbox/deliveries.py).
"""

from __future__ import annotations

import logging
import time

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect

from app.inbox.chat import DatabaseUnavailable
from app.inbox.deliveries import Check, Delivery, Replayed
from app.inbox.inflight import NotParked
from bot.codec import BadRequest, is_encrypted
from bot.inbound import InboundMessage
from bot.metrics import METRICS

router = APIRouter(tags=["wechat"])
log = logging.getLogger(__name__)

DATABASE_DOWN = (SQLAlchemyError, DatabaseUnavailable, TimeoutError)
PARK_TIMEOUT_SECONDS = 1.0
"""Parking past the budget gets this long before the message goes to the spool instead."""

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
    """The request's body; None when it is (or declares to be) longer than `limit`.

    Read from the ASGI messages directly: `request.stream()` is an async generator, and
    creating one per request (the event loop registers each in a WeakSet) was 10% of the
    event loop's samples under load.
    """
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    receive, body = request.receive, b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return body


@router.post("/wechat")
async def receive(request: Request) -> Response:
    state = request.app.state
    arrived, arrived_ns = time.perf_counter(), time.time_ns()
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
    delivery = Delivery.of(query)
    if state.spool.waiting:  # messages kept while the database was down go first
        return await _kept(state, msg, arrived_ns, delivery, arrived)
    try:
        reply = await handled(state, msg, arrived_ns, delivery)
    except Replayed:
        return PlainTextResponse("replayed request", status_code=403)
    except DATABASE_DOWN as exc:  # its delivery unchecked, or rolled back with the message
        log.warning("database unavailable (%s): keeping %s", type(exc).__name__, msg.dedup_key)
        return await _kept(state, msg, arrived_ns, delivery, arrived)
    if not reply:
        answer = PlainTextResponse("success")
    else:
        answer = Response(
            state.codec.encode_reply(reply, msg, encrypted=is_encrypted(query)), media_type=XML
        )
    METRICS.observe("gridbot_answer_seconds", time.perf_counter() - arrived)
    return answer


async def handled(
    state, msg: InboundMessage, arrived_ns: int, delivery: Delivery | None = None
) -> str | None:
    """The chat's answer to `msg` within the ack budget, or None when it was parked (its
    answer then goes late, through `settle`); one copy of a message in flight at a time.
    Raises DatabaseUnavailable (or what the database raised) for the caller to keep or
    refuse the message, and Replayed when `delivery`, the request's, was seen before."""
    check = None
    if delivery is not None and msg.dedup_key in state.in_flight:
        # A copy joining the attempt running here has no transaction: its delivery is
        # written on its own, before it is given that attempt's answer.
        first = state.seen_deliveries.first_time(delivery, msg.dedup_key)
        fresh = await state.pulse.within(first, state.settings.ack_budget_seconds)
        state.pulse.beat()
        if not fresh:
            raise Replayed
    elif delivery is not None:
        check = Check(delivery, msg.dedup_key)

    async def park() -> str | None:
        try:
            if check is not None:
                checked = check.before_parking(state.seen_deliveries.first_time)
                if not await state.pulse.within(checked, PARK_TIMEOUT_SECONDS):
                    raise NotParked  # a replay: its handler refuses it too
            parked = await state.pulse.within(state.parking.park(msg), PARK_TIMEOUT_SECONDS)
        except DATABASE_DOWN:
            await _keep(state, msg, arrived_ns, None if check is None else check.delivery)
            return None
        state.pulse.beat()
        return parked

    async def handle() -> str:
        # (timed_handle beats the pulse in its thread: it committed, or found what an
        # earlier attempt committed)
        return await state.handler_threads.run(state.timed_handle, msg, check)

    chat = state.chat
    return await state.in_flight.run(
        msg.dedup_key,
        handle,
        budget=state.backlog.budget(state.settings.ack_budget_seconds),
        park=park,
        settle=lambda reply: anyio.to_thread.run_sync(
            chat.answer_late, msg, reply, limiter=state.late_limiter
        ),
    )


async def _keep(state, msg, arrived_ns: int, unverified: Delivery | None) -> None:
    state.spool.expect()  # at once: a message arriving while this one is written waits
    await anyio.to_thread.run_sync(
        lambda: state.spool.write(msg, arrived_ns=arrived_ns, unverified=unverified),
        limiter=state.spool_limiter,
    )


async def _kept(state, msg, arrived_ns: int, unverified: Delivery | None, arrived: float):
    """Keep `msg` in the spool and answer "success": its answer comes once it is replayed."""
    await _keep(state, msg, arrived_ns, unverified)
    METRICS.observe("gridbot_answer_seconds", time.perf_counter() - arrived)
    return PlainTextResponse("success")
