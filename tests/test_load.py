"""Tests for photocheck.load: every input is generated here (tmp_path, in-memory Pillow images)."""

from __future__ import annotations

import io
import os
import struct
import sys
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from photocheck.errors import ErrorCode, PhotocheckError
from photocheck.load import MIN_SIDE, LoadedImage, load_image

LIMITS = dict(max_pixels=50_000_000, working_min_side=800, working_max_side=4096)

RED = (220, 20, 30)
BLUE = (20, 40, 200)


def load(source, **overrides) -> LoadedImage:
    return load_image(source, **{**LIMITS, **overrides})


def encode(img: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def error_of(source, **overrides) -> PhotocheckError:
    with pytest.raises(PhotocheckError) as info:
        load(source, **overrides)
    return info.value


def assert_colour(pixel_or_region: np.ndarray, expected, tol: float = 6.0) -> None:
    mean = np.asarray(pixel_or_region, dtype=float).reshape(-1, 3).mean(axis=0)
    assert np.all(np.abs(mean - np.asarray(expected, dtype=float)) <= tol), (mean, expected)


def assert_well_formed(loaded: LoadedImage) -> None:
    rgb = loaded.rgb
    assert isinstance(rgb, np.ndarray)
    assert rgb.dtype == np.uint8
    assert rgb.ndim == 3 and rgb.shape[2] == 3
    assert rgb.flags.c_contiguous
    assert loaded.scale == pytest.approx(rgb.shape[1] / loaded.original_size[0])


def noisy_rgb(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def quadrant_image(width: int = 80, height: int = 60) -> Image.Image:
    """Blue image with a red top-left quadrant: asymmetric under every flip/rotation."""
    arr = np.empty((height, width, 3), dtype=np.uint8)
    arr[:] = BLUE
    arr[: height // 2, : width // 2] = RED
    return Image.fromarray(arr)


def red_quadrant(rgb: np.ndarray) -> str:
    """Which quadrant of ``rgb`` is red: 'tl', 'tr', 'bl' or 'br'."""
    h, w = rgb.shape[:2]
    quads = {
        "tl": rgb[: h // 2, : w // 2],
        "tr": rgb[: h // 2, w // 2 :],
        "bl": rgb[h // 2 :, : w // 2],
        "br": rgb[h // 2 :, w // 2 :],
    }
    redness = {name: float(q[..., 0].mean()) - float(q[..., 2].mean()) for name, q in quads.items()}
    best = max(redness, key=redness.get)
    assert redness[best] > 100, redness  # exactly one clearly red quadrant
    assert sorted(redness.values())[-2] < -100, redness
    return best


def exif_with_orientation(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


# --------------------------------------------------------------------------------------------
# Formats


@pytest.mark.parametrize(
    ("fmt", "suffix", "tol"),
    [
        ("JPEG", ".jpg", 6),
        ("PNG", ".png", 0),
        ("WEBP", ".webp", 6),
        ("BMP", ".bmp", 0),
        ("TIFF", ".tif", 0),
        ("GIF", ".gif", 0),
    ],
)
def test_each_format_round_trips_to_rgb(tmp_path, fmt, suffix, tol):
    img = Image.new("RGB", (64, 48), (200, 120, 40))
    params = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    path = write(tmp_path, "photo" + suffix, encode(img, fmt, **params))

    loaded = load(path)

    assert_well_formed(loaded)
    assert loaded.rgb.shape == (48, 64, 3)
    assert loaded.original_size == (64, 48)
    assert loaded.scale == 1.0
    assert loaded.format == fmt
    assert_colour(loaded.rgb, (200, 120, 40), tol=tol)


def test_str_path_and_pathlike_give_the_same_pixels(tmp_path):
    path = write(tmp_path, "a.png", encode(noisy_rgb(50, 40), "PNG"))
    assert np.array_equal(load(str(path)).rgb, load(path).rgb)


def test_png_pixels_are_exact(tmp_path):
    img = noisy_rgb(70, 50)
    loaded = load(write(tmp_path, "n.png", encode(img, "PNG")))
    assert np.array_equal(loaded.rgb, np.asarray(img))


def test_animated_gif_uses_first_frame():
    frames = [Image.new("RGB", (40, 40), RED), Image.new("RGB", (40, 40), BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    loaded = load(data)
    assert_colour(loaded.rgb, RED, tol=12)


def test_multi_picture_jpeg_mpo_uses_first_frame_and_draft():
    frames = [Image.new("RGB", (2000, 1600), RED), Image.new("RGB", (2000, 1600), BLUE)]
    data = encode(frames[0], "MPO", save_all=True, append_images=frames[1:])
    loaded = load(data, working_min_side=400)
    assert loaded.format == "MPO"
    assert loaded.original_size == (2000, 1600)
    assert loaded.rgb.shape == (400, 500, 3)  # decoded at 1/4 directly
    assert loaded.scale == pytest.approx(0.25)
    assert_colour(loaded.rgb, RED, tol=8)


# --------------------------------------------------------------------------------------------
# EXIF orientation

# Where the stored top-left quadrant ends up once the orientation is applied.
EXPECTED_QUADRANT = {1: "tl", 2: "tr", 3: "br", 4: "bl", 5: "tl", 6: "tr", 7: "br", 8: "bl"}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation):
    exif = exif_with_orientation(orientation)
    data = encode(quadrant_image(80, 60), "JPEG", quality=95, exif=exif)
    loaded = load(data)

    assert_well_formed(loaded)
    if orientation >= 5:
        assert loaded.rgb.shape == (80, 60, 3)
        assert loaded.original_size == (60, 80)
    else:
        assert loaded.rgb.shape == (60, 80, 3)
        assert loaded.original_size == (80, 60)
    assert red_quadrant(loaded.rgb) == EXPECTED_QUADRANT[orientation]


def test_orientation_on_png_and_pil_input():
    img = quadrant_image(80, 60)
    png = encode(img, "PNG", exif=exif_with_orientation(6))
    loaded = load(png)
    assert loaded.rgb.shape == (80, 60, 3)
    assert red_quadrant(loaded.rgb) == "tr"

    opened = Image.open(io.BytesIO(encode(img, "JPEG", quality=95, exif=exif_with_orientation(8))))
    loaded = load(opened)
    assert loaded.original_size == (60, 80)
    assert red_quadrant(loaded.rgb) == "bl"
    assert opened.size == (80, 60)  # the caller's image was not rotated in place


def test_invalid_orientation_value_is_ignored():
    data = encode(quadrant_image(80, 60), "JPEG", quality=95, exif=exif_with_orientation(42))
    loaded = load(data)
    assert loaded.rgb.shape == (60, 80, 3)
    assert red_quadrant(loaded.rgb) == "tl"


# --------------------------------------------------------------------------------------------
# Colour modes


def test_mode_L():
    loaded = load(encode(Image.new("L", (40, 40), 100), "PNG"))
    assert loaded.mode == "L"
    assert loaded.rgb.shape == (40, 40, 3)
    assert_colour(loaded.rgb, (100, 100, 100), tol=0)


def test_mode_LA_composites_over_white():
    img = Image.new("LA", (40, 40), (50, 255))
    img.paste((50, 0), (0, 0, 20, 40))  # left half fully transparent
    loaded = load(encode(img, "PNG"))
    assert loaded.mode == "LA"
    assert_colour(loaded.rgb[:, :20], (255, 255, 255), tol=0)
    assert_colour(loaded.rgb[:, 20:], (50, 50, 50), tol=0)


def test_mode_P():
    img = quadrant_image(64, 64).quantize(colors=4)
    loaded = load(encode(img, "PNG"))
    assert loaded.mode == "P"
    assert red_quadrant(loaded.rgb) == "tl"
    assert_colour(loaded.rgb[:32, :32], RED, tol=2)


def test_mode_P_with_transparency_composites_over_white():
    img = Image.new("P", (40, 40), 1)
    img.putpalette([0, 0, 0] + list(RED) + [0] * (254 * 3))
    img.paste(0, (0, 0, 40, 20))  # top half uses palette entry 0, declared transparent
    loaded = load(encode(img, "PNG", transparency=0))
    assert loaded.mode == "P"
    assert_colour(loaded.rgb[:20], (255, 255, 255), tol=0)
    assert_colour(loaded.rgb[20:], RED, tol=0)


def test_L_with_colour_key_transparency_composites_over_white():
    img = Image.new("L", (40, 40), 7)
    img.paste(90, (0, 20, 40, 40))
    loaded = load(encode(img, "PNG", transparency=7))
    assert_colour(loaded.rgb[:20], (255, 255, 255), tol=0)
    assert_colour(loaded.rgb[20:], (90, 90, 90), tol=0)


def test_mode_1():
    img = Image.new("1", (40, 40), 0)
    img.paste(1, (20, 0, 40, 40))
    loaded = load(encode(img, "PNG"))
    assert loaded.mode == "1"
    assert_colour(loaded.rgb[:, :20], (0, 0, 0), tol=0)
    assert_colour(loaded.rgb[:, 20:], (255, 255, 255), tol=0)


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_mode_CMYK(fmt):
    cmyk = Image.new("RGB", (40, 40), (200, 100, 50)).convert("CMYK")
    loaded = load(encode(cmyk, fmt))
    assert loaded.mode == "CMYK"
    assert_colour(loaded.rgb, (200, 100, 50), tol=6)


def test_mode_I16_png_scales_full_range():
    values = np.zeros((40, 48), dtype=np.uint16)
    values[:, :16] = 65535
    values[:, 16:32] = 32768
    data = encode(Image.fromarray(values), "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"  # really a 16-bit file

    loaded = load(data)

    assert loaded.mode == "I;16"
    assert np.all(loaded.rgb[:, :16] == 255)
    assert np.all(loaded.rgb[:, 16:32] == 128)
    assert np.all(loaded.rgb[:, 32:] == 0)


def test_mode_I16_tiff_scales_full_range():
    values = np.full((40, 40), 32768, dtype=np.uint16)
    loaded = load(encode(Image.fromarray(values), "TIFF"))
    assert loaded.mode.startswith("I;16")
    assert np.all(loaded.rgb == 128)


def test_mode_RGBA_transparent_pixels_become_white():
    arr = np.zeros((40, 40, 4), dtype=np.uint8)
    arr[..., :3] = RED
    arr[:, :10, 3] = 0  # transparent
    arr[:, 10:20, 3] = 128  # half transparent
    arr[:, 20:, 3] = 255  # opaque
    loaded = load(encode(Image.fromarray(arr), "PNG"))
    assert loaded.mode == "RGBA"
    assert_colour(loaded.rgb[:, :10], (255, 255, 255), tol=0)
    assert_colour(loaded.rgb[:, 20:], RED, tol=0)
    half = loaded.rgb[:, 10:20].reshape(-1, 3).mean(axis=0)
    assert np.allclose(half, [(c + 255) / 2 for c in RED], atol=2)


@pytest.mark.parametrize("mode", ["YCbCr", "LAB", "HSV", "RGBX", "RGBa", "PA", "La"])
def test_other_pil_modes_convert_to_rgb(mode):
    base = Image.new("RGBA", (40, 40), (200, 100, 50, 255))
    if mode == "PA":
        img = base.convert("RGB").convert("P").convert("PA")
    elif mode == "La":
        img = base.convert("LA").convert("La")
    else:
        img = base.convert(mode)
    assert img.mode == mode
    loaded = load(img)
    assert loaded.mode == mode
    expected = (129, 129, 129) if mode == "La" else (200, 100, 50)
    assert_colour(loaded.rgb, expected, tol=6)


def test_pil_mode_I_is_read_as_16_bit():
    img = Image.fromarray(np.full((40, 40), 65535, dtype=np.int32))
    img.paste(32768, (0, 0, 40, 20))
    assert img.mode == "I"
    loaded = load(img)
    assert np.all(loaded.rgb[:20] == 128)
    assert np.all(loaded.rgb[20:] == 255)


def test_pil_mode_F_follows_pillow_0_to_255_convention():
    values = np.full((40, 40), 100.4, dtype=np.float32)
    values[:20] = 300.0  # clipped
    img = Image.fromarray(values)
    assert img.mode == "F"
    loaded = load(img)
    assert np.all(loaded.rgb[:20] == 255)
    assert np.all(loaded.rgb[20:] == 100)


# --------------------------------------------------------------------------------------------
# Paths and bytes that cannot be read


def test_missing_path(tmp_path):
    err = error_of(tmp_path / "nope.jpg")
    assert err.code is ErrorCode.FILE_NOT_FOUND
    assert "nope.jpg" in err.message


def test_path_below_a_file_is_not_found(tmp_path):
    file = write(tmp_path, "a.png", encode(noisy_rgb(40, 40), "PNG"))
    assert error_of(file / "child.png").code is ErrorCode.FILE_NOT_FOUND


def test_directory(tmp_path):
    err = error_of(tmp_path)
    assert err.code is ErrorCode.UNREADABLE
    assert "directory" in err.message


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root can read anything")
def test_permission_denied(tmp_path):
    path = write(tmp_path, "secret.png", encode(noisy_rgb(40, 40), "PNG"))
    path.chmod(0)
    try:
        err = error_of(path)
    finally:
        path.chmod(0o644)
    assert err.code is ErrorCode.UNREADABLE
    assert "permission" in err.message


@pytest.mark.parametrize(
    ("exc", "word"),
    [
        (PermissionError(13, "Permission denied"), "permission"),
        (OSError(5, "Input/output error"), "Input/output"),
    ],
)
def test_os_errors_on_open_are_unreadable(tmp_path, monkeypatch, exc, word):
    # Works even as root (where chmod 0 does not stop reads): fail the open() itself.
    import photocheck.load as load_module

    path = write(tmp_path, "a.png", encode(noisy_rgb(40, 40), "PNG"))

    def failing_open(*args, **kwargs):
        raise exc

    monkeypatch.setattr(load_module, "open", failing_open, raising=False)
    err = error_of(path)
    assert err.code is ErrorCode.UNREADABLE
    assert word in err.message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_unreadable_instead_of_blocking(tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    assert error_of(fifo).code is ErrorCode.UNREADABLE


def test_path_with_nul_byte_is_invalid_argument():
    assert error_of("bad\0name.png").code is ErrorCode.INVALID_ARGUMENT


def test_empty_file(tmp_path):
    err = error_of(write(tmp_path, "empty.jpg", b""))
    assert err.code is ErrorCode.EMPTY


@pytest.mark.parametrize("empty", [b"", bytearray(), memoryview(b"")])
def test_empty_bytes(empty):
    assert error_of(empty).code is ErrorCode.EMPTY


def test_text_file(tmp_path):
    err = error_of(write(tmp_path, "notes.jpg", b"this is not an image\n" * 20))
    assert err.code is ErrorCode.NOT_AN_IMAGE
    assert "not an image" in err.message


def test_zip_and_random_bytes_are_not_images():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "hello")
    assert error_of(buf.getvalue()).code is ErrorCode.NOT_AN_IMAGE
    noise = np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    assert error_of(b"\x00" + noise).code is ErrorCode.NOT_AN_IMAGE


@pytest.mark.parametrize("fmt", ["PPM", "ICO"])
def test_formats_outside_the_supported_list_are_refused(fmt):
    data = encode(noisy_rgb(48, 48), fmt)
    assert Image.open(io.BytesIO(data)).format == fmt  # Pillow itself could open it
    err = error_of(data)
    assert err.code is ErrorCode.NOT_AN_IMAGE
    assert "JPEG" in err.message  # tells the user what is supported


def test_heic_gets_a_specific_message():
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    err = error_of(heic)
    assert err.code is ErrorCode.NOT_AN_IMAGE
    assert "HEIC" in err.message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF"])
def test_first_half_of_a_file_is_truncated(tmp_path, fmt):
    data = encode(noisy_rgb(200, 150), fmt)
    path = write(tmp_path, "half", data[: len(data) // 2])
    err = error_of(path)
    assert err.code is ErrorCode.TRUNCATED, err
    assert "truncated" in err.message


def test_truncated_jpeg_bytes_end_just_before_the_end():
    data = encode(noisy_rgb(200, 150), "JPEG")
    assert error_of(data[:-200]).code is ErrorCode.TRUNCATED


def test_jpeg_with_garbage_over_entropy_data_is_corrupt():
    # Pillow: libjpeg rejects a run of 0xFF bytes -> OSError("broken data stream ...").
    data = bytearray(encode(noisy_rgb(400, 300), "JPEG"))
    middle = len(data) // 2
    data[middle : middle + 200] = b"\xff" * 200
    err = error_of(bytes(data))
    assert err.code is ErrorCode.CORRUPT
    assert "damaged" in err.message


@pytest.mark.parametrize("seed", range(5))
def test_jpeg_with_random_garbage_never_raises_anything_else(seed):
    # libjpeg often recovers from random garbage (it only warns), so decoding may succeed;
    # what must never happen is a non-Photocheck exception or another error code.
    rng = np.random.default_rng(seed)
    data = bytearray(encode(noisy_rgb(400, 300, seed), "JPEG"))
    middle = len(data) // 2
    data[middle : middle + 300] = rng.integers(0, 256, 300, dtype=np.uint8).tobytes()
    try:
        loaded = load(bytes(data))
    except PhotocheckError as err:
        assert err.code in (ErrorCode.CORRUPT, ErrorCode.TRUNCATED)
    else:
        assert loaded.rgb.shape == (300, 400, 3)


def test_png_with_zeroed_compressed_data_is_corrupt():
    data = bytearray(encode(noisy_rgb(200, 150), "PNG"))
    middle = len(data) // 2
    data[middle : middle + 200] = b"\x00" * 200
    assert error_of(bytes(data)).code is ErrorCode.CORRUPT


def test_png_with_bad_header_crc_is_corrupt():
    data = bytearray(encode(noisy_rgb(64, 64), "PNG"))
    data[29] ^= 0xFF  # inside the IHDR CRC
    assert error_of(bytes(data)).code is ErrorCode.CORRUPT


def test_cut_inside_the_header_is_reported_as_damaged_not_as_not_an_image():
    data = encode(noisy_rgb(200, 150), "JPEG")
    err = error_of(data[:20])
    assert err.code is ErrorCode.CORRUPT
    assert "JPEG" in err.message


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_error_messages_do_not_echo_file_bytes():
    data = b"II*\x00" + b"\xfe\xed\xfa\xce" * 8  # a TIFF signature followed by nonsense
    err = error_of(data)
    assert err.code in (ErrorCode.CORRUPT, ErrorCode.TRUNCATED)
    assert "\\x" not in err.message and "b'" not in err.message


# --------------------------------------------------------------------------------------------
# Size guards


def png_header_only(width: int, height: int) -> bytes:
    """A syntactically valid PNG start claiming ``width`` x ``height`` with almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def test_decompression_bomb_is_refused_from_the_header(monkeypatch):
    data = encode(Image.new("1", (10_000, 10_000)), "PNG")
    assert len(data) < 100_000  # tiny on disk, 100 Mpx decoded

    decoded = []
    original_load = ImageFile.ImageFile.load

    def spy_load(self):
        decoded.append(self.size)
        return original_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy_load)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        err = error_of(data, max_pixels=10_000_000)

    assert err.code is ErrorCode.TOO_LARGE
    assert "10000x10000" in err.message
    assert decoded == []  # refused before any pixel was decoded
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


def test_header_claiming_a_huge_size_is_too_large_without_decoding():
    before = Image.MAX_IMAGE_PIXELS
    err = error_of(png_header_only(30_000, 30_000), max_pixels=50_000_000)
    assert err.code is ErrorCode.TOO_LARGE
    assert Image.MAX_IMAGE_PIXELS == before  # global Pillow limit untouched


def test_pillows_own_bomb_error_is_too_large_even_with_a_generous_limit():
    # 900 Mpx is beyond 2 x Image.MAX_IMAGE_PIXELS, so Pillow itself refuses it on open.
    err = error_of(png_header_only(30_000, 30_000), max_pixels=10**12)
    assert err.code is ErrorCode.TOO_LARGE


@pytest.mark.parametrize("size", [(MIN_SIDE - 1, 100), (100, MIN_SIDE - 1), (8, 8)])
def test_tiny_image_is_too_small(size):
    err = error_of(encode(Image.new("RGB", size, RED), "PNG"))
    assert err.code is ErrorCode.TOO_SMALL


def test_minimum_size_is_accepted():
    loaded = load(encode(Image.new("RGB", (MIN_SIDE, MIN_SIDE), RED), "PNG"))
    assert loaded.rgb.shape == (MIN_SIDE, MIN_SIDE, 3)


# --------------------------------------------------------------------------------------------
# Reduction: JPEG draft and the working_max_side cap


@pytest.fixture(scope="module")
def big_jpeg() -> bytes:
    return encode(quadrant_image(4000, 3000), "JPEG", quality=90)


def test_jpeg_draft_decodes_reduced(big_jpeg):
    loaded = load(big_jpeg, working_min_side=800, working_max_side=10_000)
    h, w = loaded.rgb.shape[:2]
    assert 800 <= min(h, w) < 3000
    assert (w, h) == (2000, 1500)  # 1/4 would make the shorter side 750 < 800
    assert loaded.original_size == (4000, 3000)
    assert loaded.scale == pytest.approx(w / 4000) == 0.5
    assert red_quadrant(loaded.rgb) == "tl"


@pytest.mark.parametrize(("min_side", "expected_width"), [(375, 500), (376, 1000), (3000, 4000)])
def test_jpeg_draft_scale_follows_working_min_side(big_jpeg, min_side, expected_width):
    loaded = load(big_jpeg, working_min_side=min_side, working_max_side=10_000)
    assert loaded.rgb.shape[1] == expected_width
    assert min(loaded.rgb.shape[:2]) >= min(min_side, 3000)
    assert loaded.scale == pytest.approx(expected_width / 4000)


def test_jpeg_draft_with_rotation_reports_scale_against_the_upright_size():
    data = encode(quadrant_image(4000, 3000), "JPEG", quality=90, exif=exif_with_orientation(6))
    loaded = load(data, working_min_side=800, working_max_side=10_000)
    assert loaded.original_size == (3000, 4000)
    assert loaded.rgb.shape == (2000, 1500, 3)
    assert loaded.scale == pytest.approx(0.5)
    assert red_quadrant(loaded.rgb) == "tr"


def test_draft_then_max_side_cap(big_jpeg):
    loaded = load(big_jpeg, working_min_side=800, working_max_side=1000)
    assert loaded.rgb.shape == (750, 1000, 3)
    assert loaded.scale == pytest.approx(0.25)
    assert red_quadrant(loaded.rgb) == "tl"


@pytest.mark.parametrize(
    ("size", "expected_shape"), [((1000, 500), (200, 400, 3)), ((500, 1000), (400, 200, 3))]
)
def test_working_max_side_caps_the_longer_side(size, expected_shape):
    loaded = load(encode(Image.new("RGB", size, RED), "PNG"), working_max_side=400)
    assert loaded.rgb.shape == expected_shape
    assert loaded.original_size == size
    assert loaded.scale == pytest.approx(0.4)
    assert_colour(loaded.rgb, RED, tol=1)


def test_small_images_are_never_enlarged():
    loaded = load(encode(Image.new("RGB", (100, 80), RED), "PNG"), working_max_side=4096)
    assert loaded.rgb.shape == (80, 100, 3)
    assert loaded.scale == 1.0


# --------------------------------------------------------------------------------------------
# numpy arrays


def test_array_uint8_rgb_is_copied_not_aliased():
    arr = np.asarray(noisy_rgb(60, 40)).copy()
    loaded = load(arr)
    assert np.array_equal(loaded.rgb, arr)
    assert not np.shares_memory(loaded.rgb, arr)
    assert loaded.format is None and loaded.mode is None
    assert loaded.original_size == (60, 40)
    assert loaded.scale == 1.0


def test_array_grey():
    arr = np.full((40, 50), 77, dtype=np.uint8)
    loaded = load(arr)
    assert loaded.rgb.shape == (40, 50, 3)
    assert np.all(loaded.rgb == 77)


def test_array_rgba_composites_over_white():
    arr = np.zeros((40, 40, 4), dtype=np.uint8)
    arr[..., :3] = RED
    arr[:, 20:, 3] = 255
    loaded = load(arr)
    assert np.all(loaded.rgb[:, :20] == 255)
    assert_colour(loaded.rgb[:, 20:], RED, tol=0)


def test_array_uint16_scales_by_257():
    arr = np.zeros((40, 48, 3), dtype=np.uint16)
    arr[:, :16] = 65535
    arr[:, 16:32] = 32768
    loaded = load(arr)
    assert np.all(loaded.rgb[:, :16] == 255)
    assert np.all(loaded.rgb[:, 16:32] == 128)
    assert np.all(loaded.rgb[:, 32:] == 0)


def test_array_big_endian_uint16_grey():
    arr = np.full((40, 40), 65535, dtype=">u2")
    assert np.all(load(arr).rgb == 255)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_array_float_in_unit_range(dtype):
    arr = np.zeros((40, 40, 3), dtype=dtype)
    arr[:10] = 1.0
    arr[10:20] = 0.5
    arr[20:30] = 7.0  # clipped to 1
    arr[30:] = -3.0  # clipped to 0
    loaded = load(arr)
    assert np.all(loaded.rgb[:10] == 255)
    assert np.all(loaded.rgb[10:20] == 128)
    assert np.all(loaded.rgb[20:30] == 255)
    assert np.all(loaded.rgb[30:] == 0)


def test_array_non_contiguous_view_is_accepted():
    rgb = np.asarray(quadrant_image(80, 60))
    bgr = rgb[..., ::-1]  # e.g. an OpenCV image flipped to RGB by slicing
    loaded = load(bgr[..., ::-1])
    assert loaded.rgb.flags.c_contiguous
    assert np.array_equal(loaded.rgb, rgb)


@pytest.mark.parametrize(
    "arr",
    [
        np.zeros(100, dtype=np.uint8),  # 1-D
        np.zeros((40, 40, 3, 1), dtype=np.uint8),  # 4-D
        np.zeros((40, 40, 1), dtype=np.uint8),
        np.zeros((40, 40, 2), dtype=np.uint8),
        np.zeros((40, 40, 5), dtype=np.uint8),
        np.zeros((0, 0, 3), dtype=np.uint8),  # empty
        np.zeros((40, 0), dtype=np.uint8),
        np.zeros((40, 40, 3), dtype=bool),
        np.zeros((40, 40, 3), dtype=np.complex64),
        np.zeros((40, 40, 3), dtype=np.int64),
        np.zeros((40, 40, 3), dtype=np.int8),
        np.zeros((40, 40, 3), dtype=object),
        np.full((40, 40, 3), np.nan, dtype=np.float32),
    ],
    ids=lambda a: f"{a.shape}-{a.dtype}",
)
def test_array_invalid(arr):
    err = error_of(arr)
    assert err.code is ErrorCode.INVALID_ARGUMENT
    assert err.message


def test_array_size_guards_and_cap():
    assert error_of(np.zeros((10, 400, 3), dtype=np.uint8)).code is ErrorCode.TOO_SMALL
    big = np.zeros((400, 400, 3), dtype=np.uint8)
    assert error_of(big, max_pixels=100_000).code is ErrorCode.TOO_LARGE
    loaded = load(np.zeros((300, 1200, 3), dtype=np.uint8), working_max_side=600)
    assert loaded.rgb.shape == (150, 600, 3)
    assert loaded.original_size == (1200, 300)
    assert loaded.scale == pytest.approx(0.5)


# --------------------------------------------------------------------------------------------
# bytes-like and PIL inputs


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview])
def test_bytes_like_inputs(wrap):
    data = encode(quadrant_image(80, 60), "PNG")
    loaded = load(wrap(data))
    assert loaded.format == "PNG"
    assert red_quadrant(loaded.rgb) == "tl"


def test_pil_image_in_memory():
    img = quadrant_image(80, 60)
    loaded = load(img)
    assert loaded.format is None
    assert loaded.mode == "RGB"
    assert np.array_equal(loaded.rgb, np.asarray(img))
    assert not np.shares_memory(loaded.rgb, np.asarray(img))


def test_pil_image_opened_from_file_keeps_format_and_is_capped():
    opened = Image.open(io.BytesIO(encode(quadrant_image(800, 600), "PNG")))
    loaded = load(opened, working_max_side=400)
    assert loaded.format == "PNG"
    assert loaded.rgb.shape == (300, 400, 3)
    assert loaded.scale == pytest.approx(0.5)


def test_pil_lazy_truncated_image_is_truncated():
    data = encode(noisy_rgb(200, 150), "JPEG")
    opened = Image.open(io.BytesIO(data[: len(data) // 2]))
    assert error_of(opened).code is ErrorCode.TRUNCATED


def test_pil_size_guards():
    assert error_of(Image.new("RGB", (10, 100))).code is ErrorCode.TOO_SMALL
    assert error_of(Image.new("RGB", (400, 400)), max_pixels=1000).code is ErrorCode.TOO_LARGE


# --------------------------------------------------------------------------------------------
# Arguments


@pytest.mark.parametrize("source", [None, 42, 3.5, ["a.png"], {"path": "a.png"}])
def test_unsupported_source_type(source):
    err = error_of(source)
    assert err.code is ErrorCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "overrides",
    [
        dict(max_pixels=0),
        dict(working_min_side=-1),
        dict(working_max_side=1.5),
        dict(max_pixels=True),
    ],
)
def test_invalid_limits(overrides):
    err = error_of(Image.new("RGB", (40, 40)), **overrides)
    assert err.code is ErrorCode.INVALID_ARGUMENT


def test_loaded_image_is_frozen():
    loaded = load(Image.new("RGB", (40, 40)))
    with pytest.raises(AttributeError):
        loaded.scale = 2.0  # type: ignore[misc]
