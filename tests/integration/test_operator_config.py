"""What an operator sees when the configuration or the database is wrong: one message
naming every problem, never a traceback, and no database created behind their back."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from tests.conftest import PG_BASE, PG_SKIP_REASON

ROOT = Path(__file__).resolve().parents[2]


def gridbot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """The real `gridbot` command in a directory of its own (no .env), as a shell runs it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GRIDBOT_")}
    clean["PYTHONPATH"] = str(ROOT)
    clean.update({f"GRIDBOT_{k.upper()}": v for k, v in env.items()})
    return subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def cli(monkeypatch, tmp_path):
    for name in [k for k in os.environ if k.startswith("GRIDBOT_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GRIDBOT_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    def run(*args: str, **env: str):
        for key, value in env.items():
            monkeypatch.setenv(f"GRIDBOT_{key.upper()}", value)
        return runner.invoke(app, list(args))

    return run


def test_every_wrong_setting_is_named_at_once_without_a_traceback(tmp_path):
    bad_policy = tmp_path / "policy.toml"
    bad_policy.write_text("[categories.flooding\nclaim_minutes = 10\n", encoding="utf-8")
    done = gridbot(
        "tickets",
        "list",
        cwd=tmp_path,
        channel="wechat",
        outbox_max_attempts="many",
        database_url="postgresql://gridbot:s3cret@127.0.0.1:1/gridbot",
        policy_file=str(bad_policy),
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    message = done.stderr
    assert message.startswith("gridbot: the configuration has 7 problems:")
    for setting in (
        "GRIDBOT_OUTBOX_MAX_ATTEMPTS",
        "GRIDBOT_WECHAT_TOKEN",
        "GRIDBOT_WECHAT_APP_ID",
        "GRIDBOT_WECHAT_APP_SECRET",
        "GRIDBOT_MEDIA_SECRET",
        "GRIDBOT_POLICY_FILE",
        "GRIDBOT_DATABASE_URL: cannot connect to postgresql://gridbot:***@127.0.0.1:1/gridbot",
    ):
        assert setting in message, setting
    assert "s3cret" not in message
    assert "not valid TOML" in message


def test_serve_refuses_the_wechat_channel_without_app_id_and_secret(cli, tmp_path):
    cli("db", "upgrade")
    result = cli(
        "serve",
        channel="wechat",
        wechat_token="real-token-123",
        media_secret="m" * 32,
    )
    assert result.exit_code == 2
    assert "GRIDBOT_WECHAT_APP_ID must be set" in result.output
    assert "GRIDBOT_WECHAT_APP_SECRET must be set" in result.output
    assert "TOKEN" not in result.output and "MEDIA_SECRET" not in result.output


def test_a_wecom_app_missing_its_secret_or_with_a_wrong_agent_id_is_named(cli, tmp_path):
    result = cli(
        "tickets",
        "list",
        wecom_corp_id="ww0123456789",
        wecom_agent_id="my-app",
        wecom_token="t",
        wecom_aes_key="k" * 42,
    )
    assert result.exit_code == 2
    assert "GRIDBOT_WECOM_CORP_ID is set, so GRIDBOT_WECOM_SECRET must be set too" in result.output
    assert "GRIDBOT_WECOM_AGENT_ID must be the app's numeric AgentId" in result.output
    assert "GRIDBOT_WECOM_AES_KEY must be the callback's 43-character" in result.output
    assert "GRIDBOT_WECOM_TOKEN" not in result.output and "Traceback" not in result.output


def test_a_policy_file_that_is_missing_or_wrong_is_named(cli, tmp_path):
    cli("db", "upgrade")
    result = cli("jobs", "run", "escalation", policy_file=str(tmp_path / "nope.toml"))
    assert result.exit_code == 2
    assert "GRIDBOT_POLICY_FILE: cannot read policy file" in result.output
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[categories.flooding]\nclaim_minutes = -5\n", encoding="utf-8")
    result = cli("jobs", "run", "escalation", policy_file=str(wrong))
    assert result.exit_code == 2
    assert "GRIDBOT_POLICY_FILE" in result.output and "flooding" in result.output


def test_a_command_without_a_database_says_so_and_creates_none(cli, tmp_path):
    db = tmp_path / "data" / "gridbot.db"
    for args in (("tickets", "list"), ("grids", "list"), ("outbox", "list"), ("serve",)):
        result = cli(*args)
        assert result.exit_code == 2, args
        assert "there is no gridbot database at sqlite:///" in result.output
        assert "gridbot db upgrade" in result.output
    assert not db.exists()
    assert cli("db", "upgrade").exit_code == 0
    assert db.exists()
    assert cli("tickets", "list").exit_code == 0


@pytest.mark.skipif(bool(PG_SKIP_REASON), reason=str(PG_SKIP_REASON))
def test_a_postgresql_database_that_does_not_exist(cli):
    url = f"{PG_BASE}/gridbot_never_created_here"
    result = cli("tickets", "list", database_url=url)
    assert result.exit_code == 2 and "there is no gridbot database" in result.output
    result = cli("db", "upgrade", database_url=url)
    assert result.exit_code == 2
    assert 'the server has no database "gridbot_never_created_here"' in result.output
    assert "createdb gridbot_never_created_here" in result.output


def test_the_readme_production_block_sets_every_required_setting(monkeypatch, tmp_path):
    from app.bootstrap import _settings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("export GRIDBOT_CHANNEL=wechat") :]
    block = block[: block.index("```")]
    for name in [k for k in os.environ if k.startswith("GRIDBOT_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    exported = {}
    for line in block.splitlines():
        if line.startswith("export "):
            line = re.sub(r"\$\([^)]*\)", "$(generated)", line)
            for pair in line.split("#")[0].split()[1:]:
                name, value = pair.split("=", 1)
                # An operator fills in the placeholders with the account's real values.
                value = {"...": "a-real-value-from-the-console", "wx...": "wx0123456789abcdef"}.get(
                    value, value
                )
                exported[name] = "0123456789abcdef" * 4 if value == "$(generated)" else value
    exported["GRIDBOT_WECHAT_AES_KEY"] = "k" * 43
    for name, value in exported.items():
        monkeypatch.setenv(name, value)
    settings, problems = _settings({})
    assert problems == []
    assert settings.channel == "wechat" and settings.public_url.startswith("https://")


def test_a_database_url_gridbot_cannot_use_is_named(cli):
    result = cli("tickets", "list", database_url="not a url")
    assert result.exit_code == 2
    assert "GRIDBOT_DATABASE_URL: not a database URL: 'not a url'" in result.output
    result = cli("tickets", "list", database_url="mysql://gridbot@127.0.0.1/gridbot")
    assert result.exit_code == 2
    assert "GRIDBOT_DATABASE_URL: mysql is not supported" in result.output


@pytest.mark.parametrize("command", ["demo", "serve"])
def test_a_port_already_in_use_is_refused_in_one_line_before_anything_starts(cli, command):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli(command, "--port", str(port))
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"port {port} on 127.0.0.1 is in use; is another gridbot running there? "
        f"Stop it or pick another: gridbot {command} --port {port + 1}"
    )
    assert not list(Path.cwd().glob("data/*.db"))  # nothing was created or seeded
