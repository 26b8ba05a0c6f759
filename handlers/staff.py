"""Staff binding: '绑定 <code>' turns the sender into the staff member an invite names."""

from __future__ import annotations

from app.services import people
from app.services.errors import ServiceError
from bot.router import Router
from handlers.context import ChatContext
from handlers.texts import STAFF_HELP

router = Router("staff")


@router.command("绑定", "bind")
def bind(ctx: ChatContext, args: str) -> str:
    if not args:
        return "请回复「绑定 绑定码」，绑定码由管理员提供。"
    try:
        staff = people.bind_staff(ctx.session, openid=ctx.msg.openid, code=args, now=ctx.now)
    except ServiceError as exc:
        return exc.message
    role = people.ROLE_LABELS[staff.role]
    return f"绑定成功！您是{staff.area.name}的{role}（{staff.name}）。\n{STAFF_HELP}"
