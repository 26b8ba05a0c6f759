"""What an operator reads in `gridbot tickets list|show`, `grids list` and `staff list`."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.cli_table import width
from app.jobs import JobContext, run_escalation
from app.settings import Settings
from models import utcnow
from tests.chatkit import FENGYUAN_1, NANYUAN_4, Chat

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def cli(db_url, demo_sessions, monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("GRIDBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GRIDBOT_TIMEZONE", raising=False)
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> str:
        result = runner.invoke(app, list(args))
        assert (result.exit_code == 0) is ok, result.output
        return result.output

    return run


@pytest.fixture
def tickets(demo_sessions, clock):
    """#1 flooding filed an hour ago and escalated, #2 bulky waste filed just now,
    #3 a severe flooding report, claimed."""
    clock.now = utcnow() - timedelta(hours=1)
    chat = Chat(demo_sessions, clock)
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路与东安路口")
    settings = Settings(database_url="sqlite://")
    run_escalation(JobContext(sessions=demo_sessions, settings=settings, clock=utcnow))
    clock.now = utcnow()
    chat.text("rider-2", "楼下有大件垃圾")
    chat.location("rider-2", NANYUAN_4, "南园小区")
    chat.text("rider-3", "积水很深，车辆无法通行")
    chat.location("rider-3", NANYUAN_4, "南园路")
    chat.text("worker-16", "认领 3")
    return chat


def column_at(line: str, cell: str) -> int:
    """The terminal column where `cell` starts in `line`."""
    return width(line[: line.index(cell)])


def test_tickets_list_reads_in_chinese_with_local_times_and_flags(cli, tickets):
    lines = cli("tickets", "list").splitlines()
    assert lines[0].split() == [
        "工单",
        "状态",
        "类别",
        "提醒",
        "网格",
        "处理人",
        "上报时间",
        "地点",
    ]
    by_number = {line.split()[0]: line for line in lines[1:]}
    assert list(by_number) == ["#3", "#2", "#1"]
    assert by_number["#1"].split()[1:5] == ["待认领", "道路积水", "超时、已升级", "枫苑一网格"]
    assert by_number["#2"].split()[1:4] == ["待认领", "大件垃圾", "-"]
    assert by_number["#3"].split()[1:4] == ["处理中", "道路积水", "严重"]
    filed = tickets.ticket(1).created_at.astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    assert filed in by_number["#1"]
    # Columns line up in a terminal, where a Chinese character takes two columns.
    for header, cells in (("状态", ["待认领", "处理中"]), ("上报时间", [filed[:4]])):
        starts = {column_at(lines[0], header)}
        starts |= {column_at(line, cell) for line in lines[1:] for cell in cells if cell in line}
        assert len(starts) == 1, (header, starts)


def test_tickets_list_filters_by_status_and_refuses_an_unknown_one(cli, tickets):
    assert [line.split()[0] for line in cli("tickets", "list", "--status", "处理中").splitlines()][
        1:
    ] == ["#3"]
    assert len(cli("tickets", "list", "--status", "assigned").splitlines()) == 3
    assert cli("tickets", "list", "--status", "closed") == "没有状态为「已关闭」的工单。\n"
    out = cli("tickets", "list", "--status", "open-ish", ok=False)
    assert "unknown status 'open-ish'" in out and "claimed（处理中）" in out


def test_tickets_show_prints_local_times_and_one_severity(cli, tickets):
    out = cli("tickets", "show", "3")
    lines = out.splitlines()
    assert lines[0] == "工单 #3"
    assert [line.split()[0] for line in lines if "严重程度" in line] == ["严重程度"]
    assert "严重（按严重情形的期限处理）" in out
    t = tickets.ticket(3)
    assert f"上报时间  {t.created_at.astimezone(TZ):%Y-%m-%d %H:%M}" in out
    assert f"认领期限  {t.claim_due_at.astimezone(TZ):%Y-%m-%d %H:%M}" in out
    assert "+00:00" not in out and "severe" not in out
    assert "时间线：" in out and "处理中" in lines[-1]


def test_grids_list_shows_the_tree_its_people_and_a_level(cli, tickets):
    lines = cli("grids", "list").splitlines()
    assert lines[0].split() == ["编码", "名称", "层级", "人员", "未办结"]
    assert len(lines) == 1 + 23
    assert lines[1].split() == ["310199", "示范区", "区", "区城运中心"]
    assert column_at(lines[1], "示范区") == column_at(lines[0], "名称")
    assert column_at(lines[2], "枫林街道") == column_at(lines[0], "名称") + 2  # the tree
    fengyuan = next(line for line in lines if line.startswith("31019900100101 "))
    assert fengyuan.split()[1:] == ["枫苑一网格", "网格", "张伟", "1"]
    grids = cli("grids", "list", "--level", "grid").splitlines()
    assert len(grids) == 1 + 16
    assert len(cli("grids", "list", "--level", "社区").splitlines()) == 1 + 4
    assert "unknown level 'block'" in cli("grids", "list", "--level", "block", ok=False)


def test_staff_list_of_an_area_and_below(cli, tickets):
    lines = cli("staff", "list", "--area", "310199001001").splitlines()
    assert lines[0].split() == ["编号", "姓名", "角色", "区域", "微信", "企业微信"]
    assert lines[1].split()[1:3] == ["马书记", "社区书记"]
    assert [line.split()[1] for line in lines[2:]] == ["张伟", "王芳", "李娜", "刘洋"]
    assert "网格员" in lines[2] and "worker-1" in lines[2]
    assert lines[2].split()[0].isdigit()  # the number `staff link --staff` and invites take
    everyone = cli("staff", "list").splitlines()
    assert len(everyone) == 1 + 16 + 4 + 2 + 1 + 2
    assert "no area with code 'nowhere'" in cli("staff", "list", "--area", "nowhere", ok=False)
