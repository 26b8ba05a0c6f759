"""`gridbot demo` as a newcomer runs it: the tour it prints and the links it sends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from PIL import Image

from app.domain.coords import wgs84_to_gcj02
from app.settings import Settings
from app.terminal import TerminalChat
from tests.chatkit import FENGYUAN_1
from tests.e2e.conftest import wait_for
from tests.e2e.server import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_demo_on_another_port_lists_every_account_and_links_photos_to_that_port(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDBOT_")}
    env.update(PYTHONPATH=str(ROOT), GRIDBOT_DATA_DIR=str(tmp_path / "data"))
    # The test reads passive replies: a loaded machine must not turn them into late ones.
    env["GRIDBOT_ACK_BUDGET_SECONDS"] = "0"
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError(log.read_text())
        printed = log.read_text(encoding="utf-8")
        accounts = {line.split()[0] for line in printed.splitlines() if line.startswith("  ")}
        expected = {f"worker-{i}" for i in range(1, 17)}
        expected |= {"lead-1", "lead-2", "lead-3", "lead-4", "street-1", "street-2"}
        expected |= {"supervisor", "dept-1", "dept-2", "rider-1,"}
        assert expected <= accounts, sorted(expected - accounts)
        assert "区排水所" in printed and "区绿化市容局" in printed and "梁主任" in printed
        assert f"gridbot chat --as rider-1 --url {url}" in printed

        rider = TerminalChat(Settings(), openid="rider-1", url=url, out=lambda line: None)
        worker = TerminalChat(Settings(), openid="worker-1", url=url, out=lambda line: None)
        photo = tmp_path / "flood.jpg"
        Image.new("RGB", (64, 48), (40, 90, 160)).save(photo, "JPEG")
        rider.send(f"/photo {photo}")
        lat, lng = wgs84_to_gcj02(*FENGYUAN_1)
        assert "工单号 #1" in rider.send(f"/loc {lat:.6f} {lng:.6f} 枫林路口")
        notice = wait_for(worker.poll_sandbox, "the worker's notice")[0]
        assert f"{url}/media/" in notice
        assert "127.0.0.1:8000" not in notice
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(15)
        except subprocess.TimeoutExpired:
            demo.kill()
