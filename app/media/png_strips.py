"""A large PNG decoded a strip of rows at a time, so memory follows the stored size.

Pillow decodes a PNG whole: a 7000x7000 picture takes 187 MiB before anything is done
with it, however small the file. Here the IDAT stream is inflated a strip at a time and
each strip is handed to Pillow as a small PNG of its own (the strip's rows, filters
intact, after the previous strip's last row as an unfiltered seed row, so "up", "average"
and "paeth" rows decode exactly), stored uncompressed. Only what the common photo PNGs
use is handled: 8-bit grey, RGB, palette, grey+alpha and RGBA, not interlaced, exif in an
eXIf chunk. For anything else `layout()` answers None and the caller decodes the usual
way; so it does for anything odd in the chunk structure, and Pillow then judges the file.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MODES = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}
"""Colour type -> Pillow mode (and raw mode) at bit depth 8."""
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
CARRIED = (b"PLTE", b"tRNS")
"""Chunks each strip needs to decode as the whole would."""
EXIF_IN_TEXT = b"Raw profile type exif"


class BrokenPNG(ValueError):
    """The IDAT stream ends early or does not inflate."""


@dataclass(frozen=True)
class PngLayout:
    width: int
    height: int
    colour: int
    carried: tuple[tuple[bytes, bytes], ...]
    idat: tuple[memoryview, ...]
    exif: bytes | None
    """The eXIf chunk's TIFF data, or None."""

    @property
    def mode(self) -> str:
        return MODES[self.colour]

    @property
    def row_bytes(self) -> int:
        return self.width * CHANNELS[self.colour]


def layout(data: bytes) -> PngLayout | None:
    """The structure of `data` if it is a PNG this module decodes, else None."""
    if not data.startswith(SIGNATURE):
        return None
    view = memoryview(data)
    pos, header, carried, idat, exif = len(SIGNATURE), None, [], [], None
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", view[pos : pos + 8])
        body = view[pos + 8 : pos + 8 + length]
        if len(body) != length:
            return None
        pos += 12 + length
        if kind == b"IHDR":
            if header is not None or length != 13 or carried or idat:
                return None  # one IHDR, first: anything else is for Pillow to judge
            header = struct.unpack(">IIBBBBB", body)
        elif kind in CARRIED:
            carried.append((kind, bytes(body)))
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"eXIf":
            exif = bytes(body)
        elif kind in (b"tEXt", b"zTXt", b"iTXt") and bytes(body).startswith(EXIF_IN_TEXT):
            return None  # exif kept the old way: leave it to Pillow
        elif kind == b"IEND":
            break
    if header is None or not idat:
        return None
    width, height, depth, colour, compression, filtering, interlace = header
    if depth != 8 or colour not in MODES or (compression, filtering, interlace) != (0, 0, 0):
        return None
    if width == 0 or height == 0:
        return None
    return PngLayout(width, height, colour, tuple(carried), tuple(idat), exif)


def strips(png: PngLayout, rows: int) -> Iterator[Image.Image]:
    """The picture, top to bottom, as images of `rows` rows (the last may be shorter)."""
    stream = _Scanlines(png)
    seed: bytes | None = None
    for top in range(0, png.height, rows):
        count = min(rows, png.height - top)
        filtered = stream.take(count * (png.row_bytes + 1))
        rows_in = [filtered] if seed is None else [b"\x00", seed, filtered]
        img = _decode(png, count + (seed is not None), rows_in)
        if seed is not None:
            img = img.crop((0, 1, png.width, count + 1))
        seed = img.crop((0, count - 1, png.width, count)).tobytes("raw", png.mode)
        yield img


class _Scanlines:
    """Exactly n bytes at a time of the inflated IDAT stream, never much more held."""

    def __init__(self, png: PngLayout) -> None:
        self._inflate = zlib.decompressobj()
        self._chunks = iter(png.idat)
        self._tail: bytes | memoryview = b""

    def take(self, n: int) -> bytes:
        pieces, have = [], 0
        while have < n:
            if not self._tail:
                if self._inflate.eof:
                    raise BrokenPNG("image data ends early")
                chunk = next(self._chunks, None)
                if chunk is None:
                    raise BrokenPNG("image data ends early")
                self._tail = chunk
            try:  # never more than asked for: nothing is held over between strips
                out = self._inflate.decompress(self._tail, n - have)
            except zlib.error as exc:
                raise BrokenPNG(f"image data: {exc}") from None
            self._tail = self._inflate.unconsumed_tail
            pieces.append(out)
            have += len(out)
        return b"".join(pieces)


def _decode(png: PngLayout, height: int, rows: list[bytes]) -> Image.Image:
    """A PNG of `height` rows made of the filtered scanlines `rows`, stored, decoded."""
    header = struct.pack(">IIBBBBB", png.width, height, 8, png.colour, 0, 0, 0)
    store = zlib.compressobj(0)
    idat = b"".join([*(store.compress(r) for r in rows), store.flush()])
    parts = [SIGNATURE]
    for kind, body in ((b"IHDR", header), *png.carried, (b"IDAT", idat), (b"IEND", b"")):
        crc = zlib.crc32(body, zlib.crc32(kind))
        parts += [struct.pack(">I", len(body)), kind, body, struct.pack(">I", crc)]
    img = Image.open(io.BytesIO(b"".join(parts)))
    img.load()
    return img
