"""Typed errors for inputs that cannot be judged.

Every error carries a stable ``code`` from :class:`ErrorCode`; the pipeline turns it into a
result with decision ``error`` instead of raising, so one bad file never stops a batch.
"""

from __future__ import annotations

from enum import Enum


class ErrorCode(str, Enum):
    """Why an input could not be judged. Values are part of the JSON schema."""

    FILE_NOT_FOUND = "file_not_found"
    UNREADABLE = "unreadable"  # exists but cannot be opened (directory, permissions, I/O error)
    EMPTY = "empty"  # zero bytes
    NOT_AN_IMAGE = "not_an_image"  # bytes that no supported decoder recognises
    TRUNCATED = "truncated"  # recognised format, data ends early
    CORRUPT = "corrupt"  # recognised format, data damaged
    TOO_LARGE = "too_large"  # more pixels than the decompression-bomb limit
    TOO_SMALL = "too_small"  # too few pixels to hold a judgeable face
    INVALID_ARGUMENT = "invalid_argument"  # wrong type, shape or dtype of an in-memory image
    RETAKE = "retake"  # a photo of a card too soft to judge: the card's own print is blurred
    NO_CARD = "no_card"  # card mode was asked for, and no card was found
    INTERNAL = "internal"  # a bug: an unexpected exception while checking


class PhotocheckError(Exception):
    """An input that cannot be judged, with a stable code and a human-readable message."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message

    def __repr__(self) -> str:
        return f"PhotocheckError({self.code.value!r}, {self.message!r})"
