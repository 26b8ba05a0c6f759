"""What the console's refresh downloads when nothing changed: the map page and the
ticket list, open in Chromium on a district's open tickets, each refreshing on its own
(here every second); the bytes (headers and body) each refresh request received, by
answer. Needs Debian's chromium and Playwright.

    uv run python -m bench console_refresh                       # 2,000 open tickets, 200 grids
    uv run python -m bench console_refresh --set compare=<git ref>   # that tree beside this one

With `compare`, both trees serve the same PostgreSQL database (filled by this tree's
schema) and are measured in turns. A tree whose map refreshes every 10 s whatever the
page asks is given 21 s to refresh twice.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from bench import Context, Row, benchmark, median

CHROMIUM = "/usr/bin/chromium"
PAGES = (("map", "/console/?status=open", 21_000), ("list", "/console/tickets?status=open", 4_200))


@benchmark("console_refresh", "bytes a console refresh downloads when nothing changed")
def console_refresh(ctx: Context) -> list[Row]:
    from bench.console_list import _sign_in
    from bench.scale_data import generate
    from bench.servers import (
        free_port,
        gridbot_at,
        gridbot_command,
        gridbot_command_at,
        gridbot_env,
        running,
    )

    if not Path(CHROMIUM).exists():
        return [Row("chromium", {}, target="skipped: chromium not installed")]
    from playwright.sync_api import sync_playwright

    tickets = int(ctx.option("tickets", ctx.size(2_000, 100)))
    grids = int(ctx.option("grids", ctx.size(200, 20)))
    rounds = int(ctx.option("runs", ctx.size(3, 1)))
    compare = str(ctx.option("compare", ""))
    with ExitStack() as stack:
        url = stack.enter_context(ctx.database("postgres"))
        generate(url, tickets, grids=grids, open_share=1.0, seed=1, days=30, migrate=False)
        token, _ = _sign_in(url, "supervisor")
        bases = {}
        for label in ["this tree"] + ([f"@{compare}"] if compare else []):
            port = free_port()
            command, extra = gridbot_command(port), {}
            if label != "this tree":
                command, extra = gridbot_command_at(gridbot_at(compare, ctx.workdir), port)
            env = {**gridbot_env(url, ctx.workdir), **extra}
            name = f"console_refresh{label.replace(' ', '_')}"
            stack.enter_context(running(name, command, port=port, workdir=ctx.workdir, env=env))
            bases[label] = f"http://127.0.0.1:{port}"
        got: dict[tuple[str, str, str], list[int]] = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
            try:
                for _ in range(rounds):
                    for label, base in bases.items():
                        for page_name, path, wait_ms in PAGES:
                            for answer, sizes in _refreshes(browser, base, token, path, wait_ms):
                                got.setdefault((label, page_name, answer), []).extend(sizes)
            finally:
                browser.close()
    rows = []
    for (label, page_name, answer), sizes in sorted(got.items()):
        figures = {"open_tickets": tickets, "grids": grids, "bytes": median(sizes)}
        rows.append(Row(f"{label}, {page_name} {answer}", {**figures, "refreshes": len(sizes)}))
    return rows


def _refreshes(browser, base: str, token: str, path: str, wait_ms: int):
    """(answer path, [bytes received per refresh request]) after the page has loaded."""
    page = browser.new_page()
    try:
        page.context.add_cookies([{"name": "gridbot_console", "value": token, "url": base}])
        page.add_init_script("window.gridbotLiveMs = 1000")
        page.goto(base + path)
        page.wait_for_timeout(2_500)  # loaded, the first answers drawn
        sizes: dict[str, list[int]] = {}

        def finished(request) -> None:
            size = request.sizes()
            answer = request.url.removeprefix(base).split("?")[0]
            sizes.setdefault(answer, []).append(
                size["responseBodySize"] + size["responseHeadersSize"]
            )

        page.on("requestfinished", finished)
        page.wait_for_timeout(wait_ms)
        return list(sizes.items())
    finally:
        page.close()
