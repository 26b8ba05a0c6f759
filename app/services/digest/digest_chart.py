"""The digest's PNG chart (Pillow): new tickets by category, and the last 7 days' trend.

Chinese labels use Noto Sans CJK SC from the `noto-cjk-sans-otc` package (a PyPI
dependency), never a font that happens to be installed on the machine.
"""

from __future__ import annotations

import io
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from app.domain.categories import category_label
from app.domain.digest import DigestFigures

WIDTH, HEIGHT = 900, 1100
FAMILY = "Noto Sans CJK SC"
BACKGROUND = (255, 255, 255)
INK = (33, 37, 41)
GRID = (222, 226, 230)
BAR = (66, 133, 244)
NEW_LINE = (66, 133, 244)
RESOLVED_LINE = (52, 168, 83)


def font_file() -> Path:
    return Path(str(files("noto_cjk_sans_otc") / "NotoSansCJK-Regular.ttc"))


@lru_cache
def _face_index() -> int:
    """The collection's Simplified Chinese face (its glyph forms are the mainland ones)."""
    path = str(font_file())
    for index in range(16):
        try:
            if ImageFont.truetype(path, 12, index=index).getname()[0] == FAMILY:
                return index
        except OSError:
            break
    raise RuntimeError(f"{FAMILY} not found in {path}")


@lru_cache
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_file()), size, index=_face_index())


def render_chart(f: DigestFigures) -> bytes:
    """A WIDTH x HEIGHT PNG of `f`'s categories and trend."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((40, 30), f"{f.area_name} 工单日报 {f.day}", font=font(40), fill=INK)
    draw.text(
        (40, 88),
        f"新增 {f.new}  办结 {f.resolved}  未结 {f.open_now}  超时 {f.overdue_now}",
        font=font(26),
        fill=INK,
    )
    _category_bars(draw, f, top=150, bottom=590)
    _trend_lines(draw, f, top=640, bottom=HEIGHT - 40)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _category_bars(draw: ImageDraw.ImageDraw, f: DigestFigures, *, top: int, bottom: int) -> None:
    draw.text((40, top), "当日新增 · 按类别", font=font(30), fill=INK)
    rows = sorted(f.by_category.items(), key=lambda kv: (-kv[1], kv[0]))
    if not rows:
        draw.text((40, top + 70), "当日无新增工单", font=font(26), fill=INK)
        return
    area_top = top + 60
    row_h = min(52, (bottom - area_top) // len(rows))
    left, right = 210, WIDTH - 110
    peak = max(n for _, n in rows)
    label_font, value_font = font(min(26, row_h - 10)), font(min(24, row_h - 12))
    for i, (category, n) in enumerate(rows):
        y = area_top + i * row_h
        draw.text((40, y + 4), category_label(category), font=label_font, fill=INK)
        length = round((right - left) * n / peak)
        draw.rectangle((left, y + 6, left + max(length, 2), y + row_h - 8), fill=BAR)
        draw.text((left + length + 10, y + 6), str(n), font=value_font, fill=INK)


def _trend_lines(draw: ImageDraw.ImageDraw, f: DigestFigures, *, top: int, bottom: int) -> None:
    draw.text((40, top), "近7日趋势", font=font(30), fill=INK)
    legend_x = 300
    for label, colour in (("新增", NEW_LINE), ("办结", RESOLVED_LINE)):
        draw.line((legend_x, top + 22, legend_x + 40, top + 22), fill=colour, width=5)
        draw.text((legend_x + 50, top + 4), label, font=font(26), fill=INK)
        legend_x += 160
    if not f.trend:
        return
    left, right = 100, WIDTH - 60
    plot_top, plot_bottom = top + 80, bottom - 50
    highest = max(max(d.new, d.resolved) for d in f.trend)
    peak = max(4, -(-highest // 4) * 4)  # four whole-number steps
    small = font(22)
    for k in range(5):
        value = peak * k / 4
        y = plot_bottom - (plot_bottom - plot_top) * k / 4
        draw.line((left, y, right, y), fill=GRID, width=1)
        draw.text((40, y - 14), f"{value:g}", font=small, fill=INK)
    step = (right - left) / max(1, len(f.trend) - 1)

    def point(i: int, value: int) -> tuple[float, float]:
        return left + i * step, plot_bottom - (plot_bottom - plot_top) * value / peak

    for attr, colour in (("new", NEW_LINE), ("resolved", RESOLVED_LINE)):
        points = [point(i, getattr(d, attr)) for i, d in enumerate(f.trend)]
        draw.line(points, fill=colour, width=5, joint="curve")
        for x, y in points:
            draw.ellipse((x - 7, y - 7, x + 7, y + 7), fill=colour)
    for i, d in enumerate(f.trend):
        x, _ = point(i, 0)
        draw.text((x - 30, plot_bottom + 12), d.day[5:], font=small, fill=INK)
