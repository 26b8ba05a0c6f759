"""A local S3 server for the tests (moto's server mode on 127.0.0.1, a free port).

Import the fixtures into a test module: `from tests.s3kit import s3_server, s3_url`.
Nothing here reaches AWS: every client is given the local endpoint and fake keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

KEYS = {"media_s3_access_key_id": "testing", "media_s3_secret_access_key": "testing"}


class S3Server:
    def __init__(self, endpoint: str) -> None:
        import boto3  # only when a test asks for the server

        self.endpoint = endpoint
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def settings(self, url: str) -> dict[str, str]:
        """Settings fields that point gridbot's photo store at `url` on this server."""
        return {"media_store": url, "media_s3_endpoint_url": self.endpoint, **KEYS}

    def keys(self, bucket: str) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=bucket)
        return sorted(o["Key"] for o in listed.get("Contents", []))


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()


@pytest.fixture
def s3_url(s3_server) -> str:
    """s3://<a new bucket>/photos on the local server."""
    bucket = f"gridbot-{uuid.uuid4().hex[:12]}"
    s3_server.client.create_bucket(Bucket=bucket)
    return f"s3://{bucket}/photos"
