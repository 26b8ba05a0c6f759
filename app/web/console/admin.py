"""Administration pages (/console/admin/...), for district supervisors only: areas and
staff (invite with a code and its QR image, deactivate), the outbox's dead notices
(retry), and the escalation policy in force (read-only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import or_, select

from app.domain.delivery import OutboxStatus
from app.domain.digest import duration_text
from app.services import outbox
from app.services.directory import staff_admin
from app.services.errors import ServiceError
from app.web.console import queries
from app.web.console.auth import DB, CurrentViewer, Viewer, check_csrf
from app.web.console.recipients import recipient_names
from app.web.console.templating import render
from app.web.deps import PolicyDep, SettingsDep
from models import Area, OutboxMessage, Staff, Ticket

router = APIRouter(prefix="/console/admin", tags=["console"])

DEAD_SHOWN = 200
REFUSED = "人员和系统管理只对区级督办（城运中心）开放。"


def _refused(request: Request, who: Viewer):
    return render(request, "refused.html", 403, viewer=who, message=REFUSED)


def _staff_page(request, session, who: Viewer, *, error="", done="", invite=None, status=200):
    qr = ""
    if invite is not None:
        qr = segno.make_qr(f"绑定 {invite.code}", error="m").svg_inline(scale=5)
    return render(
        request,
        "admin_staff.html",
        status,
        viewer=who,
        areas=staff_admin.areas_and_staff(session, who.staff),
        roles=staff_admin.INVITE_ROLES,
        role_label=lambda r: staff_admin.INVITE_ROLES.get(r, r),
        error=error,
        done=done,
        invite=invite,
        qr=qr,
    )


@router.get("")
@router.get("/")
def staff_page(request: Request, session: DB, who: CurrentViewer):
    if not staff_admin.may_administer(who.staff):
        return _refused(request, who)
    return _staff_page(request, session, who, done=_stopped(session, who, request))


def _stopped(session, who: Viewer, request: Request) -> str:
    """The confirmation after a deactivation (?stopped=<id>), read back from the database."""
    try:
        person = session.get(Staff, int(request.query_params.get("stopped", "")))
    except ValueError:
        return ""
    if person is None or person.active or not who.area.covers(person.area):
        return ""
    held = staff_admin.open_tickets_held(session, person)
    more = f"其名下还有 {held} 件未办结工单，请在工单页转派。" if held else ""
    return f"已停用{person.name}，其控制台登录已失效。{more}"


@router.post("/invite")
def invite(
    request: Request,
    session: DB,
    who: CurrentViewer,
    csrf: Annotated[str, Form()] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    area: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=64)] = "",
):
    check_csrf(who, csrf)
    if not staff_admin.may_administer(who.staff):
        return _refused(request, who)
    if role not in staff_admin.INVITE_ROLES or not area:
        return _staff_page(request, session, who, error="请选择角色和区域。", status=400)
    try:
        made = staff_admin.invite(
            session, who.staff, role=role, area_code=area, name=name.strip(), now=datetime.now(UTC)
        )
    except ServiceError as exc:
        session.rollback()
        return _staff_page(request, session, who, error=exc.message, status=400)
    return _staff_page(request, session, who, invite=made)


@router.post("/staff/{staff_id}/deactivate")
def deactivate(
    request: Request,
    staff_id: int,
    session: DB,
    who: CurrentViewer,
    csrf: Annotated[str, Form()] = "",
):
    check_csrf(who, csrf)
    if not staff_admin.may_administer(who.staff):
        return _refused(request, who)
    try:
        person = staff_admin.deactivate(session, who.staff, staff_id, now=datetime.now(UTC))
    except ServiceError as exc:
        session.rollback()
        return _staff_page(request, session, who, error=exc.message, status=400)
    session.commit()
    return RedirectResponse(f"/console/admin/?stopped={person.id}", status_code=303)


def _dead_notices(session, who: Viewer) -> list[OutboxMessage]:
    """Dead notices about tickets in the viewer's area, or to staff in it."""
    areas = select(Area.id).where(Area.path.startswith(who.area.path))
    in_area = select(Staff.openid).where(Staff.area_id.in_(areas), Staff.openid.is_not(None))
    tickets = select(Ticket.id).where(queries.in_scope(who.area))
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.DEAD,
                or_(OutboxMessage.ticket_id.in_(tickets), OutboxMessage.to_openid.in_(in_area)),
            )
            .order_by(OutboxMessage.id.desc())
            .limit(DEAD_SHOWN)
        )
    )


@router.get("/outbox")
def outbox_page(request: Request, session: DB, who: CurrentViewer):
    if not staff_admin.may_administer(who.staff):
        return _refused(request, who)
    dead = _dead_notices(session, who)
    names = recipient_names(session, dead)
    requeued = request.query_params.get("requeued", "")
    done = ""
    if requeued.isdigit():
        count = int(requeued)
        done = f"已重新排队 {count} 条通知，稍后发送。" if count else "没有可重发的通知。"
    return render(
        request,
        "admin_outbox.html",
        viewer=who,
        dead=list(zip(dead, names, strict=True)),
        done=done,
    )


@router.post("/outbox/retry")
def outbox_retry(
    request: Request,
    session: DB,
    who: CurrentViewer,
    csrf: Annotated[str, Form()] = "",
    ids: Annotated[list[int] | None, Form()] = None,
):
    check_csrf(who, csrf)
    if not staff_admin.may_administer(who.staff):
        return _refused(request, who)
    allowed = {n.id for n in _dead_notices(session, who)}
    chosen = [i for i in (ids or []) if i in allowed] if ids else sorted(allowed)
    count = outbox.retry(session, ids=chosen, now=datetime.now(UTC)) if chosen else 0
    session.commit()
    return RedirectResponse(f"/console/admin/outbox?requeued={count}", status_code=303)


@router.get("/policy")
def policy_page(request: Request, who: CurrentViewer, settings: SettingsDep, policy: PolicyDep):
    if not staff_admin.may_administer(who.staff):
        return _refused(request, who)
    return render(
        request,
        "admin_policy.html",
        viewer=who,
        policy=policy,
        source=str(settings.policy_file or "内置默认（app/policy_defaults.toml）"),
        minutes=duration_text,
    )
