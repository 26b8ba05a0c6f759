"""The console's map drawn in Chromium: a district with 10,000 open tickets and 1,000
grids, from opening /console/ to every polygon and pin drawn (the page marks the map
data-ready). Target: within 2 s on this machine. Needs Debian's chromium and Playwright.

    uv run python -m bench console_map            # 10,000 open tickets, 1,000 grids
    uv run python -m bench console_map --smoke    # 300 tickets, 30 grids
    uv run python -m bench console_map --set compare=<git ref>   # that tree beside this one

Besides the total, each row says where the time went, from the browser's own timings
(medians, the page's clock from navigation start): `data_ms`, when the last JSON answer
the map needs had arrived (page, scripts, server and transfer); `draw_ms`, from then
until drawn (scripts still loading, Leaflet drawing); `data_kb`, the bytes transferred
for the JSON. With `compare`, each tree serves a database of its own schema filled with
the same data, and they are measured in turns (one run of each per round), so a busy
machine slows both alike.
"""

from __future__ import annotations

import shutil
import time
from contextlib import ExitStack
from pathlib import Path

from bench import Context, Row, benchmark, median, met

TARGET_MS = 2000
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DATA_TIMINGS = """() => performance.getEntriesByType("resource")
    .filter(e => e.name.includes(".json"))
    .map(e => [e.responseEnd, e.transferSize])"""
READY = """() => document.querySelector("#map[data-ready='1']") && performance.now()"""


@benchmark("console_map", "console map, 10,000 open tickets + 1,000 grids, drawn within 2 s")
def console_map(ctx: Context) -> list[Row]:
    from bench.console_list import _sign_in
    from bench.databases import migrate_at
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

    tickets = int(ctx.option("tickets", ctx.size(10_000, 300)))
    grids = int(ctx.option("grids", ctx.size(1_000, 30)))
    runs = int(ctx.option("runs", ctx.size(5, 1)))
    compare = str(ctx.option("compare", ""))
    rows = []
    with ExitStack() as stack:
        bases, tokens, expected = {}, {}, {}
        for label in ["this tree"] + ([f"@{compare}"] if compare else []):
            # Each tree on a database of its own, at its own schema, with the same data.
            url = stack.enter_context(ctx.database("postgres", migrate=not compare_ref(label)))
            port = free_port()
            command, extra = gridbot_command(port), {}
            if compare_ref(label):
                tree = gridbot_at(compare, ctx.workdir)
                migrate_at(tree, url)
                command, extra = gridbot_command_at(tree, port)
            generate(url, tickets, grids=grids, open_share=1.0, seed=1, days=30, migrate=False)
            tokens[label], _ = _sign_in(url, "supervisor")
            expected[label] = _open_tickets(url)
            stack.enter_context(
                running(
                    f"console_map{label.replace(' ', '_')}",
                    command,
                    port=port,
                    workdir=ctx.workdir,
                    env={**gridbot_env(url, ctx.workdir), **extra},
                )
            )
            bases[label] = f"http://127.0.0.1:{port}"
        times: dict[str, list[tuple]] = {k: [] for k in bases}
        drawn = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
            try:
                for _ in range(runs + 1):  # the first round warms the servers
                    for label, base in bases.items():
                        times[label].append(_draw(browser, base, tokens[label]))
                        drawn[label] = times[label][-1][4]
            finally:
                browser.close()
        ours = median([t[0] for t in times["this tree"][1:]])
        for label, measured in times.items():
            measured = measured[1:]
            total = median([t[0] for t in measured])
            data = median([t[1] for t in measured])
            shown = "".join(ch for ch in drawn[label] if ch.isdigit())
            rows.append(
                Row(
                    f"chromium, {label}",
                    {
                        "open_tickets": tickets,
                        "grids": grids,
                        "median_ms": total,
                        "max_ms": max(t[0] for t in measured),
                        "data_ms": data,
                        "draw_ms": median([t[2] for t in measured]),
                        "data_kb": median([t[3] for t in measured]) / 1024,
                    },
                    ratio="" if label == "this tree" else f"this tree {ours / total:.2f}x",
                    target="" if ctx.smoke else f"< {TARGET_MS} ms: {met(total < TARGET_MS)}",
                    failed=""
                    if shown == str(expected[label])
                    else f"map says {drawn[label]!r}, {expected[label]} open",
                )
            )
    return rows


def compare_ref(label: str) -> bool:
    return label.startswith("@")


def _draw(browser, base: str, token: str) -> tuple[float, float, float, float, str]:
    """(total ms, ms until the map's data had arrived, ms from then until drawn, data
    bytes, the map's summary) for one opening of the map in a new browser context
    (nothing cached). The last two from the page's clock (from navigation start)."""
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    try:
        page.context.add_cookies([{"name": "gridbot_console", "value": token, "url": base}])
        t0 = time.perf_counter()
        page.goto(base + "/console/?status=open")
        ready = page.wait_for_function(READY, timeout=60_000, polling=10).json_value()
        total = (time.perf_counter() - t0) * 1000
        data = page.evaluate(DATA_TIMINGS)
        arrived = max(end for end, _ in data)
        summary = page.inner_text("#summary")
        return total, arrived, ready - arrived, float(sum(n for _, n in data)), summary
    finally:
        page.close()


def _open_tickets(url: str) -> int:
    from sqlalchemy import func, select

    from app.db import make_engine
    from app.domain.tickets import OPEN_STATUSES
    from models import Ticket

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            open_ = [s.value for s in OPEN_STATUSES]
            return conn.execute(
                select(func.count()).select_from(Ticket).where(Ticket.status.in_(open_))
            ).scalar_one()
    finally:
        engine.dispose()
