"""Configuration is passed, not fetched: below app/bootstrap.py nothing reads the settings
or the policy file by itself (issue 14 §1). The app, a command and a job use the settings
and the policy they were built with; a module that fetched them would use the
environment's instead."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "handlers", "bot")
ALLOWED = {
    "app/settings.py",  # defines get_settings (kept for the Alembic command line)
    "app/bootstrap.py",  # builds the settings and the policy for everything else
    "app/services/policies.py",  # reads policy files for PolicySource
}
FETCHING = re.compile(r"\bget_settings\b|\bpolicies\.load\(|policies\.active\(|(?<!\w)Settings\(\)")


def test_no_module_fetches_the_settings_or_the_policy_itself():
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name in ALLOWED:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if FETCHING.search(line) and not line.lstrip().startswith("#"):
                    offenders.append(f"{name}:{number}: {line.strip()}")
    assert offenders == [], "take the settings/policy from the caller:\n" + "\n".join(offenders)
