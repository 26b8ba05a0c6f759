"""'登录' (alias 'console'): a lead gets a one-time link that signs a browser in to the
operations console; anyone else is told who it is for."""

from __future__ import annotations

from app.services.directory import console_access
from app.services.directory.console_access import LINK_MINUTES
from bot.router import Router
from handlers.context import ChatContext

router = Router("console")


@router.command("登录", "console")
def sign_in_link(ctx: ChatContext, args: str) -> str:
    if ctx.staff is None:
        return "控制台供社区、街道和区级负责人使用。上报问题请直接发送照片、位置和文字。"
    token = console_access.issue_link(ctx.session, ctx.staff, now=ctx.now)
    url = console_access.link_url(ctx.settings.public_url, token)
    return (
        f"控制台登录链接（{LINK_MINUTES} 分钟内有效，只能用一次，请勿转发）：\n{url}\n"
        "过期后再发送「登录」获取新链接。"
    )
