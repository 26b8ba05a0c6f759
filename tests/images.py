"""Generated test pictures: distinct scenes, EXIF written with piexif."""

from __future__ import annotations

import io
import random
import struct
import zlib
from datetime import datetime

import piexif
from PIL import Image, ImageDraw, ImageFilter


def scene(seed: int, size: tuple[int, int] = (800, 600)) -> Image.Image:
    """A picture with structure (shapes, gradient): different seeds, different scenes."""
    rng = random.Random(seed)
    w, h = size
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(14):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        x1, y1 = x0 + rng.randrange(w // 8, w // 2), y0 + rng.randrange(h // 8, h // 2)
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    return img.filter(ImageFilter.GaussianBlur(1))


def _rational(value: float, denominator: int = 10000) -> tuple[int, int]:
    return round(value * denominator), denominator


def _dms(value: float) -> tuple[tuple[int, int], ...]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return (degrees, 1), (minutes, 1), _rational(seconds)


def exif_bytes(
    *,
    gps: tuple[float, float] | None = None,
    taken: datetime | None = None,
    orientation: int | None = None,
) -> bytes:
    data: dict = {"0th": {piexif.ImageIFD.Make: b"TestCam", piexif.ImageIFD.Model: b"X1"}}
    data["Exif"] = {}
    if orientation:
        data["0th"][piexif.ImageIFD.Orientation] = orientation
    if taken is not None:
        data["Exif"][piexif.ExifIFD.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if gps is not None:
        lat, lng = gps
        data["GPS"] = {
            piexif.GPSIFD.GPSLatitudeRef: b"N" if lat >= 0 else b"S",
            piexif.GPSIFD.GPSLatitude: _dms(lat),
            piexif.GPSIFD.GPSLongitudeRef: b"E" if lng >= 0 else b"W",
            piexif.GPSIFD.GPSLongitude: _dms(lng),
        }
    return piexif.dump(data)


def jpeg(img: Image.Image, *, quality: int = 90, **exif) -> bytes:
    out = io.BytesIO()
    extra = {"exif": exif_bytes(**exif)} if exif else {}
    img.save(out, "JPEG", quality=quality, **extra)
    return out.getvalue()


def encoded(img: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture: a decompression bomb's calling card."""
    real = encoded(Image.new("L", (1, 1)), "PNG")
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    header = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    start = 8  # after the signature; the IHDR chunk is 25 bytes
    return real[:start] + header + real[start + 25 :]
