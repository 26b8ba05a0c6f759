"""Issue 15 item 8: a large PNG is decoded a strip at a time, exactly as a whole decode.

The PNGs here are written by hand, row filter by row filter (none, sub, up, average,
paeth in turn), so every filter meets a strip boundary.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from app.media import png_strips
from app.media.imaging import RefusedImage, process

WIDE = (4200, 700)  # reduced by 2: strips of 256 rows, boundaries inside the picture


def _filtered(raw: np.ndarray, bpp: int) -> bytes:
    """PNG scanlines of `raw` (rows x bytes, uint8) with filter types 0-4 in turn."""
    raw = raw.astype(np.int16)
    out = []
    prev = np.zeros(raw.shape[1], dtype=np.int16)
    for y, row in enumerate(raw):
        left = np.concatenate([np.zeros(bpp, dtype=np.int16), row[:-bpp]])
        up_left = np.concatenate([np.zeros(bpp, dtype=np.int16), prev[:-bpp]])
        kind = y % 5
        if kind == 0:
            line = row
        elif kind == 1:
            line = row - left
        elif kind == 2:
            line = row - prev
        elif kind == 3:
            line = row - (left + prev) // 2
        else:
            p = left + prev - up_left
            pa, pb, pc = abs(p - left), abs(p - prev), abs(p - up_left)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, up_left))
            line = row - pred
        out.append(bytes([kind]) + (line % 256).astype(np.uint8).tobytes())
        prev = row
    return b"".join(out)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(
    pixels: np.ndarray, colour: int, extra: list[tuple[bytes, bytes]] = (), idat_cut: int = 0
) -> bytes:
    height, width = pixels.shape[:2]
    bpp = png_strips.CHANNELS[colour]
    scanlines = _filtered(pixels.reshape(height, width * bpp), bpp)
    data = zlib.compress(scanlines, 6)
    if idat_cut:
        data = data[:idat_cut]
    idats = [data[i : i + 65536] for i in range(0, len(data), 65536)]  # several IDATs
    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    chunks = [(b"IHDR", header), *extra, *((b"IDAT", d) for d in idats), (b"IEND", b"")]
    return png_strips.SIGNATURE + b"".join(_chunk(k, b) for k, b in chunks)


def _pixels(channels: int, seed: int = 3) -> np.ndarray:
    """Smooth shapes with noise: every filter gets real work, the file stays small."""
    rng = np.random.default_rng(seed)
    h, w = WIDE[1], WIDE[0]
    y, x = np.mgrid[0:h, 0:w]
    base = [(x * (c + 1) // 17 + y * (3 - c) // 5) % 256 for c in range(channels)]
    img = np.stack(base, axis=-1) + rng.integers(0, 9, size=(h, w, channels))
    return (img % 256).astype(np.uint8)


PALETTE = bytes(range(256)) * 3
KINDS = [
    ("RGBA", 6, []),
    ("RGB", 2, []),
    ("L", 0, []),
    ("LA", 4, []),
    ("P", 3, [(b"PLTE", PALETTE)]),
    ("P+tRNS", 3, [(b"PLTE", PALETTE), (b"tRNS", bytes(range(0, 256, 2)))]),
]


@pytest.mark.parametrize(("name", "colour", "extra"), KINDS, ids=[k[0] for k in KINDS])
def test_photo_memory_png_strips_decode_exactly_as_the_whole(name, colour, extra):
    data = _png(_pixels(png_strips.CHANNELS[colour]), colour, extra)
    whole = Image.open(io.BytesIO(data))
    whole.load()
    layout = png_strips.layout(data)
    assert layout is not None
    pieces = list(png_strips.strips(layout, 256))
    assert [p.height for p in pieces] == [256, 256, 188]
    for top, piece in zip((0, 256, 512), pieces, strict=True):
        assert piece.mode == whole.mode
        expected = whole.crop((0, top, WIDE[0], top + piece.height))
        assert piece.tobytes() == expected.tobytes(), f"{name} strip at row {top}"
    assert process(data).jpeg == process(data, draft=False).jpeg


def test_photo_memory_png_strips_keep_exif_from_the_exif_chunk():
    exif = Image.Exif()
    exif[0x0112] = 6  # a quarter turn
    tiff = exif.tobytes().removeprefix(b"Exif\x00\x00")  # an eXIf chunk holds bare TIFF
    photo = process(_png(_pixels(3), 2, [(b"eXIf", tiff)]))
    assert (photo.width, photo.height) == (341, 2048)  # 2100x350 turned, then bounded


@pytest.mark.parametrize(
    "broken",
    [
        lambda: _png(_pixels(4), 6, idat_cut=20_000),  # the image data stops early
        lambda: _png(_pixels(4), 6).replace(b"IDATx", b"IDATq", 1),  # not a zlib stream
    ],
    ids=["truncated", "not zlib"],
)
def test_photo_memory_png_strips_refuse_broken_data_cleanly(broken):
    with pytest.raises(RefusedImage) as err:
        process(broken())
    assert err.value.reason == "broken"


def test_photo_memory_png_strips_leave_other_pngs_to_pillow():
    plain = _png(_pixels(3), 2)
    header = bytearray(plain[16:29])
    header[-1] = 1  # Adam7 interlacing
    interlaced = plain[:8] + _chunk(b"IHDR", bytes(header)) + plain[33:]
    assert png_strips.layout(plain) is not None and png_strips.layout(interlaced) is None
    sixteen = io.BytesIO()
    Image.new("I;16", WIDE, 1000).save(sixteen, "PNG")
    assert png_strips.layout(sixteen.getvalue()) is None
    assert process(sixteen.getvalue()).width == 2048
    assert png_strips.layout(b"not a png") is None
