"""帮助: everyone sees the commands they may use — a rider, a grid worker, a community or
street lead, a district supervisor, a department's liaison."""

from __future__ import annotations

from app.services.directory.people import ROLE_LABELS
from bot.router import Router
from handlers.context import ChatContext
from handlers.texts import RIDER_HELP
from models import Staff

router = Router("usage")

_WORK = (
    "「进展 号 内容」反馈进展\n"
    "「办结 号 处理结果」办结（名下只有一单时可不写号）；办结前后 {minutes} 分钟内发来的照片作为办结照片，"
    "上报人确认时能看到"
)
_ASK_ABOVE = (
    "「延期 号 时长 原因」向上级申请延期，如「延期 12 2小时 等待配件」\n"
    "「退回 号 无效 原因」问题不存在或不属实，上级确认后关闭；"
    "「退回 号 转办 原因」问题存在但不归您处理，交上级另行派单"
)
_LEAD = (
    "「转派 号 网格名称」改派到其他网格（也可写编码），「网格列表」查看可转派的网格\n"
    "「吹哨 号 部门」请职能部门报到处理，如「吹哨 12 区排水所」\n"
    "「预警 号」提醒工单地点附近1公里内的骑手绕行（严重的积水、倒树等会自动提醒）\n"
    "「同意 号」「驳回 号 理由」审批下级的延期、退回申请\n"
    "「拆分 号」把误合并的上报拆成独立工单\n"
    "「日报」查看昨天的日报，「日报 2026-11-20」查看指定日期\n"
    "「登录」获取控制台登录链接，在浏览器里看地图、工单和统计"
)

STAFF_COMMANDS = {
    "grid_worker": (
        "「认领 号」接单（只发「认领」接最新一单）",
        _WORK,
        "「转派 号 网格名称」转给其他网格（也可写编码），「网格列表」查看可转派的网格",
        _ASK_ABOVE,
        "「拆分 号」把误合并到您工单里的上报拆成独立工单",
        "「我的工单」查看待办",
    ),
    "community_lead": (
        "「待办」查看辖区内未办结的工单，最超时的在前",
        "「认领 号」亲自接单",
        _WORK,
        _LEAD,
        _ASK_ABOVE,
    ),
    "street_lead": (
        "「待办」查看辖区内未办结的工单，最超时的在前",
        "「认领 号」亲自接单",
        _WORK,
        _LEAD,
        _ASK_ABOVE,
    ),
    "supervisor": (
        "「待办」查看辖区内未办结的工单，最超时的在前",
        "「认领 号」亲自接单",
        _WORK,
        _LEAD,
    ),
    "department": (
        "「报到 号」接受吹哨，工单由您处理",
        _WORK,
        _ASK_ABOVE,
        "「我的工单」查看待办",
    ),
}


def staff_help(staff: Staff, *, resolution_photo_minutes: int = 5) -> str:
    """The commands `staff` may use, for their role."""
    lines = STAFF_COMMANDS.get(staff.role, STAFF_COMMANDS["grid_worker"])
    body = "\n".join(lines).format(minutes=resolution_photo_minutes)
    role = ROLE_LABELS.get(staff.role, "工作人员")
    return f"{role}指令（「号」是工单号）：\n{body}"


def help_for(ctx: ChatContext) -> str:
    """帮助 for whoever is writing: a rider's report guide, or a staff member's commands."""
    if ctx.staff is None:
        return RIDER_HELP
    return staff_help(ctx.staff, resolution_photo_minutes=ctx.settings.resolution_photo_minutes)


@router.command("帮助", "help", "?", "？")
def show_help(ctx: ChatContext, args: str) -> str:
    return help_for(ctx)
