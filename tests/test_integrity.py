"""Damaged files get an error, never a verdict; clean files and harmless quirks are not refused.

The damage cases are those of issue 11, made from the shipped clear sample: a JPEG cut short with
an end marker appended, a header claiming another size, scrambled scan data, a PNG chunk whose
checksum fails. The clean side runs the strict checks over every shipped sample and, when the
shared data sets sit beside the checkout, over every real photo.
"""

from __future__ import annotations

import io
import random
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photocheck.errors import ErrorCode, PhotocheckError
from photocheck.integrity import (
    JpegWarning,
    check_jpeg,
    check_png,
    classify_jpeg_warning,
    strip_bytes_between_segments,
)
from photocheck.schema import Decision

ROOT = Path(__file__).resolve().parent.parent
CLEAR = ROOT / "samples" / "grace_hopper_clear.jpg"
SHARED = ROOT.parent / "shared" / "data"
EOI = b"\xff\xd9"


def clear_jpeg() -> bytes:
    return CLEAR.read_bytes()


def segment_offset(data: bytes, markers: tuple[int, ...]) -> int:
    """Offset of the first header segment with one of ``markers`` (walks segment lengths)."""
    pos = 2
    while data[pos + 1] not in markers:
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return pos


def scan_data_start(data: bytes) -> int:
    sos = segment_offset(data, (0xDA,))
    return sos + 2 + int.from_bytes(data[sos + 2:sos + 4], "big")


def cut_with_end_marker(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)] + EOI


def with_header_size(data: bytes, width: int, height: int) -> bytes:
    sof = segment_offset(data, (0xC0, 0xC1, 0xC2))
    return data[: sof + 5] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + data[sof + 9:]


def scrambled(data: bytes, seed: int, count: int = 200) -> bytes:
    rng = random.Random(seed)
    start = rng.randrange(scan_data_start(data), len(data) - count - 2)
    out = bytearray(data)
    out[start:start + count] = bytes(rng.randrange(256) for _ in range(count))
    return bytes(out)


def error_code(data: bytes) -> ErrorCode | None:
    try:
        check_jpeg(data)
    except PhotocheckError as err:
        return err.code
    return None


# --------------------------------------------------------------------------------------------
# Damage the checker used to judge (issue 11): an error result, never a verdict


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.7])
def test_clear_jpeg_cut_short_with_end_marker_is_truncated_not_judged(checker, fraction):
    result = checker.check(cut_with_end_marker(clear_jpeg(), fraction))
    assert result.decision is Decision.ERROR
    assert result.error.code == ErrorCode.TRUNCATED.value


@pytest.mark.parametrize("size", [(856, 642), (6000, 6000), (257, 342)])
def test_header_claiming_another_size_is_an_error_not_a_verdict(checker, size):
    result = checker.check(with_header_size(clear_jpeg(), *size))
    assert result.decision is Decision.ERROR
    assert result.error.code in (ErrorCode.TRUNCATED.value, ErrorCode.CORRUPT.value)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_scrambled_scan_data_is_an_error_not_a_verdict(checker, seed):
    result = checker.check(scrambled(clear_jpeg(), seed))
    assert result.decision is Decision.ERROR
    assert result.error.code in (ErrorCode.TRUNCATED.value, ErrorCode.CORRUPT.value)


def test_most_scrambled_scans_are_flagged():
    # A scan can resynchronise so exactly that no decoder notices; that is rare, not the rule.
    data = clear_jpeg()
    flagged = sum(error_code(scrambled(data, seed)) is not None for seed in range(100))
    assert flagged >= 85


def test_header_claiming_a_smaller_picture_is_corrupt():
    data = clear_jpeg()
    with Image.open(CLEAR) as img:
        width, height = img.size
    with pytest.raises(PhotocheckError) as info:
        check_jpeg(with_header_size(data, width - 64, height - 64))
    assert info.value.code is ErrorCode.CORRUPT
    assert "extraneous bytes" in info.value.message


# --------------------------------------------------------------------------------------------
# Harmless quirks of old encoders and scanners: tolerated


def test_clean_sample_has_no_findings():
    assert check_jpeg(clear_jpeg()) == []


def test_zero_padding_before_the_end_marker_is_tolerated():
    data = clear_jpeg()
    padded = data[:-2] + b"\x00" * 7 + EOI
    findings = check_jpeg(padded)
    assert [f.kind for f in findings] == [JpegWarning.EXTRANEOUS_BYTES]
    assert findings[0].tolerated


def test_one_stray_byte_before_the_end_marker_is_tolerated():
    # The classic "1 extraneous bytes before marker 0xd9" (libjpeg's bit reader has already
    # taken one of the two appended bytes).
    data = clear_jpeg()
    findings = check_jpeg(data[:-2] + b"\x5a\xa5" + EOI)
    assert findings[0].message.endswith("1 extraneous bytes before marker 0xd9")
    assert findings[0].tolerated


def test_varied_bytes_left_before_the_end_marker_are_corrupt():
    data = clear_jpeg()
    with pytest.raises(PhotocheckError) as info:
        check_jpeg(data[:-2] + bytes(range(1, 13)) + EOI)
    assert info.value.code is ErrorCode.CORRUPT


@pytest.mark.parametrize("marker", [0xDB, 0xC4, 0xDA])
def test_stray_bytes_between_header_segments_are_cut_out_and_tolerated(checker, marker):
    data = clear_jpeg()
    pos = segment_offset(data, (marker,))
    quirky = data[:pos] + b"\x00\x12\x34" + data[pos:]
    cleaned, removed = strip_bytes_between_segments(quirky)
    assert (cleaned, removed) == (data, 3)
    findings = check_jpeg(quirky)
    assert findings and all(f.tolerated for f in findings)
    assert checker.check(quirky).decision == checker.check(data).decision


def test_strip_leaves_clean_data_alone():
    data = clear_jpeg()
    assert strip_bytes_between_segments(data) == (data, 0)


@pytest.mark.parametrize(("message", "kind"), [
    ("Corrupt JPEG data: premature end of data segment", JpegWarning.PREMATURE_END),
    ("Premature end of JPEG file", JpegWarning.PREMATURE_END),
    ("Corrupt JPEG data: 2 extraneous bytes before marker 0xd9", JpegWarning.EXTRANEOUS_BYTES),
    ("Corrupt JPEG data: bad Huffman code", JpegWarning.CORRUPT_DATA),
    ("Corrupt JPEG data: found marker 0xd3 instead of RST2", JpegWarning.CORRUPT_DATA),
    ("Invalid JPEG file structure: two SOF markers", JpegWarning.BAD_STRUCTURE),
    ("Unsupported marker type 0x42", JpegWarning.BAD_STRUCTURE),
])
def test_warning_kinds(message, kind):
    assert classify_jpeg_warning(message) is kind


# --------------------------------------------------------------------------------------------
# PNG


def png_bytes() -> bytes:
    rng = np.random.default_rng(0)
    # Smooth content: zlib compresses it, so a flipped byte can inflate without an error.
    ramp = np.linspace(0, 255, 160, dtype=np.uint8)
    rgb = np.stack([np.tile(ramp, (120, 1))] * 3, axis=-1)
    rgb[::7] = rng.integers(0, 255, (rgb[::7].shape), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


def test_flipped_byte_in_png_pixel_data_is_corrupt():
    data = bytearray(png_bytes())
    idat = data.index(b"IDAT")
    data[idat + 40] ^= 0x01
    with pytest.raises(PhotocheckError) as info:
        check_png(bytes(data))
    assert info.value.code is ErrorCode.CORRUPT
    assert "IDAT" in info.value.message


def test_png_without_end_chunk_is_truncated():
    data = png_bytes()
    with pytest.raises(PhotocheckError) as info:
        check_png(data[: data.index(b"IEND") - 4])
    assert info.value.code is ErrorCode.TRUNCATED


def test_png_header_size_change_is_caught_by_its_checksum(checker):
    data = bytearray(png_bytes())
    data[16:20] = (200).to_bytes(4, "big")  # IHDR width
    result = checker.check(bytes(data))
    assert result.decision is Decision.ERROR
    assert result.error.code == ErrorCode.CORRUPT.value


def test_clean_png_passes_and_data_after_the_end_is_ignored():
    check_png(png_bytes())
    check_png(png_bytes() + b"trailing junk")
    chunk = b"tEXt" + b"k\x00v"
    check_png(png_bytes()[:33] + len(b"k\x00v").to_bytes(4, "big") + chunk
              + zlib.crc32(chunk).to_bytes(4, "big") + png_bytes()[33:])


# --------------------------------------------------------------------------------------------
# Clean photos are never refused


def clean_photos() -> list[Path]:
    folders = [ROOT / "samples", SHARED / "portraits", SHARED / "real"]
    return sorted(p for folder in folders if folder.is_dir() for p in folder.rglob("*")
                  if p.suffix.lower() in (".jpg", ".jpeg", ".png") and "bad" not in p.parts)


def test_no_clean_photo_is_refused():
    photos = clean_photos()
    assert len(photos) >= 40  # the shipped samples at least
    refused = []
    for path in photos:
        data = path.read_bytes()
        try:
            check_png(data) if data.startswith(b"\x89PNG") else check_jpeg(data)
        except PhotocheckError as err:
            refused.append((path.name, err.message))
    assert refused == []

