"""Jinja2 for the console: one environment, local times, the signed-in person in context."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates

from app.domain.categories import category_label
from app.domain.people import Role
from app.domain.policy import Phase, phase_of
from app.domain.ticket_notices import is_urgent
from app.domain.tickets import Status, status_label
from models import Ticket

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


ACTION_LABELS = {
    "create": "上报",
    "claim": "认领",
    "note": "进展",
    "resolve": "办结",
    "transfer": "转派",
    "confirm": "确认满意",
    "reopen": "不满意，重新打开",
    "add_info": "补充信息",
    "remind": "超时提醒",
    "escalate": "超时升级",
    "auto_close": "超时自动关闭",
    "summon": "吹哨",
    "check_in": "部门报到",
    "request_extension": "申请延期",
    "approve_extension": "同意延期",
    "refuse_extension": "驳回延期",
    "return": "申请退回",
    "confirm_return": "同意退回",
    "refuse_return": "驳回退回",
    "pass_on": "转办（不归本网格，交上级派单）",
    "withdraw": "上报人撤回",
    "remove_info": "上报人撤回补充",
    "request_details": "请上报人补充描述",
    "merge": "合并到其他工单",
    "join": "同一问题再次上报",
    "split": "拆分",
    "resolution_photo": "办结照片",
    "old_photo": "发现旧照片",
    "hazard_alert": "绕行预警",
    "hazard_clear": "通知恢复通行",
}
ROLE_LABELS = {r.value: r.label for r in Role}
NOTICE_STATES = {
    "pending": "待发送",
    "sent": "已发送",
    "dead": "发送失败",
    "held": "待用户下次留言时送达",
}


def action_label(value: str) -> str:
    return ACTION_LABELS.get(value, value)


templates.env.filters["action_label"] = action_label
templates.env.filters["role_label"] = lambda v: ROLE_LABELS.get(v, v)
templates.env.filters["notice_state"] = lambda v: NOTICE_STATES.get(v, v)
templates.env.filters["status_label"] = status_label
templates.env.filters["category_label"] = category_label


def urgent(ticket: Ticket) -> bool:
    """Marked 紧急 as in every chat notice (【紧急】): an urgent category or severe."""
    return is_urgent(ticket.category, ticket.severe, ticket.severity)


def next_deadline(ticket: Ticket) -> tuple[str, datetime | None]:
    """What the holder must do next and by when: 认领 while nobody holds it, else 办结
    (报到 for a summoned department); ("", None) once nothing is pending."""
    phase = phase_of(ticket.status) if ticket.status else None
    if phase is Phase.CLAIM:
        verb = "报到" if ticket.status == Status.SUMMONED else "认领"
        return verb, ticket.claim_due_at
    if phase is Phase.RESOLVE:
        return "办结", ticket.resolve_due_at
    return "", None


templates.env.globals["urgent"] = urgent
templates.env.globals["next_deadline"] = next_deadline


def render(request: Request, name: str, status_code: int = 200, **context):
    tz = ZoneInfo(request.app.state.settings.timezone)

    def local(value: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
        return value.astimezone(tz).strftime(fmt) if value is not None else "—"

    context.setdefault("viewer", None)
    return templates.TemplateResponse(
        request, name, {"local": local, **context}, status_code=status_code
    )
