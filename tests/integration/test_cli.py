"""The operator's command line against a real database."""

import json
import re

import pytest

from app.demo.seed import DISTRICT
from tests.chatkit import FENGYUAN_1, Chat


def test_import_invite_bind_report_and_inspect(cli, db_url, clock):
    out = cli("grids", "import", str(DISTRICT)).output
    assert "23 created" in out
    assert "23 updated" in cli("grids", "import", str(DISTRICT)).output

    code = cli(
        "staff", "invite", "--role", "grid_worker", "--area", "31019900100101", "--name", "张伟"
    ).stdout
    code = code.strip().splitlines()[0]
    assert len(code) == 8

    from app.db import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    chat = Chat(make_sessionmaker(engine), clock)
    assert "绑定成功" in chat.text("wx-zhangwei", f"绑定 {code}")
    assert "无效或已使用" in chat.text("wx-other", f"绑定 {code}")
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    chat.text("wx-zhangwei", "认领")
    engine.dispose()

    listed = json.loads(cli("tickets", "list", "--json").stdout)
    assert [(t["number"], t["status"], t["category"]) for t in listed] == [
        (1, "claimed", "flooding")
    ]
    shown = json.loads(cli("tickets", "show", "1", "--json").stdout)
    for key in (
        "number",
        "status",
        "category",
        "grid_code",
        "assignee_openid",
        "reporter_openid",
        "lat",
        "lng",
        "created_at",
        "updated_at",
        "events",
    ):
        assert key in shown
    assert shown["grid_code"] == "31019900100101"
    assert shown["assignee_openid"] == "wx-zhangwei"
    assert shown["lat"] == pytest.approx(FENGYUAN_1[0], abs=1e-6)
    assert [e["action"] for e in shown["events"]] == ["create", "claim"]
    assert json.loads(cli("tickets", "list", "--status", "closed", "--json").stdout) == []
    assert "#1" in cli("tickets", "list").stdout


def test_operator_mistakes_are_refused_clearly(cli, tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"properties": {"name": "x"}}]}')
    result = cli("grids", "import", str(bad), ok=False)
    assert result.exit_code == 1 and "缺少 code" in result.output
    result = cli("staff", "invite", "--role", "grid_worker", "--area", "nowhere", ok=False)
    assert result.exit_code == 1 and "不存在" in result.output
    cli("grids", "import", str(DISTRICT))
    result = cli(
        "staff",
        "add",
        "--openid",
        "x",
        "--name",
        "y",
        "--role",
        "boss",
        "--area",
        "310199",
        ok=False,
    )
    assert "未知角色" in result.output
    result = cli("tickets", "show", "42", ok=False)
    assert result.exit_code == 1 and "no ticket #42" in result.output


def test_staff_add_makes_a_backup_worker_who_gets_tickets_when_the_primary_is_absent(
    cli, db_url, clock
):
    cli("grids", "import", str(DISTRICT))
    cli(
        "staff",
        "add",
        "--openid",
        "wx-backup",
        "--name",
        "李四",
        "--role",
        "grid_worker",
        "--area",
        "31019900100101",
        "--backup",
    )
    from app.db import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    chat = Chat(make_sessionmaker(engine), clock)
    chat.text("rider-1", "井盖丢了")
    assert "李四" in chat.location("rider-1", FENGYUAN_1)
    engine.dispose()


def test_digest_of_an_area_as_text_json_and_png(cli, db_url, tmp_path):
    from app.db import make_engine, make_sessionmaker
    from app.demo.seed import seed
    from app.migrate import upgrade
    from tests.digestkit import load_week

    upgrade(db_url)
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        seed(s)
    load_week(sessions)
    engine.dispose()

    text = cli("digest", "--area", "310199", "--date", "2026-11-20").stdout
    assert text.startswith("【工单日报】示范区 2026-11-20")
    assert "新增 6，认领 4，办结 2，关闭 1" in text
    figures = json.loads(
        cli("digest", "--area", "310199001001", "--date", "2026-11-20", "--json").stdout
    )
    assert (figures["area_code"], figures["new"], figures["claimed"]) == ("310199001001", 3, 2)
    assert figures["by_category"] == {"flooding": 1, "other": 1, "traffic_signal": 1}
    out = tmp_path / "chart.png"
    cli("digest", "--area", "310199", "--date", "2026-11-20", "--png", str(out))
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert "不存在" in cli("digest", "--area", "nowhere", ok=False).output
    assert "YYYY-MM-DD" in cli("digest", "--area", "310199", "--date", "11/20", ok=False).output


def test_jobs_list_and_run(cli, db_url, clock):
    lines = cli("jobs", "list").stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == [
        "outbox",
        "escalation",
        "auto_close",
        "hazard_alerts",
        "digest",
        "forget_deliveries",
        "photos",
        "more_reports",
        "late_answers",
    ]
    assert "no job named" in cli("jobs", "run", "nope", ok=False).output

    from datetime import timedelta

    from app.db import make_engine, make_sessionmaker, unit_of_work
    from app.demo.seed import seed
    from app.migrate import upgrade

    upgrade(db_url)
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with unit_of_work(sessions) as session:
        seed(session)
    from models import utcnow

    clock.now = utcnow() - timedelta(hours=1)  # filed an hour ago: its claim deadline passed
    chat = Chat(sessions, clock)
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    engine.dispose()

    # A readable summary of each run (it was the repr of the job's result).
    out = cli("jobs", "run", "escalation").stdout
    assert out == (
        "escalation: 1 ticket past a deadline: 1 reminder to holders, 3 escalations up the ladder\n"
    )
    assert cli("jobs", "run", "escalation").stdout == "escalation: nothing due\n"
    assert cli("jobs", "run", "auto-close").stdout == "auto_close: nothing due\n"
    assert cli("jobs", "run", "hazard-alerts").stdout == "hazard_alerts: nothing due\n"
    assert re.fullmatch(
        r"outbox: \d+ notices sent, 0 failed \(tried again later\), 0 dead, "
        r"0 held for the person's next message\n",
        cli("jobs", "run", "outbox").stdout,
    )
    assert cli("jobs", "run", "photos").stdout == (
        "photos: 0 photos stored, 0 refused, 0 to retry, 0 failed\n"
    )
    assert cli("jobs", "run", "more_reports").stdout == (
        "more_reports: 0 notices to workers about reports merged into their tickets\n"
    )
    assert cli("jobs", "run", "forget-deliveries").stdout == (
        "forget_deliveries: 0 webhook deliveries forgotten\n"
    )
    assert cli("jobs", "run", "late_answers").stdout == (
        "late_answers: 0 parked messages answered late\n"
    )
    assert len(chat.notices_to("lead-1")) == 1
