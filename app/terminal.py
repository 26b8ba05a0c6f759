"""`gridbot chat`: a terminal that plays WeChat for one user against a running gridbot.

Sends correctly signed (and, with an AES key, encrypted) XML, prints the passive reply,
and prints the sandbox messages addressed to this user as they arrive.
"""

from __future__ import annotations

import contextlib
import hashlib
import shlex
import threading
import time
from pathlib import Path

import httpx

from app.settings import Settings
from bot.simulator import SimulatedRequest, WeChatSimulator
from models import WECOM_PREFIX

HELP = """commands:
  <any text>                 send a text message
  /photo FILE                send a photo
  /loc LAT LNG [LABEL]       send a location (in the configured CRS, usually GCJ-02)
  /voice TEXT                send a voice message whose recognised text is TEXT
  /subscribe [SCENE]         follow the account (optionally from a QR scene)
  /quit                      leave"""


HISTORY = 3
"""How many earlier notices a new session shows."""


class TerminalChat:
    def __init__(
        self,
        settings: Settings,
        *,
        openid: str,
        url: str,
        out=print,
        patience: float = 60.0,
        pause=time.sleep,
    ) -> None:
        self.openid = openid
        self.url = url
        self.out = out
        self.patience = patience
        """How long a message waits for a server that went away (restarting) before it
        is given up; it is retried as WeChat retries, so it is handled once."""
        self.pause = pause
        self.sim = WeChatSimulator(
            settings.wechat_token,
            settings.wechat_app_id,
            settings.wechat_aes_key,
            account=settings.wechat_account,
            mode="safe" if settings.wechat_aes_key else "plain",
        )
        self.http = httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
        self._last_seen = 0
        self._stop = threading.Event()

    def request_for(self, line: str):
        """The simulated WeChat request for one typed line, or None for a local command."""
        if not line.startswith("/"):
            return self.sim.text(self.openid, line)
        parts = shlex.split(line)
        cmd, args = parts[0], parts[1:]
        if cmd == "/photo" and args:
            data = Path(args[0]).read_bytes()
            media_id = "sandbox-" + hashlib.sha256(data).hexdigest()[:24]
            self.upload(data)
            return self.sim.image(self.openid, media_id, pic_url=Path(args[0]).resolve().as_uri())
        if cmd == "/loc" and len(args) >= 2:
            return self.sim.location(
                self.openid, float(args[0]), float(args[1]), " ".join(args[2:])
            )
        if cmd == "/voice" and args:
            return self.sim.voice(self.openid, "sandbox-voice", recognition=" ".join(args))
        if cmd == "/subscribe":
            return self.sim.subscribe(self.openid, args[0] if args else "")
        return None

    def upload(self, data: bytes) -> bool:
        """Hand the photo to the sandbox, which plays WeChat's media store."""
        try:
            resp = self.http.post(f"{self.url}/sandbox/media", content=data)
        except httpx.HTTPError as exc:
            self.out(f"! photo upload failed: {exc}")
            return False
        if resp.status_code != 200:
            self.out(f"! photo upload refused ({resp.status_code}): {resp.text[:200]}")
            return False
        return True

    def send(self, line: str) -> str | None:
        try:
            req = self.request_for(line)
        except (OSError, ValueError) as exc:
            self.out(f"! {exc}")
            return None
        if req is None:
            self.out(HELP)
            return None
        resp = self.deliver(req)
        if resp is None:
            return None
        if resp.status_code != 200:
            self.out(f"! server answered {resp.status_code}: {resp.text}")
            return None
        reply = self.sim.reply_text(resp.text)
        if reply:
            self.out(f"gridbot> {reply}")
        return reply

    def deliver(self, req: SimulatedRequest) -> httpx.Response | None:
        """POST `req` to the webhook; while the server is away (a restart), say so and try
        again as WeChat would (same MsgId, fresh signature) until `patience` runs out."""
        waited, delay, lost = 0.0, 0.5, False
        while True:
            try:
                resp = self.http.post(f"{self.url}/wechat", params=req.params, content=req.body)
            except httpx.HTTPError as exc:
                if not lost:
                    self.out(f"! lost the connection to {self.url} ({_reason(exc)}); retrying…")
                    lost = True
                if waited >= self.patience:
                    self.out(f"! {self.url} is still not answering; not sent, try again later")
                    return None
                self.pause(delay)
                waited += delay
                delay = min(delay * 2, 5.0)
                req = self.sim.resign(req)
                continue
            if lost:
                self.out(f"! reconnected to {self.url}")
            return resp

    def poll_sandbox(self) -> list[str]:
        """Show the notices that arrived since the last look, as they come."""
        notices = self._fetch_notices()
        for label, text in notices:
            self.out(f"{label} {text}")
        return [text for _, text in notices]

    def show_history(self) -> None:
        """At start: what was sent to this account before, marked as earlier (the last few),
        so that a second session does not show old notices as if they were new."""
        texts = self._fetch_notices()
        if not texts:
            return
        shown = texts[-HISTORY:]
        hidden = len(texts) - len(shown)
        self.out(
            f"--- earlier notices to {self.openid}"
            + (f" (the last {len(shown)} of {len(texts)})" if hidden else "")
            + " ---"
        )
        for label, text in shown:
            self.out(f"{label} {text}")
        self.out("--- new messages below ---")

    def _fetch_notices(self) -> list[tuple[str, str]]:
        """(label, text) of each new notice: [通知] on the official account, [企业微信] for
        one the sandbox 'sent' to this person's WeCom app (a staff member bound on both)."""
        resp = self.http.get(
            f"{self.url}/sandbox/messages", params={"to": self.openid, "after": self._last_seen}
        )
        if resp.status_code != 200:
            return []
        notices = []
        for m in resp.json():
            self._last_seen = max(self._last_seen, m["id"])
            on_wecom = m["to"] != self.openid and m["to"].startswith(WECOM_PREFIX)
            notices.append(("[企业微信]" if on_wecom else "[通知]", m["text"]))
        return notices

    def _poll_forever(self) -> None:
        while not self._stop.wait(1.0):
            # A server restarting answers nothing for a while: notices wait in its
            # database and are shown once it is back.
            with contextlib.suppress(httpx.HTTPError, ValueError):
                self.poll_sandbox()

    def run(self) -> None:
        self.out(f"playing WeChat as {self.openid} against {self.url}; /help for commands")
        try:
            self.show_history()
        except httpx.HTTPError as exc:
            self.out(
                f"! cannot reach {self.url} ({_reason(exc)}); is `gridbot demo` running? "
                "Messages you type are sent once it answers."
            )
        threading.Thread(target=self._poll_forever, daemon=True).start()
        try:
            while True:
                line = input().strip()
                if line in ("/quit", "/exit"):
                    break
                if line:
                    try:
                        self.send(line)
                    except Exception as exc:  # one line, never a traceback
                        self.out(f"! {type(exc).__name__}: {exc}")
        except (EOFError, KeyboardInterrupt):
            pass
        finally:
            self._stop.set()


def _reason(exc: httpx.HTTPError) -> str:
    """A short why: "connection refused", "timed out", ..."""
    text = str(exc).strip() or type(exc).__name__
    if "refused" in text.lower():
        return "connection refused"
    return text.splitlines()[0][:80]


def run_chat(settings: Settings, *, openid: str, url: str) -> None:
    TerminalChat(settings, openid=openid, url=url).run()
