"""Photo pipeline speed: one 12-megapixel JPEG, draft (DCT-scaled) decoding vs a naive
full decode, each through the whole of `process()` (decode, orient, bound to 2048 px,
re-encode without metadata, thumbnail, dHash). Target: under 150 ms median with draft.

    uv run python bench/photo_pipeline.py [--runs 15] [--file PHOTO.jpg]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.media.imaging import process

TARGET_MS = 150.0


def photo_like_12mp() -> bytes:
    """4000x3000, shapes over a gradient with sensor-like noise, EXIF, quality 90:
    about the size and entropy of a phone photo (a few MB)."""
    import random

    import piexif

    rng = random.Random(12)
    size = (4000, 3000)
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x, y = rng.randrange(4000), rng.randrange(3000)
        box = (x, y, x + rng.randrange(100, 1500), y + rng.randrange(100, 1200))
        fill = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    img = img.filter(ImageFilter.GaussianBlur(2))
    noise = Image.effect_noise(size, 24).convert("RGB")
    img = Image.blend(img, noise, 0.18)
    exif = piexif.dump(
        {
            "0th": {piexif.ImageIFD.Orientation: 6},
            "Exif": {piexif.ExifIFD.DateTimeOriginal: datetime.now().strftime("%Y:%m:%d %H:%M:%S")},
            "GPS": {
                piexif.GPSIFD.GPSLatitudeRef: b"N",
                piexif.GPSIFD.GPSLatitude: ((31, 1), (11, 1), (3210, 100)),
                piexif.GPSIFD.GPSLongitudeRef: b"E",
                piexif.GPSIFD.GPSLongitude: ((121, 1), (25, 1), (5745, 100)),
            },
        }
    )
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def timed(data: bytes, runs: int, *, draft: bool) -> list[float]:
    process(data, draft=draft)  # warm up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        process(data, draft=draft)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--file", type=Path, help="a JPEG to use instead of the generated one")
    args = parser.parse_args()

    data = args.file.read_bytes() if args.file else photo_like_12mp()
    with Image.open(io.BytesIO(data)) as img:
        source = f"{img.width}x{img.height} {img.format}, {len(data) / 1e6:.1f} MB"
    draft = timed(data, args.runs, draft=True)
    naive = timed(data, args.runs, draft=False)
    out = process(data)
    print(f"input: {source}; output {out.width}x{out.height}, {len(out.jpeg) / 1e3:.0f} kB")
    print(f"{'':14}{'median ms':>10}{'min':>8}{'max':>8}   ({args.runs} runs each)")
    for name, times in (("draft decode", draft), ("naive decode", naive)):
        print(f"{name:14}{statistics.median(times):10.1f}{min(times):8.1f}{max(times):8.1f}")
    speedup = statistics.median(naive) / statistics.median(draft)
    verdict = "OK" if statistics.median(draft) < TARGET_MS else "OVER TARGET"
    print(f"draft is {speedup:.1f}x faster; target < {TARGET_MS:.0f} ms median: {verdict}")


if __name__ == "__main__":
    main()
