"""Run the operator's `gridbot` command in-process against the test's database.

Loaded as a pytest plugin (tests/conftest.py), so its `cli` fixture serves every test.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.settings import get_settings


@pytest.fixture
def cli(db_url, sessions, monkeypatch, tmp_path):
    """`cli(*args)` runs `gridbot *args` on a gridbot database (one made with `gridbot db
    upgrade`) and checks that it succeeded; `ok=False` leaves the exit code to the test.
    Returns typer's Result (output, stdout, exit_code)."""
    monkeypatch.setenv("GRIDBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("GRIDBOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
        return result

    yield run
    get_settings.cache_clear()
