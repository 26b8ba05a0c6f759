"""End-to-end fixtures: the real app under uvicorn, WeChat played by the simulator.

`gridbot(...)` starts the FastAPI app on a free port in a background thread, against the
demo-seeded database of `demo_sessions` (so sqlite and postgres both run), with the outbox
sender talking to a fake WeChat API. Tests speak to it over HTTP with signed (and in
compat/safe mode encrypted) XML and read what the fake API received.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.domain.coords import wgs84_to_gcj02
from app.settings import Settings
from app.web.main import create_app
from bot.codec import new_nonce, render_xml
from bot.security import sign
from bot.simulator import Mode, SimulatedRequest, WeChatSimulator
from tests.fakewechat import FakeWeChat, start_fake_wechat

TOKEN = "e2e-token"
APP_ID = "wxe2e0000000000001"
APP_SECRET = "secret"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # 43 characters
DEADLINE = 5.0


def signed_query(timestamp: int | None = None) -> dict[str, str]:
    """A plain-mode webhook query signed as WeChat signs it (now, a fresh nonce)."""
    ts, nonce = str(timestamp or int(time.time())), new_nonce()
    return {"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}


def text_xml(
    openid: str = "rider-1", content: str = "路口积水很深", msg_id: int = 4242424242424242
) -> str:
    """A text message's XML as WeChat posts it in plain mode."""
    return render_xml(
        {
            "ToUserName": "gh_gridbot",
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": "text",
            "Content": content,
            "MsgId": msg_id,
        }
    )


assert len(AES_KEY) == 43


def wait_for(check: Callable[[], object], what: str, deadline: float = DEADLINE):
    """Poll `check` until it returns something truthy; fail with `what` after `deadline` s."""
    end = time.monotonic() + deadline
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= end:
            pytest.fail(f"timed out after {deadline}s waiting for {what}")
        time.sleep(0.05)


@dataclass
class Gridbot:
    """One running app plus the WeChat around it (simulator in, fake API out)."""

    base_url: str
    settings: Settings
    sim: WeChatSimulator
    http: httpx.Client
    sessions: sessionmaker[Session]
    fake: FakeWeChat | None
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def app(self):
        """The FastAPI app this server runs (its `state` holds the chat engine)."""
        return self._server.config.app

    # -- inbound ---------------------------------------------------------------------------

    def post(self, req: SimulatedRequest) -> httpx.Response:
        return self.http.post("/wechat", params=req.params, content=req.body)

    def deliver(self, req: SimulatedRequest) -> str:
        """POST one delivery; the text the user sees ("" for `success`)."""
        response = self.post(req)
        assert response.status_code == 200, (response.status_code, response.text)
        return self.sim.reply_text(response.content)

    def say(self, openid: str, text: str) -> str:
        return self.deliver(self.sim.text(openid, text))

    def send_location(self, openid: str, wgs: tuple[float, float], label: str = "路口") -> str:
        """A point sent the way WeChat sends it: converted to GCJ-02."""
        lat, lng = wgs84_to_gcj02(*wgs)
        return self.deliver(self.sim.location(openid, lat, lng, label=label))

    # -- outbound --------------------------------------------------------------------------

    def notices_to(self, openid: str) -> list[str]:
        assert self.fake is not None, "no fake WeChat API in sandbox mode"
        return self.fake.messages_to(openid)

    def wait_notice(self, openid: str, contains: str, *, after: int = 0) -> str:
        """The first notice to `openid` (past the first `after`) containing `contains`."""

        def found() -> str | None:
            return next((m for m in self.notices_to(openid)[after:] if contains in m), None)

        return wait_for(found, f"a notice to {openid} containing {contains!r}")

    # -- database --------------------------------------------------------------------------

    def count(self, model, *where) -> int:
        with self.sessions() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def stop(self) -> None:
        self.http.close()  # no idle keep-alive connection for uvicorn to wait on
        self._server.should_exit = True
        self._thread.join(timeout=10)
        assert not self._thread.is_alive(), "uvicorn did not stop"


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    server = start_fake_wechat(app_id=APP_ID, app_secret=APP_SECRET)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gridbot(db_url, demo_sessions, fake, tmp_path) -> Iterator[Callable[..., Gridbot]]:
    """A factory: gridbot(mode="plain"|"compat"|"safe", channel="wechat", **settings)."""
    started: list[Gridbot] = []

    def start(mode: Mode = "plain", channel: str = "wechat", **overrides) -> Gridbot:
        aes_key = "" if mode == "plain" else AES_KEY
        settings = Settings(
            database_url=overrides.pop("database_url", db_url),
            channel=channel,
            wechat_token=TOKEN,
            wechat_app_id=APP_ID,
            wechat_app_secret=APP_SECRET,
            wechat_aes_key=overrides.pop("wechat_aes_key", aes_key),
            wechat_api_base=fake.base_url,
            outbox_poll_seconds=0.2,
            # These tests read passive replies; a first message slowed by start-up work
            # must not be answered late instead. test_ack_budget.py sets a budget.
            ack_budget_seconds=overrides.pop("ack_budget_seconds", 0),
            media_secret="e2e-media-secret-0123456789",
            data_dir=tmp_path / "data",
            **overrides,
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        wait_for(lambda: server.started or not thread.is_alive(), "uvicorn to start", 10)
        assert server.started, "uvicorn failed to start"
        base_url = f"http://127.0.0.1:{port}"
        bot = Gridbot(
            base_url=base_url,
            settings=settings,
            sim=WeChatSimulator(TOKEN, APP_ID, aes_key, mode=mode),
            http=httpx.Client(base_url=base_url, timeout=10),
            sessions=demo_sessions,
            fake=fake if channel == "wechat" else None,
            _server=server,
            _thread=thread,
        )
        started.append(bot)
        return bot

    try:
        yield start
    finally:
        for bot in started:
            bot.stop()
