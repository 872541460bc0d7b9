"""The one-decode JPEG path: the strict check's libjpeg decode is the picture.

For RGB and grey JPEGs :func:`photocheck.load.load_image` takes the pixels from the strict
decode of :mod:`photocheck.integrity` instead of decoding the file a second time with Pillow.
These tests hold that path to Pillow's decode pixel for pixel (the tolerance measured on every
JPEG of samples/, data/portraits and data/real was 0), check that it is really taken (Pillow's
JPEG pixel decoder is made to fail), and that what it does not handle still goes to Pillow.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps, JpegImagePlugin

from photocheck.errors import ErrorCode, PhotocheckError
from photocheck.load import load_image

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
CLEAR = ROOT / "samples" / "grace_hopper_clear.jpg"
#: Largest absolute difference (0..255) allowed between the one-decode path and Pillow's decode.
PIXEL_TOLERANCE = 0
WORKING_MIN_SIDES = (60, 100, 200, 10_000)  # reductions 8, 4, 2 and 1 for a 600x800 picture


def load(data: bytes, working_min_side: int):
    return load_image(data, max_pixels=50_000_000, working_min_side=working_min_side,
                      working_max_side=100_000)


def pillow_decode(data: bytes, working_min_side: int) -> np.ndarray:
    """What the loader decoded before the one-decode path: Pillow with draft, then EXIF."""
    with Image.open(io.BytesIO(data)) as img:
        img.draft("RGB", (working_min_side, working_min_side))
        return np.asarray(ImageOps.exif_transpose(img).convert("RGB"))


def encode(img: Image.Image, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **params)
    return buf.getvalue()


with Image.open(CLEAR) as _clear:
    CLEAR_RGB = _clear.convert("RGB")  # decoded before any test forbids Pillow's JPEG decoder


def photo(width: int = 600, height: int = 800) -> Image.Image:
    return CLEAR_RGB.resize((width, height), Image.Resampling.BICUBIC)


def forbid_pillow_jpeg_decode(monkeypatch) -> None:
    """Any pixel decode by Pillow's JPEG plugin raises: only the one-decode path can succeed."""
    def refuse(self, *args, **kwargs):
        raise AssertionError("Pillow decoded the JPEG's pixels")
    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", refuse)


@pytest.fixture
def pillow_jpeg_decoder_fails(monkeypatch):
    forbid_pillow_jpeg_decode(monkeypatch)


VARIANTS = {
    "baseline_420": dict(quality=90),
    "baseline_444": dict(quality=90, subsampling=0),
    "baseline_422": dict(quality=90, subsampling=1),
    "progressive": dict(quality=80, progressive=True),
    "progressive_422_optimized": dict(quality=60, progressive=True, subsampling=1,
                                      optimize=True),
}


@pytest.mark.parametrize("working_min_side", WORKING_MIN_SIDES)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_one_decode_equals_pillow(variant, working_min_side):
    data = encode(photo(601, 803), **VARIANTS[variant])  # odd sides: rounding of scaled sizes
    expected = pillow_decode(data, working_min_side)
    loaded = load(data, working_min_side)
    assert loaded.rgb.shape == expected.shape
    assert np.abs(loaded.rgb.astype(int) - expected).max() <= PIXEL_TOLERANCE
    assert loaded.scale == pytest.approx(expected.shape[1] / 601)


@pytest.mark.parametrize("working_min_side", (100, 10_000))
def test_grey_jpeg_takes_the_one_decode_path(pillow_jpeg_decoder_fails, working_min_side):
    data = encode(photo().convert("L"), quality=90)
    loaded = load(data, working_min_side)
    assert loaded.mode == "L"
    assert (loaded.rgb[..., 0] == loaded.rgb[..., 2]).all()


def test_rgb_jpeg_takes_the_one_decode_path(pillow_jpeg_decoder_fails):
    loaded = load(encode(photo(), quality=90), 200)
    assert loaded.rgb.shape == (400, 300, 3)


def test_exif_rotated_jpeg_comes_out_upright(pillow_jpeg_decoder_fails):
    stored = Image.new("RGB", (80, 60), (20, 40, 200))
    stored.paste((220, 20, 30), (0, 0, 40, 30))  # red top-left quadrant as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed rotated 90 degrees clockwise
    loaded = load(encode(stored, quality=95, exif=exif), 60)
    assert loaded.rgb.shape == (80, 60, 3)
    assert loaded.original_size == (60, 80)
    top_right = loaded.rgb[:40, 30:].reshape(-1, 3).mean(axis=0)
    assert np.abs(top_right - (220, 20, 30)).max() < 12


def test_cmyk_jpeg_is_decoded_by_pillow():
    data = encode(photo().convert("CMYK"), quality=90)
    with Image.open(io.BytesIO(data)) as img:
        expected = np.asarray(img.convert("RGB"))
    loaded = load(data, 10_000)
    assert loaded.mode == "CMYK"
    np.testing.assert_array_equal(loaded.rgb, expected)


def test_cmyk_jpeg_never_reaches_the_one_decode_path(pillow_jpeg_decoder_fails):
    error = pytest.raises(PhotocheckError, load, encode(photo().convert("CMYK")), 200).value
    assert "Pillow decoded" in error.message


def test_padding_before_the_end_marker_is_decoded_by_pillow():
    data = encode(photo(), quality=90)
    padded = data[:-2] + b"\x00" * 5 + data[-2:]  # tolerated: zero padding after the scan
    np.testing.assert_array_equal(load(padded, 200).rgb, pillow_decode(data, 200))


def test_stray_bytes_between_header_segments_still_take_the_one_decode_path(monkeypatch):
    data = encode(photo(), quality=90)
    quantisation = data.index(b"\xff\xdb")
    quirky = data[:quantisation] + b"\x00\x12\x34" + data[quantisation:]  # cut out, tolerated
    expected = pillow_decode(quirky, 200)
    forbid_pillow_jpeg_decode(monkeypatch)
    np.testing.assert_array_equal(load(quirky, 200).rgb, expected)


def test_truncated_jpeg_is_still_truncated():
    data = encode(photo(), quality=90)
    cut = data[: len(data) // 2] + b"\xff\xd9"
    error = pytest.raises(PhotocheckError, load, cut, 200).value
    assert error.code is ErrorCode.TRUNCATED


def real_jpegs() -> list[Path]:
    found = sorted(p for p in (ROOT / "samples").glob("*.jpg"))
    for folder in ("portraits", "real"):
        found += sorted((SHARED / folder).rglob("*.jpg"))[::10]
    return found


@pytest.mark.parametrize("path", real_jpegs(), ids=lambda p: p.name)
def test_real_photos_decode_as_pillow_does(path):
    data = path.read_bytes()
    expected = pillow_decode(data, 300)
    loaded = load(data, 300)
    assert np.abs(loaded.rgb.astype(int) - expected).max() <= PIXEL_TOLERANCE
