"""The pipeline end to end: inputs, errors, the one-call API, checker lifetime, and the decisions
of LABELS.md on a KTP-framed portrait degraded with photocheck.evaluation.synth.degrade.

Each decision test prints the result's measures when it fails (``explain``): a failure here is
a finding about the package's thresholds or measures, not a reason to loosen the assertion.
"""

from __future__ import annotations

import io
import math

import cv2
import numpy as np
import pytest
from PIL import Image

import photocheck
from photocheck import pipeline
from photocheck.errors import ErrorCode, PhotocheckError
from photocheck.evaluation.synth import degrade
from photocheck.schema import Decision, Reason, RequestReason

SMALL, LARGE = 110, 220
WIDTHS = pytest.mark.parametrize("face_width", [SMALL, LARGE])


def encode(rgb: np.ndarray, fmt: str = "PNG", **params) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **params)
    return buf.getvalue()


def reasons_of(result) -> set[Reason]:
    return set(result.reasons)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def test_every_input_kind_gives_the_same_result(checker, portrait, tmp_path, explain):
    rgb = portrait().rgb
    png = encode(rgb)
    path = tmp_path / "portrait.png"
    path.write_bytes(png)
    results = {
        "path": checker.check(path),
        "str path": checker.check(str(path)),
        "bytes": checker.check(png),
        "bytearray": checker.check(bytearray(png)),
        "ndarray": checker.check(rgb),
        "PIL": checker.check(Image.fromarray(rgb)),
    }
    reference = results["ndarray"]
    assert reference.decision is Decision.NOT_ELIGIBLE, explain(reference)
    for kind, result in results.items():
        assert result.decision == reference.decision, (kind, explain(result))
        assert result.reasons == reference.reasons, (kind, explain(result))
        assert result.measures == pytest.approx(reference.measures), (kind, explain(result))
        assert (result.image.width, result.image.height) == (rgb.shape[1], rgb.shape[0])
    assert results["path"].path == str(path)
    assert results["bytes"].path is None and results["ndarray"].path is None
    assert results["bytes"].image.format == "PNG" and results["ndarray"].image.format is None


def _truncated_jpeg(portrait) -> bytes:
    data = encode(portrait().rgb, "JPEG", quality=90)
    return data[: len(data) * 4 // 10]


@pytest.mark.parametrize(("label", "make", "code"), [
    ("missing path", lambda tmp, p: tmp / "missing.jpg", ErrorCode.FILE_NOT_FOUND),
    ("directory", lambda tmp, p: tmp, ErrorCode.UNREADABLE),
    ("empty bytes", lambda tmp, p: b"", ErrorCode.EMPTY),
    ("text bytes", lambda tmp, p: b"Nama: BUDI\nNIK: 3171234567890001\n" * 4,
     ErrorCode.NOT_AN_IMAGE),
    ("truncated JPEG", lambda tmp, p: _truncated_jpeg(p), ErrorCode.TRUNCATED),
    ("tiny image", lambda tmp, p: np.zeros((8, 8, 3), np.uint8), ErrorCode.TOO_SMALL),
    ("wrong type", lambda tmp, p: 42, ErrorCode.INVALID_ARGUMENT),
])
def test_bad_input_is_an_error_result_not_an_exception(checker, portrait, tmp_path, label, make,
                                                       code, explain):
    result = checker.check(make(tmp_path, portrait))
    assert result.decision is Decision.ERROR, explain(result)
    assert result.error is not None and result.error.code is code, explain(result)
    assert result.error.message
    assert result.reasons == () and result.findings == () and result.face is None
    assert result.policy.name == checker.policy.name


def test_missing_path_error_names_the_path(checker, tmp_path):
    missing = tmp_path / "missing.jpg"
    result = checker.check(missing)
    assert result.path == str(missing)
    assert "missing.jpg" in result.error.message


def test_unknown_request_reason_is_an_invalid_argument_error(checker, portrait):
    result = checker.check(portrait().rgb, reason="vanity")
    assert result.decision is Decision.ERROR
    assert result.error.code is ErrorCode.INVALID_ARGUMENT
    assert "vanity" in result.error.message and "hijab" in result.error.message


def test_request_reason_hijab_is_eligible_and_keeps_the_evidence(checker, portrait, explain):
    p = portrait()
    blurry = degrade.gaussian_blur(p.rgb, 3.5, face_width=p.face_width)
    result = checker.check(blurry, reason="hijab")
    assert result.decision is Decision.ELIGIBLE, explain(result)
    assert result.reasons == (Reason.POLICY_HIJAB,), explain(result)
    assert result.request_reason is RequestReason.HIJAB
    assert any(f.reason is Reason.BLURRY for f in result.findings), explain(result)
    assert result.measures["edge_blur_px"] is not None


@pytest.mark.parametrize(("request_reason", "policy_reason"), [
    (RequestReason.APPEARANCE_CHANGE, Reason.POLICY_APPEARANCE_CHANGE),
    (RequestReason.VERIFICATION_FAILED, Reason.POLICY_VERIFICATION_FAILED),
])
def test_policy_request_reasons_on_a_clear_photo(checker, portrait, request_reason,
                                                 policy_reason, explain):
    result = checker.check(portrait().rgb, reason=request_reason)
    assert (result.decision, result.reasons) == (Decision.ELIGIBLE, (policy_reason,)), (
        explain(result))


def test_request_reason_on_an_unreadable_input_is_still_an_error(checker):
    result = checker.check(b"", reason="hijab")
    assert result.decision is Decision.ERROR
    assert result.request_reason is RequestReason.HIJAB


# --------------------------------------------------------------------------------------------
# Checker lifetime and the one-call API
# --------------------------------------------------------------------------------------------


def test_one_call_check_works_and_reuses_its_checker(portrait, monkeypatch, explain):
    shared: dict = {}
    monkeypatch.setattr(pipeline, "_shared", shared)
    try:
        rgb = portrait().rgb
        first = photocheck.check(rgb)
        assert first.decision is Decision.NOT_ELIGIBLE, explain(first)
        assert len(shared) == 1
        (made,) = shared.values()
        second = photocheck.check(rgb, reason="hijab")
        assert second.reasons == (Reason.POLICY_HIJAB,)
        assert list(shared.values()) == [made]  # the same checker, not a new one
        assert second.measures == pytest.approx(first.measures)
    finally:
        for made in shared.values():
            made.close()


def test_checker_as_context_manager_closes(portrait):
    rgb = portrait().rgb
    with photocheck.Checker() as own:
        assert own.check(rgb).decision is Decision.NOT_ELIGIBLE
    # After close, a check must never produce a verdict: either it raises RuntimeError (a
    # programming error) or it returns an error result.
    try:
        result = own.check(rgb)
    except RuntimeError:
        pass
    else:
        assert result.decision is Decision.ERROR, result
    own.close()  # closing again is harmless


def test_checker_with_missing_models_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="face_detection_short_range.tflite"):
        photocheck.Checker(models=tmp_path)


# --------------------------------------------------------------------------------------------
# Geometry and resolution
# --------------------------------------------------------------------------------------------


def test_face_box_is_in_original_pixels(checker, portrait, explain):
    rgb = portrait().rgb
    small = checker.check(rgb)
    double = cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    large = checker.check(double)
    assert small.face is not None and large.face is not None, (explain(small), explain(large))
    width = small.face.box[2]
    for a, b in zip(small.face.box, large.face.box):
        assert b == pytest.approx(2 * a, abs=0.05 * 2 * width), (small.face.box, large.face.box)
    assert (large.image.width, large.image.height) == (2 * rgb.shape[1], 2 * rgb.shape[0])
    assert large.measures["face_width_px"] == pytest.approx(
        2 * small.measures["face_width_px"], rel=0.05)


def test_large_jpeg_is_decoded_reduced_with_the_same_verdict(checker, portrait, explain):
    rgb = portrait().rgb
    big = cv2.resize(rgb, (3000, 4000), interpolation=cv2.INTER_CUBIC)
    factor = 3000 / rgb.shape[1]
    small_result = checker.check(rgb)
    inspection = checker.inspect(encode(big, "JPEG", quality=92))
    big_result = inspection.result
    assert (big_result.image.width, big_result.image.height) == (3000, 4000)
    assert inspection.image.scale < 1, "a 3000x4000 JPEG should be decoded reduced"
    assert max(inspection.image.rgb.shape[:2]) < 4000
    assert big_result.decision == small_result.decision, (explain(small_result),
                                                          explain(big_result))
    assert big_result.reasons == small_result.reasons
    # Reported geometry is still in original pixels.
    for a, b in zip(small_result.face.box, big_result.face.box):
        assert b == pytest.approx(factor * a, abs=0.05 * factor * small_result.face.box[2])
    # Sharpness is judged on the canonical face, so the resolution does not matter much.
    assert big_result.measures["edge_blur_px"] == pytest.approx(
        small_result.measures["edge_blur_px"], abs=0.35), (explain(small_result),
                                                           explain(big_result))


# --------------------------------------------------------------------------------------------
# Decisions (LABELS.md)
# --------------------------------------------------------------------------------------------


@WIDTHS
@pytest.mark.parametrize("quality", [None, 70, 95])
def test_clear_portrait_is_not_eligible(checker, portrait, face_width, quality, explain):
    rgb = portrait(face_width).rgb
    source = rgb if quality is None else encode(rgb, "JPEG", quality=quality)
    result = checker.check(source)
    assert result.decision is Decision.NOT_ELIGIBLE, explain(result)
    assert result.reasons == (Reason.CLEAR_PHOTO,), explain(result)
    assert result.face is not None and result.face.landmarks
    assert all(v is not None for v in result.measures.values()), explain(result)


@WIDTHS
def test_noise_on_a_sharp_portrait_is_not_eligible(checker, portrait, face_width, explain):
    noisy = degrade.add_noise(portrait(face_width).rgb, 8, rng=np.random.default_rng(7))
    result = checker.check(noisy)
    assert result.decision is Decision.NOT_ELIGIBLE, explain(result)


@WIDTHS
@pytest.mark.parametrize("noise", [0, 8])
def test_gaussian_blur_is_eligible_blurry(checker, portrait, face_width, noise, explain):
    rgb = degrade.gaussian_blur(portrait(face_width).rgb, 3.5, face_width=face_width)
    if noise:
        rgb = degrade.add_noise(rgb, noise, rng=np.random.default_rng(7))
    result = checker.check(rgb)
    assert result.decision is Decision.ELIGIBLE, explain(result)
    assert Reason.BLURRY in reasons_of(result), explain(result)


def eye_box(finder, rgb: np.ndarray) -> tuple[float, float, float, float]:
    """Bounding box of both eyes' corner and lid landmarks, padded by 25 % of its width on each
    side and by 10 % of the face height above and below.

    A band hardly taller than the lids is a known blind spot (see the closing note of the core
    issue): the Face Mesh then guesses the hidden eyes a few px outside the band."""
    faces = finder.detect(rgb)
    assert faces and faces[0].landmarks is not None
    points = faces[0].landmarks[[33, 133, 263, 362, 159, 145, 386, 374], :2]
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    w, pad = x1 - x0, 0.1 * faces[0].box[3]
    return (x0 - 0.25 * w, y0 - pad, 1.5 * w, y1 - y0 + 2 * pad)


@WIDTHS
def test_grey_patch_over_both_eyes_is_eligible_face_occluded(checker, finder, portrait,
                                                              face_width, explain):
    rgb = portrait(face_width).rgb
    box = eye_box(finder, rgb)
    result = checker.check(degrade.occlude_patch(rgb, box))
    context = f"patch={tuple(round(float(v), 1) for v in box)} {explain(result)}"
    assert result.measures["eyes_occluded"] is not None, context
    assert result.measures["eyes_occluded"] > 0.5, context
    assert result.decision is Decision.ELIGIBLE, context
    assert Reason.FACE_OCCLUDED in reasons_of(result), context


@WIDTHS
@pytest.mark.parametrize("cheek", [50, 280])  # Face Mesh points on the right / left cheek
def test_small_patch_on_a_cheek_is_not_eligible(checker, finder, portrait, face_width, cheek,
                                                explain):
    rgb = portrait(face_width).rgb
    face = finder.detect(rgb)[0]
    side = math.sqrt(0.05 * face.box[2] * face.box[3])  # 5 % of the face box area
    cx, cy = face.landmarks[cheek, :2]
    box = (cx - side / 2, cy - side / 2, side, side)
    result = checker.check(degrade.occlude_patch(rgb, box))
    assert result.decision is Decision.NOT_ELIGIBLE, (
        f"patch={tuple(round(float(v), 1) for v in box)} {explain(result)}")


@WIDTHS
def test_very_dark_portrait_is_eligible_underexposed(checker, portrait, face_width, explain):
    result = checker.check(degrade.exposure(portrait(face_width).rgb, gain=0.18, gamma=1.4))
    assert result.decision is Decision.ELIGIBLE, explain(result)
    assert Reason.UNDEREXPOSED in reasons_of(result), explain(result)


@WIDTHS
def test_overexposed_portrait_is_eligible(checker, portrait, face_width, explain):
    p = portrait(face_width)
    result = checker.check(degrade.overexpose(p.rgb, p.box, 0.95))
    assert result.decision is Decision.ELIGIBLE, explain(result)
    # When the washed-out face is still found it is overexposed; otherwise there is no face.
    assert reasons_of(result) & {Reason.OVEREXPOSED, Reason.NO_FACE}, explain(result)


@WIDTHS
def test_faded_portrait_is_eligible_low_contrast(checker, portrait, face_width, explain):
    result = checker.check(degrade.fade(portrait(face_width).rgb, 0.15))
    assert result.decision is Decision.ELIGIBLE, explain(result)
    assert Reason.LOW_CONTRAST in reasons_of(result), explain(result)


@WIDTHS
@pytest.mark.parametrize("side", ["left", "right", "top", "bottom"])
def test_face_cut_off_by_the_frame_is_eligible(checker, portrait, face_width, side, explain):
    p = portrait(face_width)
    result = checker.check(degrade.cut_off(p.rgb, p.box, 0.55, side))
    assert result.decision is Decision.ELIGIBLE, explain(result)
    assert reasons_of(result) & {Reason.FACE_CUT_OFF, Reason.NO_FACE}, explain(result)


@pytest.mark.parametrize("colour", [(200, 30, 30), (30, 60, 180)])  # KTP red and blue
def test_flat_background_is_eligible_no_face(checker, colour, explain):
    result = checker.check(degrade.solid(321, 428, colour))
    assert (result.decision, result.reasons) == (Decision.ELIGIBLE, (Reason.NO_FACE,)), (
        explain(result))
    assert result.face is None
    assert result.measures["detection_confidence"] == 0.0
    assert [f.reason for f in result.findings] == [Reason.NO_FACE]


@WIDTHS
def test_two_portraits_side_by_side_need_review_for_multiple_faces(checker, portrait,
                                                                   face_width, explain):
    """The shipped policy documents multiple faces as a review band (face_count review_above)."""
    rgb = portrait(face_width).rgb
    result = checker.check(np.hstack([rgb, rgb]))
    assert result.measures["face_count"] == 2.0, explain(result)
    assert result.decision is Decision.REVIEW, explain(result)
    assert Reason.MULTIPLE_FACES in reasons_of(result), explain(result)


@pytest.mark.parametrize(("text", "year"), [("1990", 1990), (" 2001 ", 2001), (None, None)])
def test_birth_year_parses_ascii_digits(text, year):
    from photocheck.pipeline import parse_birth_year

    assert parse_birth_year(text) == year


@pytest.mark.parametrize("text", ["²", "١٩٩٠", "19x0", "", "1899", "02000"])
def test_birth_year_refuses_anything_else_as_invalid_argument(checker, text):
    from photocheck.pipeline import parse_birth_year

    with pytest.raises(PhotocheckError) as info:
        parse_birth_year(text)
    assert info.value.code is ErrorCode.INVALID_ARGUMENT
    result = checker.check(np.zeros((64, 64, 3), np.uint8), birth_year=text)
    assert result.error.code == "invalid_argument"  # an error result, never an exception
