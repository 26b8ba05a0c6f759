"""Where stored photos live: content-addressed by SHA-256 behind a small interface.

A backend stores bytes under the hex SHA-256 of those bytes; storing the same bytes
twice is one file. `LocalMediaStore` is the default (a directory tree under the data
directory); an object store would implement the same three methods.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class MediaStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store `data`; returns its SHA-256 (hex), the key to get it back."""

    def get(self, sha256: str) -> bytes | None:
        """The bytes stored under `sha256`, or None."""

    def path(self, sha256: str) -> Path | None:
        """A local file holding them (for serving and inspection), or None."""


class LocalMediaStore:
    """Files at <root>/ab/cd/<sha256>.jpg, written atomically (temp file, then rename)."""

    def __init__(self, root: Path, suffix: str = ".jpg") -> None:
        self.root = Path(root)
        self.suffix = suffix

    def _file(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}{self.suffix}"

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
