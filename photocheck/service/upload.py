"""Read a ``multipart/form-data`` upload into memory, refusing it as soon as it is too big.

FastAPI's ``UploadFile`` spools parts over 1 MiB to a temporary file and reads the whole body
before a route sees it. A KTP photo is personal data and the limit must hold while the bytes
arrive, so the service parses the stream itself (with python-multipart, which Starlette uses
too): nothing touches the disk, and a body over the limit is refused after at most one chunk
past it, or before a byte is read when ``Content-Length`` already says so.

The body must also keep a pace (:class:`UploadPace`): a client that stops sending, or trickles
a byte now and then, is cut with 408 instead of holding a slot (and its memory) for ever.
Form fields other than the image are short words and must be plain ASCII: a Unicode digit such
as ``²`` passes ``str.isdigit`` but not ``int``.

The part's file name and content type are ignored: the pipeline sniffs the bytes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

import anyio

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from ..errors import ErrorCode

#: Name of the form part that carries the photo.
IMAGE_FIELD = "image"
#: Form parts other than the image hold a short word ("hijab", "en", "true").
MAX_FIELD_BYTES = 256
#: At most this many parts; a form with more is not from our page or a sane client.
MAX_PARTS = 16


class UploadRejected(Exception):
    """The request cannot be read as an upload; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class UploadStalled(Exception):
    """The client sends its body too slowly, or not at all: answer 408 and close."""


@dataclass(frozen=True)
class UploadPace:
    """How slowly a body may arrive: no gap longer than ``idle_timeout_s`` seconds, and after
    ``grace_s`` seconds at least ``min_bytes_per_s`` bytes per second on average."""

    idle_timeout_s: float
    min_bytes_per_s: int
    grace_s: float


@dataclass
class Upload:
    """The image bytes (None when the form had no ``image`` part) and the text fields."""

    image: bytes | None = None
    fields: dict[str, str] = field(default_factory=dict)


def content_length(headers: Mapping[str, str]) -> int | None:
    """The declared body length, or None when absent or unreadable (chunked uploads)."""
    value = headers.get("content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def too_large(max_bytes: int) -> UploadRejected:
    return UploadRejected(413, ErrorCode.TOO_LARGE,
                          f"the upload exceeds the limit of {max_bytes} bytes "
                          f"({max_bytes / 2**20:.1f} MiB)")


async def read_upload(content_type: str | None, declared_length: int | None,
                      chunks: AsyncIterator[bytes], *, max_bytes: int,
                      pace: UploadPace | None = None) -> Upload:
    """Parse a multipart body from ``chunks`` with at most ``max_bytes`` bytes in all, arriving
    at ``pace`` (no limit when None).

    Raises :class:`UploadRejected`: 413 over the limit, 415 when the body is not
    ``multipart/form-data``, 422 for a malformed form; :class:`UploadStalled` when the body
    arrives too slowly.
    """
    media_type, options = parse_options_header(content_type or "")
    if media_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise UploadRejected(415, ErrorCode.INVALID_ARGUMENT,
                             "send the photo as multipart/form-data with a part named "
                             f"'{IMAGE_FIELD}'")
    if declared_length is not None and declared_length > max_bytes:
        raise too_large(max_bytes)

    reader = _FormReader()
    try:
        parser = MultipartParser(options[b"boundary"], reader.callbacks())
        received = 0
        async for chunk in (chunks if pace is None else paced(chunks, pace)):
            received += len(chunk)
            if received > max_bytes:
                raise too_large(max_bytes)
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise UploadRejected(422, ErrorCode.INVALID_ARGUMENT,
                             f"the form data is malformed ({exc})") from None
    if not reader.complete:
        raise UploadRejected(422, ErrorCode.INVALID_ARGUMENT,
                             "the form data ends early (no closing boundary)")
    return reader.upload


async def paced(chunks: AsyncIterator[bytes], pace: UploadPace) -> AsyncIterator[bytes]:
    """``chunks`` as they come, raising :class:`UploadStalled` as soon as the pace is broken."""
    started = anyio.current_time()
    received = 0
    iterator = chunks.__aiter__()
    while True:
        # ``received`` bytes keep the average above the floor until ``rate_deadline``.
        rate_deadline = started + pace.grace_s + received / pace.min_bytes_per_s
        wait = min(pace.idle_timeout_s, rate_deadline - anyio.current_time())
        if wait <= 0:
            raise UploadStalled(f"the upload is slower than {pace.min_bytes_per_s} bytes/s")
        chunk = None
        with anyio.move_on_after(wait):  # never around the yield: the caller's code is not ours
            try:
                chunk = await iterator.__anext__()
            except StopAsyncIteration:
                return
        if chunk is None:
            raise UploadStalled(f"no data for {wait:.1f} s: the upload stalled")
        received += len(chunk)
        yield chunk


class _FormReader:
    """python-multipart callbacks that collect the parts in memory, within the limits."""

    def __init__(self) -> None:
        self.upload = Upload()
        self.complete = False
        self._parts = 0
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition = b""
        self._name: str | None = None
        self._data = bytearray()

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise UploadRejected(422, ErrorCode.INVALID_ARGUMENT,
                                 f"the form has more than {MAX_PARTS} parts")
        self._disposition, self._name, self._data = b"", None, bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if bytes(self._header_name).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name, self._header_value = bytearray(), bytearray()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name")
        if name is None:
            raise UploadRejected(422, ErrorCode.INVALID_ARGUMENT,
                                 "a form part has no name (Content-Disposition)")
        self._name = name.decode("utf-8", errors="replace")
        if self._name == IMAGE_FIELD and self.upload.image is not None:
            raise UploadRejected(422, ErrorCode.INVALID_ARGUMENT,
                                 f"send one '{IMAGE_FIELD}' part, not several")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._data += data[start:end]
        if self._name != IMAGE_FIELD and len(self._data) > MAX_FIELD_BYTES:
            raise UploadRejected(422, ErrorCode.INVALID_ARGUMENT,
                                 f"form field '{self._name}' is longer than {MAX_FIELD_BYTES} "
                                 "bytes")

    def _part_end(self) -> None:
        if self._name == IMAGE_FIELD:
            self.upload.image = bytes(self._data)
        elif self._name is not None:
            try:
                self.upload.fields[self._name] = self._data.decode("ascii").strip()
            except UnicodeDecodeError:
                raise UploadRejected(422, ErrorCode.INVALID_ARGUMENT,
                                     f"form field {self._name!r} must be plain ASCII text"
                                     ) from None
        self._data = bytearray()

    def _end(self) -> None:
        self.complete = True
