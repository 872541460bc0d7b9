"""A small evaluation on the real development portraits, when they are present.

The portraits live beside the checkout in ``../shared/data/portraits`` (or where
``PHOTOCHECK_PORTRAITS`` points) and are never copied into the project; without them these tests
skip. Each portrait is framed like a KTP photo (face box 160 px, half the width) and degraded as
in ``../shared/LABELS.md``; the floors below are the accuracy this version must keep, measured
when it was written (see the closing notes) with some margin. Calibration with cross-validation
by person is a separate, fuller evaluation.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import photocheck
from photocheck.evaluation.synth import degrade
from photocheck.schema import Decision, Reason

PORTRAITS = Path(os.environ.get(
    "PHOTOCHECK_PORTRAITS",
    Path(__file__).resolve().parents[2] / "shared" / "data" / "portraits"))
EYE_OUTLINE = [33, 133, 263, 362, 159, 145, 386, 374]

pytestmark = pytest.mark.skipif(not (PORTRAITS / "MANIFEST.csv").is_file(),
                                reason=f"no development portraits at {PORTRAITS}")


def _manifest() -> list[dict[str, str]]:
    with (PORTRAITS / "MANIFEST.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def checker():
    with photocheck.Checker() as c:
        yield c


@pytest.fixture(scope="module")
def framed(checker):
    """(tags, KTP-framed portrait, its eye box) for every sharp portrait with one face."""
    out = []
    for row in _manifest():
        tags = set(row["tags"].split(";"))
        if "noface" in tags or "lowres" in tags:  # a soft original is grey in LABELS.md
            continue
        rgb = np.asarray(Image.open(PORTRAITS / row["file"]).convert("RGB"))
        faces = checker._finder.detect(rgb)
        portrait, _ = degrade.normalise_portrait(rgb, faces[0].box, face_width=160)
        eyes = checker._finder.detect(portrait)[0].landmarks[EYE_OUTLINE, :2]
        (x0, y0), (x1, y1) = eyes.min(axis=0), eyes.max(axis=0)
        pad = 0.25 * (x1 - x0)
        out.append((tags, portrait, (x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad)))
    return out


def _rate(results, decision: Decision, reason: Reason | None = None) -> float:
    hits = [r.decision == decision and (reason is None or reason in r.reasons) for r in results]
    return sum(hits) / len(hits)


def test_clear_portraits_are_mostly_refused(checker, framed):
    results = [checker.check(degrade.jpeg(p, 85)) for _, p, _ in framed]
    assert _rate(results, Decision.ELIGIBLE) <= 0.06  # at most the two known below
    assert _rate(results, Decision.NOT_ELIGIBLE, Reason.CLEAR_PHOTO) >= 0.85


def test_clear_portraits_are_refused(checker, framed):
    results = [checker.check(degrade.jpeg(p, 85)) for _, p, _ in framed]
    assert _rate(results, Decision.ELIGIBLE) <= 0.02  # false eligible: the costly error


def test_hijab_is_never_occlusion(checker, framed):
    hijab = [p for tags, p, _ in framed if "hijab" in tags]
    assert hijab, "the manifest should tag hijab portraits"
    flagged = 0
    for portrait in hijab:
        result = checker.check(degrade.jpeg(portrait, 85))
        occlusion = [f for f in result.findings if f.reason is Reason.FACE_OCCLUDED]
        assert all(f.outcome == "review" for f in occlusion), result.measures
        flagged += bool(occlusion)
    # One of the eight sits on the review bound of face_occluded (0.069 against 0.0693) since
    # the LiteRT detector: a person looks, the hijab never makes the photo eligible.
    assert flagged <= 1


def test_blurred_portraits_are_eligible_as_blurry(checker, framed):
    results = [checker.check(degrade.jpeg(degrade.gaussian_blur(p, 3.5, face_width=160), 85))
               for _, p, _ in framed]
    assert _rate(results, Decision.ELIGIBLE, Reason.BLURRY) >= 0.95


def test_noise_does_not_rescue_blur(checker, framed):
    rng = np.random.default_rng(7)
    results = [checker.check(degrade.add_noise(degrade.gaussian_blur(p, 3.5, face_width=160), 8,
                                               rng=rng)) for _, p, _ in framed]
    assert _rate(results, Decision.ELIGIBLE, Reason.BLURRY) >= 0.9


def test_covered_eyes_are_eligible(checker, framed):
    results = [checker.check(degrade.jpeg(degrade.occlude_patch(p, eyes), 85))
               for _, p, eyes in framed]
    assert _rate(results, Decision.ELIGIBLE, Reason.FACE_OCCLUDED) >= 0.9


def test_images_without_a_face_are_eligible(checker):
    rows = [r for r in _manifest() if "noface" in r["tags"]]
    assert rows
    for row in rows:
        result = checker.check(PORTRAITS / row["file"])
        assert result.decision == Decision.ELIGIBLE, (row["file"], result.reasons)
        assert Reason.NO_FACE in result.reasons
