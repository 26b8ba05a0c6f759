"""Actions on the ticket page. Each one is the chat command's use case, which changes the
ticket through tickets.act(): the same permissions, events and notices as in chat.

A refusal is shown on the ticket page next to the forms; success redirects back to the
ticket (POST-redirect-GET) with a fixed confirmation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from app.services.errors import InvalidInput, ServiceError
from app.services.handling import tickets
from app.services.supervision import oversight
from app.web.console import pages, queries
from app.web.console.auth import DB, CurrentViewer, check_csrf

router = APIRouter(prefix="/console", tags=["console"])


def _run(session, who, number: int, action: str, form: dict[str, str], now: datetime) -> str:
    """Take `action`; the key of its confirmation. Raises ServiceError when refused."""
    staff = who.staff
    text = form.get("note", "").strip()
    if action == "claim":
        tickets.claim(session, staff=staff, number=number, now=now)
    elif action == "note":
        if not text:
            raise InvalidInput("请填写进展内容。")
        tickets.add_note(session, staff=staff, number=number, note=text, now=now)
    elif action == "resolve":
        if not text:
            raise InvalidInput("请填写处理结果，上报人会看到它。")
        tickets.resolve(session, staff=staff, number=number, note=text, now=now)
    elif action == "transfer":
        grid = form.get("grid", "").strip()
        if not grid:
            raise InvalidInput("请选择要转派到的网格。")
        tickets.transfer(session, staff=staff, number=number, grid_code=grid, now=now)
    elif action == "summon":
        department = form.get("department", "").strip()
        if not department:
            raise InvalidInput("请选择要吹哨的部门。")
        oversight.summon(session, staff=staff, number=number, department=department, now=now)
    elif action in ("approve", "refuse"):
        if action == "refuse" and not text:
            raise InvalidInput("驳回请写明理由，申请人会看到它。")
        oversight.decide(
            session, staff=staff, number=number, approve=action == "approve", note=text, now=now
        )
    else:
        raise InvalidInput("未知的操作。")
    return action


@router.post("/tickets/{number}/act")
def ticket_action(
    request: Request,
    number: int,
    session: DB,
    who: CurrentViewer,
    action: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    grid: Annotated[str, Form(max_length=64)] = "",
    department: Annotated[str, Form(max_length=64)] = "",
):
    check_csrf(who, csrf)
    found = queries.ticket_in_scope(session, who.area, number)
    if not found:
        return pages.ticket_page(request, number, session, who)
    if action not in pages.DONE_MESSAGES:
        return pages.ticket_page(request, number, session, who, error="未知的操作。", status=400)
    form = {"note": note, "grid": grid, "department": department}
    try:
        done = _run(session, who, number, action, form, datetime.now(UTC))
    except ServiceError as exc:
        session.rollback()
        return pages.ticket_page(request, number, session, who, error=exc.message, status=400)
    return RedirectResponse(f"/console/tickets/{number}?done={done}", status_code=303)
