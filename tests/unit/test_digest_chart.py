"""The digest chart is a real PNG whose Chinese labels render as glyphs, not tofu boxes."""

import io

from PIL import Image, ImageChops, ImageDraw

from app.domain.digest import DayTrend, DigestFigures
from app.services.digest.digest_chart import HEIGHT, WIDTH, font, font_file, render_chart

NOT_IN_FONT = "\u0378"  # an unassigned code point: every font draws its .notdef box


def _glyph(text: str) -> Image.Image:
    image = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(image).text((4, 0), text, font=font(48), fill=255)
    return image


def test_the_font_comes_from_the_installed_package_not_the_machine():
    path = font_file()
    assert path.is_file() and "noto_cjk_sans_otc" in str(path)
    assert font(20).getname()[0] == "Noto Sans CJK SC"


def test_chinese_glyphs_are_drawn_not_tofu():
    tofu = _glyph(NOT_IN_FONT)
    assert tofu.getbbox() is not None  # the .notdef box itself is visible
    for ch in "积水井盖办结新增":
        glyph = _glyph(ch)
        assert glyph.getbbox() is not None, ch  # something was drawn
        assert ImageChops.difference(glyph, tofu).getbbox() is not None, ch
    assert ImageChops.difference(_glyph("积"), _glyph("水")).getbbox() is not None


def test_the_chart_is_a_png_of_the_expected_size_with_content():
    f = DigestFigures(
        area_code="310199",
        area_name="示范区",
        day="2026-11-20",
        generated_at="",
        new=6,
        by_category={"flooding": 3, "bulky_waste": 2, "other": 1},
        trend=[DayTrend(f"2026-11-{d}", d % 5, d % 3) for d in range(14, 21)],
    )
    data = render_chart(f)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data))
    assert image.size == (WIDTH, HEIGHT)
    colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert len(colours) > 50  # text anti-aliasing, bars and lines, not a blank page
    # The bar of the largest category is drawn in the bar colour.
    assert any(c == (66, 133, 244) for _, c in colours)


def test_an_empty_day_still_draws():
    f = DigestFigures(area_code="x", area_name="枫苑社区", day="2026-11-20", generated_at="")
    image = Image.open(io.BytesIO(render_chart(f)))
    assert image.size == (WIDTH, HEIGHT)
