"""The console in a real browser (Debian's Chromium, headless, driven by Playwright):
sign in by the link from chat, see the reported ticket's pin on the map, open it,
transfer it, and check that the new worker got the chat notice.

GRIDBOT_SCREENSHOTS=<folder> keeps this test's screenshots there; docs/ holds the ones made by
`python -m bench.console_screenshots`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.chatkit import FENGYUAN_1, NANYUAN_4

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")


@pytest.fixture
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def link_in(reply: str, base_url: str) -> str:
    url = next(line for line in reply.splitlines() if "/console/login/" in line)
    return base_url + url[url.index("/console/login/") :]


def shot(page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("GRIDBOT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"console-{name}.png"), full_page=True)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sign_in_see_the_pin_open_and_transfer_the_ticket(gridbot, browser, tmp_path):
    bot = gridbot()
    bot.send_location("rider-1", FENGYUAN_1, "枫林路与东安路口")
    assert "已受理" in bot.say("rider-1", "路口积水很深，电动车过不去")
    bot.send_location("rider-2", NANYUAN_4, "南园路")
    bot.say("rider-2", "人行道上堆了旧沙发")
    page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    page.add_init_script("window.gridbotLiveMs = 300")  # the pages poll every 10 s
    page.add_init_script("window.gridbotDensePins = 2")  # clusters from 300 pins
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    downloaded: list[tuple[str, int]] = []  # (path, body bytes received) per request
    page.on(
        "requestfinished",
        lambda r: downloaded.append((r.url.split("?")[0], r.sizes()["responseBodySize"])),
    )

    # No session: the map sends the browser to the page saying how to sign in.
    page.goto(bot.base_url + "/console/")
    assert "/console/signin" in page.url and "登录" in page.inner_text("main")

    page.goto(link_in(bot.say("lead-1", "登录"), bot.base_url))
    page.click("#enter")
    page.wait_for_selector("#map[data-ready='1']")
    assert "显示 1 件工单" in page.inner_text("#summary")
    shot(page, "map", tmp_path)

    # Click the ticket's pin where Leaflet drew it, then the popup's link.
    x, y = page.evaluate(
        """() => { const m = window.gridbotMap; const p = m.map.latLngToContainerPoint(
               m.markers[1].getLatLng()); const r = document.getElementById('map')
               .getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }"""
    )
    page.mouse.click(x, y)
    # The map refreshes (here every 300 ms); nothing changed, so nothing is downloaded or
    # drawn again (the browser revalidates each answer: 304): the popup stays open.
    page.wait_for_selector(".leaflet-popup a:has-text('查看工单')")
    page.wait_for_timeout(1500)
    assert page.locator(".leaflet-popup").count() == 1
    for layer in ("/console/map.json", "/console/grids.json"):
        sizes = [n for path, n in downloaded if path.endswith(layer)]
        assert sizes[0] > 0 and len(sizes) >= 4 and set(sizes[1:]) == {0}, (layer, sizes)
    assert missing == []  # the icon too
    page.click(".leaflet-popup a:has-text('查看工单')")
    page.wait_for_url("**/console/tickets/1")
    assert "工单 #1 · 道路积水" in page.inner_text("h1")
    shot(page, "ticket", tmp_path)

    before = len(bot.notices_to("worker-2"))
    form = page.locator("form.act:has(select[name=grid])")
    form.locator("select[name=grid]").select_option("31019900100102")
    form.locator("button").click()
    page.wait_for_selector(".ok")
    assert "已转派" in page.inner_text(".ok")
    # The ticket's facts, not the whole page: the transfer form lists every grid.
    assert "枫苑二网格" in page.inner_text("dl.facts")
    assert "#1" in bot.wait_notice("worker-2", "#1", after=before)

    page.goto(bot.base_url + "/console/tickets?status=all")
    assert "共 1 件" in page.inner_text("h1")
    shot(page, "tickets", tmp_path)
    # A new report in the lead's community appears in the open list without a reload,
    # marked fresh. The test polls every 300 ms, so a row stays fresh for only that long:
    # the page records every row it saw marked, however short.
    page.evaluate(
        """() => { window.freshRows = new Set(); new MutationObserver(() =>
               document.querySelectorAll("tr.fresh[data-n]").forEach(
                 r => window.freshRows.add(r.dataset.n))).observe(document.body,
               { childList: true, subtree: true, attributes: true }); }"""
    )
    bot.send_location("rider-3", FENGYUAN_1, "枫林路")
    assert "已受理" in bot.say("rider-3", "人行道上堆了旧沙发，挡路")
    # The list refetches every 10 s: the row may take a whole interval plus the fetch.
    page.wait_for_function("window.freshRows.has('3')", timeout=30_000)
    assert "共 2 件" in page.inner_text("h1")

    # Dense pins are clustered (here: the two reports at the same crossing); a click on
    # the cluster zooms in until the pins stand apart.
    page.goto(bot.base_url + "/console/")
    page.wait_for_selector("#map[data-ready='1']")
    assert page.evaluate("window.gridbotMap.clusters.length") == 1
    assert page.evaluate("Object.keys(window.gridbotMap.markers).length") == 0
    x, y = page.evaluate(
        """() => { const m = window.gridbotMap; const p = m.map.latLngToContainerPoint(
               m.clusters[0].getLatLng()); const r = document.getElementById('map')
               .getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }"""
    )
    page.mouse.click(x, y)
    page.wait_for_function("Object.keys(window.gridbotMap.markers).length == 2")
    # Another street's ticket is not this lead's to see.
    page.goto(bot.base_url + "/console/tickets/2")
    assert "不在您负责的区域" in page.inner_text("main")
