"""The console's benchmarks are registered (CI runs them with --smoke)."""

from __future__ import annotations

from bench import REGISTRY
from bench.__main__ import discover


def test_the_console_benchmarks_are_registered():
    discover()
    assert {"console_list", "console_map", "console_refresh"} <= set(REGISTRY)
