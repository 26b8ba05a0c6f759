"""Content-addressed storage and signed, expiring links."""

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from app.media.links import MediaLinks
from app.media.storage import LocalMediaStore
from app.settings import Settings

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_the_store_keeps_bytes_under_their_sha256_once(tmp_path):
    store = LocalMediaStore(tmp_path)
    sha = store.put(b"jpeg bytes")
    assert sha == hashlib.sha256(b"jpeg bytes").hexdigest()
    assert store.put(b"jpeg bytes") == sha
    assert store.get(sha) == b"jpeg bytes"
    assert store.path(sha) == tmp_path / sha[:2] / sha[2:4] / f"{sha}.jpg"
    assert store.locate(sha) == str(store.path(sha)) and store.locate("0" * 64) is None
    assert store.get("0" * 64) is None
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")


def _parts(url: str) -> tuple[str, int, str]:
    u = urlsplit(url)
    q = parse_qs(u.query)
    return u.path, int(q["exp"][0]), q["sig"][0]


def test_a_link_is_valid_until_it_expires_and_only_for_its_photo_and_variant():
    links = MediaLinks("s" * 32, "https://grid.example.cn/", timedelta(hours=72))
    path, exp, sig = _parts(links.url(7, now=NOW))
    assert path == "/media/7"
    assert links.valid(7, "full", exp, sig, now=NOW + timedelta(hours=71))
    assert not links.valid(7, "full", exp, sig, now=NOW + timedelta(hours=73))
    assert not links.valid(8, "full", exp, sig, now=NOW)
    assert not links.valid(7, "thumb", exp, sig, now=NOW)
    assert not links.valid(7, "full", exp + 3600, sig, now=NOW)
    other_secret = MediaLinks("t" * 32, "https://grid.example.cn", timedelta(hours=72))
    assert not other_secret.valid(7, "full", exp, sig, now=NOW)
    thumb_path, texp, tsig = _parts(links.url(7, now=NOW, variant="thumb"))
    assert thumb_path == "/media/7/thumb" and links.valid(7, "thumb", texp, tsig, now=NOW)


APP = {"wechat_app_id": "wx0123456789abcdef", "wechat_app_secret": "real-app-secret"}


def test_the_development_media_secret_is_refused_outside_the_sandbox():
    with pytest.raises(ValueError, match="GRIDBOT_MEDIA_SECRET"):
        Settings(channel="wechat", wechat_token="real-token-123", **APP)
    Settings(channel="wechat", wechat_token="real-token-123", media_secret="x" * 32, **APP)
    assert Settings(channel="sandbox").media_secret  # the demo works without one


def test_media_dir_defaults_under_the_data_dir_and_can_be_overridden(tmp_path, monkeypatch):
    assert Settings(data_dir=tmp_path).media_dir == tmp_path / "media"
    monkeypatch.setenv("GRIDBOT_MEDIA_DIR", str(tmp_path / "elsewhere"))
    assert Settings(data_dir=tmp_path).media_dir == tmp_path / "elsewhere"
