"""`gridbot staff add --wecom-userid`: staff known by their WeCom (企业微信) userid."""

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import app
from app.db import make_engine, make_sessionmaker
from app.demo.seed import DISTRICT
from app.settings import get_settings
from models import Staff

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
