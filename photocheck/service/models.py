"""Response bodies of the HTTP API (pydantic models, so the OpenAPI schema documents them).

``POST /v1/check`` answers a :class:`CheckResponse`: the :class:`~photocheck.schema.Result`
exactly as ``photocheck check --json`` prints it, wrapped (never changed) with the same
verdict in words and the annotated photo, so that the page gets all it shows in one round trip.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..i18n import Language
from ..schema import Result


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExplainedReason(_Frozen):
    code: str = Field(description="Reason code, as in result.reasons")
    text: str = Field(description="The reason in plain words")
    evidence: list[str] = Field(description="Measured value against the policy threshold, "
                                            "e.g. 'Lebar kabur garis wajah 3,10 px > "
                                            "2,40 px'")


class ExplainedMeasure(_Frozen):
    name: str = Field(description="Measure name, as in result.measures")
    label: str = Field(description="Short label in the chosen language")
    value: float | None = Field(description="Raw value (unit in README.md); null if not "
                                            "assessed")
    display: str = Field(description="Value with its unit for a reader of lang, e.g. "
                                     "'1,62 px' (id), '1.62 px' (en), '48%', '142/255'")


class Explanation(_Frozen):
    """What a person reads: the result in words, in one language."""

    lang: Language
    verdict: str = Field(description="The decision in words")
    request: str = Field(description="The request reason in words")
    reasons: list[ExplainedReason]
    error: str | None = Field(description="Why the input could not be judged, in words; "
                                           "null unless the decision is error")
    measures: list[ExplainedMeasure] = Field(description="The key measures, in display order")


class Annotation(_Frozen):
    """The photo with the face box, landmarks and covered regions drawn, under a header band
    with the verdict (``photocheck check --annotate`` draws the same picture)."""

    media_type: Literal["image/png", "image/jpeg"] = Field(
        default="image/png", description="PNG unless the request asked for annotation_format "
                                         "jpeg")
    width: int = Field(description="px")
    height: int = Field(description="px")
    data: str = Field(description="The image file, base64-encoded")
    marks: list[str] = Field(default_factory=list,
                             description="The marks drawn (face_box, other_face, landmarks, "
                                         "covered, background, card, portrait_area); "
                                         "GET /v1/messages has a legend.<mark> line for each")


class CheckResponse(_Frozen):
    result: Result = Field(description="The result, exactly as `photocheck check --json` "
                                       "writes it (path is null: the photo was uploaded)")
    explanation: Explanation
    annotation: Annotation | None = Field(
        description="Null when annotate=false or the photo could not be judged")


class PolicyName(_Frozen):
    name: str
    version: str
    kind: str = Field(description="replacement (may the card's photo be replaced?) or capture "
                                  "(does a new photo meet the standard?)")


class Limits(_Frozen):
    max_upload_bytes: int = Field(description="Largest request body accepted, bytes (413 "
                                               "beyond)")
    max_pixels: int = Field(description="Largest image accepted, width x height in pixels "
                                        "(413 beyond)")


class Health(_Frozen):
    status: Literal["ok"] = "ok"
    version: str = Field(description="photocheck version")
    policy: PolicyName
    checkers: int = Field(description="Checks that can run at once")
    api_key_required: bool = Field(description="Whether /v1/check and /v1/policy need the "
                                               "X-API-Key header")
    limits: Limits


class PolicyRule(_Frozen):
    reason: str
    measure: str
    card_measure: str | None = Field(
        None, description="On a photo of a whole card, the measure the rule reads instead")
    unit: str
    needs_face: bool
    eligible_below: float | None
    eligible_above: float | None
    review_below: float | None
    review_above: float | None


class PolicyInfo(_Frozen):
    name: str
    version: str
    kind: str = Field(description="replacement or capture")
    description: str
    fitted_on: str = Field(description="How and on what the thresholds were fitted")
    rules: list[PolicyRule] = Field(description="Eligible beats review beats not_eligible")


class Messages(_Frozen):
    lang: Language
    messages: dict[str, str] = Field(description="Every user-facing text by key: decision.*, "
                                                 "reason.*, error.*, request.*, measure.*, "
                                                 "ui.*, page.*")


class Problem(_Frozen):
    detail: str
