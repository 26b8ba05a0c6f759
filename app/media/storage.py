"""Where stored photos live: content-addressed by SHA-256 behind a small interface.

A backend stores bytes under the hex SHA-256 of those bytes; storing the same bytes
twice is one file. `LocalMediaStore` is the default (a directory tree under the data
directory); `app.media.s3.S3MediaStore` keeps them in an S3-compatible object store
for several machines. Callers that serve bytes use `path()` when it gives a file and
`get()` otherwise.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
S3_URL = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?$")


class StoreUnavailable(Exception):
    """The store could not be reached or answered with an error; trying later may help."""


def content_key(sha256: str, suffix: str = ".jpg") -> str:
    """ab/cd/<sha256><suffix>: the relative name of stored bytes, in every backend."""
    if not _SHA256.match(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}{suffix}"


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str
    """Empty, or ending in '/'."""

    @classmethod
    def parse(cls, url: str) -> S3Location:
        """s3://bucket or s3://bucket/prefix; ValueError saying what is wrong."""
        match = S3_URL.match(url.strip())
        if match is None:
            raise ValueError(f"not s3://bucket[/prefix] with a valid bucket name: {url!r}")
        prefix = (match["prefix"] or "").strip("/")
        return cls(match["bucket"], f"{prefix}/" if prefix else "")


class MediaStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store `data`; returns its SHA-256 (hex), the key to get it back."""

    def get(self, sha256: str) -> bytes | None:
        """The bytes stored under `sha256`, or None."""

    def path(self, sha256: str) -> Path | None:
        """A local file holding them (served as a file), or None (served from get())."""

    def locate(self, sha256: str) -> str | None:
        """Where they are kept, for people (a file path, an s3:// URL), or None."""


class LocalMediaStore:
    """Files at <root>/ab/cd/<sha256>.jpg, written atomically (temp file, then rename)."""

    def __init__(self, root: Path, suffix: str = ".jpg") -> None:
        self.root = Path(root)
        self.suffix = suffix

    def _file(self, sha256: str) -> Path:
        return self.root / content_key(sha256, self.suffix)

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        target = self._file(sha)
        if target.exists():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def get(self, sha256: str) -> bytes | None:
        path = self.path(sha256)
        return path.read_bytes() if path is not None else None

    def path(self, sha256: str) -> Path | None:
        target = self._file(sha256)
        return target if target.is_file() else None

    def locate(self, sha256: str) -> str | None:
        path = self.path(sha256)
        return str(path) if path is not None else None
