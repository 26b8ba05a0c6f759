"""Several machines share photos through the object store: one processes, any serves.

Two apps on one database, each with its own data directory (two machines), both storing
photos in the same S3 bucket (a local moto server).
"""

from __future__ import annotations

from io import BytesIO
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from PIL import Image

from app.settings import Settings
from app.web.main import create_app
from models import utcnow
from tests.chatkit import FENGYUAN_1, Chat
from tests.images import jpeg, scene
from tests.integration.test_media_web import _photo_via_sandbox
from tests.photokit import Photos


def _machine(db_url, data_dir, s3_server, s3_url) -> TestClient:
    settings = Settings(
        database_url=db_url, data_dir=data_dir, channel="sandbox", **s3_server.settings(s3_url)
    )
    return TestClient(create_app(settings, run_jobs=False))


def test_a_photo_processed_on_one_machine_is_served_by_another(
    demo_sessions, db_url, tmp_path, s3_server, s3_url
):
    with (
        _machine(db_url, tmp_path / "a", s3_server, s3_url) as a,
        _machine(db_url, tmp_path / "b", s3_server, s3_url) as b,
    ):
        _photo_via_sandbox(a)  # processed on machine a

        links = b.app.state.media_links
        for variant, side in (("full", 800), ("thumb", 320)):
            url = urlsplit(links.url(1, now=utcnow(), variant=variant))
            resp = b.get(f"{url.path}?{url.query}")
            assert resp.status_code == 200 and resp.headers["content-type"] == "image/jpeg"
            assert max(Image.open(BytesIO(resp.content)).size) == side
            assert resp.headers["cache-control"].startswith("private")
            bad = url.query.replace("sig=", "sig=0")
            assert b.get(f"{url.path}?{bad}").status_code == 403
    down = {**s3_server.settings(s3_url), "media_s3_endpoint_url": "http://127.0.0.1:9"}
    settings = Settings(database_url=db_url, data_dir=tmp_path / "c", channel="sandbox", **down)
    with TestClient(create_app(settings, run_jobs=False)) as c:
        url = urlsplit(c.app.state.media_links.url(1, now=utcnow()))
        resp = c.get(f"{url.path}?{url.query}")
        assert resp.status_code == 503 and "try again" in resp.text
    stored_on_disk = list((tmp_path / "a").rglob("*.jpg"))
    assert stored_on_disk == []  # only the bucket holds the stored photos
    bucket = s3_url.removeprefix("s3://").split("/")[0]
    assert len(s3_server.keys(bucket)) == 2


def test_tickets_show_names_where_a_photo_is_kept(demo_sessions, clock, s3_server, s3_url):
    from app.photo_jobs import media_store

    chat = Chat(demo_sessions, clock)
    photos = Photos(chat, "/unused")
    photos.store = photos.pipeline.store = media_store(
        Settings(database_url="sqlite://", **s3_server.settings(s3_url))
    )
    photos.send("rider-1", "m-1", jpeg(scene(53)))
    chat.location("rider-1", FENGYUAN_1)
    assert photos.run().stored == 1
    (photo,) = photos.ticket_json(1)["photos"]
    assert photo["path"] == f"{s3_url}/{photo['sha256'][:2]}/{photo['sha256'][2:4]}/" + (
        f"{photo['sha256']}.jpg"
    )


def test_a_store_that_is_down_delays_the_photo_instead_of_losing_it(
    demo_sessions, clock, s3_server, s3_url
):
    from app.photo_jobs import media_store

    chat = Chat(demo_sessions, clock)
    photos = Photos(chat, "/unused")
    down = Settings(
        database_url="sqlite://",
        **{**s3_server.settings(s3_url), "media_s3_endpoint_url": "http://127.0.0.1:9"},
    )
    photos.pipeline.store = media_store(down)
    photos.send("rider-1", "m-1", jpeg(scene(54)))
    chat.location("rider-1", FENGYUAN_1)
    assert photos.run().retrying == 1
    (photo,) = photos.ticket_json(1)["photos"]
    assert photo["status"] == "pending" and "S3 put" in photo["error"]
    photos.pipeline.store = photos.store = media_store(
        Settings(database_url="sqlite://", **s3_server.settings(s3_url))
    )
    clock.advance(seconds=60)
    assert photos.run().stored == 1
