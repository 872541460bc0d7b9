"""Turn any supported input into one predictable working image: 8-bit RGB, upright, bounded in size.

Everything downstream (face detection, sharpness measures) assumes a C-contiguous ``HxWx3``
``uint8`` array in RGB order that is the right way up and not absurdly large. This module is the
only place that deals with files, codecs, colour modes and EXIF, so that every way an input can be
unusable ends up as a :class:`~photocheck.errors.PhotocheckError` with a stable code instead of a
Pillow/OS exception.

Accepted encoded formats (files and bytes): JPEG (including multi-picture "MPO" JPEGs written by
phones), PNG, WebP, BMP, TIFF and GIF. Only the first frame of multi-frame files (animated
GIF/PNG/WebP, multi-page TIFF, MPO) is used. Other formats Pillow could open (EPS, PSD, ICO, PPM,
AVIF, ...) are deliberately refused as ``not_an_image``: ID photos do not arrive in them, and some
of those decoders are large attack surfaces (EPS even starts Ghostscript). To accept another
format, add its Pillow format id to :data:`SUPPORTED_FORMATS`.

Damage that Pillow decodes without a word (a JPEG cut short with an end marker appended, a header
claiming another size, scrambled scan data, a PNG chunk whose checksum fails) is refused as
``truncated`` / ``corrupt`` by the strict checks of :mod:`photocheck.integrity`, run on the encoded
data before any pixel is used; a verdict on such pixels would be a verdict on the damage. For an
RGB or grey JPEG the strict libjpeg decode *is* the decode: it runs at the scale Pillow's draft
would pick, with Pillow's settings, and gives Pillow's pixels bit for bit, so the file is decoded
once. Pillow decodes everything else (CMYK/YCCK JPEGs, a JPEG whose strict decode stopped on
tolerated padding, every other format); EXIF orientation is applied the same way to both.

Pillow, numpy and simplejpeg (libjpeg-turbo: the strict JPEG check and decode) only; no OpenCV here.
"""

from __future__ import annotations

import contextlib
import io
import numbers
import os
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO
import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from photocheck.errors import ErrorCode, PhotocheckError
from photocheck.limits import check_bytes, read_at_most
from photocheck.integrity import check_png, decode_jpeg_checked

#: Pillow format ids tried when opening files and bytes; anything else is ``not_an_image``.
#: (Multi-picture JPEGs open through the "JPEG" plugin and report format "MPO".)
SUPPORTED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")
#: File name suffixes of those formats (lower case), for picking images out of a folder.
IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff",
                                   ".gif")

#: Images with a side shorter than this cannot hold a face worth judging.
MIN_SIDE = 16

#: Alpha is composited over white: ID-photo backgrounds are white or light grey, so a cut-out
#: portrait with a transparent background looks like the real photo would, and the face/background
#: edge is not turned into an artificial high-contrast edge (as black would) that fools sharpness.
_BACKGROUND = (255, 255, 255)

_ORIENTATION_TAG = ExifTags.Base.Orientation  # 0x0112
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})  # the ones that rotate by 90 degrees
# EXIF orientation -> the transposition that makes the picture upright (ImageOps.exif_transpose's)
_TRANSPOSITIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})

# Leading bytes of formats we support, used only to word errors better when Pillow cannot even
# parse the header ("a damaged PNG" is more useful than "not an image"). BMP's two-byte "BM" is
# too weak a signature to tell a damaged bitmap from a text file, so it is not listed.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),  # BigTIFF
    (b"MM\x00+", "TIFF"),
)

ImageSource = str | os.PathLike | bytes | bytearray | memoryview | np.ndarray | Image.Image


@dataclass(frozen=True)
class LoadedImage:
    """A decoded image ready for analysis.

    ``rgb`` may be smaller than the file (JPEG draft decoding, ``working_max_side`` cap); ``scale``
    maps it back: a length ``d`` in ``rgb`` is ``d / scale`` pixels in the (upright) original.
    """

    rgb: np.ndarray  # HxWx3 uint8, C-contiguous, EXIF orientation applied, possibly reduced
    original_size: tuple[int, int]  # (width, height) of the full image after EXIF orientation
    scale: float  # rgb width / original width (1.0 when not reduced)
    format: str | None  # Pillow format name ("JPEG", "PNG", ...) or None for arrays
    mode: str | None  # Pillow mode of the source before conversion, None for arrays


def load_image(
    source: ImageSource,
    *,
    max_pixels: int,
    working_min_side: int,
    working_max_side: int,
    max_file_bytes: int | None = None,
) -> LoadedImage:
    """Load ``source`` as an upright 8-bit RGB image, reduced to a working size.

    ``source`` may be:

    * a path (``str`` / ``os.PathLike``): the file is read into memory once and decoded from
      there, so no file handle stays open; a file of more than ``max_file_bytes`` is
      ``too_large``, refused on its size before it is read;
    * encoded bytes (``bytes`` / ``bytearray`` / ``memoryview``) of a supported format;
    * a ``numpy.ndarray`` in **RGB** channel order (not OpenCV's BGR): ``HxW`` grey, ``HxWx3``
      RGB or ``HxWx4`` RGBA, dtype ``uint8``, ``uint16`` (scaled by 1/257) or floating point in
      [0, 1] (scaled by 255, clipped). Arrays carry no EXIF, so they are taken as upright;
    * a ``PIL.Image.Image``: handled like a decoded file, including its EXIF orientation. It is
      not modified (apart from Pillow loading its pixels if it was still lazy).

    Guards, checked on the header before any pixel is decoded: more than ``max_pixels`` pixels is
    ``too_large`` (decompression bombs), a side under :data:`MIN_SIDE` is ``too_small``.

    Reduction: JPEGs are decoded directly at 1/2, 1/4 or 1/8 scale when the shorter side stays
    at least ``working_min_side`` (cheap, and the detector needs no more); then, whatever the
    source, an image whose longer side exceeds ``working_max_side`` is resampled (Lanczos) so
    the longer side equals ``working_max_side``. Images are never enlarged.

    Colour: every Pillow mode becomes RGB. 16-bit data (``I;16*``, and ``I`` which is read as
    16-bit) is scaled by 1/257 so the full 16-bit range maps onto 0..255; ``F`` follows Pillow's
    convention of 0..255 floats and is clipped. Transparency (alpha channel, or a transparent
    palette / colour key) is composited over white.

    Raises :class:`PhotocheckError` and nothing else.
    """
    _check_settings(max_pixels, working_min_side, working_max_side)
    try:
        if isinstance(source, np.ndarray):
            return _load_array(source, max_pixels, working_max_side)
        if isinstance(source, Image.Image):
            return _load_pil(source, max_pixels, working_max_side)
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = _buffer_bytes(source)
        elif isinstance(source, (str, os.PathLike)):
            data = _read_file(source, max_file_bytes)
        else:
            raise PhotocheckError(
                ErrorCode.INVALID_ARGUMENT,
                f"cannot load an image from a {type(source).__name__}; expected a path, bytes, "
                "a numpy array or a PIL image",
            )
        return _load_encoded(data, max_pixels, working_min_side, working_max_side)
    except PhotocheckError:
        raise
    except Exception as exc:  # a bug in this module, not a bad input: still never escape raw
        raise PhotocheckError(
            ErrorCode.INTERNAL, f"unexpected {type(exc).__name__} while loading the image"
        ) from exc


# --------------------------------------------------------------------------------------------
# Inputs


def _check_settings(max_pixels: object, working_min_side: object, working_max_side: object) -> None:
    """Reject nonsensical limits up front so they cannot surface later as odd decode errors."""
    for name, value in (
        ("max_pixels", max_pixels),
        ("working_min_side", working_min_side),
        ("working_max_side", working_max_side),
    ):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise PhotocheckError(
                ErrorCode.INVALID_ARGUMENT, f"{name} must be a positive integer, got {value!r}"
            )


def _buffer_bytes(source: bytes | bytearray | memoryview) -> bytes:
    data = source.tobytes() if isinstance(source, memoryview) else bytes(source)
    if not data:
        raise PhotocheckError(ErrorCode.EMPTY, "the image data is empty (0 bytes)")
    return data


def _read_file(path: str | os.PathLike, max_bytes: int | None = None) -> bytes:
    """Read the whole file, or refuse it as ``too_large`` when it has more than ``max_bytes``
    (on its size before reading, and while reading: at most ``max_bytes + 1`` are read)."""
    shown = _display_path(path)
    with open_image_file(path, max_bytes=max_bytes, shown=shown) as fh:
        data = fh.read() if max_bytes is None else read_at_most(fh, max_bytes, shown)
    if not data:
        raise PhotocheckError(ErrorCode.EMPTY, f"{shown} is empty (0 bytes)")
    return data


@contextlib.contextmanager
def open_image_file(path: str | os.PathLike, *, max_bytes: int | None = None,
                    shown: str | None = None) -> Iterator[BinaryIO]:
    """The file at ``path`` open for binary reading, once its ``stat`` says it is a regular
    file of at most ``max_bytes`` (else ``too_large``, before anything is read). Each OS failure,
    also while the caller reads, becomes the :class:`PhotocheckError` a user can act on;
    ``shown`` names the file in messages (default: the path)."""
    shown = _display_path(path) if shown is None else shown
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise PhotocheckError(ErrorCode.UNREADABLE, f"{shown} is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            # FIFOs, devices, sockets: reading them could block forever or never end.
            raise PhotocheckError(ErrorCode.UNREADABLE, f"{shown} is not a regular file")
        if max_bytes is not None:
            check_bytes(info.st_size, max_bytes, shown)
        with open(path, "rb") as fh:
            yield fh
    except PhotocheckError:
        raise
    except (FileNotFoundError, NotADirectoryError):
        raise PhotocheckError(ErrorCode.FILE_NOT_FOUND, f"file not found: {shown}") from None
    except IsADirectoryError:
        raise PhotocheckError(ErrorCode.UNREADABLE, f"{shown} is a directory, not a file") from None
    except PermissionError:
        raise PhotocheckError(ErrorCode.UNREADABLE, f"permission denied reading {shown}") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PhotocheckError(ErrorCode.UNREADABLE, f"cannot read {shown}: {reason}") from None
    except (ValueError, TypeError) as exc:  # e.g. an embedded NUL byte in the path
        message = f"invalid file path {shown!r}: {exc}"
        raise PhotocheckError(ErrorCode.INVALID_ARGUMENT, message) from None


def _display_path(path: str | os.PathLike) -> str:
    try:
        return os.fsdecode(path)
    except Exception:  # a PathLike whose __fspath__ is broken
        return repr(path)


# --------------------------------------------------------------------------------------------
# Encoded data (files and bytes)


def _load_encoded(
    data: bytes, max_pixels: int, working_min_side: int, working_max_side: int
) -> LoadedImage:
    # We enforce our own ``max_pixels`` on the header, so Pillow's warning is noise; its hard
    # error (above 2 x Image.MAX_IMAGE_PIXELS) is still caught and reported as too_large.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS)
        except UnidentifiedImageError:
            raise _unidentified(data) from None
        except Exception as exc:
            raise _decode_failure(exc, _sniff(data), data) from None

        with img:
            fmt, mode = img.format, img.mode
            width, height = img.size
            _check_pixel_count(width, height, max_pixels, fmt)
            reduction = _draft_reduction(width, height, working_min_side)
            pixels = _check_integrity(data, fmt, mode, reduction)
            try:
                if pixels is not None:  # the strict check's decode is the picture
                    decoded = Image.fromarray(pixels)
                else:
                    if fmt in ("JPEG", "MPO"):
                        img.draft("RGB", (working_min_side, working_min_side))
                    img.load()
                    decoded = img
                upright, swapped = _apply_orientation(img, decoded)
                rgb = _to_rgb(upright)
            except PhotocheckError:
                raise
            except Exception as exc:
                raise _decode_failure(exc, fmt, data) from None

    original_size = (height, width) if swapped else (width, height)
    return _finish(rgb, original_size, working_max_side, fmt, mode)


def _draft_reduction(width: int, height: int, working_min_side: int) -> int:
    """The JPEG scale divisor (1, 2, 4 or 8) Pillow's ``draft`` picks: the largest reduction
    that keeps *both* sides >= ``working_min_side``."""
    fits = min(width // working_min_side, height // working_min_side)
    return next(divisor for divisor in (8, 4, 2, 1) if fits >= divisor or divisor == 1)


def _check_integrity(data: bytes, fmt: str | None, mode: str | None,
                     reduction: int) -> np.ndarray | None:
    """Refuse damage Pillow would decode without a word (see :mod:`photocheck.integrity`).

    For a JPEG Pillow would read as RGB or grey, the strict decode is the picture: returned
    as RGB at ``1/reduction`` scale (None: decode with Pillow)."""
    if fmt in ("JPEG", "MPO"):
        return decode_jpeg_checked(data, reduction if mode in ("RGB", "L") else None)[0]
    if fmt == "PNG":
        check_png(data)
    return None


def _unidentified(data: bytes) -> PhotocheckError:
    """Pillow recognised no supported format; say whether it looked like one of ours."""
    fmt = _sniff(data)
    if fmt is not None:
        return PhotocheckError(
            ErrorCode.CORRUPT,
            f"the data starts like a {fmt} file but its header cannot be read "
            "(damaged or cut short)",
        )
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftypavif"):
        return PhotocheckError(
            ErrorCode.NOT_AN_IMAGE,
            "HEIF/HEIC/AVIF images are not supported; convert the photo to JPEG or PNG",
        )
    return PhotocheckError(
        ErrorCode.NOT_AN_IMAGE,
        "the data is not an image in a supported format (" + ", ".join(SUPPORTED_FORMATS) + ")",
    )


def _sniff(data: bytes) -> str | None:
    """Best guess of a supported format from the leading bytes (for error messages only)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for signature, fmt in _SIGNATURES:
        if data.startswith(signature):
            return fmt
    return None


def _decode_failure(exc: BaseException, fmt: str | None, data: bytes | None) -> PhotocheckError:
    """Classify a Pillow failure into too_large / truncated / corrupt.

    Pillow reports data that ends early as ``OSError("image file is truncated ...")`` on load, or
    ``OSError("Truncated File Read")`` / ``EOFError`` while parsing headers. Everything else
    (``SyntaxError`` for broken structure, ``OSError("broken data stream ...")`` when the codec
    rejects the compressed data, ``ValueError``, zlib errors, ...) means damaged data.
    """
    what = f"{fmt} image" if fmt else "image"
    if isinstance(exc, Image.DecompressionBombError):
        return PhotocheckError(
            ErrorCode.TOO_LARGE, f"the {what} exceeds Pillow's decompression-bomb pixel limit"
        )
    if isinstance(exc, MemoryError):
        return PhotocheckError(ErrorCode.TOO_LARGE, f"not enough memory to decode the {what}")
    if isinstance(exc, EOFError) or "truncated" in str(exc).lower():
        return PhotocheckError(ErrorCode.TRUNCATED, f"the {what} is truncated: the data ends early")
    if fmt == "WEBP" and data is not None and _riff_declares_more(data):
        # libwebp only says "could not create decoder object"; the RIFF header tells us why.
        return PhotocheckError(ErrorCode.TRUNCATED, f"the {what} is truncated: the data ends early")
    return PhotocheckError(
        ErrorCode.CORRUPT, f"the {what} is damaged and cannot be decoded ({_describe(exc)})"
    )


def _riff_declares_more(data: bytes) -> bool:
    """True when a RIFF (WebP) header announces more bytes than we have."""
    if len(data) < 8 or data[:4] != b"RIFF":
        return False
    declared = int.from_bytes(data[4:8], "little") + 8
    return len(data) < declared


def _describe(exc: BaseException) -> str:
    """Exception type plus Pillow's text, unless that text could echo raw file bytes."""
    text = str(exc).strip()
    echoes_bytes = "\\x" in text or "b'" in text or 'b"' in text
    if not text or len(text) > 100 or echoes_bytes or not text.isprintable():
        return type(exc).__name__
    return f"{type(exc).__name__}: {text}"


# --------------------------------------------------------------------------------------------
# In-memory inputs


def _load_pil(img: Image.Image, max_pixels: int, working_max_side: int) -> LoadedImage:
    """A caller's PIL image: same guards and conversions as a file, without touching the caller's
    object (no draft: that would change it)."""
    fmt, mode = img.format, img.mode
    width, height = img.size
    _check_pixel_count(width, height, max_pixels, fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img.load()  # a lazily opened image may still fail here
            upright, swapped = _apply_orientation(img)
            rgb = _to_rgb(upright)
        except PhotocheckError as exc:
            if exc.code is ErrorCode.NOT_AN_IMAGE:  # unsupported mode: the caller's fault
                raise PhotocheckError(ErrorCode.INVALID_ARGUMENT, exc.message) from None
            raise
        except Exception as exc:
            raise _decode_failure(exc, fmt, None) from None
    original_size = (height, width) if swapped else (width, height)
    return _finish(rgb, original_size, working_max_side, fmt, mode)


def _load_array(arr: np.ndarray, max_pixels: int, working_max_side: int) -> LoadedImage:
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise PhotocheckError(
            ErrorCode.INVALID_ARGUMENT,
            f"array of shape {arr.shape} is not an image; "
            "expected HxW, HxWx3 (RGB) or HxWx4 (RGBA)",
        )
    if arr.size == 0:
        raise PhotocheckError(ErrorCode.INVALID_ARGUMENT, f"array of shape {arr.shape} is empty")
    height, width = arr.shape[:2]
    _check_pixel_count(width, height, max_pixels, None)  # before converting: bounds memory use
    pil = Image.fromarray(np.ascontiguousarray(_array_to_uint8(arr)))  # -> L, RGB or RGBA
    return _finish(_to_rgb(pil), (width, height), working_max_side, None, None)


def _array_to_uint8(arr: np.ndarray) -> np.ndarray:
    kind, size = arr.dtype.kind, arr.dtype.itemsize
    if kind == "u" and size == 1:
        return arr
    if kind == "u" and size == 2:
        return _sixteen_to_eight(arr)
    if kind == "f":
        if not np.isfinite(arr).all():
            raise PhotocheckError(
                ErrorCode.INVALID_ARGUMENT, "float array contains NaN or infinity"
            )
        scaled = np.clip(arr.astype(np.float32), 0.0, 1.0) * 255.0
        return np.rint(scaled).astype(np.uint8)
    raise PhotocheckError(
        ErrorCode.INVALID_ARGUMENT,
        f"array dtype {arr.dtype} is not supported; use uint8, uint16 or float in [0, 1]",
    )


# --------------------------------------------------------------------------------------------
# Shared steps


def _check_pixel_count(width: int, height: int, max_pixels: int, fmt: str | None) -> None:
    """Header-size guards, run before any pixel is decoded."""
    what = f"{fmt} image" if fmt else "image"
    if width * height > max_pixels:
        raise PhotocheckError(
            ErrorCode.TOO_LARGE,
            f"the {what} is {width}x{height} = {width * height} pixels, more than the limit of "
            f"{max_pixels}",
        )
    if min(width, height) < MIN_SIDE:
        raise PhotocheckError(
            ErrorCode.TOO_SMALL,
            f"the {what} is {width}x{height}; each side must be at least {MIN_SIDE} pixels",
        )


def _apply_orientation(img: Image.Image,
                       pixels: Image.Image | None = None) -> tuple[Image.Image, bool]:
    """Rotate/flip ``pixels`` (default: ``img`` itself) per ``img``'s EXIF Orientation tag;
    also say whether width and height swapped.

    The tag is read with the same ``getexif()`` call ``ImageOps.exif_transpose`` uses, and the
    same transposition is applied, so the reported swap always matches what was done. A damaged
    EXIF block that cannot even be parsed is ignored (image taken as upright) rather than
    rejecting a photo whose pixels are fine.
    """
    pixels = img if pixels is None else pixels
    try:
        orientation = img.getexif().get(_ORIENTATION_TAG, 1)
        transposition = _TRANSPOSITIONS.get(orientation)  # TypeError for an unhashable value
    except Exception:
        return pixels, False
    if transposition is None:
        return pixels, False
    return pixels.transpose(transposition), orientation in _SWAPPING_ORIENTATIONS


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB (see :func:`load_image` for the rules)."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in _SIXTEEN_BIT_MODES or mode == "I":
        # Pillow's own convert() clips these at 255, which turns most 16-bit photos white.
        values = np.asarray(img)
        if mode == "I":
            values = np.clip(values, 0, 65535)
        return Image.fromarray(_sixteen_to_eight(values)).convert("RGB")
    if mode == "F":
        values = np.nan_to_num(np.asarray(img), nan=0.0, posinf=255.0, neginf=0.0)
        grey = np.rint(np.clip(values, 0.0, 255.0)).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    try:
        if img.has_transparency_data:
            if mode == "La":  # premultiplied; Pillow cannot go La -> RGBA directly
                img = img.convert("LA")
            rgba = img.convert("RGBA")
            background = Image.new("RGBA", rgba.size, _BACKGROUND + (255,))
            return Image.alpha_composite(background, rgba).convert("RGB")
        return img.convert("RGB")
    except ValueError:  # "conversion from X to RGB not supported"
        raise PhotocheckError(
            ErrorCode.NOT_AN_IMAGE,
            f"the image uses colour mode {mode!r}, which cannot be converted to RGB",
        ) from None


def _sixteen_to_eight(values: np.ndarray) -> np.ndarray:
    """Map 0..65535 onto 0..255 as round(v / 257), so 65535 -> 255 and 32768 -> 128."""
    return ((values.astype(np.uint32) + 128) // 257).astype(np.uint8)


def _downscale(img: Image.Image, working_max_side: int) -> Image.Image:
    """Shrink so the longer side is ``working_max_side``; never enlarge."""
    width, height = img.size
    longer = max(width, height)
    if longer <= working_max_side:
        return img
    factor = working_max_side / longer
    size = (
        working_max_side if width == longer else max(1, round(width * factor)),
        working_max_side if height == longer else max(1, round(height * factor)),
    )
    # reducing_gap: integer box reduction first, then Lanczos: fast and visually identical.
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _finish(
    rgb: Image.Image,
    original_size: tuple[int, int],
    working_max_side: int,
    fmt: str | None,
    mode: str | None,
) -> LoadedImage:
    rgb = _downscale(rgb, working_max_side)
    array = np.array(rgb, dtype=np.uint8)  # a fresh, writable, C-contiguous copy
    if array.ndim != 3 or array.shape[2] != 3:  # pragma: no cover - guards our own conversions
        raise PhotocheckError(ErrorCode.INTERNAL, f"conversion produced shape {array.shape}")
    return LoadedImage(
        rgb=array,
        original_size=original_size,
        scale=array.shape[1] / original_size[0],
        format=fmt,
        mode=mode,
    )
