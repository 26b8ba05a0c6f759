"""The console's screenshots in docs/, made the same way every time: `gridbot demo` on a
fresh data directory, riders reporting through the sandbox channel as in WeChat (a worker
claims and resolves some), then Debian's Chromium (headless, Playwright) signed in as the
district supervisor by the link `gridbot console link` prints.

    uv run python -m bench.console_screenshots            # writes docs/console-*.png
    uv run python -m bench.console_screenshots /tmp/shots

Not a benchmark: nothing is timed. Chinese needs a CJK font (Debian's fonts-noto-cjk).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import tempfile
from pathlib import Path

from bench.servers import VENV_BIN, free_port, running

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
REPORTS = [
    ("路口积水很深，电动车过不去", "枫林路与东安路口"),
    ("人行道上堆了旧沙发，挡路", "南园路"),
    ("井盖松动，踩上去会翻", "东安路"),
    ("路灯不亮，晚上很黑", "枫林路"),
    ("共享单车倒了一片，堵住盲道", "南丹路"),
    ("垃圾桶满了没人清，味道很大", "零陵路"),
    ("树枝断了挂在电线上", "宛平南路"),
    ("下水道堵了，路面返水", "中山南二路"),
    ("施工围挡倒在非机动车道上", "天钥桥路"),
    ("小区门口有人乱摆摊，占了半条路", "斜土路"),
    ("路面塌了一个坑，很危险", "龙华西路"),
    ("违停车辆挡住消防通道", "医学院路"),
]
PAGES = [
    ("map", "/console/", "#map[data-ready='1']"),
    ("tickets", "/console/tickets?status=all", "table"),
    ("ticket", "/console/tickets/1", "h1"),
    ("dashboard", "/console/dashboard", "h1"),
    ("admin", "/console/admin/", "h1"),
]


def grid_spots(seed: int = 7) -> list[tuple[float, float]]:
    """A point inside each of the demo's grids, in GCJ-02 (as WeChat sends locations)."""
    from app.demo.seed import DISTRICT
    from app.domain.coords import wgs84_to_gcj02

    rng = random.Random(seed)
    spots = []
    for feature in json.loads(DISTRICT.read_text(encoding="utf-8"))["features"]:
        if feature["properties"]["level"] != "grid":
            continue
        ring = feature["geometry"]["coordinates"][0]
        lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
        lat = min(lats) + (max(lats) - min(lats)) * rng.uniform(0.25, 0.75)
        lng = min(lngs) + (max(lngs) - min(lngs)) * rng.uniform(0.25, 0.75)
        spots.append(wgs84_to_gcj02(lat, lng))
    return spots


def report_tickets(settings, url: str) -> None:
    """Riders report, each in another grid; the grids' workers claim #1 (and note what
    they do) and claim and resolve #4."""
    from app.terminal import TerminalChat

    spots = grid_spots()

    def grid_of(i: int) -> int:
        return (i * 5) % len(spots)  # spread over the district

    for i, (words, place) in enumerate(REPORTS):
        rider = TerminalChat(settings, openid=f"rider-{i + 1}", url=url, out=lambda _: None)
        lat, lng = spots[grid_of(i)]
        rider.send(f"/loc {lat:.6f} {lng:.6f} {place}")
        reply = rider.send(words) or ""
        if "已受理" not in reply:
            raise SystemExit(f"rider-{i + 1} was answered {reply!r}")
    # worker-N works the N-th grid of the demo district, in the order grid_spots() reads.
    steps = [
        (1, "认领 1"),
        (1, "进展 1 已联系排水所，正在抽水"),
        (4, "认领 4"),
        (4, "办结 4 路灯已修复"),
    ]
    for number, line in steps:
        worker = f"worker-{grid_of(number - 1) + 1}"
        chat = TerminalChat(settings, openid=worker, url=url, out=lambda _: None)
        reply = chat.send(line) or ""
        if "#" not in reply and "工单" not in reply:
            raise SystemExit(f"{worker}: {line!r} was answered {reply!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.console_screenshots")
    parser.add_argument("folder", nargs="?", default=str(ROOT / "docs"))
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    from app.settings import Settings

    with tempfile.TemporaryDirectory(prefix="gridbot-shots-") as tmp:
        work = Path(tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            "GRIDBOT_DATA_DIR": str(work / "data"),
            "GRIDBOT_DATABASE_URL": f"sqlite:///{work / 'demo.db'}",
            "GRIDBOT_PUBLIC_URL": url,
            "GRIDBOT_DIGEST_TIME": "off",
        }
        demo = [str(VENV_BIN / "gridbot"), "demo", "--port", str(port)]
        with running("demo", demo, port=port, workdir=work, env=env):
            settings = Settings()  # the WeChat token and keys the demo reads too
            report_tickets(settings, url)
            link = (
                subprocess.run(
                    [str(VENV_BIN / "gridbot"), "console", "link", "--openid", "supervisor"],
                    env={**os.environ, **env},
                    capture_output=True,
                    text=True,
                    check=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
                page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="zh-CN")
                page.goto(link)
                page.click("#enter")
                for name, path, ready in PAGES:
                    page.goto(url + path)
                    page.wait_for_selector(ready)
                    page.wait_for_timeout(300)  # fonts and the map's canvas settle
                    page.screenshot(path=str(folder / f"console-{name}.png"), full_page=True)
                    print(folder / f"console-{name}.png")
                browser.close()


if __name__ == "__main__":
    main()
