"""Result types: the stable JSON contract of the library, the CLI, batch files and the service.

The published JSON Schema (``photocheck schema`` / ``docs/result.schema.json``) is generated
from these models, so the two cannot drift apart. Changing a field is a schema change: bump
``SCHEMA_VERSION``.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import ErrorCode

SCHEMA_VERSION = "1.2"


class Decision(str, Enum):
    """The verdict: on a replacement request (policy kind ``replacement``: eligible,
    not_eligible) or on a new photo taken at the office (kind ``capture``: accepted, rejected);
    review and error for both."""

    ELIGIBLE = "eligible"  # replacement may be granted
    NOT_ELIGIBLE = "not_eligible"  # photo is clear: a request on it is aesthetic and refused
    REVIEW = "review"  # near a threshold or uncertain: a person decides
    ERROR = "error"  # the input could not be judged (see ``error``)
    ACCEPTED = "accepted"  # capture: the new photo meets the capture standard, print it
    REJECTED = "rejected"  # capture: the new photo has a defect, take it again


class Reason(str, Enum):
    """Fixed vocabulary of reason codes (documented in README.md)."""

    BLURRY = "blurry"
    NO_FACE = "no_face"
    FACE_OCCLUDED = "face_occluded"
    FACE_CUT_OFF = "face_cut_off"
    FACE_TOO_SMALL = "face_too_small"
    UNDEREXPOSED = "underexposed"
    OVEREXPOSED = "overexposed"
    LOW_CONTRAST = "low_contrast"
    MULTIPLE_FACES = "multiple_faces"
    CARD_DAMAGED = "card_damaged"  # glare, scratches or peeling on the card's photo area
    CLEAR_PHOTO = "clear_photo"
    POLICY_HIJAB = "policy_hijab"
    POLICY_APPEARANCE_CHANGE = "policy_appearance_change"
    POLICY_VERIFICATION_FAILED = "policy_verification_failed"
    # Capture profile (a new photo taken at the office).
    NOT_FRONTAL = "not_frontal"
    EYES_CLOSED = "eyes_closed"
    MOUTH_COVERED = "mouth_covered"
    BACKGROUND_NOT_UNIFORM = "background_not_uniform"
    BACKGROUND_COLOUR_MISMATCH = "background_colour_mismatch"
    BIRTH_YEAR_MISSING = "birth_year_missing"
    UNEVEN_LIGHTING = "uneven_lighting"
    STRONG_SHADOW = "strong_shadow"
    MEETS_CAPTURE_STANDARD = "meets_capture_standard"


class RequestReason(str, Enum):
    """Why the citizen asks for a new photo."""

    QUALITY = "quality"  # the photo is blurry or the face not visible: tested
    HIJAB = "hijab"  # now wears a hijab: eligible by policy
    APPEARANCE_CHANGE = "appearance_change"  # surgery, accident: eligible by policy
    VERIFICATION_FAILED = "verification_failed"  # face verification failed at a service

    @property
    def policy_reason(self) -> Reason | None:
        return _POLICY_REASONS.get(self)


_POLICY_REASONS = {
    RequestReason.HIJAB: Reason.POLICY_HIJAB,
    RequestReason.APPEARANCE_CHANGE: Reason.POLICY_APPEARANCE_CHANGE,
    RequestReason.VERIFICATION_FAILED: Reason.POLICY_VERIFICATION_FAILED,
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Finding(_Frozen):
    """One rule that fired: the evidence behind a reason."""

    reason: Reason
    outcome: Literal["eligible", "rejected", "review"] = Field(
        description="What the finding makes of the photo: eligible (replacement policy) or "
                    "rejected (capture policy) for a defect, review near a threshold")
    measure: str = Field(description="Name of the measure the rule tests")
    value: float | None = Field(description="Measured value; null when it could not be assessed")
    threshold: float | None = Field(description="The threshold crossed; null when not assessed")
    comparison: Literal["<", ">", "not_assessed"]


class FaceInfo(_Frozen):
    """The main face, in pixels of the original (EXIF-oriented) image."""

    box: tuple[float, float, float, float] = Field(description="x, y, width, height in px")
    confidence: float = Field(ge=0, le=1, description="Detector confidence")
    landmarks: bool = Field(description="Whether face landmarks were found")


class ImageInfo(_Frozen):
    width: int = Field(description="Original width after EXIF orientation, px")
    height: int = Field(description="Original height after EXIF orientation, px")
    format: str | None = Field(description="Decoder format name, null for in-memory arrays")


class ErrorInfo(_Frozen):
    code: ErrorCode
    message: str


class PolicyRef(_Frozen):
    name: str
    version: str
    kind: Literal["replacement", "capture"] = Field(
        default="replacement", description="What the policy judges: a replacement request on an "
                                           "existing card photo, or a new photo (capture)")


class CardInfo(_Frozen):
    """The card a photo or scan of a whole KTP-el showed, and where its portrait was cut from.

    In card mode the measures, ``face`` and ``image`` describe the portrait cut from the card
    (rectified, in its pixels); the card's corners are in pixels of the original image."""

    corners: tuple[tuple[float, float], ...] = Field(
        description="Card corners TL, TR, BR, BL (card upright), original image px")
    portrait_corners: tuple[tuple[float, float], ...] = Field(
        description="Corners of the portrait area TL, TR, BR, BL, original image px")
    confidence: float = Field(ge=0, le=1, description="Card detection score")
    px_per_mm: float = Field(description="Resolution of the rectified card the portrait was "
                                         "cut from, px per mm")
    text_blur_mm: float | None = Field(
        description="Edge blur of the card's printed text, mm: high means the shot is soft")
    portrait_blur_mm: float | None = Field(description="Edge blur of the portrait print, mm")


class BackgroundInfo(_Frozen):
    """The background of a capture photo: its colour class against the KTP-el rule."""

    colour: str | None = Field(
        description="Colour class of the background (a name from the policy, e.g. red, blue), "
                    "'other' when it is none of them; null when no background was seen")
    expected: str | None = Field(
        description="Colour the policy asks for this birth year (e.g. red for odd, blue for "
                    "even years); null when no birth year was given")


class Result(_Frozen):
    """The outcome of checking one image."""

    schema_version: str = SCHEMA_VERSION
    path: str | None = Field(default=None, description="Input path, when the input was a file")
    decision: Decision
    reasons: tuple[Reason, ...] = Field(description="Reason codes, most decisive first")
    findings: tuple[Finding, ...] = Field(default=(), description="Evidence for each reason")
    measures: dict[str, float | None] = Field(
        default_factory=dict, description="Raw measures by name (units in README.md)"
    )
    face: FaceInfo | None = None
    image: ImageInfo | None = None
    request_reason: RequestReason = RequestReason.QUALITY
    birth_year: int | None = Field(
        default=None, description="Holder's birth year as given (capture: picks the background "
                                  "colour); null when not given")
    background: BackgroundInfo | None = Field(
        default=None, description="Background colour assessment (capture policies only)")
    card: CardInfo | None = Field(
        default=None, description="The card, when the input was a photo or scan of a whole "
                                  "card (card mode); null for a portrait")
    policy: PolicyRef
    version: str = Field(description="photocheck version")
    error: ErrorInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict (enums as strings, tuples as lists)."""
        return self.model_dump(mode="json")

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        return cls.model_validate(data)

    @classmethod
    def from_json(cls, text: str) -> Result:
        return cls.model_validate_json(text)


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :class:`Result` as written by ``to_dict``."""
    schema = Result.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://photocheck.invalid/schema/result-{SCHEMA_VERSION}.json"
    return schema
