"""Strict checks of encoded image data: damage the decoder would silently paper over.

Pillow keeps libjpeg's warnings to itself: a JPEG cut in half with an end-of-image marker appended
decodes without complaint, the missing rows flat grey; a JPEG whose header claims another size, or
whose entropy-coded data has been scrambled, decodes into something with magenta blocks where the
nose was. A verdict on such pixels is a verdict on the damage. So before :mod:`photocheck.load`
decodes pixels with Pillow it runs the data through a strict decoder here, and damage becomes a
:class:`~photocheck.errors.PhotocheckError` (``truncated`` or ``corrupt``) instead of a photo.

* **JPEG** (and the first picture of an MPO): decoded by libjpeg-turbo through ``simplejpeg``
  in strict mode, which turns the first libjpeg *warning* into an error (for an RGB or grey JPEG
  that decode is also the picture :mod:`photocheck.load` uses: :func:`decode_jpeg_checked`). Each
  warning kind is classified by :func:`classify_jpeg_warning`. One kind is harmless and common in
  old scanner archives: *extraneous bytes before a marker*. Between header segments (before the
  scan, or between the scans of a progressive file) such bytes are cut out by a marker walk and the
  cleaned data is checked again. After the scan data, before the end marker, only padding is
  tolerated (see :data:`TOLERATED_PADDING_BYTES_AFTER_SCAN`); more means the scan ended before its
  data did: the header claims a smaller picture than was coded, or the data lost its
  synchronisation, and it is refused as ``corrupt``.
* **PNG**: every chunk's CRC-32 up to ``IEND`` (Pillow checks only the header chunks'; a flipped
  byte in the compressed pixel data often inflates without error).
* WebP, BMP, TIFF and GIF carry no checksum over their pixel data; Pillow already refuses the
  truncations and broken streams their decoders report (tested in ``tests/test_load.py``).

Pure functions over ``bytes``. For a JPEG :mod:`photocheck.load` is about to decode anyway,
:func:`decode_jpeg_checked` returns the strict decode's pixels at the scale Pillow would have
chosen, so the check costs no second decode; otherwise the decoder's output is thrown away.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from enum import Enum

import numpy as np
import simplejpeg

from photocheck.errors import ErrorCode, PhotocheckError

#: Bytes after the end of the scan data, before the end marker, still taken as encoder padding
#: (libjpeg warns "N extraneous bytes before marker 0xd9"): up to
#: ``TOLERATED_STRAY_BYTES_AFTER_SCAN`` bytes of any value, or up to
#: ``TOLERATED_PADDING_BYTES_AFTER_SCAN`` bytes all of one value (zero or fill padding). Left-over
#: scan data is neither: a header claiming a smaller picture leaves thousands of bytes, a scan that
#: lost its synchronisation typically ten to a few hundred of varied value.
TOLERATED_STRAY_BYTES_AFTER_SCAN = 2
TOLERATED_PADDING_BYTES_AFTER_SCAN = 16

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_EXTRANEOUS = re.compile(r"(\d+) extraneous bytes before marker 0x([0-9a-fA-F]{2})")
_SOI, _EOI, _SOS, _TEM = 0xD8, 0xD9, 0xDA, 0x01
_RESTART_MARKERS = range(0xD0, 0xD8)
# simplejpeg converts to one of these; CMYK/YCCK files only convert to CMYK.
_CHECK_COLOURSPACE = {"CMYK": "CMYK", "YCCK": "CMYK"}
# Colour spaces (simplejpeg's names) whose RGB decode is Pillow's: not CMYK/YCCK.
_RGB_COLOURSPACES = frozenset({"YCbCr", "RGB", "Gray"})


class JpegWarning(str, Enum):
    """Kinds of libjpeg warnings (and errors), as classified for :func:`check_jpeg`."""

    PREMATURE_END = "premature_end"  # the scan data stops before the picture is complete
    EXTRANEOUS_BYTES = "extraneous_bytes"  # bytes libjpeg skipped to find the next marker
    CORRUPT_DATA = "corrupt_data"  # bad Huffman code, wrong restart marker, ...
    BAD_STRUCTURE = "bad_structure"  # invalid file structure, bogus marker or table
    OTHER = "other"


@dataclass(frozen=True)
class JpegFinding:
    """What a strict JPEG decode reported, and what the check did with it."""

    kind: JpegWarning
    message: str  # libjpeg's text, e.g. "Corrupt JPEG data: 2 extraneous bytes before marker 0xd9"
    tolerated: bool


def classify_jpeg_warning(message: str) -> JpegWarning:
    """Map libjpeg's message text onto a :class:`JpegWarning` kind."""
    text = message.lower()
    if "extraneous bytes before marker" in text:
        return JpegWarning.EXTRANEOUS_BYTES
    if "premature end" in text:
        return JpegWarning.PREMATURE_END
    if text.startswith("corrupt jpeg data"):
        return JpegWarning.CORRUPT_DATA
    if any(word in text for word in ("invalid jpeg", "bogus", "unsupported marker", "huffman",
                                     "quantization table", "marker", "sampling factors")):
        return JpegWarning.BAD_STRUCTURE
    return JpegWarning.OTHER


def check_jpeg(data: bytes) -> list[JpegFinding]:
    """Decode ``data`` strictly; raise ``truncated``/``corrupt`` on damage, else list what was
    tolerated (empty for a clean file).

    Stray bytes between header segments are cut out only where libjpeg and the marker walk agree
    on them (same count, before the same marker): a damaged segment length would make the walk
    see "stray" bytes inside real segments, and cutting those could hide the damage.

    Raises :class:`PhotocheckError` (codes ``truncated`` or ``corrupt``) and nothing else.
    """
    return decode_jpeg_checked(data, None)[1]


def decode_jpeg_checked(data: bytes,
                        reduction: int | None) -> tuple[np.ndarray | None, list[JpegFinding]]:
    """:func:`check_jpeg` whose strict decode also yields the picture, so the data is decoded
    once: ``(pixels, findings)``.

    ``reduction`` (1, 2, 4 or 8, or None for the check alone): the pixels are 8-bit RGB at
    ``1/reduction`` of the stored size, sides rounded up, by libjpeg's DCT scaling with the
    settings Pillow uses (accurate integer IDCT, smooth chroma upsampling); that is exactly what
    Pillow's ``draft`` decodes, bit for bit with the libjpeg-turbo builds of the pinned wheels
    (``tests/test_load_fast_jpeg.py``). The pixels are None, and the caller decodes with
    Pillow, for CMYK/YCCK data (Pillow's own inversion and conversion) and when the strict
    decode stopped on tolerated padding before the end marker.

    Raises :class:`PhotocheckError` (codes ``truncated`` or ``corrupt``) and nothing else.
    """
    findings: list[JpegFinding] = []
    pixels, message = _strict_decode(data, reduction)
    if message is not None and classify_jpeg_warning(message) is JpegWarning.EXTRANEOUS_BYTES:
        cleaned, stray_runs, _ = _walk_markers(data)
        if stray_runs and stray_runs[0] == _extraneous(message):
            removed = sum(count for count, _ in stray_runs)
            findings.append(JpegFinding(
                JpegWarning.EXTRANEOUS_BYTES,
                f"{removed} extraneous bytes between header segments (cut out)", True))
            data = cleaned
            pixels, message = _strict_decode(data, reduction)
    if message is None:
        return pixels, findings
    kind = classify_jpeg_warning(message)
    if kind is JpegWarning.EXTRANEOUS_BYTES and _is_padding_before_end(message, data):
        findings.append(JpegFinding(kind, message, True))
        return None, findings
    if kind is JpegWarning.PREMATURE_END:
        raise PhotocheckError(
            ErrorCode.TRUNCATED,
            "the JPEG image is truncated: its data ends before the whole picture is decoded "
            f"(cut short, or the header claims a larger picture) ({message})",
        )
    raise PhotocheckError(
        ErrorCode.CORRUPT, f"the JPEG image is damaged and cannot be decoded reliably ({message})"
    )


def _strict_decode(data: bytes, reduction: int | None) -> tuple[np.ndarray | None, str | None]:
    """Decode ``data`` strictly: (RGB pixels at ``1/reduction`` scale or None, libjpeg's first
    warning or error or None when it decodes cleanly); see :func:`decode_jpeg_checked`."""
    try:
        height, width, colourspace, _ = simplejpeg.decode_jpeg_header(data)
        if reduction is None or colourspace not in _RGB_COLOURSPACES:
            # Entropy decoding (where damage shows) is done in full at any output scale; grey
            # output at 1/8 scale skips most of the rest (simplejpeg scales only with a minimum
            # size given: 12 MP in 15 ms instead of 26 ms).
            simplejpeg.decode_jpeg(data, colorspace=_CHECK_COLOURSPACE.get(colourspace, "GRAY"),
                                   min_factor=8, min_height=1, min_width=1, strict=True)
            return None, None
        shape = (-(-height // reduction), -(-width // reduction), 3)
        # simplejpeg picks the strongest libjpeg scaling of at least min_factor that keeps
        # both minimum sides: with these, exactly 1/reduction (not 3/8, 5/8, ...).
        pixels = simplejpeg.decode_jpeg(data, colorspace="RGB", fastdct=False,
                                        fastupsample=False, min_factor=reduction,
                                        min_height=shape[0], min_width=shape[1], strict=True)
    except (ValueError, RuntimeError) as exc:
        text = str(exc).strip()
        # libjpeg's messages are fixed templates; anything else is not echoed to users.
        return None, text if text.isprintable() and 0 < len(text) <= 120 else type(exc).__name__
    return (pixels if pixels.shape == shape else None), None


def _extraneous(message: str) -> tuple[int, int] | None:
    """(byte count, marker) of an "N extraneous bytes before marker 0xXX" message."""
    match = _EXTRANEOUS.search(message)
    return None if match is None else (int(match.group(1)), int(match.group(2), 16))


def _is_padding_before_end(message: str, data: bytes) -> bool:
    """Padding skipped before the end marker, the whole picture having decoded without warning.

    The skipped bytes are the last ones of the last scan (libjpeg does not count ``0xFF`` fill
    bytes).
    """
    stray = _extraneous(message)
    if stray is None or stray[1] != _EOI:
        return False
    count = stray[0]
    if count <= TOLERATED_STRAY_BYTES_AFTER_SCAN:
        return True
    scan_end = _walk_markers(data)[2]
    if scan_end is None or count > TOLERATED_PADDING_BYTES_AFTER_SCAN:
        return False
    return len(set(data[:scan_end].rstrip(b"\xff")[-count:])) == 1


def strip_bytes_between_segments(data: bytes) -> tuple[bytes, int]:
    """Remove stray bytes between JPEG header segments; return the data and how many went."""
    cleaned, stray_runs, _ = _walk_markers(data)
    return cleaned, sum(count for count, _ in stray_runs)


def _walk_markers(data: bytes) -> tuple[bytes, list[tuple[int, int]], int | None]:
    """Walk the JPEG markers from SOI, cutting out stray bytes between segments.

    A segment with a length is skipped by its length, the entropy-coded data after SOS up to the
    next marker that is not a restart marker or a stuffed ``0xFF00``. Bytes where a marker should
    start are stray (libjpeg skips them with an "N extraneous bytes before marker" warning).
    Bytes after scan data cannot be told apart from it by a walk, so they stay. The walk stops at
    EOI or where the data ends; what it cannot parse is left for the decoder to report.

    Returns the cleaned data, the stray runs as (byte count, marker that follows) in order, and
    the index in the cleaned data of the marker that ends the last scan (None if no scan).
    """
    size = len(data)
    if data[:2] != b"\xff\xd8":
        return data, [], None
    kept: list[bytes] = [data[:2]]
    stray_runs: list[tuple[int, int]] = []
    kept_size = 2  # bytes in ``kept``: where the next kept byte lands in the cleaned data
    scan_end = None
    pos = 2
    while pos < size:
        start = pos
        while True:  # as libjpeg's next_marker: skip to 0xFF; 0xFF00 is stray too
            while pos < size and data[pos] != 0xFF:
                pos += 1
            if pos + 1 < size and data[pos + 1] == 0x00:
                pos += 2
                continue
            break
        fill_start = pos
        while pos + 1 < size and data[pos + 1] == 0xFF:  # fill bytes before a marker: kept
            pos += 1
        if pos + 1 >= size:
            kept.append(data[start:])
            break
        marker = data[pos + 1]
        if fill_start > start:
            stray_runs.append((fill_start - start, marker))
        kept.append(data[fill_start:pos])
        kept_size += pos - fill_start
        if marker in (_EOI, _SOI, _TEM) or marker in _RESTART_MARKERS:
            end = pos + 2
        elif pos + 4 > size:
            kept.append(data[pos:])
            break
        else:
            end = min(pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big"), size)
            if marker == _SOS:
                end = _end_of_scan(data, end)
                scan_end = kept_size + (end - pos)
        kept.append(data[pos:end])
        kept_size += end - pos
        pos = end
        if marker == _EOI:
            kept.append(data[pos:])  # after EOI (e.g. the other pictures of an MPO)
            break
    if not stray_runs:
        return data, [], scan_end
    return b"".join(kept), stray_runs, scan_end


def _end_of_scan(data: bytes, pos: int) -> int:
    """Index of the marker that ends the entropy-coded data starting at ``pos`` (or len(data))."""
    size = len(data)
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= size:
            return size
        following = data[pos + 1]
        if following == 0x00 or following in _RESTART_MARKERS:
            pos += 2
        elif following == 0xFF:
            pos += 1
        else:
            return pos


def check_png(data: bytes) -> None:
    """Verify the CRC-32 of every PNG chunk up to IEND.

    Raises :class:`PhotocheckError`: ``truncated`` when the data ends before IEND, ``corrupt`` on a
    CRC mismatch. Data after IEND is ignored (as decoders do).
    """
    if not data.startswith(_PNG_SIGNATURE):
        return
    pos, size = len(_PNG_SIGNATURE), len(data)
    while True:
        if pos + 12 > size:
            raise PhotocheckError(ErrorCode.TRUNCATED,
                                  "the PNG image is truncated: the data ends before its end chunk")
        length = int.from_bytes(data[pos:pos + 4], "big")
        chunk_type = data[pos + 4:pos + 8]
        end = pos + 8 + length
        if end + 4 > size:
            raise PhotocheckError(ErrorCode.TRUNCATED,
                                  "the PNG image is truncated: the data ends inside a chunk")
        stored = int.from_bytes(data[end:end + 4], "big")
        if zlib.crc32(data[pos + 4:end]) != stored:
            name = chunk_type.decode("latin-1") if chunk_type.isalpha() else "?"
            raise PhotocheckError(
                ErrorCode.CORRUPT,
                f"the PNG image is damaged: the checksum of its {name} chunk does not match",
            )
        if chunk_type == b"IEND":
            return
        pos = end + 4
