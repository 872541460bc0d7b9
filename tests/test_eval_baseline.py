"""The naive tutorial baseline (Haar face + whole-image variance of the Laplacian < 100)."""

from __future__ import annotations

import io

import cv2
import jsonschema
import numpy as np
import pytest
from PIL import Image

import photocheck
from photocheck.errors import ErrorCode
from photocheck.evaluation.baseline import MAX_PIXELS, POLICY, NaiveBaseline
from photocheck.schema import Decision, Reason, Result


@pytest.fixture(scope="module")
def baseline() -> NaiveBaseline:
    return NaiveBaseline()


def checkerboard_with_detail(size: int = 256) -> np.ndarray:
    """16 px checkerboard plus a fine 1-px grid and seeded noise: plenty of sharp edges."""
    y, x = np.mgrid[:size, :size]
    grey = np.where(((x // 16) + (y // 16)) % 2 == 0, 200, 55).astype(np.float64)
    grey[(x % 5 == 0) & (y % 7 < 3)] = 128  # fine detail
    grey += np.random.default_rng(0).normal(0, 4, grey.shape)
    grey = np.clip(grey, 0, 255).astype(np.uint8)
    return np.dstack([grey] * 3)


def jpeg_bytes(rgb: np.ndarray, **kwargs) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=95, **kwargs)
    return buf.getvalue()


def validate(result: Result) -> None:
    jsonschema.validate(result.to_dict(), photocheck.json_schema())


def test_sharp_checkerboard_passes_and_its_blurred_copy_is_blurry(baseline):
    sharp = checkerboard_with_detail()
    blurred = cv2.GaussianBlur(sharp, (0, 0), sigmaX=3)
    sharp_var = baseline.check(sharp).measures["laplacian_variance_whole"]
    blurred_result = baseline.check(blurred)
    blurred_var = blurred_result.measures["laplacian_variance_whole"]
    assert sharp_var > 100 > blurred_var, (sharp_var, blurred_var)
    assert blurred_result.decision is Decision.ELIGIBLE
    assert Reason.BLURRY in blurred_result.reasons
    blurry = [f for f in blurred_result.findings if f.reason is Reason.BLURRY]
    assert blurry[0].threshold == 100 and blurry[0].value == pytest.approx(blurred_var)


def test_measure_is_the_pyimagesearch_formula(baseline):
    rgb = checkerboard_with_detail()
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    expected = cv2.Laplacian(grey, cv2.CV_64F).var()
    assert baseline.check(rgb).measures["laplacian_variance_whole"] == pytest.approx(expected)


def test_grace_hopper_has_a_haar_face_and_is_not_eligible(baseline, hopper_rgb):
    result = baseline.check(jpeg_bytes(np.ascontiguousarray(hopper_rgb)))
    assert result.measures["haar_faces"] >= 1
    assert result.decision is Decision.NOT_ELIGIBLE
    assert result.reasons == (Reason.CLEAR_PHOTO,)
    assert result.error is None and result.findings == ()
    assert result.policy == POLICY and result.version == photocheck.__version__
    assert (result.image.width, result.image.height) == (512, 600)
    x, y, w, h = result.face.box
    assert 0 <= x and 0 <= y and x + w <= 512 and y + h <= 600 and w >= 100
    validate(result)


def test_exif_orientation_is_applied_before_haar(baseline, hopper_rgb, tmp_path):
    # Stored on its side with Orientation=6 ("rotate 90 degrees clockwise to display").
    stored = np.ascontiguousarray(np.rot90(hopper_rgb))  # 90 degrees counter-clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "sideways.jpg"
    path.write_bytes(jpeg_bytes(stored, exif=exif))
    result = baseline.check(path)
    assert result.path == str(path)
    assert (result.image.width, result.image.height) == (512, 600)
    assert result.measures["haar_faces"] >= 1


def test_flat_image_is_eligible_no_face(baseline):
    result = baseline.check(np.full((400, 300, 3), 128, np.uint8))
    assert result.decision is Decision.ELIGIBLE
    assert result.reasons[0] is Reason.NO_FACE
    assert result.measures["haar_faces"] == 0
    assert result.face is None
    validate(result)


def test_truncated_jpeg_is_an_error_result(baseline, hopper_rgb, tmp_path):
    data = jpeg_bytes(np.ascontiguousarray(hopper_rgb))
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    result = baseline.check(path)
    assert result.decision is Decision.ERROR
    assert result.error.code is ErrorCode.TRUNCATED
    assert result.reasons == () and result.path == str(path)
    validate(result)


def test_missing_file_and_wrong_type_are_error_results(baseline, tmp_path):
    assert baseline.check(tmp_path / "nope.jpg").error.code is ErrorCode.FILE_NOT_FOUND
    assert baseline.check(42).error.code is ErrorCode.INVALID_ARGUMENT


def test_whole_image_laplacian_variance_depends_on_scale(baseline, hopper_rgb):
    """The same photo upscaled 2x: same sharpness to a viewer, a very different measure.
    photocheck normalises the face to a canonical width to avoid exactly this."""
    original = np.ascontiguousarray(hopper_rgb)
    h, w = original.shape[:2]
    upscaled = np.array(Image.fromarray(original).resize((2 * w, 2 * h),
                                                         Image.Resampling.BICUBIC))
    before = baseline.check(original).measures["laplacian_variance_whole"]
    after = baseline.check(upscaled).measures["laplacian_variance_whole"]
    ratio = after / before  # about 0.09 (1034 -> 88)
    assert ratio < 0.25, (before, after)
    # ... enough to turn a clear portrait into a "blurry" one at the tutorial threshold.
    assert before > 100 > after


def test_threshold_is_configurable_and_validated():
    rgb = checkerboard_with_detail()
    variance = NaiveBaseline().check(rgb).measures["laplacian_variance_whole"]
    stricter = NaiveBaseline(threshold=variance + 1).check(rgb)
    assert Reason.BLURRY in stricter.reasons
    for bad in (-1, float("nan"), float("inf"), "100", True):
        with pytest.raises(ValueError):
            NaiveBaseline(threshold=bad)


def test_max_pixels_matches_the_shipped_policy():
    assert MAX_PIXELS == photocheck.Policy.load().processing.max_pixels
