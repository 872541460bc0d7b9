"""Feature visibility: is each eye, the nose and the mouth actually there to be seen?

The Face Mesh places all 468 points on any face it accepts, covered or not: under a mask it draws
a plausible mouth on the fabric. So visibility is judged from what the image shows at those
places. For each feature a fixed-size patch is cut from the canonical face (eyes level, detector
box 160 px wide), centred on the feature's landmarks, and described by its gradient structure
(HOG, contrast-normalised per block, so a dark-skinned face and a light one give alike features)
and local binary patterns; a logistic model per feature kind (one for both eyes, the subject's
left eye mirrored) turns that into the probability that the feature is covered.

The weights (``models/visibility.npz``) are trained by ``photocheck eval train-visibility`` on
licensed clear portraits with synthetic occluders drawn from their landmarks; see
``docs/visibility.md``. Inference is numpy and OpenCV only.

An occluder is judged by what it hides, never by its colour or texture (``LABELS.md``): the
features say whether eye, nose or mouth structure is present, not whether something odd is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

#: Features judged, and the model that judges each (the left eye is mirrored into a right eye).
FEATURES: tuple[str, ...] = ("right_eye", "left_eye", "nose", "mouth")
KIND_OF: dict[str, str] = {"right_eye": "eye", "left_eye": "eye", "nose": "nose",
                           "mouth": "mouth"}
KINDS: tuple[str, ...] = ("eye", "nose", "mouth")

# Face Mesh points whose mean is the centre of each patch (468-point topology).
_CENTRE_POINTS: dict[str, tuple[int, ...]] = {
    "right_eye": (33, 133, 159, 145),      # corners, upper and lower lid
    "left_eye": (263, 362, 386, 374),
    "nose": (1, 4, 5, 195, 98, 327),        # tip, bridge foot, nostril wings
    "mouth": (61, 291, 0, 17, 13, 14),      # corners, lip middles
}

#: Patch size at canonical scale (width, height in px; face box 160 px wide), and the size it is
#: resampled to for the descriptor. Large enough to hold the feature with its surround (a lens
#: rim, a mask's edge), small enough not to reach the next feature.
PATCH_SIZE: dict[str, tuple[int, int]] = {"eye": (56, 40), "nose": (48, 56), "mouth": (72, 44)}
DESCRIPTOR_SIZE: dict[str, tuple[int, int]] = {"eye": (48, 32), "nose": (40, 48),
                                               "mouth": (64, 40)}
_CELL = 8
_BINS = 9


_CENTRE_INDEX = {name: np.array(idx) for name, idx in _CENTRE_POINTS.items()}


def patch_centres(points: np.ndarray) -> dict[str, tuple[float, float]]:
    """Centre of each feature's patch, canonical px, from the (468, 2) mesh points: the mean of
    its centre points."""
    return {name: tuple((points[idx].sum(axis=0) / len(idx)).tolist())
            for name, idx in _CENTRE_INDEX.items()}


def patch_corners(points: np.ndarray) -> dict[str, np.ndarray]:
    """The four corners (4, 2) of each feature's patch, canonical px (for drawing)."""
    corners = {}
    unit_square = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    for name, centre in patch_centres(points).items():
        corners[name] = np.asarray(centre) + unit_square * PATCH_SIZE[KIND_OF[name]]
    return corners


def feature_patch(rgb: np.ndarray, centre: tuple[float, float], kind: str,
                  mirror: bool = False) -> np.ndarray:
    """The descriptor-sized RGB patch of one feature (uint8), cut around ``centre``.

    Pixels beyond the crop are replicated from its edge; ``mirror`` flips it left-right (the
    subject's left eye, so that one model serves both eyes).
    """
    width, height = PATCH_SIZE[kind]
    out_w, out_h = DESCRIPTOR_SIZE[kind]
    sx, sy = out_w / width, out_h / height
    matrix = np.array([[sx, 0.0, out_w / 2 - sx * centre[0]],
                       [0.0, sy, out_h / 2 - sy * centre[1]]], np.float64)
    patch = cv2.warpAffine(rgb, matrix, (out_w, out_h), flags=cv2.INTER_AREA,
                           borderMode=cv2.BORDER_REPLICATE)
    return patch[:, ::-1].copy() if mirror else patch


def _hog(kind: str) -> cv2.HOGDescriptor:
    width, height = DESCRIPTOR_SIZE[kind]
    return cv2.HOGDescriptor((width, height), (2 * _CELL, 2 * _CELL), (_CELL, _CELL),
                             (_CELL, _CELL), _BINS)


_HOGS = {kind: _hog(kind) for kind in KINDS}


def _uniform_class(code: int) -> int:
    """Class (0-9) of an 8-bit LBP code whose bit k is neighbour k, going round the centre:
    the number of ones (0-8) for a uniform pattern (at most 2 transitions 0/1 round the
    circle), 9 for all others."""
    bits = [(code >> k) & 1 for k in range(8)]
    transitions = sum(bits[k] != bits[(k + 1) % 8] for k in range(8))
    return sum(bits) if transitions <= 2 else 9


#: Uniform rotation-invariant class of each of the 256 LBP codes.
_LBP_CLASS = np.array([_uniform_class(code) for code in range(256)], np.uint8)
# Neighbours (row, column offset in a 3x3 window) in order round the centre: bit k of the code.
_LBP_NEIGHBOURS = ((0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0))
_LBP_BITS = np.arange(8, dtype=np.uint8)[:, None, None]
_LBP_CLASSES = 10


def lbp_histogram(grey: np.ndarray) -> np.ndarray:
    """Histogram (fractions, 10 bins) of uniform rotation-invariant 8-neighbour local binary
    patterns of a uint8 patch (border pixels are only neighbours): texture that is independent
    of brightness and contrast. Bin 0-8: uniform patterns by their number of neighbours at
    least as bright as the centre; bin 9: all other patterns.
    Reference: Ojala, Pietikainen, Maenpaa, IEEE TPAMI 24(7), 2002, doi:10.1109/TPAMI.2002.1017623.
    """
    rows, cols = grey.shape[0] - 2, grey.shape[1] - 2
    neighbours = np.stack([grey[dy:dy + rows, dx:dx + cols] for dy, dx in _LBP_NEIGHBOURS])
    brighter = (neighbours >= grey[1:-1, 1:-1]).view(np.uint8)  # (8, rows, cols), 0 or 1
    codes = np.bitwise_or.reduce(brighter << _LBP_BITS, axis=0)  # bit k: neighbour k
    counts = np.bincount(cv2.LUT(codes, _LBP_CLASS).ravel(), minlength=_LBP_CLASSES)
    return counts.astype(np.float32) / codes.size


def _percentiles_of_levels(cumulative: np.ndarray, quantiles: tuple[float, ...]
                           ) -> list[float]:
    """Percentiles (0-100) of integer values given by their cumulative count per level (a
    level's count plus all below it), exactly as ``numpy.percentile`` (default linear method)
    gives them on the values themselves: the value at fractional rank ``q / 100 * (n - 1)`` of
    the sorted values, interpolated linearly between the values at the ranks either side."""
    last_rank = int(cumulative[-1]) - 1
    ranks = [q / 100 * last_rank for q in quantiles]
    below = [int(rank) for rank in ranks]
    # The value of rank k (from 0) is the first level whose cumulative count exceeds k.
    levels = np.searchsorted(cumulative, [k + step for k in below for step in (0, 1)],
                             side="right").tolist()
    return [low + (high - low) * (rank - k)
            for rank, k, low, high in zip(ranks, below, levels[0::2], levels[1::2])]


def contrast_ratios(grey: np.ndarray) -> np.ndarray:
    """Contrast of a uint8 patch relative to its own mean grey level (float32, 2 values, both
    0 for a flat patch): the standard deviation / mean, and the 5-95 percentile range / mean
    (a mean under 1 grey level counts as 1). The percentiles come from the
    patch's 256-level histogram, the same figures as ``numpy.percentile`` on its pixels."""
    mean, std = (float(value[0, 0]) for value in cv2.meanStdDev(grey))
    cumulative = np.cumsum(np.bincount(grey.ravel(), minlength=256))
    low, high = _percentiles_of_levels(cumulative, (5, 95))
    scale = max(mean, 1.0)
    return np.array([std / scale, (high - low) / scale], np.float32)


def patch_descriptor(patch: np.ndarray, kind: str) -> np.ndarray:
    """Descriptor of one feature patch (1-D float32): HOG (9 orientations, 8 px cells, 2x2
    blocks, L2-Hys per block), the LBP histogram, and the patch's contrast relative to its
    own mean (std / mean of grey, and its 5-95 percentile range / mean), which separates a
    flat lens or fabric from an eye or lips whatever the skin tone."""
    grey = cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY)
    return np.concatenate([_HOGS[kind].compute(grey).ravel(), lbp_histogram(grey),
                           contrast_ratios(grey)])


def feature_descriptors(rgb: np.ndarray, points: np.ndarray) -> dict[str, np.ndarray]:
    """Descriptor of every feature of a canonical face (``rgb`` crop, ``points`` mesh in crop
    px)."""
    centres = patch_centres(points)
    return {name: patch_descriptor(
        feature_patch(rgb, centres[name], KIND_OF[name], mirror=name == "left_eye"),
        KIND_OF[name]) for name in FEATURES}


def descriptor_lengths() -> dict[str, int]:
    """Length of each feature kind's descriptor."""
    blank = np.zeros((256, 256, 3), np.uint8)
    points = np.tile(np.array([[128.0, 128.0]]), (468, 1))
    descriptors = feature_descriptors(blank, points)
    return {KIND_OF[name]: len(d) for name, d in descriptors.items()}


@dataclass(frozen=True)
class LogisticModel:
    """A standardised logistic model: p(covered) = sigmoid(w . (x - mean) / scale + b)."""

    mean: np.ndarray = field(repr=False)
    scale: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    bias: float

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = ((np.atleast_2d(x) - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))


@dataclass(frozen=True)
class VisibilityModel:
    """Per-feature covered probabilities for a canonical face. Load with :meth:`load`."""

    models: Mapping[str, LogisticModel]
    info: Mapping[str, object] = field(default_factory=dict)
    sha256: str = ""

    @classmethod
    def load(cls, path: Path) -> VisibilityModel:
        data = Path(path).read_bytes()
        with np.load(path, allow_pickle=False) as arrays:
            models = {kind: LogisticModel(
                mean=arrays[f"{kind}_mean"], scale=arrays[f"{kind}_scale"],
                weights=arrays[f"{kind}_weights"], bias=float(arrays[f"{kind}_bias"]))
                for kind in KINDS}
            info = json.loads(str(arrays["info"])) if "info" in arrays else {}
        expected = descriptor_lengths()
        for kind, model in models.items():
            if model.weights.shape != (expected[kind],):
                raise ValueError(f"{path}: the {kind} model takes {model.weights.shape[0]} "
                                 f"features, the descriptor has {expected[kind]}; retrain it "
                                 "(photocheck eval train-visibility)")
        return cls(models, info, hashlib.sha256(data).hexdigest())

    def covered(self, rgb: np.ndarray, points: np.ndarray) -> dict[str, float]:
        """Probability (0-1) that each of :data:`FEATURES` is covered, on a canonical face."""
        descriptors = feature_descriptors(rgb, points)
        covered: dict[str, float] = {}
        for kind in KINDS:  # one model call per kind: both eyes at once
            names = [name for name in FEATURES if KIND_OF[name] == kind]
            probabilities = self.models[kind].probability(np.stack([descriptors[name]
                                                                     for name in names]))
            covered.update(zip(names, probabilities.tolist()))
        return {name: covered[name] for name in FEATURES}


def save_model(path: Path, models: Mapping[str, LogisticModel],
               info: Mapping[str, object]) -> str:
    """Write the weights as a plain .npz (no pickles); returns its SHA-256."""
    arrays: dict[str, np.ndarray] = {"info": np.array(json.dumps(info, sort_keys=True))}
    for kind, model in models.items():
        arrays.update({f"{kind}_mean": model.mean.astype(np.float32),
                       f"{kind}_scale": model.scale.astype(np.float32),
                       f"{kind}_weights": model.weights.astype(np.float32),
                       f"{kind}_bias": np.array(model.bias, np.float32)})
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
