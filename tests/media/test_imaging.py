"""What the pipeline keeps of a photo: upright, bounded pixels and nothing else."""

import io
from datetime import datetime

import pytest
from PIL import Image

from app.media.imaging import Limits, RefusedImage, hamming, process
from tests.images import encoded, jpeg, png_claiming, scene

SHANGHAI = (31.19225, 121.432625)


def _opened(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_exif_gps_and_capture_time_are_read_then_absent_from_the_stored_file():
    original = jpeg(scene(1), gps=SHANGHAI, taken=datetime(2026, 11, 20, 9, 30))
    assert b"Exif" in original and b"TestCam" in original

    p = process(original)

    assert p.lat == pytest.approx(SHANGHAI[0], abs=1e-5)
    assert p.lng == pytest.approx(SHANGHAI[1], abs=1e-5)
    assert p.taken_at == datetime(2026, 11, 20, 9, 30)
    for kept in (p.jpeg, p.thumb):
        img = _opened(kept)
        assert img.format == "JPEG"
        assert dict(img.getexif()) == {}
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(img.info)
        assert b"Exif" not in kept and b"TestCam" not in kept


def test_southern_and_western_coordinates_are_negative():
    p = process(jpeg(scene(2), gps=(-33.8688, -70.6693), taken=datetime(2026, 1, 1)))
    assert (round(p.lat, 4), round(p.lng, 4)) == (-33.8688, -70.6693)


def test_a_photo_without_exif_has_no_position_or_time():
    p = process(jpeg(scene(3)))
    assert (p.lat, p.lng, p.taken_at) == (None, None, None)


def _upright_marker() -> Image.Image:
    """Portrait 300x400: red top half, blue bottom half."""
    img = Image.new("RGB", (300, 400), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 300, 200))
    return img


@pytest.mark.parametrize(
    ("orientation", "stored_as"),
    [
        (6, Image.Transpose.ROTATE_90),  # phone held upright, sensor landscape
        (8, Image.Transpose.ROTATE_270),
        (3, Image.Transpose.ROTATE_180),
    ],
)
def test_rotated_photos_come_out_upright(orientation, stored_as):
    sideways = _upright_marker().transpose(stored_as)
    p = process(jpeg(sideways, orientation=orientation))
    img = _opened(p.jpeg)
    assert img.size == (300, 400)
    top, bottom = img.getpixel((150, 50)), img.getpixel((150, 350))
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom


def test_long_side_is_bounded_and_a_thumbnail_is_made():
    p = process(jpeg(scene(4, (5000, 2500))))
    assert max(p.width, p.height) <= 2048 and max(p.width, p.height) >= 2048 * 0.75
    assert p.width / p.height == pytest.approx(2.0, rel=0.01)
    assert max(_opened(p.thumb).size) == 320


def test_naive_full_decode_gives_the_same_picture_shape():
    data = jpeg(scene(5, (4000, 3000)))
    fast, naive = process(data), process(data, draft=False)
    assert fast.width / fast.height == pytest.approx(naive.width / naive.height, rel=0.01)
    assert hamming(fast.dhash, naive.dhash) <= 4


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_accepted(fmt):
    img = scene(6).convert("RGBA")
    p = process(encoded(img, fmt))
    assert (p.source_format, _opened(p.jpeg).mode) == (fmt, "RGB")


def test_heic_is_accepted_when_the_plugin_can_encode_it():
    pillow_heif = pytest.importorskip("pillow_heif")
    try:
        data = encoded(scene(7), "HEIF")
    except (OSError, KeyError, ValueError) as exc:  # a build without an encoder
        pytest.skip(f"cannot write HEIC here: {exc}")
    assert pillow_heif is not None
    assert process(data).source_format == "HEIF"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "not_image"),  # x.pdf renamed x.jpg
        (b"just some text, named photo.jpg", "not_image"),
        (jpeg(scene(8))[:400], "broken"),  # cut off mid-transfer
        (encoded(scene(8), "GIF"), "format"),
        (encoded(scene(8), "BMP"), "format"),
        (png_claiming(40_000, 40_000), "too_many_pixels"),  # beyond Pillow's own bomb guard
        (png_claiming(8_000, 8_000), "too_many_pixels"),  # beyond our 50 MP cap
    ],
)
def test_non_images_bombs_and_other_formats_are_refused_cleanly(data, reason):
    with pytest.raises(RefusedImage) as refused:
        process(data)
    assert refused.value.reason == reason


def test_oversized_files_are_refused_before_decoding():
    data = jpeg(scene(9))
    with pytest.raises(RefusedImage) as refused:
        process(data, Limits(max_bytes=len(data) - 1))
    assert refused.value.reason == "too_large"


def test_near_identical_photos_hash_close_and_different_scenes_far():
    base = scene(10, (1600, 1200))
    same = process(jpeg(base, quality=92)).dhash
    recompressed = process(jpeg(base.resize((1000, 750)), quality=40)).dhash
    brighter = process(jpeg(base.point(lambda v: min(255, v + 12)), quality=70)).dhash
    assert hamming(same, recompressed) <= 6
    assert hamming(same, brighter) <= 6
    for seed in (11, 12, 13, 14):
        assert hamming(same, process(jpeg(scene(seed, (1600, 1200)))).dhash) > 12


# Issue 15 item 8: photo memory is bounded by what is stored, not by the source.


def test_photo_memory_is_bounded_by_what_is_stored_for_a_large_transparent_png(tmp_path):
    from bench.photo_memory import measure, problems, transparent_png

    side = 5000  # 95 MiB decoded whole; the old path held about four such copies
    path = tmp_path / "transparent.png"
    path.write_bytes(transparent_png(side))
    result = measure(path)
    assert problems(result) == ""
    decoded_kb = side * side * 4 / 1024
    assert result["peak_kb"] - result["base_kb"] < decoded_kb  # never decoded whole


def test_photo_memory_bounded_reduction_matches_reducing_the_whole_picture():
    # Strips must not show: the stored picture equals flattening, then reducing the whole.
    size = (4100, 1700)
    ramp, rings = Image.linear_gradient("L").resize(size), Image.radial_gradient("L").resize(size)
    img = Image.merge("RGBA", (ramp, rings, ramp.transpose(Image.Transpose.ROTATE_180), rings))
    white = Image.new("RGB", img.size, (255, 255, 255))
    white.paste(img, mask=img.getchannel("A"))
    expected = white.reduce(2).resize((2048, 849), Image.Resampling.BILINEAR, reducing_gap=2.0)
    p = process(encoded(img, "PNG"))
    assert (p.width, p.height) == (2048, 849)
    got = _opened(p.jpeg)
    again = Image.open(io.BytesIO(_jpeg_of(expected)))
    assert got.tobytes() == again.tobytes()


def _jpeg_of(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=82)
    return out.getvalue()


def test_photo_memory_bounded_path_still_turns_a_png_upright():
    sideways = _upright_marker().transpose(Image.Transpose.ROTATE_90).convert("RGBA")
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    sideways.resize((4200, 3000)).save(out, "PNG", exif=exif.tobytes())
    img = _opened(process(out.getvalue()).jpeg)
    assert img.size == (1463, 2048)  # reduced by 2 to 2100x1500, bounded, turned a quarter
    top, bottom = img.getpixel((730, 250)), img.getpixel((730, 1800))
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom
