"""Feature visibility (photocheck.visibility): descriptors, the shipped model, synthetic
occluders and their labels, the training pieces, and what the policy makes of them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photocheck import Checker, Decision, ErrorCode, Reason
from photocheck.detect import VISIBILITY_MODEL, FaceFinder, models_dir
from photocheck.evaluation import occluders
from photocheck.evaluation.synth import degrade
from photocheck.evaluation.score import wilson
from photocheck.evaluation.visibility_train import fit_logistic, reliability
from photocheck.visibility import (FEATURES, DESCRIPTOR_SIZE, VisibilityModel, lbp_histogram,
                                   patch_descriptor)

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
RECORD = Path(__file__).resolve().parent.parent / "models" / "visibility.json"


@pytest.fixture(scope="module")
def checker():
    with Checker() as c:
        yield c


@pytest.fixture(scope="module")
def astronaut():
    rgb = np.asarray(Image.open(SAMPLES / "astronaut_clear.jpg").convert("RGB"))
    with FaceFinder.create_from_options() as finder:
        points = finder.detect(rgb)[0].landmarks
    return rgb, points


def _patch(seed: int, kind: str = "eye") -> np.ndarray:
    width, height = DESCRIPTOR_SIZE[kind]
    rng = np.random.default_rng(seed)
    return rng.integers(40, 200, (height, width, 3), dtype=np.uint8)


def test_descriptor_ignores_brightness_and_contrast_of_the_gradient_part():
    patch = _patch(0)
    darker = (patch.astype(np.float32) * 0.5).astype(np.uint8)
    a, b = patch_descriptor(patch, "eye"), patch_descriptor(darker, "eye")
    hog = len(a) - 12  # HOG, then 10 LBP bins and 2 contrast ratios
    # HOG is normalised per block: halving every level changes it by rounding only.
    assert np.abs(a[:hog] - b[:hog]).mean() < 0.02
    assert np.abs(a[-2:] - b[-2:]).max() < 0.05  # contrast relative to the mean
    assert not np.allclose(patch_descriptor(_patch(1), "eye"), a)


def test_lbp_histogram_is_a_distribution_and_flat_patches_are_uniform():
    grey = _patch(2)[..., 0]
    histogram = lbp_histogram(grey)
    assert histogram.shape == (10,) and histogram.sum() == pytest.approx(1.0)
    flat = lbp_histogram(np.full((20, 20), 90, np.uint8))
    assert flat[8] == pytest.approx(1.0)  # every neighbour >= centre: all ones


def test_shipped_model_matches_its_training_record():
    model = VisibilityModel.load(models_dir() / VISIBILITY_MODEL)
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    assert model.sha256 == record["sha256"]
    assert record["excluded_source"] is None
    # Trained only on the licensed sources named in data/real/README.md.
    assert {i["source"].split(":")[0] for i in record["inputs"]} <= {
        "debruine/webmorphR.stim", "voteview/member_photos"}
    assert not any(i["source"].startswith("voteview/member_photos:images/wiki/")
                   for i in record["inputs"])


def test_clear_sample_features_are_visible(checker):
    result = checker.check(SAMPLES / "astronaut_clear.jpg")
    for name in FEATURES:
        assert 0.0 <= result.measures[f"{name}_covered"] < 0.3, name
    assert result.decision is Decision.NOT_ELIGIBLE


def test_eyes_covered_sample_is_not_visible(checker):
    result = checker.check(SAMPLES / "astronaut_eyes_covered.jpg")
    assert result.measures["eyes_covered"] > 0.5
    assert result.decision is Decision.ELIGIBLE
    assert Reason.FACE_OCCLUDED in result.reasons


@pytest.mark.parametrize("kind, expect", [
    ("mask", "nose_mouth_covered"), ("niqab", "nose_mouth_covered"),
    ("sunglasses", "eyes_covered")])
def test_textured_occluders_of_unseen_styles_are_found(checker, astronaut, kind, expect):
    rgb, points = astronaut
    pool = occluders.TexturePool({}, occluders.TEST_STYLES)  # styles never trained on
    hits = 0
    for seed in range(4):
        shown = occluders.occlude(rgb, points, kind, np.random.default_rng(seed), pool)
        result = checker.check(shown.rgb)
        hits += result.decision is Decision.ELIGIBLE
    assert hits >= 3, f"{kind}: {hits}/4 judged eligible"


@pytest.mark.parametrize("kind", ["clear_glasses", "headscarf", "closed_eyes", "expression"])
def test_look_alikes_are_not_occlusion(checker, astronaut, kind):
    rgb, points = astronaut
    for seed in range(3):
        shown = occluders.occlude(rgb, points, kind, np.random.default_rng(seed))
        assert not shown.alpha.any()
        result = checker.check(shown.rgb)
        assert result.decision is not Decision.ELIGIBLE, (kind, seed, result.reasons)


@pytest.mark.parametrize("kind", occluders.EXPRESSIONS)
def test_expressions_change_only_the_mouth_and_cover_nothing(astronaut, kind):
    rgb, points = astronaut
    out, alpha = occluders.expression(rgb, points, np.random.default_rng(0), None, kind=kind)
    assert not alpha.any()
    ys, xs = np.nonzero(np.abs(out.astype(np.int16) - rgb).max(axis=2) > 12)
    assert len(ys) > 0
    lips = points[list(occluders.UPPER_OUTER_LIP + occluders.LOWER_OUTER_LIP), :2]
    reach = 0.25 * occluders._face_scale(points)
    assert xs.min() > lips[:, 0].min() - reach and xs.max() < lips[:, 0].max() + reach
    assert ys.min() > lips[:, 1].min() - reach and ys.max() < lips[:, 1].max() + reach


def test_pressed_lips_are_thinner(astronaut):
    rgb, points = astronaut
    pressed, _ = occluders.expression(rgb, points, np.random.default_rng(1), None,
                                      kind="pressed_lips")
    with FaceFinder.create_from_options() as finder:
        found = finder.detect(pressed)[0].landmarks
    height = lambda p: p[17, 1] - p[0, 1]  # noqa: E731 - outer lip height, middle
    assert height(found) < 0.8 * height(points)


def test_bared_teeth_are_light_with_dark_gaps_between_the_lips():
    skin = np.full((60, 120, 3), (150, 100, 80), np.uint8)
    xs = np.linspace(20, 100, 9)
    upper = np.stack([xs, 30 - 8 * np.sin(np.linspace(0, np.pi, 9))], axis=1)
    lower = np.stack([xs, 30 + 10 * np.sin(np.linspace(0, np.pi, 9))], axis=1)
    out = occluders._teeth(skin, upper, lower, 200.0, np.random.default_rng(0))
    under_upper_lip = out[24:32, 45:75].astype(np.int16)  # the upper row is always drawn
    light = (under_upper_lip.mean(axis=2) > 130) & (np.ptp(under_upper_lip, axis=2) < 70)
    assert light.mean() > 0.6
    assert (out[24:38, 45:75].mean(axis=2) < 100).any()  # between teeth, or the mouth inside
    assert np.array_equal(out[:10], skin[:10])  # nothing painted outside the lips


def test_half_shut_lids_leave_the_lower_part_of_the_eye(astronaut):
    rgb, points = astronaut

    def changed(image: np.ndarray) -> np.ndarray:
        return np.abs(image.astype(np.int16) - rgb).max(axis=2) > 12

    shut = changed(degrade.close_eyes(rgb, points, ("right",)))
    half = changed(degrade.close_eyes(rgb, points, ("right",), closed=0.5))
    assert 0 < half.sum() < shut.sum()
    lower_lid_row = int(points[145, 1])  # the lower lid's middle: shut covers it, half does not
    column = int(points[145, 0])
    assert shut[lower_lid_row - 2: lower_lid_row, column - 2: column + 3].any()
    assert not half[lower_lid_row - 2: lower_lid_row, column - 2: column + 3].all()


def test_coverage_labels_follow_what_the_occluder_hides(astronaut):
    rgb, points = astronaut
    rng = np.random.default_rng(5)
    masks = [occluders.feature_coverage(occluders.occlude(rgb, points, "mask", rng).alpha, points)
             for _ in range(6)]
    assert all(m["mouth"] >= 0.6 and max(m["right_eye"], m["left_eye"]) <= 0.15 for m in masks)
    # A mask may sit below the nose (then the nose shows): the label says so, not the kind.
    assert any(min(m["nose"], m["mouth"]) >= 0.6 for m in masks)
    glasses = occluders.feature_coverage(
        occluders.occlude(rgb, points, "sunglasses", rng).alpha, points)
    assert min(glasses["right_eye"], glasses["left_eye"]) >= 0.6
    assert max(glasses["nose"], glasses["mouth"]) <= 0.15


def test_occluders_are_reproducible(astronaut):
    rgb, points = astronaut
    a = occluders.occlude(rgb, points, "hand", np.random.default_rng(9))
    b = occluders.occlude(rgb, points, "hand", np.random.default_rng(9))
    assert np.array_equal(a.rgb, b.rgb)


def test_logistic_fit_separates_and_is_deterministic():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(-1, 1, (200, 5)), rng.normal(1, 1, (200, 5))]).astype(np.float32)
    y = np.repeat([0, 1], 200).astype(np.int8)
    model = fit_logistic(x, y, penalty=1.0)
    accuracy = ((model.probability(x) >= 0.5) == y).mean()
    assert accuracy > 0.9
    again = fit_logistic(x, y, penalty=1.0)
    assert np.array_equal(model.weights, again.weights)
    assert fit_logistic(x, y, penalty=1e4).weights.std() < model.weights.std()


def test_reliability_table_counts_every_prediction():
    p = np.array([0.05, 0.1, 0.55, 0.95, 0.97])
    y = np.array([0, 0, 1, 1, 1])
    table = reliability(p, y)
    assert sum(row["n"] for row in table) == 5
    assert table[-1]["observed"] == 1.0


def test_wilson_interval_contains_the_rate_and_narrows_with_n():
    low, high = wilson(9, 10)
    assert low < 0.9 < high
    low2, high2 = wilson(90, 100)
    assert high2 - low2 < high - low
    assert wilson(0, 0) is None


def test_tiny_original_is_blurry_not_an_error(checker):
    face = np.asarray(Image.open(SAMPLES / "astronaut_clear.jpg").convert("RGB"))
    tiny = np.asarray(Image.fromarray(face).resize((27, 36), Image.LANCZOS))
    result = checker.check(tiny)
    assert result.decision is Decision.ELIGIBLE
    assert Reason.BLURRY in result.reasons
    speck = np.asarray(Image.fromarray(face).resize((12, 12)))
    assert checker.check(speck).error.code is ErrorCode.TOO_SMALL


def test_replacement_result_reports_every_feature(checker):
    result = checker.check(SAMPLES / "astronaut_clear.jpg")
    for name in ("eyes_covered", "nose_mouth_covered", "features_covered",
                 "feature_covered_max", *(f"{f}_covered" for f in FEATURES)):
        assert result.measures[name] is not None, name


def test_a_model_for_another_descriptor_is_refused_at_load(tmp_path):
    from photocheck.visibility import LogisticModel, save_model

    wrong = LogisticModel(mean=np.zeros(3, np.float32), scale=np.ones(3, np.float32),
                          weights=np.zeros(3, np.float32), bias=0.0)
    path = tmp_path / "wrong.npz"
    save_model(path, {"eye": wrong, "nose": wrong, "mouth": wrong}, {})
    with pytest.raises(ValueError, match="retrain"):
        VisibilityModel.load(path)


def test_real_photo_tags_give_per_feature_labels_only_where_they_are_sure():
    from photocheck.evaluation.score import Label
    from photocheck.evaluation.visibility_report import weak_labels

    def label(value, family, *tags):
        return Label(file="x.jpg", path=Path("x.jpg"), label=value, reason_family=family,
                     tags=tags)

    assert weak_labels(label("not_eligible", "", "hijab")) == dict.fromkeys(FEATURES, 0)
    assert weak_labels(label("eligible", "face_not_visible", "mask")) == {
        "nose": 1, "mouth": 1, "right_eye": 0, "left_eye": 0}
    both = weak_labels(label("eligible", "face_not_visible", "mask", "sunglasses"))
    assert set(both.values()) == {1}
    assert weak_labels(label("eligible", "face_not_visible", "hand")) == {}
    assert weak_labels(label("eligible", "face_not_visible", "mask", "clear_mask")) == {}
    assert weak_labels(label("eligible", "blurry", "lowres")) == {}
