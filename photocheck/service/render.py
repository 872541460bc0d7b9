"""Turn an :class:`~photocheck.pipeline.Inspection` into what the page shows: words and a picture.

The words come from :mod:`photocheck.i18n` and are formatted the way the annotation header
formats them (the same helpers), so the page, the picture and the CLI never disagree.
"""

from __future__ import annotations

import base64

import cv2
import numpy as np

from .. import i18n
from ..annotate import CAPTURE_KEY_MEASURES, KEY_MEASURES, annotate_marks
# The annotation's own wording of a value and of a finding; reused so the page says exactly
# what the picture's header says.
from ..annotate import _evidence as evidence_text
from ..annotate import _format as format_measure
from ..pipeline import Inspection
from ..policy import Policy
from ..schema import Decision, Result
from .models import Annotation, ExplainedMeasure, ExplainedReason, Explanation

#: Measures listed on the page and the decision slip: the annotation header's, plus the
#: motion-blur and detection numbers an officer asks about; a capture result lists its own.
PAGE_MEASURES: tuple[str, ...] = (*KEY_MEASURES, "edge_blur_max_px", "detection_confidence")
CAPTURE_PAGE_MEASURES: tuple[str, ...] = (*CAPTURE_KEY_MEASURES, "detection_confidence")

#: zlib level 1 and the "up" filter: about 3x faster than Pillow's adaptive filtering at
#: level 6 for a 600x1000 annotation, for a file about 15 % larger (it stays on this machine
#: or its LAN).
_PNG_PARAMS: list[int] = [cv2.IMWRITE_PNG_COMPRESSION, 1]
if hasattr(cv2, "IMWRITE_PNG_FILTER"):  # OpenCV >= 4.11
    _PNG_PARAMS += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP]
#: The page's picture: a 600x1000 annotation encodes in about 4 ms against 25 ms as PNG, at
#: half the size; the marks stay sharp at this quality.
JPEG_QUALITY = 90


def explain(result: Result, lang: str) -> Explanation:
    """The result in words in ``lang`` (``id`` or ``en``)."""
    reasons = [
        ExplainedReason(
            # A review verdict says which limit is close and what to look at on the card.
            code=reason.value, text=i18n.reason_sentence(reason, result.decision, lang),
            # The findings that made this decision (as on the annotation header).
            evidence=[evidence_text(f, lang) for f in result.findings
                      if f.reason is reason and f.outcome == result.decision.value])
        for reason in result.reasons
    ]
    measures = [
        ExplainedMeasure(name=name, label=i18n.measure_label(name, lang),
                         value=result.measures[name],
                         display=format_measure(name, result.measures[name], lang))
        for name in (CAPTURE_PAGE_MEASURES if result.policy.kind == "capture"
                     else PAGE_MEASURES)
        if name in result.measures
    ]
    error = None
    if result.error is not None:
        error = i18n.error_text(result.error.code, lang)
    return Explanation(lang=lang, verdict=i18n.decision_label(result.decision, lang),
                       request=i18n.request_label(result.request_reason, lang),
                       reasons=reasons, error=error, measures=measures)


def annotation(inspection: Inspection, policy: Policy, lang: str,
               image_format: str = "png", header: bool = True) -> Annotation | None:
    """The annotated photo, base64-encoded as ``png`` or ``jpeg``, with or without its text
    ``header``; None for an ``error`` result."""
    if inspection.result.decision is Decision.ERROR:
        return None
    drawn = annotate_marks(inspection, policy, lang=lang, header=header)
    if drawn is None:
        return None
    rgb, marks = drawn
    height, width = rgb.shape[:2]
    encoded = jpeg_bytes(rgb) if image_format == "jpeg" else png_bytes(rgb)
    return Annotation(media_type=f"image/{image_format}", width=width, height=height,
                      data=base64.b64encode(encoded).decode("ascii"),
                      marks=list(marks))


def png_bytes(rgb: np.ndarray) -> bytes:
    """Encode an HxWx3 uint8 RGB array as PNG."""
    return _encode(rgb, ".png", _PNG_PARAMS)


def jpeg_bytes(rgb: np.ndarray) -> bytes:
    """Encode an HxWx3 uint8 RGB array as JPEG (quality :data:`JPEG_QUALITY`)."""
    return _encode(rgb, ".jpg", [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])


def _encode(rgb: np.ndarray, extension: str, params: list[int]) -> bytes:
    ok, encoded = cv2.imencode(extension, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:  # pragma: no cover - OpenCV fails only on unsupported arrays
        raise RuntimeError(f"{extension} encoding failed")
    return encoded.tobytes()
