"""`gridbot serve` as a real process, for tests that kill it: start, wait, kill -9, restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bot.simulator import SimulatedRequest, WeChatSimulator

TOKEN = "crash-test-token"
APP_ID = "wxcrashtest"
GRIDBOT = Path(sys.executable).parent / "gridbot"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


START_SECONDS = 90


class ServeProcess:
    def __init__(self, *, db_url: str, api_base: str, log_dir: Path, workers: int = 1, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log_dir = log_dir
        self.env = {
            **os.environ,
            "GRIDBOT_DATABASE_URL": db_url,
            "GRIDBOT_DATA_DIR": str(log_dir / "data"),
            "GRIDBOT_CHANNEL": "wechat",
            "GRIDBOT_WECHAT_TOKEN": TOKEN,
            "GRIDBOT_MEDIA_SECRET": "crash-test-media-secret-0123456789",
            "GRIDBOT_WECHAT_APP_ID": APP_ID,
            "GRIDBOT_WECHAT_APP_SECRET": "secret",
            "GRIDBOT_WECHAT_API_BASE": api_base,
            # These tests count notices: a morning digest at start-up (after 08:00 in
            # Shanghai) would add its own.
            "GRIDBOT_DIGEST_TIME": "off",
            "GRIDBOT_OUTBOX_POLL_SECONDS": "0.2",
            "GRIDBOT_OUTBOX_LEASE_SECONDS": "2",
            # every report here is a problem of its own: no merging of nearby reports
            "GRIDBOT_DUPLICATE_DISTANCE_M": "0",
            # These tests play WeChat retrying what got no answer; a message acknowledged
            # early (parked) is not retried by WeChat, and has a kill test of its own.
            "GRIDBOT_ACK_BUDGET_SECONDS": "0",
            **{f"GRIDBOT_{k.upper()}": str(v) for k, v in env.items()},
        }
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.simulator = WeChatSimulator(TOKEN, APP_ID)
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def start(self) -> ServeProcess:
        self.starts += 1
        log = open(self.log_dir / f"serve-{self.starts}.log", "wb")  # noqa: SIM115
        args = [str(GRIDBOT), "serve", "--port", str(self.port), "--workers", str(self.workers)]
        # Its own process group, so kill -9 reaches uvicorn's worker processes too.
        self.proc = subprocess.Popen(
            args, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        # Generous: on a loaded 2-core machine importing the app alone took 20 s. A server
        # that exits is still reported at once.
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gridbot serve exited: see {log.name}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gridbot serve did not come up in {START_SECONDS} s")

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def post(self, req: SimulatedRequest) -> str:
        """Deliver one request as WeChat would; the text the user sees."""
        answer = self.http.post("/wechat", params=req.params, content=req.body)
        answer.raise_for_status()
        return self.simulator.reply_text(answer.content)

    def redeliver(self, req: SimulatedRequest) -> str:
        """WeChat's retry of the same message: new timestamp and nonce, same MsgId."""
        return self.post(self.simulator.resign(req))

    def stop(self) -> None:
        self.kill9()
        self.http.close()
