"""Photo memory: peak RSS of a process that turns one large transparent PNG into the
stored photo (issue 15 item 8: a 208 KB 7000x7000 RGBA PNG took about 1 GB).

    uv run python -m bench photo_memory [--smoke] [--set side=7000]

Each measurement is a fresh Python process reading its own peak RSS (VmHWM, Linux), so
the figure is the photo job's alone: "photo job" imports only the imaging code, "in a server process"
imports the whole web app first, as the leader that runs the photo sweep does.
Target: photo job peak < 300 MB for the 7000 px file. Checked: the stored picture is
within the long-side bound, square, and the transparent corner came out white.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import Context, Row, benchmark, met

TARGET_MB = 300.0
ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import io, json, sys, time
def hwm_kb():  # peak RSS of this address space (unlike ru_maxrss, not inherited over fork)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
for module in sys.argv[2:]:
    __import__(module)
from app.media.imaging import process
from PIL import Image
data = open(sys.argv[1], "rb").read()
base = hwm_kb()
started, cpu = time.perf_counter(), time.process_time()
photo = process(data)
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
peak = hwm_kb()
corner = Image.open(io.BytesIO(photo.jpeg)).convert("RGB").getpixel((0, 0))
print(json.dumps({"base_kb": base, "peak_kb": peak, "seconds": seconds, "cpu": cpu,
                  "width": photo.width, "height": photo.height, "corner": corner}))
"""


def transparent_png(side: int, shapes: int = 20) -> bytes:
    """A mostly transparent RGBA PNG with a few translucent discs: tiny on disk (about
    270 KB at 7000 px), `side`^2 x 4 bytes if decoded whole. The corner stays transparent."""
    rng = random.Random(7)
    img = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    for _ in range(shapes):
        x, y = rng.randrange(side // 4, side), rng.randrange(side // 4, side)
        r = rng.randrange(side // 20, side // 5)
        fill = (rng.randrange(256), rng.randrange(256), rng.randrange(256), rng.randrange(80, 256))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


def measure(path: Path, *preload: str) -> dict:
    """process() on the file in a fresh interpreter that first imports `preload`."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), *preload],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def problems(result: dict, long_side: int = 2048) -> str:
    found = []
    if max(result["width"], result["height"]) > long_side:
        found.append(f"output {result['width']}x{result['height']} exceeds {long_side} px")
    if result["width"] != result["height"]:
        found.append(f"output {result['width']}x{result['height']} is not square")
    if min(result["corner"]) < 245:
        found.append(f"transparent corner came out {result['corner']}, not white")
    return "; ".join(found)


@benchmark("photo_memory", "peak RSS of the photo job for a 7000x7000 RGBA PNG")
def photo_memory(ctx: Context) -> list[Row]:
    side = int(ctx.option("side", ctx.size(7000, 1500)))
    data = transparent_png(side)
    path = ctx.workdir / f"transparent-{side}.png"
    path.write_bytes(data)
    rows = []
    for variant, preload in (("photo job", ()), ("in a server process", ("app.web.main",))):
        r = measure(path, *preload)
        peak, base = r["peak_kb"] / 1024, r["base_kb"] / 1024
        rows.append(
            Row(
                variant,
                {
                    "input": f"{side}x{side} RGBA PNG",
                    "file KB": len(data) / 1024,
                    "decoded whole MB": side * side * 4 / 2**20,
                    "peak MB": peak,
                    "before MB": base,
                    "s": r["seconds"],
                    "cpu s": r["cpu"],
                },
                ratio=f"+{peak - base:.0f} MB for the photo",
                target=f"< {TARGET_MB:.0f} MB: {met(peak < TARGET_MB)}"
                if variant == "photo job"
                else "",
                failed=problems(r),
            )
        )
    return rows


if __name__ == "__main__":
    from bench.__main__ import main

    sys.exit(main(["photo_memory", *sys.argv[1:]]))
