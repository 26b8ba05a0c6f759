"""Chat flows, one module per flow; the order below is the order routes are tried."""

from __future__ import annotations

from app.services.errors import ServiceError
from bot.router import Dispatcher
from handlers import (
    console,
    digest,
    escalation,
    evidence,
    hazards,
    recognition,
    report,
    rider,
    staff,
    stations,
    usage,
    wecom_card,
    worker,
)


def build_dispatcher() -> Dispatcher:
    return Dispatcher(
        [
            staff.router,
            console.router,
            usage.router,
            digest.router,
            evidence.router,
            worker.router,
            wecom_card.router,
            escalation.router,
            hazards.router,
            stations.router,
            recognition.router,
            rider.router,
            report.router,
        ],
        fallback=usage.help_for,
        refusals=(ServiceError,),
    )
