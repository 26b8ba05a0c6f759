"""Plain-text tables for the terminal, aligned for Chinese text.

A Chinese character takes two columns in a terminal (east-asian width W or F), so
padding by `len()` would skew every column after a Chinese name.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime, tzinfo


def width(text: str) -> int:
    """Columns `text` takes in a terminal."""
    return sum(
        0
        if unicodedata.combining(ch)
        else 2
        if unicodedata.east_asian_width(ch) in ("W", "F")
        else 1
        for ch in text
    )


def clip(text: str, columns: int) -> str:
    """`text` cut to at most `columns` columns, with … when cut."""
    if width(text) <= columns:
        return text
    out, used = [], 0
    for ch in text:
        w = width(ch)
        if used + w > columns - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], gap: str = "  ") -> list[str]:
    """Lines of a table whose columns line up in a terminal; the last column is not
    padded (no trailing spaces)."""
    widths = [width(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], width(cell))
    lines = []
    for row in (headers, *rows):
        cells = [c + " " * (widths[i] - width(c)) for i, c in enumerate(row[:-1])]
        lines.append(gap.join([*cells, row[-1]]).rstrip())
    return lines


def local(at: datetime | None, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) time as the operator's local time; "-" for none."""
    return at.astimezone(tz).strftime(fmt) if at is not None else "-"
