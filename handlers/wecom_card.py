"""A WeCom card's 认领 button: the chat command 认领 <number>, and the pressed card updated.

The card's update ("已由X认领" in place of its buttons, naming whoever holds the ticket
after this press, also when the press was refused because someone else holds it) is owed
through the outbox in the claim's own transaction: whether the answer goes back in time
or late (parked after WeCom's 5 seconds), the card is updated once the claim is made.
"""

from __future__ import annotations

from app.services.errors import ServiceError
from app.services.wecom_cards import owe_card_update, pressed_claim
from bot.router import Router
from handlers import worker
from handlers.context import ChatContext, is_staff

router = Router("wecom_card")


@router.on("event:template_card_event", when=is_staff)
def pressed(ctx: ChatContext, args: str) -> str | None:
    number = pressed_claim(ctx.msg.event_key)
    if number is None:
        return None
    try:
        reply = worker.claim(ctx, str(number))
    except ServiceError as refusal:  # answered as the dispatcher would; the card still says who
        reply = str(refusal)
    if ctx.staff is not None and ctx.staff.wecom_userid:
        owe_card_update(
            ctx.session,
            userid=ctx.staff.wecom_userid,
            response_code=ctx.msg.response_code,
            number=number,
            press=ctx.message_key,
            now=ctx.now,
        )
    return reply
