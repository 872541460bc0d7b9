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


def patch_centres(points: np.ndarray) -> dict[str, tuple[float, float]]:
    """Centre of each feature's patch, canonical px, from the (468, 2) mesh points."""
    return {name: tuple(float(v) for v in points[list(idx)].mean(axis=0))
            for name, idx in _CENTRE_POINTS.items()}


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


def lbp_histogram(grey: np.ndarray) -> np.ndarray:
    """Histogram (fractions, 10 bins) of uniform rotation-invariant 8-neighbour local binary
    patterns of a uint8 patch: texture that is independent of brightness and contrast.
    Reference: Ojala, Pietikainen, Maenpaa, IEEE TPAMI 24(7), 2002, doi:10.1109/TPAMI.2002.1017623.
    """
    g = grey.astype(np.int16)
    centre = g[1:-1, 1:-1]
    offsets = ((0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0))
    bits = np.stack([(g[dy:dy + centre.shape[0], dx:dx + centre.shape[1]] >= centre)
                     for dy, dx in offsets]).astype(np.int8)
    ones = bits.sum(axis=0)
    transitions = np.abs(np.diff(np.concatenate([bits, bits[:1]]), axis=0)).sum(axis=0)
    code = np.where(transitions <= 2, ones, 9)  # 0-8 uniform patterns, 9 all others
    return np.bincount(code.ravel(), minlength=10).astype(np.float32) / code.size


def patch_descriptor(patch: np.ndarray, kind: str) -> np.ndarray:
    """Descriptor of one feature patch (1-D float32): HOG (9 orientations, 8 px cells, 2x2
    blocks, L2-Hys per block), the LBP histogram, and the patch's contrast relative to its
    own mean (std / mean of grey, and its 5-95 percentile range / mean), which separates a
    flat lens or fabric from an eye or lips whatever the skin tone."""
    grey = cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY)
    hog = _HOGS[kind].compute(grey).ravel()
    values = grey.astype(np.float32)
    mean = max(float(values.mean()), 1.0)
    lo, hi = np.percentile(values, (5, 95))
    contrast = np.array([values.std() / mean, (hi - lo) / mean], np.float32)
    return np.concatenate([hog, lbp_histogram(grey), contrast]).astype(np.float32)


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
        return {name: float(self.models[KIND_OF[name]].probability(descriptors[name])[0])
                for name in FEATURES}


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
