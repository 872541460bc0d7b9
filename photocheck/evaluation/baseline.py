"""The naive method most tutorials use, so photocheck can be compared with it on the same set.

Recipe, implemented as published:

* **Blur**: variance of the Laplacian of the *whole* greyscale image at its original size,
  blurry when below a fixed threshold of 100 -- Adrian Rosebrock, "Blur detection with OpenCV",
  pyimagesearch, 7 September 2015 (``cv2.Laplacian(gray, cv2.CV_64F).var()``, after Pech-Pacheco
  et al. 2000).
* **Face presence**: OpenCV's Viola-Jones Haar cascade ``haarcascade_frontalface_default.xml``
  (from ``cv2.data.haarcascades``) with the tutorial defaults ``detectMultiScale(gray,
  scaleFactor=1.1, minNeighbors=5, minSize=(30, 30))`` -- OpenCV "Cascade Classifier" / face
  detection tutorial.
* **Decision**: no face -> ``eligible`` (``no_face``); Laplacian variance < threshold ->
  ``eligible`` (``blurry``); otherwise ``not_eligible`` (``clear_photo``). Both reasons are
  listed when both fire (``no_face`` first), as photocheck lists every rule that fires. There is
  no ``review`` band.

Why the threshold is not face-normalised (and why that is the baseline's weakness): the Laplacian
is a 3x3 second-derivative filter, so its variance depends on how many pixels an edge spans, not
only on how sharp the photograph is. Upscaled 2x, an edge spans twice as many pixels and its
Laplacian falls with the square of that width, so the variance drops by up to 16x (the test
portrait goes from about 1000 to about 100); a high-resolution scan of a sharp card falls below 100 while a small, sharp
thumbnail passes. It also measures the whole frame -- background, clothes, card texture, JPEG
noise -- rather than the face, and it grows with image contrast and noise. The tutorial's 100 was
chosen by eye on its own sample photos; it carries no unit that transfers to ID portraits.
photocheck instead measures edge width on a face crop normalised to a canonical face width.

Inputs are loaded with :func:`photocheck.load.load_image` at full resolution (no JPEG draft
decoding, no downscaling) so EXIF orientation, colour modes and unreadable inputs are handled
exactly as in photocheck; an unreadable input gives an ``error`` result, never an exception.
"""

from __future__ import annotations

import logging
import math
import os

import cv2
import numpy as np

from photocheck import __version__
from photocheck.errors import ErrorCode, PhotocheckError
from photocheck.load import ImageSource, load_image
from photocheck.schema import (Decision, ErrorInfo, FaceInfo, Finding, ImageInfo, PolicyRef,
                               Reason, Result)

log = logging.getLogger(__name__)

#: Decompression-bomb guard: the shipped policy's ``processing.max_pixels``.
MAX_PIXELS = 60_000_000
#: Working-size limits larger than any accepted image: no draft decoding, no resampling.
_NO_REDUCTION = 1 << 30

CASCADE = "haarcascade_frontalface_default.xml"
POLICY = PolicyRef(name="naive-baseline", version="laplacian>=100+haar")


class NaiveBaseline:
    """Haar face presence + whole-image variance of the Laplacian, fixed threshold.

    Holds one loaded cascade; not safe to share between threads (create one per thread).
    """

    def __init__(self, *, threshold: float = 100.0) -> None:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
                or not math.isfinite(threshold) or threshold < 0:
            raise ValueError(f"threshold must be a finite number >= 0, got {threshold!r}")
        self.threshold = float(threshold)
        self._cascade = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, CASCADE))
        if self._cascade.empty():  # pragma: no cover - broken OpenCV install
            raise RuntimeError(f"cannot load {CASCADE} from {cv2.data.haarcascades}")

    def check(self, source: ImageSource, *, path: str | None = None) -> Result:
        """Judge one image (a path, encoded bytes, an RGB array or a PIL image)."""
        if path is None and isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
        try:
            return self._check(source, path)
        except PhotocheckError as exc:
            return _error(path, exc.code, exc.message)
        except Exception as exc:  # a bug: report it for this input, keep the batch alive
            log.exception("internal error while checking %s", path or "<in-memory image>")
            return _error(path, ErrorCode.INTERNAL, f"internal error: {type(exc).__name__}: {exc}")

    def _check(self, source: ImageSource, path: str | None) -> Result:
        image = load_image(source, max_pixels=MAX_PIXELS, working_min_side=_NO_REDUCTION,
                           working_max_side=_NO_REDUCTION)
        # Same grey as the tutorials' cv2.imread + COLOR_BGR2GRAY (our array is RGB).
        grey = cv2.cvtColor(image.rgb, cv2.COLOR_RGB2GRAY)
        variance = float(cv2.Laplacian(grey, cv2.CV_64F).var())
        boxes = self._cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5,
                                               minSize=(30, 30))
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)

        findings = []
        if len(boxes) == 0:
            findings.append(Finding(reason=Reason.NO_FACE, outcome="eligible",
                                    measure="haar_faces", value=0.0, threshold=1.0,
                                    comparison="<"))
        if variance < self.threshold:
            findings.append(Finding(reason=Reason.BLURRY, outcome="eligible",
                                    measure="laplacian_variance_whole", value=variance,
                                    threshold=self.threshold, comparison="<"))
        if findings:
            decision, reasons = Decision.ELIGIBLE, tuple(f.reason for f in findings)
        else:
            decision, reasons = Decision.NOT_ELIGIBLE, (Reason.CLEAR_PHOTO,)

        face = None
        if len(boxes):
            largest = boxes[np.argmax(boxes[:, 2] * boxes[:, 3])]
            # Haar gives a yes/no detection, no calibrated score: confidence is reported as 1.
            face = FaceInfo(box=tuple(round(float(v) / image.scale, 1) for v in largest),
                            confidence=1.0, landmarks=False)
        return Result(
            path=path, decision=decision, reasons=reasons, findings=tuple(findings),
            measures={"laplacian_variance_whole": variance, "haar_faces": float(len(boxes))},
            face=face,
            image=ImageInfo(width=image.original_size[0], height=image.original_size[1],
                            format=image.format),
            policy=POLICY, version=__version__,
        )


def _error(path: str | None, code: ErrorCode, message: str) -> Result:
    return Result(path=path, decision=Decision.ERROR, reasons=(), policy=POLICY,
                  version=__version__, error=ErrorInfo(code=code, message=message))
