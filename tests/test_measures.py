"""Measures: direction, face-size invariance and robustness, plus the pure helper functions.

Properties, not magic numbers (STYLE.md section 3): more blur is less sharp, the same face at
110 and 220 px measures alike, noise neither looks like blur nor rescues it, contrast does not
change the edge-blur estimate. Degradations follow LABELS.md (blur sizes in canonical units).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from photocheck.evaluation.synth import degrade
from photocheck.measures import (CORE_MEASURES, MEASURES, Spec, anomaly_map, edge_blur,
                                 fraction_at_or_above, laplacian_variance, masked_fraction,
                                 mean_level, measure_all, percentile_range,
                                 polygon_outside_fraction)

SHARPNESS = ("laplacian_variance", "edge_blur_px")
SHARP, BLURRY = 0.4, 2.6  # Gaussian sigma (canonical units) labelled sharp / clearly blurry
SMALL, LARGE = 110, 220  # face box widths at the ends of the KTP range


@pytest.fixture(scope="module")
def sharpness_of(context_of, params):
    """``sharpness_of(rgb)`` -> (laplacian_variance, edge_blur_px) of the canonical face."""

    def measure(rgb: np.ndarray) -> tuple[float, float]:
        values = measure_all(context_of(rgb), params, names=SHARPNESS)
        assert None not in values.values(), values
        return values["laplacian_variance"], values["edge_blur_px"]

    return measure


def edge_values(value) -> np.ndarray:
    """``edge_blur`` as an array: one value, or one per edge orientation (the function has
    returned both shapes); empty or NaN when there were no edges to judge."""
    return np.atleast_1d(np.asarray(value, dtype=float))


def blurred(portrait, face_width: float, sigma: float) -> np.ndarray:
    return degrade.gaussian_blur(portrait(face_width).rgb, sigma, face_width=face_width)


# --------------------------------------------------------------------------------------------
# Sharpness on canonical faces
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("face_width", [SMALL, 160, LARGE])
def test_sharpness_falls_monotonically_with_gaussian_blur(portrait, sharpness_of, face_width):
    sigmas = (0, 1, 2, 3, 4)
    values = [sharpness_of(blurred(portrait, face_width, s)) for s in sigmas]
    laplacian = [v[0] for v in values]
    edge = [v[1] for v in values]
    table = f"sigma={sigmas} laplacian_variance={laplacian} edge_blur_px={edge}"
    assert all(a > b for a, b in zip(laplacian, laplacian[1:])), table
    assert all(a < b for a, b in zip(edge, edge[1:])), table


def test_sharpness_is_stable_across_face_sizes(portrait, sharpness_of):
    small_lv, small_eb = sharpness_of(portrait(SMALL).rgb)
    large_lv, large_eb = sharpness_of(portrait(LARGE).rgb)
    table = (f"W={SMALL}: lv={small_lv:.2f} eb={small_eb:.3f}; "
             f"W={LARGE}: lv={large_lv:.2f} eb={large_eb:.3f}")
    assert abs(small_eb - large_eb) < 0.35, table
    assert max(small_lv, large_lv) / min(small_lv, large_lv) < 2.0, table


@pytest.mark.parametrize(("blurry_width", "sharp_width"), [(SMALL, LARGE), (LARGE, SMALL)])
def test_blurry_face_scores_worse_than_sharp_face_at_any_size(portrait, sharpness_of,
                                                              blurry_width, sharp_width):
    blurry_lv, blurry_eb = sharpness_of(blurred(portrait, blurry_width, BLURRY))
    sharp_lv, sharp_eb = sharpness_of(blurred(portrait, sharp_width, SHARP))
    table = (f"blurry (sigma {BLURRY}, W={blurry_width}): lv={blurry_lv:.2f} eb={blurry_eb:.3f}; "
             f"sharp (sigma {SHARP}, W={sharp_width}): lv={sharp_lv:.2f} eb={sharp_eb:.3f}")
    assert blurry_lv < sharp_lv, table
    # One threshold must separate them: the gap has to exceed the drift between face sizes
    # that test_sharpness_is_stable_across_face_sizes allows (0.35 px).
    assert blurry_eb > sharp_eb + 0.35, table


@pytest.mark.parametrize("face_width", [SMALL, LARGE])
def test_noise_on_a_sharp_face_does_not_look_blurry(portrait, sharpness_of, face_width):
    sharp = portrait(face_width).rgb
    noisy = degrade.add_noise(sharp, 8, rng=np.random.default_rng(20260101))
    (_, sharp_eb), (_, noisy_eb) = sharpness_of(sharp), sharpness_of(noisy)
    assert noisy_eb <= sharp_eb + 0.3, f"sharp eb={sharp_eb:.3f}, +noise 8 eb={noisy_eb:.3f}"


@pytest.mark.parametrize("face_width", [SMALL, LARGE])
def test_noise_does_not_rescue_blur(portrait, sharpness_of, face_width):
    sharp_lv, sharp_eb = sharpness_of(portrait(face_width).rgb)
    blur = blurred(portrait, face_width, 3.5)
    blur_lv, blur_eb = sharpness_of(blur)
    noisy_lv, noisy_eb = sharpness_of(
        degrade.add_noise(blur, 8, rng=np.random.default_rng(20260101)))
    table = (f"sharp lv={sharp_lv:.2f} eb={sharp_eb:.3f}; blur 3.5 lv={blur_lv:.2f} "
             f"eb={blur_eb:.3f}; blur 3.5 + noise 8 lv={noisy_lv:.2f} eb={noisy_eb:.3f}")
    # Noise may pull the values back a little, but less than half-way towards sharp.
    assert noisy_eb > (sharp_eb + blur_eb) / 2, table
    assert noisy_lv < math.sqrt(sharp_lv * blur_lv), table


@pytest.mark.parametrize("face_width", [SMALL, LARGE])
def test_halving_contrast_keeps_edge_blur_and_quarters_laplacian_variance(
        portrait, context_of, params, face_width):
    face = context_of(portrait(face_width).rgb).canonical
    assert face is not None
    mask = face.oval & face.inside
    grey = face.grey
    half = (grey.mean() + 0.5 * (grey - grey.mean())).astype(np.float32)
    edge_args = dict(fine_sigma=params["edge_fine_sigma"], coarse_sigma=params["edge_coarse_sigma"],
                     edge_fraction=params["edge_fraction"])
    full_eb = edge_values(edge_blur(grey, mask, **edge_args))
    half_eb = edge_values(edge_blur(half, mask, **edge_args))
    sigma = params["denoise_sigma"]
    full_lv = laplacian_variance(grey, mask, denoise_sigma=sigma)
    half_lv = laplacian_variance(half, mask, denoise_sigma=sigma)
    table = f"full: lv={full_lv:.2f} eb={full_eb}; half contrast: lv={half_lv:.2f} eb={half_eb}"
    assert full_eb.shape == half_eb.shape and full_eb.size, table
    assert np.abs(full_eb - half_eb).max() < 0.05, table
    assert 3.5 < full_lv / half_lv < 4.5, table


@pytest.mark.parametrize("face_width", [SMALL, LARGE])
def test_faded_photo_keeps_edge_blur(portrait, sharpness_of, face_width):
    """The same on real pixels (rounding, re-detection): a 50 % faded photo is not blurrier."""
    full_lv, full_eb = sharpness_of(portrait(face_width).rgb)
    half_lv, half_eb = sharpness_of(degrade.fade(portrait(face_width).rgb, 0.5))
    table = f"full: lv={full_lv:.2f} eb={full_eb:.3f}; fade 0.5: lv={half_lv:.2f} eb={half_eb:.3f}"
    assert abs(full_eb - half_eb) < 0.2, table
    assert 3.0 < full_lv / half_lv < 5.0, table


def test_flat_image_has_zero_laplacian_variance_and_is_not_sharp():
    grey = np.full((96, 96), 128.0, np.float32)
    mask = np.ones(grey.shape, bool)
    assert laplacian_variance(grey, mask, denoise_sigma=1.0) == 0.0
    assert laplacian_variance(grey, mask, denoise_sigma=0.0) == 0.0
    values = edge_values(edge_blur(grey, mask, fine_sigma=1.0, coarse_sigma=2.0,
                                   edge_fraction=0.1))
    assert all(math.isnan(v) or v >= 5.0 for v in values), values  # no edges, or very blurred


EDGE_ARGS = dict(fine_sigma=1.0, coarse_sigma=2.0, edge_fraction=0.1)
BLUR_SIGMAS = (1.0, 2.0, 3.0, 4.0)


def _edge_estimates(grey: np.ndarray) -> list[np.ndarray]:
    mask = np.zeros(grey.shape, bool)
    mask[8:88, 8:88] = True
    return [edge_values(edge_blur(cv2.GaussianBlur(grey, (0, 0), s), mask, **EDGE_ARGS))
            for s in BLUR_SIGMAS]


def _assert_reads(estimates: list[np.ndarray]) -> None:
    for s, values in zip(BLUR_SIGMAS, estimates):
        assert values.size, estimates
        assert values == pytest.approx(np.full(values.shape, s), abs=0.35), (s, estimates)


def test_edge_blur_recovers_the_blur_of_a_square():
    """Edges blurred by a Gaussian of sigma s read about s (the estimator's defining property)."""
    grey = np.full((96, 96), 40.0, np.float32)
    grey[28:68, 28:68] = 200.0
    estimates = _edge_estimates(grey)
    means = [float(v.mean()) for v in estimates]
    assert means == sorted(means), estimates
    _assert_reads(estimates)


def test_edge_blur_recovers_the_blur_of_a_single_straight_edge():
    """One vertical edge and flat surroundings: the flat area has no edges to judge, so it must
    not count as infinitely blurred edges of the other orientation."""
    grey = np.zeros((96, 96), np.float32)
    grey[:, 48:] = 200.0
    _assert_reads(_edge_estimates(grey))


# --------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------


def test_percentile_range():
    grey = np.linspace(0, 100, 101, dtype=np.float32).reshape(1, -1)
    everywhere = np.ones(grey.shape, bool)
    assert percentile_range(grey, everywhere, 5, 95) == pytest.approx(90.0)
    assert percentile_range(grey, everywhere, 0, 100) == pytest.approx(100.0)
    # Halving the contrast halves the range; a constant has none; an empty mask gives 0.
    assert percentile_range(grey * 0.5 + 20, everywhere, 5, 95) == pytest.approx(45.0)
    assert percentile_range(np.full_like(grey, 7), everywhere, 5, 95) == 0.0
    assert percentile_range(grey, np.zeros(grey.shape, bool), 5, 95) == 0.0
    # Only masked pixels count.
    low_half = grey <= 50
    assert percentile_range(grey, low_half, 0, 100) == pytest.approx(50.0)


def test_fraction_at_or_above():
    grey = np.array([[100.0, 244.0, 245.0, 250.0]], np.float32)
    everywhere = np.ones(grey.shape, bool)
    assert fraction_at_or_above(grey, everywhere, 245) == pytest.approx(0.5)  # inclusive
    assert fraction_at_or_above(grey, everywhere, 0) == 1.0
    assert fraction_at_or_above(grey, everywhere, 256) == 0.0
    assert fraction_at_or_above(grey, np.array([[True, True, False, False]]), 245) == 0.0
    assert fraction_at_or_above(grey, np.zeros(grey.shape, bool), 245) == 0.0


def test_mean_level():
    grey = np.array([[10.0, 20.0, 30.0, 200.0]], np.float32)
    assert mean_level(grey, np.ones(grey.shape, bool)) == pytest.approx(65.0)
    assert mean_level(grey, np.array([[True, True, True, False]])) == pytest.approx(20.0)
    assert math.isnan(mean_level(grey, np.zeros(grey.shape, bool)))


def test_masked_fraction():
    flags = np.zeros((10, 10), bool)
    flags[:, :3] = True
    mask = np.zeros((10, 10), bool)
    mask[:, :6] = True
    assert masked_fraction(flags, mask) == pytest.approx(0.5)
    assert masked_fraction(flags, ~mask) == 0.0
    assert masked_fraction(flags, flags) == 1.0
    assert masked_fraction(flags, np.zeros_like(mask)) == 0.0


def test_polygon_outside_fraction():
    square = np.array([[-10, 20], [10, 20], [10, 40], [-10, 40]], float)  # half left of x=0
    assert polygon_outside_fraction(square, 100, 100) == pytest.approx(0.5, abs=1e-6)
    inside = square + (50, 0)
    assert polygon_outside_fraction(inside, 100, 100) == pytest.approx(0.0, abs=1e-6)
    outside = square - (100, 0)
    assert polygon_outside_fraction(outside, 100, 100) == pytest.approx(1.0, abs=1e-6)
    corner = np.array([[90, 90], [110, 90], [110, 110], [90, 110]], float)  # 3/4 outside
    assert polygon_outside_fraction(corner, 100, 100) == pytest.approx(0.75, abs=1e-6)
    # Point order does not matter (the hull is taken).
    assert polygon_outside_fraction(square[::-1], 100, 100) == pytest.approx(0.5, abs=1e-6)
    assert polygon_outside_fraction(np.zeros((3, 2)), 100, 100) == 0.0  # degenerate


# --------------------------------------------------------------------------------------------
# Anomaly map (occlusion)
# --------------------------------------------------------------------------------------------

SKIN = (205, 150, 125)


def textured(colour, shape=(120, 120), sigma=12.0, seed=0) -> np.ndarray:
    """A colour with a fine, skin-like luminance texture of ``sigma`` grey levels."""
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.normal(0, 1, shape).astype(np.float32), (0, 0), 1.0)
    texture *= sigma / texture.std()
    rgb = np.asarray(colour, np.float32)[None, None, :] + texture[..., None]
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def anomalies(rgb: np.ndarray, params) -> np.ndarray:
    grey = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    face = np.ones(grey.shape, bool)
    return anomaly_map(rgb, grey, face, window=int(params["flat_window_px"]),
                       flat_std=params["flat_std"], dark_ratio=params["dark_ratio"],
                       desaturated_ratio=params["desaturated_ratio"],
                       min_skin_chroma=params["min_skin_chroma"],
                       clipped_level=params["clipped_level"],
                       skin_percentile=params["skin_percentile"])


PATCH = (slice(40, 80), slice(40, 80))
INNER = (slice(45, 75), slice(45, 75))  # the patch without its border (mixed neighbourhoods)
BACKGROUND = (slice(0, 30), slice(0, 120))


def test_anomaly_map_ignores_textured_skin(params):
    skin = textured(SKIN)
    flags = anomalies(skin, params)
    assert flags.mean() < 0.02, flags.mean()


def test_anomaly_map_flags_a_flat_grey_patch(params):
    rgb = textured(SKIN)
    rgb[PATCH] = (185, 185, 190)  # peeled laminate
    flags = anomalies(rgb, params)
    assert flags[INNER].mean() > 0.9, flags[INNER].mean()
    assert flags[BACKGROUND].mean() < 0.02, flags[BACKGROUND].mean()


def test_anomaly_map_flags_a_flat_dark_band(params):
    rgb = textured(SKIN)
    rgb[PATCH] = (25, 25, 25)  # scratch
    assert anomalies(rgb, params)[INNER].mean() > 0.9


def test_anomaly_map_does_not_flag_a_textured_patch(params):
    """Grey but textured (an eye, a brow, hair) is a feature, not a cover."""
    rgb = textured(SKIN)
    rgb[PATCH] = textured((150, 150, 150), seed=1)[PATCH]
    flags = anomalies(rgb, params)
    assert flags[INNER].mean() < 0.1, flags[INNER].mean()


def test_anomaly_map_flags_clipped_glare(params):
    rgb = textured(SKIN)
    rgb[PATCH] = 255
    flags = anomalies(rgb, params)
    assert flags[PATCH].all()
    assert flags[BACKGROUND].mean() < 0.02


# --------------------------------------------------------------------------------------------
# The measure table
# --------------------------------------------------------------------------------------------

FACELESS = {"detection_confidence", "face_count"}  # the only measures defined without a face


def test_measure_all_without_a_face_reports_every_core_measure(context_of, params):
    # By default measure_all runs the core measures (those of every policy); the capture
    # profile's own measures are tested in test_capture.py.
    values = measure_all(context_of(degrade.solid(300, 400, (200, 30, 30))), params)
    assert set(values) == set(CORE_MEASURES)
    assert values["detection_confidence"] == 0.0
    assert values["face_count"] == 0.0
    assert {name for name, v in values.items() if v is not None} == FACELESS, values


def test_measure_all_on_a_clear_face_assesses_every_core_measure(portrait, context_of,
                                                                 params):
    values = measure_all(context_of(portrait().rgb), params)
    assert set(values) == set(CORE_MEASURES)
    missing = [name for name, v in values.items() if v is None]
    assert not missing, f"not assessed on a clear portrait: {missing}"
    assert all(isinstance(v, float) and math.isfinite(v) for v in values.values()), values


def test_measure_all_runs_only_the_named_measures(portrait, context_of, params):
    values = measure_all(context_of(portrait().rgb), params, names=("face_brightness",))
    assert list(values) == ["face_brightness"]


def test_a_failing_measure_is_not_assessed_not_an_exception(portrait, context_of, params,
                                                            monkeypatch):
    def boom(ctx, params, cache):
        raise ZeroDivisionError("deliberate")

    original = MEASURES["edge_blur_px"]
    monkeypatch.setitem(MEASURES, "edge_blur_px",
                        Spec(boom, original.unit, original.better, original.description))
    values = measure_all(context_of(portrait().rgb), params)
    assert values["edge_blur_px"] is None
    assert values["laplacian_variance"] is not None  # the others still run


def test_a_nan_measure_becomes_none(portrait, context_of, params, monkeypatch):
    original = MEASURES["face_contrast"]
    monkeypatch.setitem(MEASURES, "face_contrast",
                        Spec(lambda ctx, p, cache: float("nan"), original.unit, original.better,
                             original.description))
    assert measure_all(context_of(portrait().rgb), params)["face_contrast"] is None


def test_every_measure_documents_unit_and_direction():
    for name, spec in MEASURES.items():
        assert spec.unit and spec.description, name
        assert spec.better in {"higher", "lower", "middle"}, name
