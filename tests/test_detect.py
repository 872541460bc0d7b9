"""FaceFinder: one face with sane landmarks on the portrait, geometry that follows the image,
model lookup, and a lifetime that is safe to end twice."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from photocheck.evaluation.synth import degrade
from photocheck.detect import (DETECTOR_MODEL, LANDMARK_MODEL, FaceFinder, FaceFinderOptions,
                               models_dir)

RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263  # Face Mesh eye corners (subject's right / left)


def landmark_eye_angle(landmarks: np.ndarray) -> float:
    """Angle of the line between the outer eye corners, degrees (image y down)."""
    (rx, ry), (lx, ly) = landmarks[RIGHT_EYE_OUTER, :2], landmarks[LEFT_EYE_OUTER, :2]
    return math.degrees(math.atan2(ly - ry, lx - rx))


def angle_difference(a: float, b: float) -> float:
    """a - b in degrees, wrapped to (-180, 180]."""
    return (a - b + 180.0) % 360.0 - 180.0


@pytest.mark.parametrize("face_width", [110, 160, 220])
def test_one_face_with_landmarks_inside_the_portrait(finder, portrait, face_width):
    p = portrait(face_width)
    faces = finder.detect(p.rgb)
    assert len(faces) == 1, [f.box for f in faces]
    face = faces[0]
    height, width = p.rgb.shape[:2]
    assert 0.5 < face.score <= 1.0
    assert face.presence is not None and face.presence > 0.5
    assert face.landmarks is not None and face.landmarks.shape == (468, 3)
    assert np.isfinite(face.landmarks).all()
    xs, ys = face.landmarks[:, 0], face.landmarks[:, 1]
    assert xs.min() >= 0 and xs.max() < width and ys.min() >= 0 and ys.max() < height
    # The detector box matches the framing (normalise_portrait made it face_width wide).
    assert face.width == pytest.approx(face_width, rel=0.1)
    x, y, w, h = face.box
    assert xs.mean() == pytest.approx(x + w / 2, abs=0.15 * w)
    assert ys.mean() == pytest.approx(y + h / 2, abs=0.2 * h)


def test_eye_keypoints_are_ordered_and_near_the_mesh_eyes(finder, portrait):
    face = finder.detect(portrait().rgb)[0]
    assert face.keypoints.shape == (6, 2)
    (rx, ry), (lx, ly) = face.keypoints[0], face.keypoints[1]
    # The subject's right eye appears on the left of the image.
    assert rx < lx
    assert face.landmarks[RIGHT_EYE_OUTER, 0] < face.landmarks[LEFT_EYE_OUTER, 0]
    eye_distance = lx - rx
    right_mesh = face.landmarks[[33, 133], :2].mean(axis=0)
    left_mesh = face.landmarks[[263, 362], :2].mean(axis=0)
    assert np.linalg.norm(right_mesh - (rx, ry)) < 0.25 * eye_distance
    assert np.linalg.norm(left_mesh - (lx, ly)) < 0.25 * eye_distance
    assert abs(face.eye_angle) < math.radians(10)  # the portrait is upright


def test_faces_are_ordered_best_first(finder, portrait):
    big = portrait(220).rgb
    small = cv2.resize(big, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    canvas = np.full((big.shape[0], big.shape[1] + small.shape[1], 3), 255, np.uint8)
    canvas[:, : big.shape[1]] = big
    canvas[: small.shape[0], big.shape[1]:] = small
    faces = finder.detect(canvas)
    assert len(faces) == 2
    assert faces[0].box[0] < big.shape[1] <= faces[1].box[0]  # the large face first
    assert faces[0].width > faces[1].width


@pytest.mark.parametrize("angle", [20, -20])
def test_landmarks_follow_a_rotated_image(finder, portrait, angle):
    p = portrait(160)
    pad = int(p.face_width / 2)
    padded = cv2.copyMakeBorder(p.rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    height, width = padded.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    rotated = cv2.warpAffine(padded, matrix, (width, height), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
    (upright,) = finder.detect(padded)
    (turned,) = finder.detect(rotated)
    # cv2 turns the picture counter-clockwise on screen for a positive angle, and with y down
    # that makes the eye line's angle more negative by the same amount.
    landmark_turn = angle_difference(landmark_eye_angle(turned.landmarks),
                                     landmark_eye_angle(upright.landmarks))
    keypoint_turn = angle_difference(math.degrees(turned.eye_angle),
                                     math.degrees(upright.eye_angle))
    assert landmark_turn == pytest.approx(-angle, abs=3), (landmark_turn, keypoint_turn)
    assert keypoint_turn == pytest.approx(-angle, abs=4), (landmark_turn, keypoint_turn)
    # Every landmark moves with the image.
    expected = upright.landmarks[:, :2] @ matrix[:, :2].T + matrix[:, 2]
    error = np.linalg.norm(turned.landmarks[:, :2] - expected, axis=1)
    assert np.median(error) < 0.02 * upright.width, np.median(error)
    assert np.percentile(error, 95) < 0.05 * upright.width, np.percentile(error, 95)


def test_geometry_scales_with_the_image(finder, portrait):
    rgb = portrait(110).rgb
    small = finder.detect(rgb)[0]
    large = finder.detect(cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC))[0]
    assert large.width == pytest.approx(2 * small.width, rel=0.05)
    error = np.linalg.norm(large.landmarks[:, :2] - 2 * small.landmarks[:, :2], axis=1)
    assert np.median(error) < 0.03 * large.width


@pytest.mark.parametrize("colour", [(200, 30, 30), (30, 60, 180), (128, 128, 128)])
def test_no_face_in_a_flat_image(finder, colour):
    assert finder.detect(degrade.solid(321, 428, colour)) == []


def test_detect_does_not_modify_its_input(finder, portrait):
    rgb = portrait().rgb
    before = rgb.copy()
    finder.detect(rgb)
    np.testing.assert_array_equal(rgb, before)


def test_without_landmarks_option(portrait):
    with FaceFinder.create_from_options(FaceFinderOptions(landmarks=False)) as plain:
        (face,) = plain.detect(portrait().rgb)
    assert face.landmarks is None and face.presence is None
    assert face.keypoints.shape == (6, 2)


# --------------------------------------------------------------------------------------------
# Models and lifetime
# --------------------------------------------------------------------------------------------


def test_models_dir_honours_photocheck_models(monkeypatch, tmp_path):
    monkeypatch.setenv("PHOTOCHECK_MODELS", str(tmp_path))
    assert models_dir() == tmp_path


def test_default_models_dir_holds_both_models(monkeypatch):
    monkeypatch.delenv("PHOTOCHECK_MODELS", raising=False)
    folder = models_dir()
    assert (folder / DETECTOR_MODEL).is_file()
    assert (folder / LANDMARK_MODEL).is_file()


def test_missing_model_folder_is_a_helpful_file_not_found(tmp_path):
    missing = tmp_path / "no-models-here"
    with pytest.raises(FileNotFoundError) as info:
        FaceFinder.create_from_options(FaceFinderOptions(models=missing))
    message = str(info.value)
    assert DETECTOR_MODEL in message and str(missing) in message
    assert "README" in message  # says where to get the models


def test_missing_landmark_model_is_named(tmp_path, monkeypatch):
    """A folder with only the detector: the error names the file that is missing."""
    monkeypatch.delenv("PHOTOCHECK_MODELS", raising=False)
    (tmp_path / DETECTOR_MODEL).write_bytes((models_dir() / DETECTOR_MODEL).read_bytes())
    monkeypatch.setenv("PHOTOCHECK_MODELS", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=LANDMARK_MODEL):
        FaceFinder.create_from_options()


def test_closing_twice_is_harmless_and_detect_after_close_raises(portrait):
    own = FaceFinder.create_from_options()
    own.close()
    own.close()
    with pytest.raises(RuntimeError):
        own.detect(portrait().rgb)


def test_with_block_closes(portrait):
    with FaceFinder.create_from_options() as own:
        assert len(own.detect(portrait().rgb)) == 1
    with pytest.raises(RuntimeError):
        own.detect(portrait().rgb)
    own.close()


def test_models_folder_override_is_a_path(tmp_path):
    options = FaceFinderOptions(models=Path(tmp_path))
    with pytest.raises(FileNotFoundError):
        FaceFinder.create_from_options(options)
