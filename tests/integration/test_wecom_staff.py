"""`gridbot staff add --wecom-userid`, `staff link` and `staff invite --staff`: staff known
by their WeCom (企业微信) userid, one person on both channels."""

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import app
from app.db import make_engine, make_sessionmaker
from app.demo.seed import DISTRICT
from app.settings import get_settings
from models import Staff, StaffInvite

GRID = "31019900100101"


@pytest.fixture
def cli(db_url, sessions, monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("GRIDBOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def _staff(db_url) -> list[tuple]:
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as s:
        rows = [(st.name, st.openid, st.wecom_userid) for st in s.scalars(select(Staff))]
    engine.dispose()
    return rows


def test_staff_add_with_a_wecom_userid(cli, db_url):
    assert cli("grids", "import", str(DISTRICT)).exit_code == 0
    add = ("staff", "add", "--name", "王芳", "--role", "grid_worker", "--area", GRID)
    done = cli(*add, "--wecom-userid", "wangfang")
    assert done.exit_code == 0, done.output
    assert "added 王芳" in done.output
    assert _staff(db_url) == [("王芳", "wecom:wangfang", "wangfang")]

    again = cli(*add, "--wecom-userid", "wangfang")
    assert again.exit_code != 0
    assert "企业微信账号 wangfang 已绑定其他工作人员" in again.output
    neither = cli(*add)
    assert neither.exit_code != 0
    assert "需要 --openid 或 --wecom-userid" in neither.output
    assert "Traceback" not in again.output + neither.output


def test_staff_link_adds_and_changes_a_wecom_userid(cli, db_url):
    assert cli("grids", "import", str(DISTRICT)).exit_code == 0
    add = ("staff", "add", "--role", "grid_worker", "--area", GRID)
    assert cli(*add, "--name", "王芳", "--openid", "wx-wangfang").exit_code == 0
    assert cli(*add, "--name", "李娜", "--wecom-userid", "lina").exit_code == 0
    listed = cli("staff", "list").output
    number = next(line.split()[0] for line in listed.splitlines() if "王芳" in line)

    linked = cli("staff", "link", "--staff", number, "--wecom-userid", "wangfang")
    assert linked.exit_code == 0, linked.output
    assert "王芳" in linked.output and "linked to WeCom userid wangfang" in linked.output
    changed = cli("staff", "link", "--staff", "wx-wangfang", "--wecom-userid", "wangfang2")
    assert "wangfang -> wangfang2" in changed.output
    same = cli("staff", "link", "--staff", "wangfang2", "--wecom-userid", "wangfang2")
    assert same.exit_code == 0 and "already on WeCom as wangfang2" in same.output
    # someone on WeCom only: their address follows the new userid
    assert cli("staff", "link", "--staff", "lina", "--wecom-userid", "lina.2").exit_code == 0
    assert sorted(_staff(db_url)) == [
        ("李娜", "wecom:lina.2", "lina.2"),
        ("王芳", "wx-wangfang", "wangfang2"),
    ]
    row = next(line for line in cli("staff", "list").output.splitlines() if "王芳" in line)
    assert "wx-wangfang" in row and "wangfang2" in row

    refusals = {
        (
            "--staff",
            "999",
            "--wecom-userid",
            "x",
        ): "没有编号、openid 或企业微信账号为 999 的工作人员",
        ("--staff", number, "--wecom-userid", "wang fang"): "企业微信账号 'wang fang' 不合规",
        ("--staff", number, "--wecom-userid", "a|b"): "不合规",
        ("--staff", number, "--wecom-userid", "lina.2"): "已绑定其他工作人员：李娜",
    }
    for args, words in refusals.items():
        refused = cli("staff", "link", *args)
        assert refused.exit_code != 0 and words in refused.output, (args, refused.output)
        assert "Traceback" not in refused.output and len(refused.output.splitlines()) == 1
    assert sorted(_staff(db_url))[1] == ("王芳", "wx-wangfang", "wangfang2")  # unchanged


def test_staff_invite_for_an_existing_staff_member(cli, db_url):
    assert cli("grids", "import", str(DISTRICT)).exit_code == 0
    add = ("staff", "add", "--name", "王芳", "--role", "grid_worker", "--area", GRID)
    assert cli(*add, "--openid", "wx-wangfang").exit_code == 0
    made = cli("staff", "invite", "--staff", "wx-wangfang")
    assert made.exit_code == 0, made.output
    code = made.stdout.strip()
    assert len(code) == 8
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as s:
        invite = s.scalars(select(StaffInvite).where(StaffInvite.code == code)).one()
        wang = s.scalars(select(Staff).where(Staff.name == "王芳")).one()
        assert (invite.staff_id, invite.role, invite.area.code) == (wang.id, "grid_worker", GRID)
    engine.dispose()
    both = cli("staff", "invite", "--staff", "wx-wangfang", "--role", "grid_worker")
    assert both.exit_code != 0 and "leave out --role" in both.output
    neither = cli("staff", "invite")
    assert neither.exit_code != 0 and "需要 --role 和 --area" in neither.output


def test_a_wecom_userid_is_refused_while_the_wecom_app_is_not_configured(cli, db_url, monkeypatch):
    assert cli("grids", "import", str(DISTRICT)).exit_code == 0
    add = ("staff", "add", "--name", "王芳", "--role", "grid_worker", "--area", GRID)
    assert cli(*add, "--openid", "wx-wangfang").exit_code == 0
    for name, value in {
        "CHANNEL": "wechat",
        "WECHAT_TOKEN": "real-token-123",
        "WECHAT_APP_ID": "wx0123456789abcdef",
        "WECHAT_APP_SECRET": "real-secret-456",
        "MEDIA_SECRET": "m" * 32,
    }.items():
        monkeypatch.setenv(f"GRIDBOT_{name}", value)
    get_settings.cache_clear()
    for args in (
        ("staff", "link", "--staff", "wx-wangfang", "--wecom-userid", "wangfang"),
        (*add, "--wecom-userid", "wangfang"),
    ):
        refused = cli(*args)
        assert refused.exit_code != 0, refused.output
        assert "GRIDBOT_WECOM_CORP_ID is not set" in refused.output
    assert _staff(db_url) == [("王芳", "wx-wangfang", None)]
