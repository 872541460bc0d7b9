"""The fast feature-visibility descriptor gives the descriptor the shipped weights were trained on.

``models/visibility.npz`` (and the fold models) were fitted on descriptors computed with the
straightforward numpy code kept below as the reference: the LBP classes from stacked bit planes,
mean and std of the float pixels, ``numpy.percentile``. ``photocheck.visibility`` computes the
same figures from packed codes and a grey-level histogram; any difference beyond float rounding
would silently change every probability without retraining.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from photocheck.context import build_context
from photocheck.detect import VISIBILITY_MODEL, FaceFinder, FaceFinderOptions, models_dir
from photocheck.policy import Policy
from photocheck.visibility import (_CENTRE_POINTS, DESCRIPTOR_SIZE, FEATURES, KIND_OF, KINDS,
                                   VisibilityModel, contrast_ratios, feature_descriptors,
                                   feature_patch, lbp_histogram, patch_centres, patch_descriptor)

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TOLERANCE = 1e-5  # max abs difference of any descriptor value
NEIGHBOURS = ((0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0))  # round the centre


def reference_lbp_histogram(grey: np.ndarray, offsets=NEIGHBOURS) -> np.ndarray:
    """Uniform rotation-invariant LBP histogram (Ojala et al. 2002), one bit plane per
    neighbour: the number of ones for at most 2 circular transitions, else class 9."""
    g = grey.astype(np.int16)
    centre = g[1:-1, 1:-1]
    bits = np.stack([(g[dy:dy + centre.shape[0], dx:dx + centre.shape[1]] >= centre)
                     for dy, dx in offsets]).astype(np.int8)
    ones = bits.sum(axis=0)
    transitions = np.abs(np.diff(np.concatenate([bits, bits[:1]]), axis=0)).sum(axis=0)
    code = np.where(transitions <= 2, ones, 9)
    return np.bincount(code.ravel(), minlength=10).astype(np.float32) / code.size


def reference_contrast(grey: np.ndarray) -> np.ndarray:
    values = grey.astype(np.float32)
    mean = max(float(values.mean()), 1.0)
    lo, hi = np.percentile(values, (5, 95))
    return np.array([values.std() / mean, (hi - lo) / mean], np.float32)


def reference_descriptor(patch: np.ndarray, kind: str) -> np.ndarray:
    """HOG (9 orientations, 8 px cells, 2x2-cell blocks), LBP histogram, contrast ratios."""
    grey = cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY)
    hog = cv2.HOGDescriptor(DESCRIPTOR_SIZE[kind], (16, 16), (8, 8), (8, 8), 9).compute(grey)
    return np.concatenate([hog.ravel(), reference_lbp_histogram(grey),
                           reference_contrast(grey)]).astype(np.float32)


def reference_patches(rgb: np.ndarray, points: np.ndarray) -> dict[str, np.ndarray]:
    """Each feature's patch, centred on the plain mean of its centre points."""
    centres = {name: tuple(float(v) for v in points[list(idx)].mean(axis=0))
               for name, idx in _CENTRE_POINTS.items()}
    return {name: feature_patch(rgb, centres[name], KIND_OF[name], mirror=name == "left_eye")
            for name in FEATURES}


def _random_patches(count: int, seed: int):
    """Patches of every kind: full-range noise, narrow level ranges (many ties, where the
    percentiles fall between equal values), a few levels only, smooth gradients."""
    rng = np.random.default_rng(seed)
    for index in range(count):
        kind = KINDS[index % len(KINDS)]
        width, height = DESCRIPTOR_SIZE[kind]
        low = int(rng.integers(0, 256))
        high = min(256, low + int(rng.choice([2, 4, 16, 256])))
        if index % 4 == 3:
            ramp = np.linspace(low, high - 1, width * height).reshape(height, width)
            patch = np.repeat(ramp.astype(np.uint8)[..., None], 3, axis=2)
        else:
            patch = rng.integers(low, high, (height, width, 3), dtype=np.uint8)
        yield kind, patch


def _assert_same(fast: np.ndarray, reference: np.ndarray) -> None:
    assert fast.dtype == np.float32 and fast.shape == reference.shape
    assert np.abs(fast - reference).max() <= TOLERANCE


@pytest.mark.parametrize("seed", [0, 1])
def test_descriptor_of_random_patches_matches_the_reference(seed):
    for kind, patch in _random_patches(300, seed):
        _assert_same(patch_descriptor(patch, kind), reference_descriptor(patch, kind))


@pytest.mark.parametrize("level", [0, 1, 37, 128, 254, 255])
def test_descriptor_of_flat_patches_matches_the_reference(level):
    for kind in KINDS:
        width, height = DESCRIPTOR_SIZE[kind]
        patch = np.full((height, width, 3), level, np.uint8)
        _assert_same(patch_descriptor(patch, kind), reference_descriptor(patch, kind))
        grey = patch[..., 0]
        assert lbp_histogram(grey)[8] == 1.0  # every neighbour >= centre
        assert np.array_equal(contrast_ratios(grey), np.zeros(2, np.float32))


def test_lbp_and_contrast_match_the_reference_on_odd_sizes():
    rng = np.random.default_rng(7)
    for height, width in [(3, 3), (3, 17), (9, 4), (31, 29)]:
        grey = rng.integers(0, 256, (height, width), dtype=np.uint8)
        assert np.array_equal(lbp_histogram(grey), reference_lbp_histogram(grey))
        assert np.abs(contrast_ratios(grey) - reference_contrast(grey)).max() <= TOLERANCE


def test_a_changed_descriptor_would_be_caught():
    """The comparison is sharp enough to see a real change: the 10th-90th instead of the
    5th-95th percentile range, or two LBP neighbours out of their order round the centre."""
    rng = np.random.default_rng(3)
    grey = rng.integers(0, 256, (40, 48), dtype=np.uint8)
    values = grey.astype(np.float32)
    lo, hi = np.percentile(values, (10, 90))
    other = (hi - lo) / values.mean()
    assert abs(contrast_ratios(grey)[1] - other) > TOLERANCE
    swapped = reference_lbp_histogram(grey, NEIGHBOURS[:1] + NEIGHBOURS[2:3] + NEIGHBOURS[1:2]
                                      + NEIGHBOURS[3:])
    assert np.abs(lbp_histogram(grey) - swapped).max() > TOLERANCE


@pytest.fixture(scope="module")
def canonical_faces():
    processing = Policy.load().processing
    faces = []
    with FaceFinder.create_from_options(FaceFinderOptions(feature_visibility=True)) as finder:
        for path in sorted(SAMPLES.glob("*.jpg")):
            rgb = np.asarray(Image.open(path).convert("RGB"))
            found = finder.detect(rgb)
            context = build_context(rgb, found,
                                    canonical_face_width=processing.canonical_face_width,
                                    crop_margin=processing.canonical_crop_margin)
            if context.canonical is not None:
                faces.append((path.name, context.canonical))
    assert len(faces) >= 10  # the samples hold a dozen faces: a broken detector must not pass
    return faces


def test_patch_centres_are_the_mean_of_the_centre_points(canonical_faces):
    rng = np.random.default_rng(5)
    meshes = [canonical.points for _, canonical in canonical_faces]
    meshes += [rng.uniform(0, 300, (468, 2)) for _ in range(200)]
    for points in meshes:
        centres = patch_centres(points)
        for name, idx in _CENTRE_POINTS.items():
            assert centres[name] == tuple(float(v) for v in points[list(idx)].mean(axis=0))


def test_descriptors_of_real_canonical_faces_match_the_reference(canonical_faces):
    for name, canonical in canonical_faces:
        fast = feature_descriptors(canonical.rgb, canonical.points)
        patches = reference_patches(canonical.rgb, canonical.points)
        for feature in FEATURES:
            reference = reference_descriptor(patches[feature], KIND_OF[feature])
            assert np.abs(fast[feature] - reference).max() <= TOLERANCE, (name, feature)


def test_covered_probabilities_match_the_per_feature_reference(canonical_faces):
    """Both eyes go through the eye model in one call; each probability is the one the model
    gives that feature's reference descriptor alone."""
    model = VisibilityModel.load(models_dir() / VISIBILITY_MODEL)
    for name, canonical in canonical_faces:
        covered = model.covered(canonical.rgb, canonical.points)
        patches = reference_patches(canonical.rgb, canonical.points)
        for feature in FEATURES:
            kind = KIND_OF[feature]
            reference = reference_descriptor(patches[feature], kind)
            expected = float(model.models[kind].probability(reference)[0])
            assert covered[feature] == pytest.approx(expected, abs=1e-5), (name, feature)
