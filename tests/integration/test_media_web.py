"""Photos over HTTP: signed links only; the sandbox plays WeChat's media store."""

from datetime import timedelta
from io import BytesIO
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from app.domain.coords import wgs84_to_gcj02
from app.settings import Settings
from app.web.main import create_app
from bot.simulator import WeChatSimulator
from models import OutboxMessage, utcnow
from tests.chatkit import FENGYUAN_1
from tests.images import jpeg, scene


def _photo_via_sandbox(client) -> int:
    """Upload as `gridbot chat` does, send the image message, run the photo sweep."""
    data = jpeg(scene(51))
    media_id = client.post("/sandbox/media", content=data).json()["media_id"]
    sim = WeChatSimulator("gridbot", "wxgridbotdemo", "", account="gh_gridbot", mode="plain")
    for req in (
        sim.image("rider-1", media_id, pic_url="file:///nowhere.jpg"),
        sim.location("rider-1", *wgs84_to_gcj02(*FENGYUAN_1), "枫林路口"),
    ):
        assert client.post("/wechat", params=req.params, content=req.body).status_code == 200
    assert client.app.state.photos.pipeline.run().stored == 1
    return 1


def test_a_signed_link_serves_the_stored_photo_and_its_thumbnail(client):
    photo_id = _photo_via_sandbox(client)
    links = client.app.state.media_links
    for variant, side in (("full", 800), ("thumb", 320)):
        url = urlsplit(links.url(photo_id, now=utcnow(), variant=variant))
        resp = client.get(f"{url.path}?{url.query}")
        assert resp.status_code == 200 and resp.headers["content-type"] == "image/jpeg"
        assert max(Image.open(BytesIO(resp.content)).size) == side


def test_bad_expired_or_missing_signatures_are_refused_and_nothing_is_listed(client):
    photo_id = _photo_via_sandbox(client)
    links = client.app.state.media_links
    good = urlsplit(links.url(photo_id, now=utcnow()))
    expired = urlsplit(links.url(photo_id, now=utcnow() - timedelta(hours=100)))
    assert client.get(f"{expired.path}?{expired.query}").status_code == 403
    assert client.get(f"{good.path}?{good.query.replace('sig=', 'sig=0')}").status_code == 403
    assert client.get(f"/media/{photo_id + 1}?{good.query}").status_code == 403
    assert client.get(good.path).status_code == 422
    assert client.get("/media").status_code == 404
    assert client.get("/media/").status_code == 404


def test_the_worker_notice_links_the_report_photo(client, demo_sessions):
    _photo_via_sandbox(client)
    with demo_sessions() as s:
        notice = s.scalars(
            select(OutboxMessage.text).where(OutboxMessage.to_openid == "worker-1")
        ).first()
    assert "http://127.0.0.1:8000/media/1?exp=" in notice


def test_sandbox_upload_is_off_outside_the_sandbox(db_url, tmp_path, demo_sessions):
    settings = Settings(
        database_url=db_url,
        data_dir=tmp_path,
        channel="wechat",
        wechat_token="real-token-123",
        wechat_app_id="wx0123456789abcdef",
        wechat_app_secret="real-app-secret",
        media_secret="m" * 32,
    )
    with TestClient(create_app(settings, run_jobs=False)) as client:
        assert client.post("/sandbox/media", content=b"x").status_code == 404
