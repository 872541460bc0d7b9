"""Measures: pure functions on arrays, plus the table that applies them to a :class:`Context`.

A measure never thresholds, never does I/O and never touches a model: it returns a raw number
(units in its docstring) or ``None`` when it cannot be assessed on this image (for instance no
landmarks). Deciding what a number means is the policy's job.

Pixel measures read the canonical face (see ``context.py``): face rotated level and resampled to a
fixed width, so values are comparable across face sizes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from .context import FACE_OVAL, Context

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Pure functions
# --------------------------------------------------------------------------------------------


def laplacian_variance(grey: np.ndarray, mask: np.ndarray, *, denoise_sigma: float) -> float:
    """Variance of the 3x3 Laplacian of ``grey`` inside ``mask``.

    ``grey`` is a float 0-255 face crop at canonical scale. It is first smoothed with a Gaussian
    of ``denoise_sigma`` px, which removes sensor noise and JPEG block edges (energy at the
    highest frequencies) while keeping the detail that a blurry face lacks; without it, noise
    alone makes a blurred face score as sharp.

    Units: grey level squared (0-255 scale). Higher is sharper; unbounded; 0 for a flat crop.
    Comparable only between crops at the same canonical scale and ``denoise_sigma``.
    Reference: Pech-Pacheco et al., "Diatom autofocusing in brightfield microscopy: a
    comparative study", ICPR 2000, doi:10.1109/ICPR.2000.903548.
    """
    smooth = cv2.GaussianBlur(grey, (0, 0), denoise_sigma) if denoise_sigma > 0 else grey
    response = cv2.Laplacian(smooth, cv2.CV_32F, ksize=1)
    values = response[mask]
    return float(values.var()) if values.size else 0.0


def edge_blur(grey: np.ndarray, mask: np.ndarray, *, fine_sigma: float, coarse_sigma: float,
              edge_fraction: float) -> tuple[float, ...]:
    """Blur of the face's strongest edges, estimated from a gradient ratio, per edge orientation.

    A step edge blurred by a Gaussian of sigma ``s`` has a peak gradient proportional to
    ``1 / sqrt(s**2 + t**2)`` after a further smoothing by ``t``. Comparing the gradient after
    ``fine_sigma`` and after ``coarse_sigma`` smoothing at the same edge pixel therefore gives
    ``s`` independently of the edge's contrast (Zhuo & Sim, "Defocus map estimation from a
    single image", Pattern Recognition 44(9), 2011, doi:10.1016/j.patcog.2011.03.009).

    Edges are the local maxima of the coarse gradient in its top ``edge_fraction`` inside
    ``mask``, chosen separately for mostly-vertical and mostly-horizontal edges: motion blur
    weakens the edges across its path, and a single ranking would keep only the unblurred ones.
    The coarse smoothing keeps sensor noise and JPEG blocks from being chosen as edges, and the
    fine smoothing keeps them from inflating the ratio.

    Returns the median over edges for mostly-vertical and mostly-horizontal edges (an
    orientation with too few edges is left out; empty when the crop has none to judge).
    Units: px at the canonical face scale (Gaussian-equivalent sigma). Lower is sharper: about
    1.1-2.0 for a sharp photo, 2.3 and more for a clearly blurred one.
    """
    fine = _gradient_magnitude(grey, fine_sigma)[0]
    coarse, vertical_edge = _gradient_magnitude(grey, coarse_sigma)
    # An edge pixel is a maximum of the coarse gradient across the edge (left/right for a
    # vertical edge, up/down for a horizontal one), so a long smeared edge keeps its whole ridge;
    # strictly positive, since on a flat plateau every pixel equals its neighbours.
    edge = (coarse > 1e-3) & mask
    medians = []
    left_right, up_down = np.ones((1, 3), np.uint8), np.ones((3, 1), np.uint8)
    for orientation, across in ((vertical_edge, left_right), (~vertical_edge, up_down)):
        candidates = mask & orientation
        if int(candidates.sum()) < MIN_EDGE_PIXELS:
            continue
        ridge = coarse >= cv2.dilate(coarse, across)
        strong = edge & ridge & orientation & (
            coarse >= order_statistic(coarse[candidates], 100.0 * (1.0 - edge_fraction)))
        if int(strong.sum()) < MIN_EDGE_PIXELS // 2:
            continue
        ratio_sq = np.maximum((fine[strong] / np.maximum(coarse[strong], 1e-6)) ** 2, 1.0 + 1e-4)
        sigma_sq = (coarse_sigma**2 - ratio_sq * fine_sigma**2) / (ratio_sq - 1.0)
        medians.append(np.median(np.sqrt(np.clip(sigma_sq, 0.0, MAX_EDGE_BLUR**2))))
    return tuple(float(m) for m in medians)


MIN_EDGE_PIXELS = 10  # fewer edge pixels than this cannot support a median
MAX_EDGE_BLUR = 10.0  # px; the ratio cannot resolve more blur than this at canonical scale


def _gradient_magnitude(grey: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradient magnitude after Gaussian smoothing, and where the edge is mostly vertical."""
    smooth = cv2.GaussianBlur(grey, (0, 0), sigma)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=1)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=1)
    return cv2.magnitude(gx, gy), np.abs(gx) > np.abs(gy)


def mean_level(grey: np.ndarray, mask: np.ndarray) -> float:
    """Mean luminance inside ``mask``. Units: grey level 0-255; higher is brighter."""
    values = grey[mask]
    return float(values.mean()) if values.size else float("nan")


def fraction_at_or_above(grey: np.ndarray, mask: np.ndarray, level: float) -> float:
    """Share of ``mask`` pixels with luminance >= ``level``. Units: fraction 0-1."""
    values = grey[mask]
    return float((values >= level).mean()) if values.size else 0.0


def percentile_range(grey: np.ndarray, mask: np.ndarray, low: float, high: float) -> float:
    """Spread of luminance inside ``mask``: percentile ``high`` minus percentile ``low``.

    Units: grey levels 0-255. Higher means more contrast; a faded card scores low.
    """
    values = grey[mask]
    if not values.size:
        return 0.0
    lo, hi = order_statistic(values, low), order_statistic(values, high)
    return float(hi - lo)


def anomaly_map(rgb: np.ndarray, grey: np.ndarray, face: np.ndarray, *, window: int,
                flat_std: float, dark_ratio: float, desaturated_ratio: float,
                min_skin_chroma: float, clipped_level: float, skin_percentile: float) -> np.ndarray:
    """Pixels that do not look like the face's own skin or features (HxW bool).

    A pixel is anomalous when it is clipped bright (glare), or when its neighbourhood is flat
    (local standard deviation over ``window`` px below ``flat_std`` grey levels) and it is either
    much darker than the skin (luminance below ``dark_ratio`` x skin luminance: a scratch band)
    or much greyer than the skin (chroma below ``desaturated_ratio`` x skin chroma: a peeled,
    silver laminate patch). Real features are either textured (eyes, brows) or coloured like
    skin or lips.

    Skin luminance and chroma are the ``skin_percentile`` percentiles over the ``face`` mask, not
    medians of landmark regions: an occluder may cover half the face, and the Face Mesh places
    cheeks on top of it, but the brightest, most colourful part of a face is still skin.
    The chroma test is skipped when that skin chroma is below ``min_skin_chroma`` (greyscale or
    heavily faded photo), where colour says nothing.
    """
    mean = cv2.blur(grey, (window, window))
    sq_mean = cv2.blur(grey * grey, (window, window))
    flat = (sq_mean - mean * mean) < flat_std**2  # local variance: no square root needed

    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    chroma = cv2.magnitude(lab[..., 1].astype(np.float32) - 128.0,
                           lab[..., 2].astype(np.float32) - 128.0)
    region = face if face.any() else np.ones_like(face)
    skin_level = order_statistic(grey[region], skin_percentile)
    skin_chroma = order_statistic(chroma[region], skin_percentile)
    odd = grey < dark_ratio * skin_level
    if skin_chroma >= min_skin_chroma:
        odd |= chroma < desaturated_ratio * skin_chroma
    return (flat & odd) | (grey >= clipped_level)


def order_statistic(values: np.ndarray, percentile: float) -> float:
    """The ``percentile`` (0-100) of ``values`` as the nearest order statistic, without
    interpolation: a selection, several times cheaper than ``np.percentile`` on the tens of
    thousands of face pixels it is used on. NaN for an empty array."""
    flat = values.ravel()
    if not flat.size:
        return float("nan")
    k = min(flat.size - 1, max(0, int(round(percentile / 100.0 * (flat.size - 1)))))
    return float(np.partition(flat, k)[k])


def masked_fraction(flags: np.ndarray, mask: np.ndarray) -> float:
    """Share of ``mask`` pixels where ``flags`` is set. Units: fraction 0-1."""
    total = np.count_nonzero(mask)
    return np.count_nonzero(flags & mask) / total if total else 0.0


def polygon_outside_fraction(polygon: np.ndarray, width: int, height: int) -> float:
    """Share of a convex polygon's area (px, Nx2) lying outside a ``width`` x ``height`` frame.

    Units: fraction 0-1; 0 when fully inside.
    """
    hull = cv2.convexHull(polygon.astype(np.float32))
    total = cv2.contourArea(hull)
    if total <= 0:
        return 0.0
    frame = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    inside, _ = cv2.intersectConvexConvex(hull, frame)
    return float(max(0.0, 1.0 - inside / total))


# --------------------------------------------------------------------------------------------
# The measure table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """A registered measure: how to compute it from a context, its unit and direction."""

    compute: Callable[[Context, Mapping[str, float], dict], float | None]
    unit: str
    better: str  # "higher", "lower" or "middle"
    description: str


def _face_only(fn):
    """Measures of the canonical face are not assessed when there is none."""

    def wrapper(ctx: Context, params: Mapping[str, float], cache: dict) -> float | None:
        return None if ctx.canonical is None else fn(ctx, params, cache)

    return wrapper


def _sharp_mask(ctx: Context, params: Mapping[str, float], cache: dict) -> np.ndarray:
    """Face oval shrunk so the face/background edge and padding outside the frame don't count."""
    if "sharp_mask" in cache:
        return cache["sharp_mask"]
    face = ctx.canonical
    radius = int(params["oval_erosion_px"])
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    inner = cv2.erode(face.oval.astype(np.uint8), kernel) > 0
    cache["sharp_mask"] = inner & face.inside
    return cache["sharp_mask"]


def occlusion_map(ctx: Context, params: Mapping[str, float]) -> np.ndarray | None:
    """Pixels of the canonical face that look covered, glared or beyond the frame (HxW bool),
    or None without a canonical face. Map to image px with ``ctx.canonical.to_image``."""
    face = ctx.canonical
    if face is None:
        return None
    window = int(params["flat_window_px"])
    # Only the face oval is read, so only its bounding box (plus the filter's reach) is computed.
    box = _bounding_slices(face.oval, pad=window)
    anomalies = np.zeros_like(face.oval)
    anomalies[box] = anomaly_map(
        face.rgb[box], face.grey[box], (face.oval & face.inside)[box],
        window=window, flat_std=params["flat_std"],
        dark_ratio=params["dark_ratio"], desaturated_ratio=params["desaturated_ratio"],
        min_skin_chroma=params["min_skin_chroma"], clipped_level=params["clipped_level"],
        skin_percentile=params["skin_percentile"],
    )
    return anomalies | ~face.inside


def _bounding_slices(mask: np.ndarray, pad: int) -> tuple[slice, slice]:
    """Slices of ``mask``'s bounding box grown by ``pad`` px (the whole array if empty)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return slice(None), slice(None)
    return (slice(max(rows[0] - pad, 0), rows[-1] + pad + 1),
            slice(max(cols[0] - pad, 0), cols[-1] + pad + 1))


def _covered(ctx: Context, params: Mapping[str, float], cache: dict) -> dict[str, float]:
    """Covered share of the face oval ("face") and of each feature region, computed once. An eye
    counts as covered by the larger share of its outline and of its brow-to-lid area: under a
    band that hides the eyes, the mesh may guess them just below it."""
    if "covered" not in cache:
        anomalies, face = occlusion_map(ctx, params), ctx.canonical
        shares = {name: masked_fraction(anomalies, mask) for name, mask in face.regions.items()}
        shares["face"] = masked_fraction(anomalies, face.oval)
        for side in ("right", "left"):
            shares[f"{side}_eye"] = max(shares[f"{side}_eye"], shares.pop(f"{side}_eye_area"))
        cache["covered"] = shares
    return cache["covered"]


def _region_occlusion(name: str):
    @_face_only
    def compute(ctx, params, cache):
        return _covered(ctx, params, cache)[name]

    return compute


def _sharp_window(ctx, params, cache) -> tuple[np.ndarray, np.ndarray]:
    """Grey face and sharpness mask cut to the mask's bounding box, grown by the reach of the
    widest filter, so results equal those on the whole crop."""
    mask = _sharp_mask(ctx, params, cache)
    reach = int(4 * max(params["edge_coarse_sigma"], params["denoise_sigma"])) + 3
    box = _bounding_slices(mask, pad=reach)
    return ctx.canonical.grey[box], mask[box]


@_face_only
def _laplacian_variance(ctx, params, cache):
    return laplacian_variance(*_sharp_window(ctx, params, cache),
                              denoise_sigma=params["denoise_sigma"])


def _edge_blurs(ctx, params, cache) -> tuple[float, ...]:
    if "edge_blur" not in cache:
        cache["edge_blur"] = edge_blur(
            *_sharp_window(ctx, params, cache),
            fine_sigma=params["edge_fine_sigma"], coarse_sigma=params["edge_coarse_sigma"],
            edge_fraction=params["edge_fraction"])
    return cache["edge_blur"]


@_face_only
def _edge_blur(ctx, params, cache):
    blurs = _edge_blurs(ctx, params, cache)
    return float(np.mean(blurs)) if blurs else None


@_face_only
def _edge_blur_max(ctx, params, cache):
    blurs = _edge_blurs(ctx, params, cache)
    return max(blurs) if blurs else None


def _detection_confidence(ctx, params, cache):
    return ctx.face.score if ctx.face else 0.0


def _face_count(ctx, params, cache):
    if not ctx.faces:
        return 0.0
    main_width = ctx.faces[0].width
    return float(sum(1 for f in ctx.faces if f.score >= params["other_face_min_score"]
                     and f.width >= params["other_face_min_relative_width"] * main_width))


def _face_width_px(ctx, params, cache):
    return ctx.face.width / ctx.scale if ctx.face else None


def _face_outside_fraction(ctx, params, cache):
    """The larger of two estimates: the Face Mesh oval (which the mesh squeezes into the visible
    part of a cut face) and the hull of BlazeFace's keypoints (eyes, nose, mouth, ears), which
    it places beyond the frame when that part of the face is missing."""
    face = ctx.face
    if face is None:
        return None
    height, width = ctx.rgb.shape[:2]
    estimates = [polygon_outside_fraction(face.keypoints, width, height)]
    if face.landmarks is not None:
        estimates.append(
            polygon_outside_fraction(face.landmarks[list(FACE_OVAL), :2], width, height))
    return max(estimates)


@_face_only
def _face_brightness(ctx, params, cache):
    face = ctx.canonical
    return mean_level(face.grey, face.oval & face.inside)


@_face_only
def _face_clipped_fraction(ctx, params, cache):
    face = ctx.canonical
    return fraction_at_or_above(face.grey, face.oval & face.inside, params["clipped_level"])


@_face_only
def _face_contrast(ctx, params, cache):
    face = ctx.canonical
    return percentile_range(face.grey, face.oval & face.inside,
                            params["contrast_low_percentile"], params["contrast_high_percentile"])


@_face_only
def _eyes_occluded(ctx, params, cache):
    covered = _covered(ctx, params, cache)
    return min(covered["right_eye"], covered["left_eye"])


@_face_only
def _features_occluded(ctx, params, cache):
    covered = _covered(ctx, params, cache)
    return max(covered[name] for name in ("right_eye", "left_eye", "nose", "mouth"))


# Every parameter the measures read from the policy's [measures] table.
MEASURE_PARAMETERS = frozenset({
    "oval_erosion_px", "denoise_sigma", "edge_fine_sigma", "edge_coarse_sigma", "edge_fraction",
    "clipped_level", "contrast_low_percentile", "contrast_high_percentile", "flat_window_px",
    "flat_std", "dark_ratio", "desaturated_ratio", "min_skin_chroma", "skin_percentile",
    "other_face_min_score", "other_face_min_relative_width",
})

MEASURES: dict[str, Spec] = {
    "laplacian_variance": Spec(_laplacian_variance, "grey^2", "higher",
                               "Variance of the Laplacian on the denoised canonical face"),
    "edge_blur_px": Spec(_edge_blur, "px", "lower",
                         "Blur sigma of the strongest face edges, canonical px (mean of the "
                         "vertical and horizontal edges)"),
    "edge_blur_max_px": Spec(_edge_blur_max, "px", "lower",
                             "Blur sigma of the blurrier edge orientation (motion blur)"),
    "detection_confidence": Spec(_detection_confidence, "0-1", "higher",
                                 "Face detector confidence of the main face (0 = none)"),
    "face_count": Spec(_face_count, "count", "middle",
                       "Faces of comparable size and confidence to the main face"),
    "face_width_px": Spec(_face_width_px, "px", "higher",
                          "Detector box width of the main face, original pixels"),
    "face_outside_fraction": Spec(_face_outside_fraction, "0-1", "lower",
                                  "Share of the face oval beyond the image frame"),
    "face_brightness": Spec(_face_brightness, "0-255", "middle",
                            "Mean luminance of the face oval"),
    "face_clipped_fraction": Spec(_face_clipped_fraction, "0-1", "lower",
                                  "Share of the face oval at or above the clipping level"),
    "face_contrast": Spec(_face_contrast, "0-255", "higher",
                          "Luminance percentile range of the face oval"),
    "eyes_occluded": Spec(_eyes_occluded, "0-1", "lower",
                          "Anomalous share of the less-covered eye region (both eyes covered)"),
    "features_occluded": Spec(_features_occluded, "0-1", "lower",
                              "Anomalous share of the most-covered eye/nose/mouth region"),
    "face_occluded": Spec(_region_occlusion("face"), "0-1", "lower",
                          "Anomalous share of the whole face oval"),
    **{f"{name}_occluded": Spec(_region_occlusion(name), "0-1", "lower",
                                f"Anomalous share of the {name.replace('_', ' ')} region")
       for name in ("right_eye", "left_eye", "nose", "mouth")},
}


def measure_all(ctx: Context, params: Mapping[str, float],
                names: tuple[str, ...] | None = None) -> dict[str, float | None]:
    """Run the named measures (all by default) on one context; NaN becomes None."""
    cache: dict = {}
    values = {}
    for name in names or tuple(MEASURES):
        try:
            value = MEASURES[name].compute(ctx, params, cache)
        except Exception:  # one failing measure is "not assessed", not a failed image (OFIQ)
            log.exception("measure %s failed", name)
            value = None
        values[name] = None if value is None or not np.isfinite(value) else float(value)
    return values
