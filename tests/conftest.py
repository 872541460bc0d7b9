"""Shared fixtures: one checker and one face finder per session, KTP-framed test portraits.

The test portrait is the public-domain photograph of Grace Hopper shipped with matplotlib
(``matplotlib.cbook.get_sample_data("grace_hopper.jpg")``; US Navy photograph). It is framed like a
KTP photo with :func:`photocheck.evaluation.synth.degrade.normalise_portrait` (3:4, face box 50 % of
the width, eyes 40 % from the top) at the face width a test asks for, as ``LABELS.md`` describes. No
image is written to the repository.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

import photocheck
from photocheck.evaluation.synth import degrade
from photocheck.context import Context
from photocheck.detect import Face, FaceFinder, FaceFinderOptions
from photocheck.schema import Result


@dataclass(frozen=True)
class Portrait:
    """A KTP-framed portrait: ``rgb`` (HxWx3 uint8, a fresh copy) and the face ``box``
    (x, y, w, h) in its pixels, ``w == face_width``."""

    rgb: np.ndarray
    box: tuple[float, float, float, float]
    face_width: float


@pytest.fixture(scope="session")
def checker():
    """One checker with the shipped policy for the whole session (models load once)."""
    with photocheck.Checker() as shared:
        yield shared


@pytest.fixture(scope="session")
def finder():
    """A face finder of its own (not the checker's), closed at the end of the session."""
    with FaceFinder.create_from_options(FaceFinderOptions()) as own:
        yield own


@pytest.fixture(scope="session")
def hopper_rgb() -> np.ndarray:
    """The source photograph, RGB uint8 (read-only: degrade functions return copies)."""
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        rgb = np.array(Image.open(f).convert("RGB"))
    rgb.flags.writeable = False
    return rgb


@pytest.fixture(scope="session")
def hopper_face(finder, hopper_rgb) -> Face:
    faces = finder.detect(np.array(hopper_rgb))
    assert len(faces) == 1, "the source photograph should show exactly one face"
    return faces[0]


@pytest.fixture(scope="session")
def portrait(hopper_rgb, hopper_face) -> Callable[..., Portrait]:
    """``portrait(face_width=160)``: the source framed as a KTP photo with that face box width.

    The eyes are placed from the detector's eye keypoints (as ``samples/make_samples.py`` does).
    Each call returns a fresh copy of the pixels.
    """
    cache: dict[float, tuple[np.ndarray, tuple]] = {}
    eye_y = float(hopper_face.keypoints[:2, 1].mean())

    def make(face_width: float = 160) -> Portrait:
        if face_width not in cache:
            cache[face_width] = degrade.normalise_portrait(
                np.array(hopper_rgb), hopper_face.box, face_width=face_width, eye_y=eye_y)
        rgb, box = cache[face_width]
        return Portrait(rgb=rgb.copy(), box=tuple(float(v) for v in box),
                        face_width=float(face_width))

    return make


@pytest.fixture(scope="session")
def context_of(checker) -> Callable[[np.ndarray], Context]:
    """``context_of(rgb)``: the per-image context the checker builds (canonical face included)."""

    def build(rgb: np.ndarray) -> Context:
        inspection = checker.inspect(rgb)
        assert inspection.context is not None, describe(inspection.result)
        return inspection.context

    return build


@pytest.fixture(scope="session")
def params(checker):
    """Measure parameters of the shipped policy."""
    return checker.policy.measure_params


def describe(result: Result) -> str:
    """One line for assertion messages: decision, reasons, findings and every raw measure."""
    reasons = [r.value for r in result.reasons]
    findings = [f"{f.reason.value}:{f.measure}={f.value}{f.comparison}{f.threshold}->{f.outcome}"
                for f in result.findings]
    measures = {k: (None if v is None else round(v, 4)) for k, v in result.measures.items()}
    error = f" error={result.error.code.value}: {result.error.message}" if result.error else ""
    return (f"decision={result.decision.value} reasons={reasons} findings={findings} "
            f"measures={measures}{error}")


@pytest.fixture(scope="session")
def explain() -> Callable[[Result], str]:
    """``explain(result)``: a one-line description (measures included) for assertion messages."""
    return describe
