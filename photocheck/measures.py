"""Measures: pure functions on arrays, plus the table that applies them to a :class:`Context`.

A measure never thresholds, never does I/O and never touches a model: it returns a raw number
(units in its docstring) or ``None`` when it cannot be assessed on this image (for instance no
landmarks). Deciding what a number means is the policy's job.

Pixel measures read the canonical face (see ``context.py``): face rotated level and resampled to a
fixed width, so values are comparable across face sizes.

Some measures serve only the capture profile (head pose, eye openness, background, lighting):
they are registered with ``core=False`` and run only when the active policy's rules read them
(OFIQ: the configuration says which measures run), so a replacement check computes exactly the
core measures.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from .context import FACE_OVAL, LEFT_EYE, LIPS, RIGHT_EYE, Context
from .visibility import FEATURES as VISIBILITY_FEATURES

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


# Capture-profile pure functions ------------------------------------------------------------

#: A few vertices of MediaPipe's canonical face model (``canonical_mesh`` of
#: ``mediapipe/modules/face_geometry/data/geometry_pipeline_metadata_landmarks.pbtxt``,
#: Apache-2.0), by Face Mesh index: x negative on the subject's right, y up, z towards the
#: camera, in cm. The rigid ones only: nose, bridge, forehead, the right eye
#: socket and cheek out to the ear; no lip or jaw points, which move with expression.
CANONICAL_FACE_POINTS: dict[int, tuple[float, float, float]] = {
    1: (0.0, -1.126865, 7.475604), 2: (0.0, -2.089024, 6.058267),
    3: (-0.463928, 0.955357, 6.633583), 4: (0.0, -0.463170, 7.586580),
    5: (0.0, 0.365669, 7.242870), 6: (0.0, 2.473255, 5.788627),
    7: (-4.253081, 2.577646, 3.279702), 8: (0.0, 4.019042, 5.284764),
    9: (0.0, 4.885979, 5.385258), 10: (0.0, 8.261778, 4.481535),
    19: (0.0, -1.501095, 7.112196), 20: (-0.416106, -1.466449, 6.447657),
    21: (-7.087960, 5.434801, 0.099620), 22: (-2.628639, 2.035898, 3.848121),
    23: (-3.198363, 1.985815, 3.796952), 24: (-3.775151, 2.039402, 3.646194),
    25: (-4.465819, 2.422950, 3.155168), 26: (-2.164289, 2.189867, 3.851822),
    27: (-3.208229, 3.223926, 4.115822), 28: (-2.673803, 3.205337, 4.092203),
    29: (-3.745193, 3.165286, 3.972409), 30: (-4.161018, 3.059069, 3.719554),
    31: (-5.062006, 1.934418, 2.776093), 33: (-4.445859, 2.663991, 3.173422),
    34: (-7.214530, 2.263009, 0.073150), 35: (-5.799793, 2.349546, 2.204059),
    36: (-2.844939, -0.720868, 4.433130),
}
_POSE_INDICES = list(CANONICAL_FACE_POINTS)
_POSE_MODEL = np.array([CANONICAL_FACE_POINTS[i] for i in _POSE_INDICES], np.float64)


def head_pose(landmarks: np.ndarray) -> tuple[float, float, float]:
    """Head pose (yaw, pitch, roll) in degrees from the Face Mesh's 3-D landmarks.

    ``landmarks`` is (468, 3): x, y in image px (y down) and z, the mesh's relative depth at
    the same scale (smaller = nearer the camera). The rigid points of
    :data:`CANONICAL_FACE_POINTS` are fitted to the canonical face model by a least-squares
    rotation (Kabsch / orthogonal Procrustes, as MediaPipe's face-geometry pipeline does with
    weak perspective); the angles are those of the fitted rotation:

    * yaw: turn left/right; positive when the nose points to the image's right;
    * pitch: nod; positive when the chin is raised (nose up);
    * roll: in-plane tilt; positive when the head leans towards the image's right shoulder
      (counter-clockwise as seen, y up).

    Units: degrees, each in (-180, 180]; 0, 0, 0 is a face looking straight into the camera.
    Reference: ISO/IEC 39794-5 and ICAO's portrait guidelines state pose limits in these terms
    (yaw and pitch within 5 deg, roll within 8 deg).
    """
    observed = landmarks[_POSE_INDICES, :3].astype(np.float64) * (1.0, -1.0, -1.0)
    observed -= observed.mean(axis=0)
    model = _POSE_MODEL - _POSE_MODEL.mean(axis=0)
    u, _, vt = np.linalg.svd(model.T @ observed)
    flip = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0
    rotation = vt.T @ np.diag((1.0, 1.0, flip)) @ u.T
    forward, across = rotation[:, 2], rotation[:, 0]
    yaw = math.degrees(math.atan2(forward[0], forward[2]))
    pitch = math.degrees(math.atan2(forward[1], math.hypot(forward[0], forward[2])))
    roll = math.degrees(math.atan2(across[1], across[0]))
    return yaw, pitch, roll


#: Points of an eye contour from the iris landmark model (``Context.eye_contours``) for the
#: eye aspect ratio: corners, then upper and lower lid pairs facing each other. Both eyes'
#: contours come in the same order (the left eye is mirrored for the model); in the Face
#: Mesh's numbering they are, for the right eye, corners 33 and 133, upper lid 160, 159, 158
#: and lower lid 144, 145, 153.
EYE_OPENNESS_POINTS = ((0, 8), (11, 12, 13), (3, 4, 5))
#: The subject's eyes, as ``Context.eye_contours`` names them.
EYES = ("right", "left")


def eye_aspect_ratio(points: np.ndarray, corners: tuple[int, int], upper: Iterable[int],
                     lower: Iterable[int]) -> float:
    """Eye aspect ratio: mean lid-to-lid distance over the corner-to-corner distance.

    ``points`` is (N, 2+) landmark coordinates. Scale-free (a ratio); about 0.2-0.4 for an open
    eye, towards 0 as it closes. Reference: Soukupova & Cech, "Real-time eye blink detection
    using facial landmarks", CVWW 2016.
    """
    width = float(np.linalg.norm(points[corners[0], :2] - points[corners[1], :2]))
    if width <= 0:
        return float("nan")
    gaps = [np.linalg.norm(points[u, :2] - points[d, :2]) for u, d in zip(upper, lower)]
    return float(np.mean(gaps)) / width


def background_colour(rgb: np.ndarray, background: np.ndarray, *, spread_percentile: float,
                      clutter_sigma: float) -> tuple[float, float, float, float]:
    """Colour of the ``background`` pixels of ``rgb`` (HxWx3 uint8) and how uniform it is.

    Returns (spread, clutter, hue, chroma), all in CIELAB (D65):

    * spread: the ``spread_percentile`` of the colour difference (Delta E*ab, CIE 1976) of each
      background pixel from the typical colour (per-channel median of L*, a*, b*): 0-7 for a
      plain backdrop, up to about 20 for a studio backdrop with a soft gradient or vignette,
      25 and more for two colours, a room or a scene;
    * clutter: the same percentile of the difference from the *local* background colour (a
      Gaussian-weighted mean over the background, ``clutter_sigma`` px), so smooth gradients do
      not count but objects, edges, text and patterns do: 0-3 for a plain or graded backdrop,
      5 and more for a room, a poster or patterned cloth;
    * hue: the hue angle h_ab of the typical colour, degrees 0-360 (saturated sRGB red is about
      40, blue about 300);
    * chroma: its C*ab (0 = grey or white; a coloured backdrop is 30 and more).

    NaN when there are no background pixels.
    """
    if not background.any():
        return (float("nan"),) * 4
    lab = cv2.cvtColor(rgb.astype(np.float32) * np.float32(1.0 / 255.0), cv2.COLOR_RGB2LAB)
    values = lab[background]
    typical = np.median(values, axis=0)
    spread = order_statistic(np.linalg.norm(values - typical, axis=1), spread_percentile)
    # The local colour is smooth: it is computed at a quarter of the resolution (a wide
    # Gaussian at full size costs several milliseconds) and interpolated back.
    weight = background.astype(np.float32)
    height, width = background.shape
    small = (max(1, width // LOCAL_COLOUR_REDUCTION), max(1, height // LOCAL_COLOUR_REDUCTION))
    sigma = clutter_sigma / LOCAL_COLOUR_REDUCTION
    totals = cv2.GaussianBlur(cv2.resize(lab * weight[..., None], small,
                                         interpolation=cv2.INTER_AREA), (0, 0), sigma)
    weights = cv2.GaussianBlur(cv2.resize(weight, small, interpolation=cv2.INTER_AREA),
                               (0, 0), sigma)
    local = (cv2.resize(totals, (width, height), interpolation=cv2.INTER_LINEAR)
             / np.maximum(cv2.resize(weights, (width, height),
                                     interpolation=cv2.INTER_LINEAR), 1e-6)[..., None])
    clutter = order_statistic(np.linalg.norm(values - local[background], axis=1),
                              spread_percentile)
    hue = math.degrees(math.atan2(float(typical[2]), float(typical[1]))) % 360.0
    chroma = math.hypot(float(typical[1]), float(typical[2]))
    return spread, clutter, hue, chroma


LOCAL_COLOUR_REDUCTION = 4  # the local background colour is computed at 1/4 resolution


def halves_brightness_ratio(grey: np.ndarray, mask: np.ndarray, midline_x: float) -> float:
    """Mean luminance of the brighter half of ``mask`` over that of the darker half, the halves
    split at column ``midline_x``. Units: ratio >= 1 (gamma-encoded grey levels); 1 = evenly
    lit, 1.5 = one side half as bright again as the other. NaN when a half is empty or black.
    Reference: the illumination-uniformity component of ISO/IEC 29794-5 / OFIQ compares the
    two face halves in the same way (there by histogram overlap)."""
    columns = np.arange(grey.shape[1])[None, :]
    left, right = mask & (columns < midline_x), mask & (columns >= midline_x)
    if not left.any() or not right.any():
        return float("nan")
    means = sorted((float(grey[left].mean()), float(grey[right].mean())))
    return means[1] / means[0] if means[0] > 0 else float("nan")


def shadow_fraction(grey: np.ndarray, mask: np.ndarray, *, dark_ratio: float,
                    skin_percentile: float, window: int, flat_std: float) -> float:
    """Share of ``mask`` pixels in strong shadow: darker than ``dark_ratio`` x the face's skin
    level (the ``skin_percentile`` percentile of luminance over the mask) and smooth (local
    standard deviation over ``window`` px below ``flat_std`` grey levels). Skin in shadow stays
    smooth; a beard or stubble is as dark but textured, and does not count. Eyes, brows,
    nostrils and lips are left out of ``mask`` by the caller. Units: fraction 0-1; 0 for evenly
    lit skin."""
    values = grey[mask]
    if not values.size:
        return float("nan")
    skin = order_statistic(values, skin_percentile)
    mean = cv2.blur(grey, (window, window))
    variance = cv2.blur(grey * grey, (window, window)) - mean * mean
    shadow = (grey < dark_ratio * skin) & (variance < flat_std**2) & mask
    return float(np.count_nonzero(shadow) / values.size)


# --------------------------------------------------------------------------------------------
# The measure table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """A registered measure: how to compute it from a context, its unit and direction.

    ``core`` measures run for every policy; the others only when the policy reads them.
    ``params`` names the [measures] parameters a non-core measure needs (core parameters are
    always present); ``needs_person_mask`` and ``needs_eye_contours`` say the context must
    carry the person mask or the eye contours (models that only such measures need);
    ``needs_visibility`` the covered probabilities of the features.
    """

    compute: Callable[[Context, Mapping[str, float], dict], float | None]
    unit: str
    better: str  # "higher", "lower" or "middle"
    description: str
    core: bool = True
    params: frozenset[str] = frozenset()
    needs_person_mask: bool = False
    needs_eye_contours: bool = False
    needs_visibility: bool = False


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


def _image_short_side_px(ctx, params, cache):
    return min(ctx.rgb.shape[:2]) / ctx.scale


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


def _visibility_measure(combine, names: tuple[str, ...]):
    """A measure of the features' covered probabilities (``Context.covered``)."""

    def compute(ctx, params, cache):
        if ctx.covered is None:
            return None
        return float(combine([ctx.covered[name] for name in names]))

    return compute


# -- capture-profile measures ----------------------------------------------------------------

# Face Mesh points on the face's vertical midline, forehead to chin.
MIDLINE = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 2, 164, 0, 17, 18, 200, 199, 175, 152)
# Around the nostrils and the nose's underside: dark by nature, not a shadow.
NOSTRILS = (79, 166, 75, 60, 20, 238, 239, 241, 242, 97, 2, 326, 462, 461, 459, 458, 250, 290,
            305, 309, 392, 289)


def _landmarks(ctx: Context) -> np.ndarray | None:
    face = ctx.face
    return None if face is None else face.landmarks


def _pose(ctx, params, cache) -> tuple[float, float, float] | None:
    if "pose" not in cache:
        landmarks = _landmarks(ctx)
        cache["pose"] = None if landmarks is None else head_pose(landmarks)
    return cache["pose"]


def _pose_angle(index: int):
    def compute(ctx, params, cache):
        pose = _pose(ctx, params, cache)
        return None if pose is None else pose[index]

    return compute


def _eye_openness(side: str):
    # From the iris landmark model's eyelid contours: the Face Mesh follows a closing lid only
    # part of the way, the iris model's contours follow it down.
    def compute(ctx, params, cache):
        if ctx.eye_contours is None:
            return None
        return eye_aspect_ratio(ctx.eye_contours[side], *EYE_OPENNESS_POINTS)

    return compute


def _eyes_openness(ctx, params, cache):
    values = [_eye_openness(side)(ctx, params, cache) for side in EYES]
    return None if None in values else min(values)


def _eye_distance_px(ctx, params, cache):
    landmarks = _landmarks(ctx)
    if landmarks is None:
        return None
    right = landmarks[list(RIGHT_EYE), :2].mean(axis=0)
    left = landmarks[list(LEFT_EYE), :2].mean(axis=0)
    return float(np.linalg.norm(left - right)) / ctx.scale


def _face_width_ratio(ctx, params, cache):
    return None if ctx.face is None else ctx.face.width / ctx.rgb.shape[1]


def background_mask(person: np.ndarray, *, person_threshold: float, margin_px: int
                    ) -> np.ndarray:
    """Pixels that are background (HxW bool): person probability below ``person_threshold``
    and at least ``margin_px`` px from anything that is not, so hair strands, a hijab's edge
    and the segmentation's soft border are left out."""
    background = (person < person_threshold).astype(np.uint8)
    if margin_px > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin_px + 1,) * 2)
        background = cv2.erode(background, kernel, borderType=cv2.BORDER_CONSTANT,
                               borderValue=1)
    return background > 0


def _background(ctx, params, cache) -> tuple[float, float, float, float] | None:
    """(spread, clutter, hue, chroma) of the background, or None when there is too little."""
    if "background" not in cache:
        cache["background"] = None
        if ctx.person is not None:
            height, width = ctx.rgb.shape[:2]
            # Colour and uniformity are judged at a fixed, modest resolution: backdrops are
            # smooth, clutter is coarse, and it keeps the cost independent of the photo size.
            analysis_width = int(params["background_analysis_width"])
            size = (analysis_width, max(1, round(analysis_width * height / width)))
            rgb = cv2.resize(ctx.rgb, size, interpolation=cv2.INTER_AREA)
            person = cv2.resize(ctx.person, size, interpolation=cv2.INTER_LINEAR)
            margin = int(round(params["background_margin"] * analysis_width))
            mask = background_mask(person, person_threshold=params["person_threshold"],
                                   margin_px=margin)
            cache["background_mask"] = mask
            if mask.mean() >= params["min_background_fraction"]:
                cache["background"] = background_colour(
                    rgb, mask, spread_percentile=params["background_spread_percentile"],
                    clutter_sigma=params["background_clutter_scale"] * analysis_width)
    return cache["background"]


def background_region(ctx: Context, params: Mapping[str, float]) -> np.ndarray | None:
    """The background pixels the background measures read, at the analysis width (HxW bool),
    or None without a person mask. Resize to the working image to draw it."""
    cache: dict = {}
    _background(ctx, params, cache)
    return cache.get("background_mask")


def _background_value(index: int):
    def compute(ctx, params, cache):
        values = _background(ctx, params, cache)
        return None if values is None else values[index]

    return compute


def _lighting_mask(ctx, params, cache) -> np.ndarray:
    """Skin of the canonical face for lighting: the inner oval without eyes and brows."""
    if "lighting_mask" not in cache:
        face = ctx.canonical
        eyes = face.regions["right_eye_area"] | face.regions["left_eye_area"]
        cache["lighting_mask"] = _sharp_mask(ctx, params, cache) & ~eyes
    return cache["lighting_mask"]


@_face_only
def _face_lighting_ratio(ctx, params, cache):
    face = ctx.canonical
    midline_x = float(np.median(face.points[list(MIDLINE), 0]))
    return halves_brightness_ratio(face.grey, _lighting_mask(ctx, params, cache), midline_x)


@_face_only
def _face_shadow_fraction(ctx, params, cache):
    face = ctx.canonical
    size = face.grey.shape[0]
    features = _polygon(face.points, LIPS, size) | _polygon(face.points, NOSTRILS, size)
    return shadow_fraction(face.grey, _lighting_mask(ctx, params, cache) & ~features,
                           dark_ratio=params["shadow_dark_ratio"],
                           skin_percentile=params["skin_percentile"],
                           window=int(params["flat_window_px"]),
                           flat_std=params["shadow_flat_std"])


def _polygon(points: np.ndarray, indices: tuple[int, ...], size: int) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    hull = cv2.convexHull(np.round(points[list(indices)]).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1)
    return mask > 0


# Every parameter the measures read from the policy's [measures] table: the core ones (every
# policy has them, from the shipped default if not its own) and those of capture measures.
CORE_PARAMETERS = frozenset({
    "oval_erosion_px", "denoise_sigma", "edge_fine_sigma", "edge_coarse_sigma", "edge_fraction",
    "clipped_level", "contrast_low_percentile", "contrast_high_percentile", "flat_window_px",
    "flat_std", "dark_ratio", "desaturated_ratio", "min_skin_chroma", "skin_percentile",
    "other_face_min_score", "other_face_min_relative_width",
})
BACKGROUND_PARAMETERS = frozenset({
    "person_threshold", "background_margin", "background_analysis_width",
    "min_background_fraction", "background_spread_percentile", "background_clutter_scale",
})
SHADOW_PARAMETERS = frozenset({"shadow_dark_ratio", "shadow_flat_std"})
CAPTURE_PARAMETERS = BACKGROUND_PARAMETERS | SHADOW_PARAMETERS
MEASURE_PARAMETERS = CORE_PARAMETERS | CAPTURE_PARAMETERS

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
    "image_short_side_px": Spec(_image_short_side_px, "px", "higher",
                                "Shorter side of the image, original pixels (a face in it is "
                                "at most this wide)", core=False),
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
    # Feature visibility (photocheck.visibility): what each feature's own appearance says.
    **{f"{name}_covered": Spec(_visibility_measure(max, (name,)), "0-1", "lower",
                               f"Probability that the {name.replace('_', ' ')} is covered",
                               core=False, needs_visibility=True)
       for name in VISIBILITY_FEATURES},
    "eyes_covered": Spec(_visibility_measure(min, ("right_eye", "left_eye")), "0-1", "lower",
                         "Probability that both eyes are covered (the less covered eye)",
                         core=False, needs_visibility=True),
    "nose_mouth_covered": Spec(_visibility_measure(min, ("nose", "mouth")), "0-1", "lower",
                               "Probability that nose and mouth are both covered (the less "
                               "covered of the two)", core=False, needs_visibility=True),
    "features_covered": Spec(_visibility_measure(np.mean, VISIBILITY_FEATURES),
                             "0-1", "lower",
                             "Mean covered probability of eyes, nose and mouth (0.5: half "
                             "the face's features hidden)", core=False, needs_visibility=True),
    "feature_covered_max": Spec(_visibility_measure(max, VISIBILITY_FEATURES),
                                "0-1", "lower",
                                "Covered probability of the most covered feature (one eye "
                                "hidden)", core=False, needs_visibility=True),
    # Capture profile only (core=False): run when the policy reads them.
    "head_yaw_deg": Spec(_pose_angle(0), "deg", "middle",
                         "Head turn left/right from the 3-D mesh (0 = facing the camera; "
                         "positive = nose to the image's right)", core=False),
    "head_pitch_deg": Spec(_pose_angle(1), "deg", "middle",
                           "Head nod (0 = level; positive = chin raised)", core=False),
    "head_roll_deg": Spec(_pose_angle(2), "deg", "middle",
                          "Head tilt in the image plane (0 = upright)", core=False),
    "right_eye_openness": Spec(_eye_openness("right"), "ratio", "higher",
                               "Eye aspect ratio of the right eye (lid gap / eye width) from "
                               "the iris landmark model's eyelid contour", core=False,
                               needs_eye_contours=True),
    "left_eye_openness": Spec(_eye_openness("left"), "ratio", "higher",
                              "Eye aspect ratio of the left eye (lid gap / eye width) from "
                              "the iris landmark model's eyelid contour", core=False,
                              needs_eye_contours=True),
    "eyes_openness": Spec(_eyes_openness, "ratio", "higher",
                          "Eye aspect ratio of the more closed eye", core=False,
                          needs_eye_contours=True),
    "eye_distance_px": Spec(_eye_distance_px, "px", "higher",
                            "Distance between the eye centres, original pixels", core=False),
    "face_width_ratio": Spec(_face_width_ratio, "0-1", "middle",
                             "Detector box width of the main face / image width", core=False),
    "background_colour_spread": Spec(
        _background_value(0), "dE", "lower",
        "Colour variation of the background: percentile of Delta E*ab from its typical colour",
        core=False, params=BACKGROUND_PARAMETERS, needs_person_mask=True),
    "background_clutter": Spec(
        _background_value(1), "dE", "lower",
        "Clutter of the background: percentile of Delta E*ab from the local background colour "
        "(gradients do not count; objects, edges and patterns do)",
        core=False, params=BACKGROUND_PARAMETERS, needs_person_mask=True),
    "background_hue_deg": Spec(
        _background_value(2), "deg", "middle",
        "Hue angle h_ab (CIELAB) of the background's typical colour, 0-360",
        core=False, params=BACKGROUND_PARAMETERS, needs_person_mask=True),
    "background_chroma": Spec(
        _background_value(3), "C*ab", "higher",
        "Chroma C*ab (CIELAB) of the background's typical colour (0 = grey)",
        core=False, params=BACKGROUND_PARAMETERS, needs_person_mask=True),
    "face_lighting_ratio": Spec(_face_lighting_ratio, "ratio", "lower",
                                "Mean luminance of the brighter face half / the darker half",
                                core=False),
    "face_shadow_fraction": Spec(_face_shadow_fraction, "0-1", "lower",
                                 "Share of face skin much darker than the skin level (shadow)",
                                 core=False, params=SHADOW_PARAMETERS),
}

#: The measures every policy runs (a replacement result holds exactly these).
CORE_MEASURES: tuple[str, ...] = tuple(name for name, spec in MEASURES.items() if spec.core)


def measure_all(ctx: Context, params: Mapping[str, float],
                names: tuple[str, ...] | None = None) -> dict[str, float | None]:
    """Run the named measures (the core measures by default) on one context; NaN becomes
    None."""
    cache: dict = {}
    values = {}
    for name in names or CORE_MEASURES:
        try:
            value = MEASURES[name].compute(ctx, params, cache)
        except Exception:  # one failing measure is "not assessed", not a failed image (OFIQ)
            log.exception("measure %s failed", name)
            value = None
        values[name] = None if value is None or not np.isfinite(value) else float(value)
    return values


#: Measures of card mode (a photo or scan of a whole card), taken by :mod:`photocheck.card` on
#: the rectified card rather than from a face context: name -> (unit, better, description).
#: Policy rules may read them; they are tested only on cards.
CARD_MEASURES: dict[str, tuple[str, str, str]] = {
    "card_text_blur_mm": ("mm", "lower", "edge blur of the card's printed text: the shot's own "
                                         "sharpness (too high: retake the photo)"),
    "card_portrait_blur_mm": ("mm", "lower", "edge blur of the printed portrait on the card"),
    "card_portrait_blur_px": ("px", "lower", "edge blur of the printed photo itself: "
                                             "edge_blur_px less card_added_blur_px in quadrature "
                                             "(what the blur rules read on a card)"),
    "card_portrait_blur_max_px": ("px", "lower", "the same for edge_blur_max_px (the worse "
                                                 "edge orientation)"),
    "card_added_blur_px": ("px", "lower", "blur the print's dot spread, the camera and the "
                                          "rectification add to the printed photo, on the "
                                          "canonical face"),
    "card_glare_fraction": ("0-1", "lower", "share of the photo area clipped by glare on "
                                                 "the laminate"),
    "card_scratch_fraction": ("0-1", "lower", "share of the photo area along straight "
                                                   "thin scratches"),
    "card_peeled_fraction": ("0-1", "lower", "share of the photo area peeled to the bare "
                                                  "substrate"),
    "card_eyes_damaged": ("0-1", "lower", "share of the less covered eye under the card's "
                                          "glare or peeling (both eyes hidden)"),
    "card_nose_mouth_damaged": ("0-1", "lower", "share of the less covered of nose and mouth "
                                                "under the card's damage"),
    "card_feature_damaged_max": ("0-1", "lower", "share of the most covered eye, nose or mouth "
                                                 "under the card's damage"),
    "card_face_damaged": ("0-1", "lower", "share of the face oval where the card's print has "
                                          "peeled"),
}


def unit_of(name: str) -> str:
    """Unit of a registered or card-mode measure ("" for an unknown name)."""
    if name in MEASURES:
        return MEASURES[name].unit
    return CARD_MEASURES[name][0] if name in CARD_MEASURES else ""
