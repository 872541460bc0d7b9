"""Resource limits: what photocheck refuses to read or decode, separate from the verdict policy.

    >>> limits = Limits.load()            # the shipped limits.toml, or $PHOTOCHECK_LIMITS
    >>> limits.max_image_bytes            # doctest: +SKIP
    67108864

The policy decides verdicts; the limits bound the memory and time one input may take (a huge
file, a decompression bomb in an image or an archive). An input over a limit is an ``error``
result with code ``too_large``, never a crash and never a verdict. The numbers live in the
versioned ``photocheck/limits.toml``; a site replaces them with its own file (every key, its
own ``version``) named by the environment variable :data:`LIMITS_ENV` or passed to
:meth:`Limits.load`.

One :class:`Limits` is used alike by ``photocheck check`` and the Python API (through
:class:`~photocheck.pipeline.Checker`: bytes of a file, pixels), ``photocheck batch`` (the
parent while listing archives and manifests and hashing for resume, and every worker, local or
Dask: the object is handed to them, it is small, frozen and picklable), ``photocheck report``
(thumbnails) and the service. The checks themselves are here too, so that every reader refuses
the same way: :meth:`Limits.check_image_bytes`, :meth:`Limits.check_member`,
:meth:`Limits.check_pixels`, and :func:`read_at_most` / :func:`chunks_at_most`, which never
read more than the limit plus one byte, whatever a header declared.
"""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import BinaryIO

from .errors import ErrorCode, PhotocheckError

#: Environment variable naming a limits TOML file that replaces the shipped one.
LIMITS_ENV = "PHOTOCHECK_LIMITS"
#: Bytes read at a time when streaming (hashing, archive members): bounds memory per read.
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Resource limits (see ``photocheck/limits.toml`` for why each value). Units in names."""

    version: str
    #: Encoded bytes of one image (a file, an archive member).
    max_image_bytes: int
    #: Width x height of one image, from its header, before decoding.
    max_pixels: int
    #: Uncompressed / compressed bytes of one zip member ...
    max_member_compression_ratio: float
    #: ... checked for members declaring more than this many uncompressed bytes (a small flat
    #: image compresses very well and is harmless).
    ratio_checked_above_bytes: int
    #: Members of one zip or tar archive.
    max_archive_members: int
    #: Rows of one CSV manifest.
    max_manifest_rows: int

    @classmethod
    def load(cls, source: str | os.PathLike | None = None) -> Limits:
        """Limits from a TOML file; None: the file named by ``$PHOTOCHECK_LIMITS`` if set, else
        the shipped defaults (read once per process). Raises ValueError for a file that is not
        valid limits."""
        if source is None:
            return _configured(os.environ.get(LIMITS_ENV) or None)
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"cannot read the limits file {os.fspath(source)}: "
                             f"{exc.strerror or exc}") from None
        return cls.from_toml(text)

    @classmethod
    def from_toml(cls, text: str) -> Limits:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"invalid limits file: {exc}") from None
        names = [field.name for field in fields(cls)]
        unknown, missing = set(data) - set(names), set(names) - set(data)
        if unknown or missing:
            raise ValueError(f"invalid limits file: unknown key(s) {sorted(unknown)}, missing "
                             f"key(s) {sorted(missing)}")
        for name in names[1:]:
            value = data[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 or (
                    name != "max_member_compression_ratio" and not isinstance(value, int)):
                raise ValueError(f"invalid limits file: {name} must be a positive "
                                 f"{'number' if name.endswith('ratio') else 'integer'}, "
                                 f"got {value!r}")
        return cls(**{**data, "version": str(data["version"])})

    def check_image_bytes(self, size: int, shown: str) -> None:
        """Raise ``too_large`` when an image of ``size`` bytes (declared or read) is over the
        limit."""
        check_bytes(size, self.max_image_bytes, shown)

    def check_member(self, size: int, packed: int, shown: str) -> None:
        """Raise ``too_large`` for an archive member declaring ``size`` bytes uncompressed and
        ``packed`` compressed: over the byte limit, or compressed more than a photo can be."""
        self.check_image_bytes(size, shown)
        if (size > self.ratio_checked_above_bytes
                and size > self.max_member_compression_ratio * max(packed, 1)):
            raise PhotocheckError(ErrorCode.TOO_LARGE, f"{shown} unpacks {_bytes(max(packed, 1))} "
                                  f"into {_bytes(size)}, more than "
                                  f"{self.max_member_compression_ratio:g} times (a decompression "
                                  "bomb?; max_member_compression_ratio)")

    def check_pixels(self, width: int, height: int, shown: str) -> None:
        """Raise ``too_large`` for an image of more than ``max_pixels`` pixels."""
        if width * height > self.max_pixels:
            raise PhotocheckError(ErrorCode.TOO_LARGE, f"{shown} is {width}x{height} pixels, "
                                  f"more than the limit of {self.max_pixels} (max_pixels)")


@functools.lru_cache(maxsize=4)
def _configured(source: str | None) -> Limits:
    if source is not None:
        return Limits.load(source)
    return Limits.from_toml(
        (resources.files("photocheck") / "limits.toml").read_text(encoding="utf-8"))


def check_bytes(size: int, max_bytes: int, shown: str) -> None:
    """Raise ``too_large`` when ``size`` bytes of one image are more than ``max_bytes``."""
    if size > max_bytes:
        raise PhotocheckError(ErrorCode.TOO_LARGE, f"{shown} is {_bytes(size)}, more than the "
                              f"limit of {_bytes(max_bytes)} per image (max_image_bytes)")


def chunks_at_most(stream: BinaryIO, max_bytes: int, shown: str,
                   size: int | None = None) -> Iterator[bytes]:
    """The bytes of ``stream`` in chunks of at most :data:`CHUNK_BYTES`, never more than
    ``max_bytes`` plus one read: ``too_large`` as soon as the stream passes ``max_bytes``.
    With ``size`` (what a header declared, at most ``max_bytes``), exactly that many bytes are
    expected: a stream that ends earlier is ``unreadable`` (the archive ends inside it)."""
    wanted = max_bytes + 1 if size is None else size
    seen = 0
    while seen < wanted:
        chunk = stream.read(min(CHUNK_BYTES, wanted - seen))
        if not chunk:
            break
        seen += len(chunk)
        check_bytes(seen, max_bytes, shown)
        yield chunk
    if size is not None and seen < size:
        raise PhotocheckError(ErrorCode.UNREADABLE,
                              f"{shown}: the archive ends inside this member")


def read_at_most(stream: BinaryIO, max_bytes: int, shown: str, size: int | None = None) -> bytes:
    """All of ``stream`` as :func:`chunks_at_most` reads it."""
    return b"".join(chunks_at_most(stream, max_bytes, shown, size))


def _bytes(count: float) -> str:
    """A byte count for a message: ``64 MiB``, ``3.0 GiB``, ``812 bytes``."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            value = count / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{count:.0f} bytes"
