"""Answers the browser keeps and revalidates: a refresh that finds nothing new downloads
nothing (304, no body) instead of the same bytes again."""

from __future__ import annotations

import hashlib

from fastapi import Request
from fastapi.responses import Response


def tag_of(body: bytes) -> str:
    """A strong ETag for an answer: the digest of its bytes (before any gzip)."""
    return f'"{hashlib.sha1(body).hexdigest()}"'


def revalidated(etag: str, **more: str) -> dict[str, str]:
    """Headers of an answer the browser keeps and asks for again with If-None-Match."""
    return {"ETag": etag, "Cache-Control": "private, no-cache", **more}


def not_modified(request: Request, etag: str, **more: str) -> Response | None:
    """304 (no body) when the browser already holds the answer tagged `etag`."""
    if request.headers.get("if-none-match") != etag:
        return None
    return Response(status_code=304, headers=revalidated(etag, **more))
