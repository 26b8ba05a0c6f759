"""Chat flows, one module per flow; the order below is the order routes are tried."""

from __future__ import annotations

from bot.router import Dispatcher
from handlers import digest, escalation, evidence, report, rider, staff, worker
from handlers.context import ChatContext
from handlers.texts import RIDER_HELP, STAFF_HELP


def help_text(ctx: ChatContext) -> str:
    return STAFF_HELP if ctx.staff is not None else RIDER_HELP


def build_dispatcher() -> Dispatcher:
    return Dispatcher(
        [
            staff.router,
            digest.router,
            evidence.router,
            worker.router,
            escalation.router,
            rider.router,
            report.router,
        ],
        fallback=help_text,
    )
