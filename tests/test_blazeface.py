"""photocheck.blazeface: the LiteRT BlazeFace gives the faces MediaPipe's FaceDetector task gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from photocheck.blazeface import BlazeFace, anchor_centres, weighted_nms
from photocheck.detect import DETECTOR_MODEL, FaceFinder, FaceFinderOptions, models_dir
from photocheck.load import load_image

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_anchor_layout_of_the_short_range_model():
    anchors = anchor_centres()
    assert anchors.shape == (896, 2)
    # 16x16 cells of 2 anchors, then 8x8 cells of 6 (three stride-16 layers share one map)
    assert np.allclose(anchors[0], [0.5 / 16, 0.5 / 16]) and np.allclose(anchors[1], anchors[0])
    assert np.allclose(anchors[512], [0.5 / 8, 0.5 / 8])
    assert np.allclose(anchors[512:518], anchors[512])
    assert np.allclose(anchors[-1], [7.5 / 8, 7.5 / 8])


def test_weighted_nms_merges_overlaps_and_keeps_the_best_score():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.6, 0.7], np.float32)
    keypoints = np.zeros((3, 6, 2), np.float32)
    keypoints[1] += 10
    faces = weighted_nms(boxes, scores, keypoints)
    assert [score for _, score, _ in faces] == pytest.approx([0.9, 0.7])
    merged_box, _, merged_keypoints = faces[0]
    assert merged_box == pytest.approx([0.4, 0, 10.4, 10])  # 0.6 and 0.4 weights
    assert merged_keypoints[0] == pytest.approx([4, 4])
    assert faces[1][0] == pytest.approx(boxes[2])


def _as_mediapipe_reports(box):
    """MediaPipe's box: whole pixels, and an origin outside the image moved onto its edge
    (keeping the size). photocheck keeps the fraction and the true origin."""
    x, y, w, h = box
    x, y = max(int(x), 0), max(int(y), 0)
    return np.array([x, y, x + int(w), y + int(h)], np.float64)


def _iou(a, b):
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


@pytest.fixture(scope="module")
def both():
    litert = FaceFinder.create_from_options(FaceFinderOptions(landmarks=False))
    reference = FaceFinder.create_from_options(FaceFinderOptions(landmarks=False,
                                                                 detector="mediapipe"))
    yield litert, reference
    litert.close()
    reference.close()


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.jpg")))
def test_same_faces_as_the_mediapipe_task(both, name):
    rgb = load_image(SAMPLES / name, max_pixels=60_000_000, working_min_side=300,
                     working_max_side=1600).rgb
    ours, theirs = (finder.detect(rgb) for finder in both)
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs):
        assert mine.score == pytest.approx(reference.score, abs=0.01)
        assert _iou(_as_mediapipe_reports(mine.box), _as_mediapipe_reports(reference.box)) > 0.95
        assert np.abs(mine.keypoints - reference.keypoints).max() < 0.02 * max(rgb.shape)


def test_nothing_below_the_confidence_floor():
    detector = BlazeFace(models_dir() / DETECTOR_MODEL, min_confidence=0.99)
    flat = np.full((300, 200, 3), 128, np.uint8)
    assert detector.detect(flat) == []
    detector.close()
