"""The shape DESIGN.md gives the code, checked on every run: who may import whom, and
how long a module may grow.

Where the code does not yet keep a rule, the exception is listed here with its reason, and
the list must match the code exactly: a new violation fails, and so does a fixed one that
is still listed (so the list only ever shrinks).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot import api, channels, wecom_api

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "bot", "handlers", "models")
PROJECT = frozenset(PACKAGES)
MAX_LINES = 400

KNOWN_IMPORTS: dict[tuple[str, str], str] = {}
KNOWN_LONG: dict[str, str] = {}


def _modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def _breaks_direction(module: str, imported: str) -> bool:
    top = imported.split(".")[0]
    if top not in PROJECT:
        return False
    if module.startswith("app.domain"):
        return not imported.startswith("app.domain")  # pure rules import nothing of ours
    if module.startswith("bot"):
        return top in ("app", "handlers")  # only bot knows WeChat, and knows nothing else
    if module.startswith("models"):
        return top != "models"
    if module.startswith("app.services"):
        # Use cases know neither WeChat nor the web, nor the path of a message.
        return top in ("bot", "handlers") or imported.startswith(("app.web", "app.inbox"))
    if module.startswith("app"):
        # Only the wiring brings the chat flows in.
        return top == "handlers" and not module.startswith(("app.bootstrap", "app.web"))
    return False


def test_imports_follow_the_design():
    found = {
        (module, imported)
        for path, module in _modules()
        for imported in _imports(path)
        if _breaks_direction(module, imported)
    }
    assert sorted(found - KNOWN_IMPORTS.keys()) == [], "new imports against DESIGN.md"
    assert sorted(KNOWN_IMPORTS.keys() - found) == [], "fixed: remove them from KNOWN_IMPORTS"


WECHAT_TEXT = re.compile(r"qrscene_|media/get")
WECHAT_ERRCODES = (
    channels.RATE_LIMITED
    | channels.UNDELIVERABLE
    | channels.WINDOW_CLOSED
    | api.TOKEN_ERRORS
    | wecom_api.TOKEN_ERRORS
    | {api.INVALID_MEDIA_ID}
)
"""WeChat's event-key prefix, media API path and errcodes: what only `bot` may know
(docstrings and comments may still name what they describe)."""


def test_wechat_specifics_stay_in_bot():
    found = sorted(
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
        for path, module in _modules()
        if not module.startswith("bot")
        for node in _constants(path)
        if (isinstance(node.value, str) and WECHAT_TEXT.search(node.value))
        or (type(node.value) is int and node.value in WECHAT_ERRCODES)
    )
    assert found == []


def _constants(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {  # a string standing alone is documentation (module, class, attribute)
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in docstrings:
            yield node


def test_modules_stay_small():
    long = {
        str(path.relative_to(ROOT))
        for path, _ in _modules()
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES
    }
    assert sorted(long - KNOWN_LONG.keys()) == [], f"modules over {MAX_LINES} lines"
    assert sorted(KNOWN_LONG.keys() - long) == [], "now short: remove them from KNOWN_LONG"


def test_the_checks_catch_what_they_guard():
    assert _breaks_direction("app.domain.tickets", "models")
    assert _breaks_direction("bot.codec", "app.settings")
    assert _breaks_direction("app.services.handling.tickets", "app.web.main")
    assert _breaks_direction("app.jobs", "handlers")
    assert not _breaks_direction("app.bootstrap", "handlers")
    assert not _breaks_direction("app.services.handling.tickets", "app.domain.tickets")
    assert not _breaks_direction("handlers.worker", "app.services.handling.tickets")
    assert WECHAT_TEXT.search('f"qrscene_{scene}"') and 45009 in WECHAT_ERRCODES
