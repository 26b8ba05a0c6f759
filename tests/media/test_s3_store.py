"""Several machines: photos in an S3-compatible object store (a local moto server)."""

from __future__ import annotations

import hashlib
import socket

import pytest

from app.media.s3 import S3MediaStore
from app.media.storage import S3Location, StoreUnavailable
from app.settings import Settings
from tests.s3kit import KEYS


def _store(server, url: str) -> S3MediaStore:
    return S3MediaStore.connect(
        url,
        endpoint_url=server.endpoint,
        access_key_id=KEYS["media_s3_access_key_id"],
        secret_access_key=KEYS["media_s3_secret_access_key"],
    )


def test_the_s3_store_keeps_bytes_under_their_sha256_once(s3_server, s3_url):
    store = _store(s3_server, s3_url)
    sha = store.put(b"jpeg bytes")
    assert sha == hashlib.sha256(b"jpeg bytes").hexdigest()
    assert store.put(b"jpeg bytes") == sha
    assert store.get(sha) == b"jpeg bytes"
    assert store.get("0" * 64) is None
    assert store.path(sha) is None  # served as bytes, there is no local file
    bucket = S3Location.parse(s3_url).bucket
    key = f"photos/{sha[:2]}/{sha[2:4]}/{sha}.jpg"
    assert s3_server.keys(bucket) == [key]
    assert store.locate(sha) == f"s3://{bucket}/{key}"
    with pytest.raises(ValueError):
        store.get("../../etc/passwd")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_store_says_so_instead_of_failing_obscurely():
    store = S3MediaStore.connect(
        "s3://gridbot-photos",
        endpoint_url=f"http://127.0.0.1:{_closed_port()}",
        access_key_id="testing",
        secret_access_key="testing",
    )
    with pytest.raises(StoreUnavailable):
        store.put(b"x")
    with pytest.raises(StoreUnavailable):
        store.get("0" * 64)


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://photos-bucket", "photos-bucket", ""),
        ("s3://photos-bucket/", "photos-bucket", ""),
        ("s3://photos-bucket/city/photos/", "photos-bucket", "city/photos/"),
    ],
)
def test_the_store_url_names_a_bucket_and_a_prefix(url, bucket, prefix):
    assert S3Location.parse(url) == S3Location(bucket, prefix)


@pytest.mark.parametrize("url", ["s3://", "s3://Bad_Bucket/x", "https://bucket/x", "bucket"])
def test_a_wrong_store_setting_is_one_clear_line(url):
    with pytest.raises(ValueError, match="GRIDBOT_MEDIA_STORE must be empty"):
        Settings(database_url="sqlite://", media_store=url)
