"""Card mode end to end: Checker on synthetic photos of whole cards
(photocheck.evaluation.synth.cards).

The card's own text tells a blurry printed photo (eligible) from a blurry shot (retake); the
portrait path is untouched for ordinary photos.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from photocheck import Checker, Decision, ErrorCode, Reason
from photocheck.evaluation.synth import cards as cardsynth
from photocheck.annotate import annotate
from photocheck.card import quad_iou
from photocheck.cli import app

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_a_sharp_card_with_a_sharp_print_is_not_eligible(checker, seed):
    photo = cardsynth.blurry_print_photo(seed, print_blur_mm=0.0)
    result = checker.check(photo.rgb)
    assert (result.decision, result.reasons) == (Decision.NOT_ELIGIBLE, (Reason.CLEAR_PHOTO,))
    assert result.card is not None
    found = np.array(result.card.corners)
    assert quad_iou(found, photo.card_corners) > 0.95
    assert quad_iou(np.array(result.card.portrait_corners), photo.portrait_corners) > 0.9
    assert result.card.text_blur_mm < 0.12


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_blurry_printed_photo_in_a_sharp_shot_is_eligible(checker, seed):
    result = checker.check(cardsynth.blurry_print_photo(seed).rgb)
    assert result.decision == Decision.ELIGIBLE and Reason.BLURRY in result.reasons
    assert result.card.portrait_blur_mm > 3 * result.card.text_blur_mm  # the print, not the shot


def test_the_softness_of_printing_is_not_blur_but_a_blurry_photo_printed_is(checker):
    """A clean card whose portrait's raw edge blur is past the blurry bound only because it is
    printed and photographed is not eligible; a photo blurry before printing (LABELS.md's
    Gaussian 2.6) on the same card is."""
    sharp_shot = dict(tilt_deg=8.0, fill=0.85, blur_px=0.3, laminate_glare=0.0, shadow=0.0)
    clean = checker.check(cardsynth.card_photo(60_002, design={"portrait": "astronaut"},
                                               **sharp_shot).rgb)
    assert clean.measures["edge_blur_px"] > 2.3  # the raw measure alone would say blurry
    assert clean.decision == Decision.NOT_ELIGIBLE, clean.findings
    assert clean.measures["card_portrait_blur_px"] < 2.14
    blurry = checker.check(cardsynth.card_photo(
        60_002, design={"portrait": "astronaut", "photo_blur": 2.6}, **sharp_shot).rgb)
    assert blurry.decision == Decision.ELIGIBLE and Reason.BLURRY in blurry.reasons
    assert any(f.measure == "card_portrait_blur_px" and f.outcome == "eligible"
               for f in blurry.findings)
    # The same blur is taken out of both: the print and the shot are the same.
    assert blurry.measures["card_added_blur_px"] == pytest.approx(
        clean.measures["card_added_blur_px"], rel=0.05)


@pytest.mark.parametrize("blur", [0.0, 2.6])
def test_a_card_too_small_in_the_photo_asks_for_a_retake_not_a_verdict(checker, blur):
    """A card filling a fifth of the frame prints its face across about 20 px: too little to
    judge, the shot's fault (it was judged eligible for no_face before)."""
    photo = cardsynth.card_photo(70_002, design={"photo_blur": blur}, fill=0.2, tilt_deg=5.0,
                                 blur_px=0.3, laminate_glare=0.0, shadow=0.0)
    result = checker.check(photo.rgb)
    assert result.card is not None
    assert (result.decision, result.error.code) == (Decision.ERROR, ErrorCode.RETAKE)
    assert "printed face spans" in result.error.message


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_blurry_shot_of_a_card_asks_for_a_retake(checker, seed):
    result = checker.check(cardsynth.blurry_shot_photo(seed).rgb)
    assert result.decision == Decision.ERROR and result.error.code == ErrorCode.RETAKE
    assert result.card is not None  # the card was found: the shot, not the card, is the problem
    assert result.reasons == ()


@pytest.mark.parametrize("seed", [0, 4])
def test_glare_hiding_both_eyes_is_card_damage(checker, seed):
    result = checker.check(cardsynth.damaged_card_photo(seed, "glare", at="eyes",
                                                        portrait="grace_hopper").rgb)
    assert result.decision == Decision.ELIGIBLE
    assert Reason.CARD_DAMAGED in result.reasons
    assert any(f.measure == "card_eyes_damaged" and f.outcome == "eligible"
               for f in result.findings)
    assert result.measures["card_eyes_damaged"] > 0.5


@pytest.mark.parametrize("kind", ["glare", "peel", "scratches"])
def test_damage_beside_the_face_is_not_card_damage(checker, kind):
    """LABELS.md: glare, peeling or scratches in the background hide nothing of the face."""
    result = checker.check(cardsynth.damaged_card_photo(1, kind, at="background",
                                                        portrait="grace_hopper").rgb)
    assert result.card is not None
    assert Reason.CARD_DAMAGED not in result.reasons
    assert not any(f.reason == Reason.CARD_DAMAGED for f in result.findings)
    assert result.measures["card_eyes_damaged"] < 0.3


@pytest.mark.parametrize("seed", [1, 2, 3, 5, 6, 8])
def test_a_clean_washed_out_or_bright_skinned_card_is_not_card_damaged(checker, seed):
    """Bright skin clips like glare, and used to count as laminate glare over the photo; only
    damage that hides a feature counts now. (Other reasons are the face check's business.)"""
    photo = cardsynth.light_background_photo(seed, design={"skin_highlight": 0.8,
                                                            "print_fade": 0.5})
    result = checker.check(photo.rgb)
    assert result.card is not None, photo.conditions()
    assert result.measures["card_glare_fraction"] > 0.0  # clipped skin is there ...
    assert not any(f.reason == Reason.CARD_DAMAGED for f in result.findings)  # ... and hides
    assert result.measures["card_eyes_damaged"] < 0.3  # no eye
    assert result.measures["card_nose_mouth_damaged"] < 0.4


def test_ordinary_photos_never_take_the_card_path(checker):
    for path in sorted(SAMPLES.glob("*.jpg")):
        auto, portrait = checker.check(path), checker.check(path, card=False)
        assert auto.card is None, path.name
        assert auto.model_dump(exclude={"path"}) == portrait.model_dump(exclude={"path"})


def test_forced_card_mode_without_a_card_and_for_a_capture_policy(checker):
    result = checker.check(SAMPLES / "astronaut_clear.jpg", card=True)
    assert (result.decision, result.error.code) == (Decision.ERROR, ErrorCode.NO_CARD)
    with Checker("capture") as capture:
        refused = capture.check(cardsynth.blurry_print_photo(0).rgb, card=True)
    assert refused.error.code == ErrorCode.INVALID_ARGUMENT


def test_card_annotation_shows_the_card_beside_the_portrait(checker):
    inspection = checker.inspect(cardsynth.blurry_print_photo(1).rgb)
    drawn = annotate(inspection, checker.policy)
    portrait_only = annotate(inspection.__class__(inspection.result, inspection.image,
                                                  inspection.context), checker.policy)
    # The header is taller by the legend lines of the card's two outlines.
    assert drawn.shape[0] > portrait_only.shape[0]
    assert drawn.shape[1] > portrait_only.shape[1] + 100  # the card panel on the left
    photo_rows = min(200, portrait_only.shape[0] // 2)  # the portrait, below either header
    assert (drawn[-photo_rows:, -portrait_only.shape[1]:] == portrait_only[-photo_rows:]).all()


def test_cli_card_options(tmp_path):
    from PIL import Image

    path = tmp_path / "kartu.jpg"
    Image.fromarray(cardsynth.blurry_shot_photo(0).rgb).save(path, quality=92)
    runner = CliRunner()
    retake = runner.invoke(app, ["check", "--json", "--lang", "en", str(path)])
    assert retake.exit_code == 1 and '"retake"' in retake.output
    as_portrait = runner.invoke(app, ["check", "--json", "--no-card", str(path)])
    assert '"retake"' not in as_portrait.output and '"card": null' in as_portrait.output
