"""Turning a photo someone sent into evidence that is safe to keep.

`process()` checks the bytes are an acceptable picture of a sane size, reads the EXIF
facts worth keeping (GPS position, capture time), applies the EXIF orientation and
re-encodes a bounded JPEG and a thumbnail with every piece of metadata left behind.
Pure computation: no database, no files.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from PIL import Image, UnidentifiedImageError

from app.media import png_strips

try:  # HEIC/HEIF (iPhone photos), when the maintained plugin is installed
    from pillow_heif import register_heif_opener

    register_heif_opener()
    ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "HEIF"})
except ImportError:  # pragma: no cover - the plugin is a regular dependency
    ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})

TAG_ORIENTATION = 0x0112
IFD_EXIF = 0x8769
IFD_GPS = 0x8825
TAG_DATETIME_ORIGINAL = 0x9003
TAG_OFFSET_TIME_ORIGINAL = 0x9011
JPEG_QUALITY = 82
STRIP_ROWS = 256
"""Rows of the decoded picture copied at a time while reducing it (7000 px RGBA: 7 MB)."""
DRAFT_UNDERSHOOT = 0.75
"""DCT scaling may land this far under the long-side target (12 MP -> 2000 px, not 2048)."""


class RefusedImage(Exception):
    """Not a picture gridbot keeps; `reason` is one of the keys of REFUSALS."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 50_000_000
    long_side: int = 2048
    thumb_side: int = 320


@dataclass(frozen=True)
class ProcessedPhoto:
    jpeg: bytes
    """The re-encoded picture: upright, at most `long_side` px, no metadata."""
    thumb: bytes
    width: int
    height: int
    dhash: int
    """64-bit difference hash of the picture."""
    source_format: str
    lat: float | None = None
    lng: float | None = None
    """WGS-84 from EXIF GPS, or None."""
    taken_at: datetime | None = None
    """EXIF DateTimeOriginal; naive (camera-local) unless the photo recorded its offset."""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.jpeg).hexdigest()

    @property
    def thumb_sha256(self) -> str:
        return hashlib.sha256(self.thumb).hexdigest()


def process(data: bytes, limits: Limits = Limits(), *, draft: bool = True) -> ProcessedPhoto:
    """The stored form of `data`, or RefusedImage.

    `draft=False` decodes the whole picture at once before scaling (the naive way; for
    benchmarks and tests): no JPEG draft, no PNG strips.
    """
    if len(data) > limits.max_bytes:
        raise RefusedImage("too_large", f"{len(data)} bytes")
    with warnings.catch_warnings():
        # Pillow warns (then errors) above Image.MAX_IMAGE_PIXELS; our own cap comes first.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
            fmt = img.format or ""
            if fmt not in ACCEPTED_FORMATS:
                raise RefusedImage("format", fmt or "unknown")
            if img.width * img.height > limits.max_pixels:
                raise RefusedImage("too_many_pixels", f"{img.width}x{img.height}")
            png = _large_png(data, img, limits.long_side) if draft else None
            exif = _png_exif(png) if png is not None else img.getexif()
            orientation = exif.get(TAG_ORIENTATION, 1)
            lat, lng = _gps(exif)
            taken_at = _taken_at(exif)
            reduced = None
            if png is not None:  # decoded and reduced a strip at a time
                factor = _factor(img.size, limits.long_side)
                pieces = png_strips.strips(png, _strip_rows(factor))
                reduced = _reduce_strips(pieces, img.size, factor)
                img.close()
            else:
                if draft and fmt == "JPEG":
                    _draft(img, limits.long_side)
                img.load()
        except RefusedImage:
            raise
        except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
            reason = "not_image" if isinstance(exc, UnidentifiedImageError) else "too_many_pixels"
            raise RefusedImage(reason, str(exc)[:120]) from None
        except Image.DecompressionBombWarning as exc:
            raise RefusedImage("too_many_pixels", str(exc)[:120]) from None
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise RefusedImage("broken", f"{type(exc).__name__}: {exc}"[:120]) from None
    # Memory is bounded by what is stored, not by the source: the decoded picture is
    # reduced strip by strip (flattened on the way) before anything else copies it, and
    # released before turning and scaling the small one. A large PNG is not even decoded
    # whole (above).
    if reduced is None:
        reduced = _reduced(img, limits.long_side)
        if reduced is not img:
            img.close()
    picture = _bounded(_upright(reduced, orientation), limits.long_side)
    thumb = _bounded(picture, limits.thumb_side)
    return ProcessedPhoto(
        jpeg=_clean_jpeg(picture),
        thumb=_clean_jpeg(thumb),
        width=picture.width,
        height=picture.height,
        dhash=dhash(thumb),
        source_format=fmt,
        lat=lat,
        lng=lng,
        taken_at=taken_at,
    )


def _draft(img: Image.Image, long_side: int) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the picture is far above the target."""
    floor = long_side * DRAFT_UNDERSHOOT
    scale = 1
    while scale < 8 and max(img.size) / (scale * 2) >= floor:
        scale *= 2
    if scale > 1:
        img.draft("RGB", (img.width // scale, img.height // scale))


def _reduced(img: Image.Image, long_side: int) -> Image.Image:
    """RGB, shrunk by the largest whole factor that keeps the long side at or above
    `long_side` (box averaging); `img` itself when it is RGB and needs no shrinking.

    Works on strips of STRIP_ROWS rows (a multiple of the factor, so the result equals
    one reduce of the whole), so the only full-size picture ever held is the decoded one:
    no flattened, premultiplied or turned copy of it.
    """
    factor = _factor(img.size, long_side)
    if factor == 1 and img.mode == "RGB":
        return img
    width, height = img.size
    rows = _strip_rows(factor)
    pieces = (img.crop((0, top, width, min(height, top + rows))) for top in range(0, height, rows))
    return _reduce_strips(pieces, img.size, factor)


def _factor(size: tuple[int, int], long_side: int) -> int:
    return max(1, max(size) // long_side)


def _strip_rows(factor: int) -> int:
    return max(factor, STRIP_ROWS // factor * factor)


def _reduce_strips(
    strips: Iterable[Image.Image], size: tuple[int, int], factor: int
) -> Image.Image:
    """Consecutive strips of a picture of `size`, each a multiple of `factor` rows high
    (but the last), flattened to RGB and reduced by `factor` into one picture."""
    width, height = size
    out = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    top = 0
    for strip in strips:
        flat = _flattened(strip)
        out.paste(flat.reduce(factor) if factor > 1 else flat, (0, top // factor))
        top += strip.height
    if top != height:
        raise png_strips.BrokenPNG(f"{top} of {height} rows")
    return out


def _large_png(data: bytes, img: Image.Image, long_side: int) -> png_strips.PngLayout | None:
    """The layout of a PNG worth decoding in strips (it will be reduced at least by 2)."""
    if img.format != "PNG" or _factor(img.size, long_side) < 2:
        return None
    png = png_strips.layout(data)
    return png if png is not None and (png.width, png.height) == img.size else None


def _png_exif(png: png_strips.PngLayout) -> Image.Exif:
    exif = Image.Exif()
    if png.exif:
        exif.load(b"Exif\x00\x00" + png.exif)
    return exif


ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
"""EXIF orientation -> the turn that makes the picture upright (as ImageOps.exif_transpose)."""


def _upright(img: Image.Image, orientation: object) -> Image.Image:
    method = ORIENTATION_TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
    return img.transpose(method) if method is not None else img


def _flattened(img: Image.Image) -> Image.Image:
    """RGB; transparency composited onto white (JPEG has no alpha)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return img.convert("RGB")


def _bounded(img: Image.Image, side: int) -> Image.Image:
    if max(img.size) <= side:
        return img
    ratio = side / max(img.size)
    size = (max(1, round(img.width * ratio)), max(1, round(img.height * ratio)))
    return img.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def _clean_jpeg(img: Image.Image) -> bytes:
    """JPEG bytes with no EXIF, XMP, ICC profile or comment: only pixels leave here.

    `img` belongs to process() (the decoded original, if it is that, is not needed after
    this), so its info can be dropped in place instead of paying for a copy.
    """
    img.info = {}
    out = io.BytesIO()
    img.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def dhash(img: Image.Image) -> int:
    """64-bit difference hash: is each of 8x8 cells brighter than its right neighbour."""
    small = img.convert("L").resize((9, 8), Image.Resampling.BILINEAR)
    pixels = small.tobytes()
    bits = 0
    for row in range(8):
        for col in range(8):
            left, right = pixels[row * 9 + col], pixels[row * 9 + col + 1]
            bits = (bits << 1) | (left > right)
    return bits


def _gps(exif: Image.Exif) -> tuple[float | None, float | None]:
    try:
        gps = exif.get_ifd(IFD_GPS)
    except (KeyError, ValueError, TypeError, OSError):
        return None, None
    try:
        lat = _degrees(gps[2], gps.get(1, "N"))
        lng = _degrees(gps[4], gps.get(3, "E"))
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat == 0 and lng == 0):
        return None, None
    return lat, lng


def _degrees(dms, ref) -> float:
    d, m, s = (float(x) for x in dms)
    value = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode(errors="ignore")
    return -value if str(ref).strip().upper() in ("S", "W") else value


def _taken_at(exif: Image.Exif) -> datetime | None:
    try:
        ifd = exif.get_ifd(IFD_EXIF)
        raw = ifd.get(TAG_DATETIME_ORIGINAL)
        if not raw:
            return None
        when = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
        offset = ifd.get(TAG_OFFSET_TIME_ORIGINAL)
    except (KeyError, ValueError, TypeError, OSError):
        return None
    if offset:
        try:
            sign = -1 if str(offset).startswith("-") else 1
            hours, minutes = str(offset).strip("+-\x00 ").split(":")
            delta = timedelta(hours=int(hours), minutes=int(minutes))
            return when.replace(tzinfo=timezone(sign * delta))
        except ValueError:
            pass
    return when


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()
