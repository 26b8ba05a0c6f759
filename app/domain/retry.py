"""Retry timing shared by everything that retries against WeChat (notices, photos)."""

from __future__ import annotations

import random
from datetime import timedelta


def backoff(
    attempt: int, *, first: float = 2.0, cap: float = 600.0, unit: float = 1.0
) -> timedelta:
    """Exponential backoff with jitter: after failed attempt n, wait up to
    first * 2**(n-1) seconds (at least half of it), never more than `cap`.

    `unit` scales the whole curve (tests shrink it to milliseconds)."""
    return timedelta(seconds=random.uniform(0.5, 1.0) * min(cap, first * 2 ** (attempt - 1)) * unit)
