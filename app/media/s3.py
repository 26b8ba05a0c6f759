"""Photos in an S3-compatible object store, so that every app machine sees every photo.

The same content-addressed layout as the local store, under a key prefix:
s3://bucket/prefix/ab/cd/<sha256>.jpg. Works with AWS S3 and with S3-compatible stores
(MinIO, Ceph, Tencent COS, Aliyun OSS) given their endpoint URL.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.media.storage import S3Location, StoreUnavailable, content_key

MISSING = {"NoSuchKey", "404", "NotFound"}
TIMEOUTS = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"max_attempts": 3, "mode": "standard"},
)


class S3MediaStore:
    """put/get against a bucket; there is no local path (photos are served as bytes)."""

    def __init__(self, client, location: S3Location, suffix: str = ".jpg") -> None:
        self.client = client
        self.location = location
        self.suffix = suffix

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        endpoint_url: str = "",
        region: str = "",
        access_key_id: str = "",
        secret_access_key: str = "",
    ) -> S3MediaStore:
        """A store for `url` (s3://bucket/prefix). Empty credentials use boto3's own chain
        (AWS_* environment, instance role); an endpoint URL selects an S3-compatible store
        (path-style addressing, which they all accept)."""
        location = S3Location.parse(url)
        config = TIMEOUTS
        if endpoint_url:
            config = config.merge(Config(s3={"addressing_style": "path"}))
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=config,
        )
        return cls(client, location)

    def _key(self, sha256: str) -> str:
        return self.location.prefix + content_key(sha256, self.suffix)

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        try:
            self.client.put_object(
                Bucket=self.location.bucket,
                Key=self._key(sha),
                Body=data,
                ContentType="image/jpeg",
            )
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailable(f"S3 put {self._key(sha)}: {exc}"[:250]) from exc
        return sha

    def get(self, sha256: str) -> bytes | None:
        key = self._key(sha256)
        try:
            answer = self.client.get_object(Bucket=self.location.bucket, Key=key)
            return answer["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in MISSING:
                return None
            raise StoreUnavailable(f"S3 get {key}: {exc}"[:250]) from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"S3 get {key}: {exc}"[:250]) from exc

    def path(self, sha256: str) -> Path | None:
        return None

    def locate(self, sha256: str) -> str | None:
        return f"s3://{self.location.bucket}/{self._key(sha256)}"
