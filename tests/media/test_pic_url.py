"""Issue 15 item 9: the PicUrl fallback fetches only from WeChat's media hosts.

Allowed names only, also after a redirect; and whatever a name resolves to, never a
loopback or private address (the check is made on the address actually connected to).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from app.media.fetch_guard import MediaHosts, guarded_client, is_public
from app.media.sources import MediaUnavailable, download

PHOTO = b"\xff\xd8\xff photo bytes"


@pytest.fixture
def loopback():
    """An HTTP server on 127.0.0.1 serving PHOTO, recording the paths asked for."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(PHOTO)))
            self.end_headers()
            self.wfile.write(PHOTO)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.seen = seen
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _fetch(url: str, hosts: MediaHosts, http: httpx.Client | None = None) -> bytes:
    if http is not None:
        return download(http, url, 10_000, hosts)
    with guarded_client(hosts) as client:
        return download(client, url, 10_000, hosts)


def _recording(routes: dict[str, httpx.Response]):
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return routes.get(str(request.url), httpx.Response(404))

    return asked, httpx.Client(transport=httpx.MockTransport(handler))


def test_pic_url_fetches_only_from_wechat_media_hosts():
    asked, http = _recording({"http://mmbiz.qpic.cn/a.jpg": httpx.Response(200, content=PHOTO)})
    hosts = MediaHosts()
    assert _fetch("http://mmbiz.qpic.cn/a.jpg", hosts, http) == PHOTO
    for url in ("http://evil.example/a.jpg", "http://mmbiz.qpic.cn.evil.example/a.jpg"):
        with pytest.raises(MediaUnavailable) as err:
            _fetch(url, hosts, http)
        assert not err.value.retryable and "not allowed" in str(err.value)
    with pytest.raises(MediaUnavailable):
        _fetch("file:///etc/passwd", hosts, http)
    assert asked == ["http://mmbiz.qpic.cn/a.jpg"]


def test_pic_url_fetch_follows_no_redirect_elsewhere():
    moved = {"location": "http://169.254.169.254/latest/meta-data/"}
    within = {"location": "https://mmbiz.qlogo.cn/b.jpg"}
    asked, http = _recording(
        {
            "http://mmbiz.qpic.cn/out.jpg": httpx.Response(302, headers=moved),
            "http://mmbiz.qpic.cn/in.jpg": httpx.Response(301, headers=within),
            "https://mmbiz.qlogo.cn/b.jpg": httpx.Response(200, content=PHOTO),
        }
    )
    with pytest.raises(MediaUnavailable) as err:
        _fetch("http://mmbiz.qpic.cn/out.jpg", MediaHosts(), http)
    assert not err.value.retryable
    assert _fetch("http://mmbiz.qpic.cn/in.jpg", MediaHosts(), http) == PHOTO
    assert "http://169.254.169.254/latest/meta-data/" not in asked
    assert asked[-1] == "https://mmbiz.qlogo.cn/b.jpg"


def test_pic_url_fetch_gives_up_after_a_few_redirects():
    loop = {"location": "http://mmbiz.qpic.cn/again.jpg"}
    asked, http = _recording({"http://mmbiz.qpic.cn/again.jpg": httpx.Response(302, headers=loop)})
    with pytest.raises(MediaUnavailable) as err:
        _fetch("http://mmbiz.qpic.cn/again.jpg", MediaHosts(), http)
    assert "redirects" in str(err.value) and len(asked) == 4


def test_pic_url_never_reaches_a_loopback_address_even_when_listed(loopback):
    url = f"http://127.0.0.1:{loopback.server_port}/p.jpg"
    with pytest.raises(MediaUnavailable) as err:
        _fetch(url, MediaHosts.parse("127.0.0.1"))
    assert not err.value.retryable and "no public address" in str(err.value)
    assert loopback.seen == []
    # The explicit test-only setting lets a fake WeChat on loopback serve PicUrls.
    assert _fetch(url, MediaHosts.parse("127.0.0.1", allow_private=True)) == PHOTO
    assert loopback.seen == ["/p.jpg"]


def test_pic_url_checks_the_address_a_wechat_name_resolves_to(loopback):
    # mmbiz.qpic.cn answered by a hostile or broken resolver with a private address.
    def rebound(host: str, port: int) -> list[str]:
        return ["10.1.2.3", "127.0.0.1"] if host == "mmbiz.qpic.cn" else []

    hosts = MediaHosts(resolve=rebound)
    url = f"http://mmbiz.qpic.cn:{loopback.server_port}/p.jpg"
    with pytest.raises(MediaUnavailable) as err:
        _fetch(url, hosts)
    assert "no public address" in str(err.value) and loopback.seen == []
    # What is connected to is the address resolved: allowed, it reaches the loopback server.
    trusting = MediaHosts(allow_private=True, resolve=rebound)
    assert _fetch(url, trusting) == PHOTO


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("203.0.113.9", False),  # documentation range
        ("8.8.8.8", True),
        ("127.0.0.2", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("2400:da00::6666", True),
        ("224.0.0.1", False),
    ],
)
def test_pic_url_public_addresses_are_global_unicast_only(address, public):
    assert is_public(address) is public


def test_pic_url_hosts_come_from_the_settings():
    from app.photo_jobs import photo_jobs
    from app.services.directory.grids import GridLocator
    from app.services.intake.reports import IntakeRules
    from app.settings import Settings
    from bot.api import WeChatAPI

    settings = Settings(database_url="sqlite://", media_hosts="img.example, .qpic.cn")
    with WeChatAPI(app_id="wx", app_secret="s", base_url="http://127.0.0.1:9") as api:
        jobs = photo_jobs(settings, None, api, IntakeRules.from_settings(settings, GridLocator(0)))
        hosts = jobs.source.hosts
        jobs.source.close()
    assert hosts.allows("img.example") and hosts.allows("mmsns.qpic.cn")
    assert not hosts.allows("mmbiz.qlogo.cn") and not hosts.allow_private
    assert Settings(database_url="sqlite://").media_hosts.split(",") == [
        "mmbiz.qpic.cn",
        "mmbiz.qlogo.cn",
    ]
