"""Card input: find a KTP-el card in a photo or scan, rectify it, and locate its portrait.

Pure functions on arrays (RGB ``uint8``, ``HxWx3``) and small frozen dataclasses; no I/O apart
from reading the layout file, no models. Every number that decides lives in the card layout file
(``photocheck/cards/ktp_el.toml``): the card and portrait geometry in mm and the detection,
snapping, sharpness and damage parameters.

Coordinates: image points are ``(x, y)`` in pixels of the input image; card points are
``(x, y)`` in mm from the card's top-left corner with the card the right way up (header on top,
portrait on the right).

How the card is found (:func:`find_card`):

1. Candidates, on a copy reduced to ``work_side_px`` (and a smaller one, ``segment_side_px``),
   likeliest first: the outline of the pixels coloured like the KTP-el's light-blue ground,
   closed Canny contours, quads of straight Hough lines, k-means colour segments, and the whole
   frame when its aspect is ID-1's (a tight scan whose edges are the image border).
2. Each side is refined: along normals (the rounded corners skipped) the colour steps are
   found; a step counts when the card's ground lies on its inner side (so the header, the photo
   edge or a drop shadow running parallel to the edge do not); a Hough vote over the steps
   picks the outermost well-supported straight line; corners are where the lines meet.
3. Orientation: the longer pair of opposite sides is top and bottom (at up to 30 deg of tilt a
   long side still looks longer). Upright or upside down: the card is rectified and its printed
   content (pixels unlike the ground) correlated with the layout template (photo right,
   fields left, header on top) both ways; the better way wins (``orientation_margin``).
4. Score: the geometric mean of edge support and layout fit, each ramped to 0-1
   (``support_ramp``, ``layout_ramp``). The search stops early at ``accept_score``; the best
   candidate is refined once more on the full-resolution image.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

import cv2
import numpy as np

from .measures import edge_blur
from .policy import config_text

DEFAULT_CARD = "ktp_el"


# --------------------------------------------------------------------------------------------
# The card layout file
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoxMM:
    """An axis-aligned box on the card, in mm: ``x0 <= x < x1``, ``y0 <= y < y1``."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def corners(self) -> np.ndarray:
        """4x2 float array: TL, TR, BR, BL in mm."""
        return np.array([[self.x0, self.y0], [self.x1, self.y0], [self.x1, self.y1],
                         [self.x0, self.y1]], dtype=np.float64)

    def inset(self, margin: float) -> BoxMM:
        """The box shrunk by ``margin`` mm on every side (grown if negative)."""
        return BoxMM(self.x0 + margin, self.y0 + margin, self.x1 - margin, self.y1 - margin)

    def rotated_180(self, width: float, height: float) -> BoxMM:
        """Where this box lies on a ``width`` x ``height`` mm card turned upside down."""
        return BoxMM(width - self.x1, height - self.y1, width - self.x0, height - self.y0)

    def slices(self, px_per_mm: float, shape: tuple[int, ...]) -> tuple[slice, slice]:
        """Row and column slices of this box on a card image at ``px_per_mm``, clipped."""
        h, w = shape[:2]
        c0 = min(max(int(round(self.x0 * px_per_mm)), 0), w)
        c1 = min(max(int(round(self.x1 * px_per_mm)), c0), w)
        r0 = min(max(int(round(self.y0 * px_per_mm)), 0), h)
        r1 = min(max(int(round(self.y1 * px_per_mm)), r0), h)
        return slice(r0, r1), slice(c0, c1)


@dataclass(frozen=True)
class CardLayout:
    """Card size and the boxes of its printed areas, in mm."""

    width_mm: float
    height_mm: float
    corner_radius_mm: float
    header: BoxMM
    portrait: BoxMM
    issue: BoxMM
    signature: BoxMM
    text: BoxMM

    @property
    def aspect(self) -> float:
        """Width / height (1.586 for ID-1)."""
        return self.width_mm / self.height_mm


@dataclass(frozen=True)
class DetectionParams:
    """See ``[detection]`` in the layout file for meanings and units."""

    work_side_px: int
    min_area_fraction: float
    max_area_fraction: float
    min_interior_angle_deg: float
    max_interior_angle_deg: float
    max_side_ratio: float
    apparent_aspect: tuple[float, float]
    segment_side_px: int
    colour_clusters: int
    close_fraction: float
    split_fraction: float
    ground_hue_deg: tuple[float, float]
    ground_saturation: tuple[float, float]
    ground_min_value: float
    plain_background_rim: float
    plain_background_max_spread: float
    plain_background_min_delta: float
    plain_background_spread_factor: float
    canny_sigma: float
    canny_min_high: float
    hough_lines: int
    hough_quads: int
    approx_epsilon: float
    refine_samples: int
    refine_corner_skip: float
    refine_search_fraction: float
    refine_min_search_px: float
    refine_inlier_px: float
    refine_smooth_px: float
    refine_min_step: float
    refine_outer_ratio: float
    edge_brightness_tolerance: float
    edge_max_ground_distance: float
    edge_ground_margin: float
    layout_px_per_mm: float
    content_chromaticity: float
    content_brightness: float
    content_min_contrast: float
    content_full_contrast: float
    ground_smooth_mm: float
    expect_portrait: float
    expect_text: float
    expect_header: float
    expect_issue: float
    expect_signature: float
    min_edge_support: float
    support_ramp: tuple[float, float]
    layout_ramp: tuple[float, float]
    min_card_score: float
    accept_score: float
    frame_aspect_tolerance: float


@dataclass(frozen=True)
class PortraitParams:
    """See ``[portrait]`` in the layout file."""

    search_mm: float
    min_step_ratio: float
    smooth_mm: float


@dataclass(frozen=True)
class ShotParams:
    """See ``[shot]`` in the layout file."""

    max_px_per_mm: float
    fine_sigma_px: float
    coarse_sigma_px: float
    edge_fraction: float
    portrait_inset_mm: float


@dataclass(frozen=True)
class DamageParams:
    """See ``[damage]`` in the layout file."""

    inset_mm: float
    glare_level: float
    glare_min_area_mm2: float
    scratch_max_width_mm: float
    scratch_min_contrast: float
    scratch_min_length_mm: float
    scratch_max_gap_mm: float
    scratch_reach_mm: float
    peel_window_mm: float
    peel_flat_std: float
    peel_max_chroma: float
    peel_min_level: float
    peel_min_area_mm2: float
    peel_background_mm: float
    peel_background_delta: float


@dataclass(frozen=True)
class CardConfig:
    """A card layout file: geometry plus the parameters of every step."""

    name: str
    description: str
    layout: CardLayout
    detection: DetectionParams
    portrait: PortraitParams
    shot: ShotParams
    damage: DamageParams

    @classmethod
    def load(cls, source: str | Path | None = None) -> CardConfig:
        """Load a layout: None for the shipped KTP-el, a shipped name, or a TOML file path."""
        return cls.from_toml(config_text(source, folder="cards", default=DEFAULT_CARD,
                                         what="card layout"))

    @classmethod
    def from_toml(cls, text: str) -> CardConfig:
        """Parse a layout file; unknown or missing keys are refused, so a typo cannot pass."""
        data = tomllib.loads(text)
        _check_keys("the layout file", data, {"name", "description", "card", "layout",
                                              "detection", "portrait", "shot", "damage"})
        card, boxes = data["card"], data["layout"]
        _check_keys("[card]", card, {"width_mm", "height_mm", "corner_radius_mm"})
        names = ("header", "portrait", "issue", "signature", "text")
        _check_keys("[layout]", boxes, {f"{n}_mm" for n in names})
        layout = CardLayout(
            width_mm=float(card["width_mm"]), height_mm=float(card["height_mm"]),
            corner_radius_mm=float(card["corner_radius_mm"]),
            **{n: _box(boxes[f"{n}_mm"], f"{n}_mm") for n in names})
        return cls(
            name=str(data["name"]), description=str(data["description"]), layout=layout,
            detection=_section(DetectionParams, data["detection"], "[detection]"),
            portrait=_section(PortraitParams, data["portrait"], "[portrait]"),
            shot=_section(ShotParams, data["shot"], "[shot]"),
            damage=_section(DamageParams, data["damage"], "[damage]"),
        )


def _check_keys(where: str, table: Mapping, expected: set[str]) -> None:
    unknown, missing = set(table) - expected, expected - set(table)
    if unknown or missing:
        raise ValueError(f"invalid card layout: {where} has unknown key(s) {sorted(unknown)} "
                         f"and lacks {sorted(missing)}")


def _section(cls, table: Mapping, where: str):
    _check_keys(where, table, {f.name for f in fields(cls)})
    return cls(**{f.name: _typed(f.type, table[f.name], f"{where} {f.name}")
                  for f in fields(cls)})


def _typed(kind: str, value, where: str):
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if not isinstance(value, list) or len(value) != 2:  # tuple[float, float]: a range
        raise ValueError(f"invalid card layout: {where} must be [low, high], got {value!r}")
    return (float(value[0]), float(value[1]))


def _box(values, name: str) -> BoxMM:
    if len(values) != 4 or not (values[0] < values[2] and values[1] < values[3]):
        raise ValueError(f"invalid card layout: {name} must be [x0, y0, x1, y1] with x0 < x1, "
                         f"y0 < y1; got {values!r}")
    return BoxMM(*(float(v) for v in values))


_default_config: CardConfig | None = None


def default_config() -> CardConfig:
    """The shipped KTP-el layout, parsed once."""
    global _default_config
    if _default_config is None:
        _default_config = CardConfig.load()
    return _default_config


# --------------------------------------------------------------------------------------------
# Geometry helpers
# --------------------------------------------------------------------------------------------


def card_homography(corners: np.ndarray, layout: CardLayout) -> np.ndarray:
    """3x3 homography mapping card mm to image px, from the card's corners (TL, TR, BR, BL)."""
    card = BoxMM(0, 0, layout.width_mm, layout.height_mm).corners()
    return cv2.getPerspectiveTransform(card.astype(np.float32),
                                       np.asarray(corners, np.float32))


def card_to_image(points_mm: np.ndarray, corners: np.ndarray, layout: CardLayout) -> np.ndarray:
    """Map Nx2 card points (mm) to image px through the card's corners."""
    pts = np.asarray(points_mm, np.float64).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, card_homography(corners, layout)).reshape(-1, 2)


def quad_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two convex polygons (Nx2 px). Units: 0-1."""
    a32, b32 = np.asarray(a, np.float32), np.asarray(b, np.float32)
    area_a, area_b = abs(cv2.contourArea(a32)), abs(cv2.contourArea(b32))
    inter, _ = cv2.intersectConvexConvex(cv2.convexHull(a32), cv2.convexHull(b32))
    union = area_a + area_b - inter
    return float(inter / union) if union > 0 else 0.0


def native_px_per_mm(corners: np.ndarray, layout: CardLayout) -> float:
    """Mean scale of the card in the image: px per mm (square root of the area ratio)."""
    area = abs(cv2.contourArea(np.asarray(corners, np.float32)))
    return math.sqrt(area / (layout.width_mm * layout.height_mm))


def _order_clockwise(points: np.ndarray) -> np.ndarray:
    """Four points in clockwise order on screen (y down), starting anywhere."""
    pts = np.asarray(points, np.float64).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    return pts[np.argsort(angles)]  # increasing angle with y down = clockwise on screen


def _interior_angles(quad: np.ndarray) -> np.ndarray:
    prev, nxt = np.roll(quad, 1, axis=0) - quad, np.roll(quad, -1, axis=0) - quad
    cos = (prev * nxt).sum(axis=1) / (np.linalg.norm(prev, axis=1) * np.linalg.norm(nxt, axis=1)
                                       + 1e-9)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def _plausible(quad: np.ndarray, shape: tuple[int, ...], det: DetectionParams) -> bool:
    """A convex quad of a size and shape a photographed card can have."""
    if quad is None or not np.all(np.isfinite(quad)):
        return False
    h, w = shape[:2]
    area = abs(cv2.contourArea(quad.astype(np.float32)))
    if not det.min_area_fraction * w * h <= area <= det.max_area_fraction * w * h * 1.02:
        return False
    if not cv2.isContourConvex(np.round(quad * 16).astype(np.int32)):
        return False
    angles = _interior_angles(quad)
    if angles.min() < det.min_interior_angle_deg or angles.max() > det.max_interior_angle_deg:
        return False
    sides = np.linalg.norm(np.roll(quad, -1, axis=0) - quad, axis=1)
    if sides.max() > det.max_side_ratio * sides.min():
        return False
    pairs = sides[0] + sides[2], sides[1] + sides[3]
    aspect = max(pairs) / max(min(pairs), 1e-9)
    if not det.apparent_aspect[0] <= aspect <= det.apparent_aspect[1]:
        return False
    # Corners may lie a little outside the frame (a card cut by the border), not far.
    slack = 0.05 * max(w, h)
    return bool(np.all(quad >= -slack) and np.all(quad[:, 0] <= w + slack)
                and np.all(quad[:, 1] <= h + slack))


def _line_intersection(p: np.ndarray, d: np.ndarray, q: np.ndarray, e: np.ndarray
                       ) -> np.ndarray | None:
    """Where the line p + s d meets the line q + t e (None if nearly parallel)."""
    denom = d[0] * e[1] - d[1] * e[0]
    if abs(denom) < 1e-9:
        return None
    s = ((q[0] - p[0]) * e[1] - (q[1] - p[1]) * e[0]) / denom
    return p + s * d


def _quad_from_lines(lines: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
    """Corners where consecutive lines (point, direction) meet: corner i joins side i-1, i."""
    corners = []
    for i in range(4):
        p, d = lines[i - 1]
        q, e = lines[i]
        x = _line_intersection(p, d, q, e)
        if x is None:
            return None
        corners.append(x)
    return np.array(corners)


def _quad_from_contour(points: np.ndarray, epsilon: float) -> np.ndarray | None:
    """A four-sided approximation of a contour's convex hull: Douglas-Peucker with growing
    tolerance, or else the four longest sides of the finer polygon, extended to meet (a
    corner cut off by glare or a rounded corner adds a short side)."""
    hull = cv2.convexHull(points.reshape(-1, 1, 2).astype(np.float32))
    perimeter = cv2.arcLength(hull, True)
    if perimeter <= 0:
        return None
    for factor in (1.0, 1.5, 2.0, 3.0):
        approx = cv2.approxPolyDP(hull, epsilon * factor * perimeter, True).reshape(-1, 2)
        if len(approx) == 4:
            return _order_clockwise(approx)
        if len(approx) < 4:
            break
    approx = cv2.approxPolyDP(hull, epsilon * perimeter, True).reshape(-1, 2).astype(np.float64)
    if len(approx) <= 4:
        return None
    sides = np.linalg.norm(np.roll(approx, -1, axis=0) - approx, axis=1)
    keep = np.sort(np.argsort(sides)[-4:])
    lines = [(approx[i], approx[(i + 1) % len(approx)] - approx[i]) for i in keep]
    quad = _quad_from_lines(lines[1:] + lines[:1])
    return None if quad is None else _order_clockwise(quad)


# --------------------------------------------------------------------------------------------
# Finding the card
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardQuad:
    """A card found in an image.

    corners: 4x2 float64, image px: TL, TR, BR, BL of the card the right way up (header on top,
        portrait on the right); the corners of the ID-1 rectangle, where the straight sides
        meet (not the rounded corners). Continuous coordinates: pixel (i, j) covers
        [i, i + 1) x [j, j + 1).
    confidence: 0-1 combined score (edge support and layout fit); at least
        ``[detection] min_card_score`` for a returned card.
    method: how the outline was proposed: "edges" (Canny contours), "colour" (a colour
        segment) or "frame" (the image border: a tight scan).
    edge_support: 0-1, share of the sides' normals that found a step on the fitted line.
    layout_score: -1..1, correlation of the rectified card's printed content with the layout.
    orientation_margin: layout score of the chosen orientation minus that of the card turned by
        180 deg: how surely upright and upside down were told apart (larger is surer).
    """

    corners: np.ndarray
    confidence: float
    method: str
    edge_support: float
    layout_score: float
    orientation_margin: float

    def homography(self, layout: CardLayout) -> np.ndarray:
        """3x3 homography from card mm to image px."""
        return card_homography(self.corners, layout)

    def px_per_mm(self, layout: CardLayout) -> float:
        """Mean scale of the card in the image, px per mm."""
        return native_px_per_mm(self.corners, layout)


@dataclass
class _Candidate:
    corners: np.ndarray  # clockwise, work px; after _orient: TL, TR, BR, BL
    method: str
    support: float = 0.0
    layout: float = -1.0
    margin: float = 0.0
    score: float = 0.0


def find_card(rgb: np.ndarray, config: CardConfig | None = None) -> CardQuad | None:
    """Find the card in a photo or scan; None when no candidate scores as a card.

    ``rgb``: HxWx3 uint8 image (RGB order). The card may be rotated by any angle in the image,
    tilted out of the image plane (tested to 30 deg), fill 30-95 % of the frame, lie on a
    textured desk among other things, be shadowed or glared, or be a tight scan whose edges are
    the image border. Upright versus upside down is decided by the layout (the portrait is on
    the right below the header); a card whose layout cannot be seen (blank, covered) scores low.

    Returns the best candidate whose ``confidence`` reaches ``[detection] min_card_score``.
    """
    cfg = config or default_config()
    det = cfg.detection
    best, scale = _best_candidate(_check_rgb(rgb), cfg)
    if best is None or best.score < det.min_card_score:
        return None
    return _full_resolution(rgb, best, scale, cfg)


def _full_resolution(rgb: np.ndarray, best: _Candidate, scale: float, cfg: CardConfig
                     ) -> CardQuad:
    """The candidate refined once more on the full image (the reduced copy limits precision to
    about 1 / scale px)."""
    det = cfg.detection
    corners = best.corners
    if scale < 1.0:
        full = (corners + 0.5) / scale - 0.5
        refined, _ = _refine_quad(rgb, full, det, search_px=max(
            det.refine_min_search_px, 2.5 / scale), border=best.method == "frame")
        corners = refined if refined is not None and _plausible(refined, rgb.shape, det) \
            else full
    # Sampling works on pixel indices (pixel centres at integers); the quad is reported in
    # continuous coordinates, pixel (i, j) covering [i, i + 1) x [j, j + 1).
    corners = corners + 0.5
    return CardQuad(corners=corners, confidence=round(float(best.score), 4), method=best.method,
                    edge_support=round(float(best.support), 4),
                    layout_score=round(float(best.layout), 4),
                    orientation_margin=round(float(best.margin), 4))


def _best_candidate(rgb: np.ndarray, cfg: CardConfig) -> tuple[_Candidate | None, float]:
    """The best-scoring candidate on the reduced copy (whatever its score) and the copy's
    scale (reduced px per image px)."""
    h, w = rgb.shape[:2]
    scale = min(1.0, cfg.detection.work_side_px / max(h, w))
    small = rgb if scale == 1.0 else cv2.resize(
        rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    best: _Candidate | None = None
    for candidate in _candidates(small, cfg):
        scored = _score_candidate(small, candidate, cfg)
        if scored is not None and (best is None or scored.score > best.score):
            best = scored
            if best.score >= cfg.detection.accept_score:
                break  # a clear card: the remaining candidates cannot matter
    return best, scale


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 \
            or rgb.shape[2] != 3:
        raise ValueError("expected an HxWx3 uint8 RGB array")
    return rgb


def _same_quad(a: np.ndarray, b: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Nearly the same outline (corner for corner, any starting corner)."""
    tol = 0.01 * math.hypot(*shape[:2])
    a, b = _order_clockwise(a), _order_clockwise(b)
    return any(np.abs(np.roll(a, k, axis=0) - b).max() < tol for k in range(4))


def _candidates(small: np.ndarray, cfg: CardConfig) -> Iterator[_Candidate]:
    """Outlines that may be the card, on the reduced copy, cheapest and likeliest first (the
    search stops at a candidate scoring ``accept_score``): segments of the KTP-el's ground
    colour, closed edge contours, the same and straight-line quads on a smaller copy (a
    blurred shot's edges are sharper there), k-means colour segments, and the whole frame when
    its aspect is ID-1's (a tight scan)."""
    det = cfg.detection
    h, w = small.shape[:2]
    seen: list[np.ndarray] = []
    seg_scale = min(1.0, det.segment_side_px / max(h, w))
    seg = small if seg_scale == 1.0 else cv2.resize(
        small, (max(1, round(w * seg_scale)), max(1, round(h * seg_scale))),
        interpolation=cv2.INTER_AREA)

    def from_seg(quads: list[np.ndarray | None]) -> list[np.ndarray | None]:
        return [None if q is None else (q + 0.5) / seg_scale - 0.5 for q in quads]

    sources = (
        ("colour", lambda: from_seg(_ground_quads(seg, det))),
        ("colour", lambda: from_seg(_plain_background_quads(seg, det))),
        ("edges", lambda: _edge_quads(small, det)),
        ("edges", lambda: from_seg(_edge_quads(seg, det) + _line_quads(seg, det))),
        ("colour", lambda: from_seg(_colour_quads(seg, det))),
        ("frame", lambda: [_frame_quad(w, h, cfg)]),
    )
    for method, make in sources:
        for quad in make():
            if quad is None or not _plausible(quad, small.shape, det):
                continue
            if any(_same_quad(quad, other, small.shape) for other in seen):
                continue
            seen.append(quad)
            yield _Candidate(_order_clockwise(quad), method)


def _frame_quad(w: int, h: int, cfg: CardConfig) -> np.ndarray | None:
    """The image's own border as a quad (pixel centres of the corner pixels), when the image
    has ID-1's aspect either way round: a scan cropped to the card."""
    aspect, target = w / h, cfg.layout.aspect
    if min(abs(aspect / target - 1), abs(aspect * target - 1)) > \
            cfg.detection.frame_aspect_tolerance:
        return None
    return np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float64)


def _edge_quads(small: np.ndarray, det: DetectionParams) -> list[np.ndarray]:
    """Four-sided outlines of closed edge contours (Canny on luminance and on a blue-yellow
    opponent channel, so a light-blue card on white paper still has an outline)."""
    quads = []
    kernel = np.ones((3, 3), np.uint8)
    edges = _canny(small, det)
    closed = cv2.dilate(edges, kernel)
    contours, _ = cv2.findContours(closed, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    min_area = det.min_area_fraction * small.shape[0] * small.shape[1]
    for contour in contours:
        if cv2.contourArea(cv2.convexHull(contour)) < min_area:
            continue
        quads.append(_quad_from_contour(contour, det.approx_epsilon))
    return quads


def _line_quads(seg: np.ndarray, det: DetectionParams) -> list[np.ndarray]:
    """Quads from straight lines (Hough transform of the Canny edges), for outlines that no
    closed contour or colour segment gives (a card touching things of its colour, a blurred
    shot). The strongest distinct lines are paired into two roughly parallel pairs crossing
    at a good angle; the quads whose sides lie best on edges are kept."""
    h, w = seg.shape[:2]
    edges = _canny(seg, det)
    found = cv2.HoughLines(edges, 1, np.pi / 180, threshold=max(10, int(0.08 * max(h, w))))
    if found is None:
        return []
    lines: list[tuple[float, float]] = []
    for rho, theta in found.reshape(-1, 2):
        # Distinct lines only: skip ones close in angle and offset to a stronger one.
        if all(abs(rho - r) > 0.03 * max(h, w) or _angle_gap(theta, t) > np.radians(4)
               for r, t in lines):
            lines.append((float(rho), float(theta)))
        if len(lines) == det.hough_lines:
            break
    pairs = [(i, j) for i in range(len(lines)) for j in range(i + 1, len(lines))
             if _angle_gap(lines[i][1], lines[j][1]) < np.radians(35)]
    distance = cv2.distanceTransform(255 - edges, cv2.DIST_L2, 3)
    scored = []
    for a in range(len(pairs)):
        for b in range(a + 1, len(pairs)):
            (i, j), (k, m) = pairs[a], pairs[b]
            if len({i, j, k, m}) < 4 or _angle_gap(lines[i][1], lines[k][1]) < np.radians(40):
                continue
            quad = _quad_from_lines([_hesse(lines[n]) for n in (i, k, j, m)])
            if quad is None:
                continue
            quad = _order_clockwise(quad)
            if not _plausible(quad, seg.shape, det):
                continue
            scored.append((_edge_fit(quad, distance), quad))
    scored.sort(key=lambda item: item[0], reverse=True)
    return [quad for _, quad in scored[: det.hough_quads]]


def _angle_gap(a: float, b: float) -> float:
    """Angle between two line directions (radians, 0..pi/2)."""
    gap = abs(a - b) % np.pi
    return min(gap, np.pi - gap)


def _hesse(line: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(point, direction) of the line x cos t + y sin t = rho."""
    rho, theta = line
    normal = np.array([math.cos(theta), math.sin(theta)])
    return rho * normal, np.array([-normal[1], normal[0]])


def _edge_fit(quad: np.ndarray, distance: np.ndarray) -> float:
    """Share of points along the quad's sides (ends skipped) within 1.5 px of an edge."""
    t = np.linspace(0.1, 0.9, 20)[:, None]
    points = np.concatenate([quad[i] + t * (quad[(i + 1) % 4] - quad[i]) for i in range(4)])
    h, w = distance.shape
    x = np.clip(np.round(points[:, 0]).astype(int), 0, w - 1)
    y = np.clip(np.round(points[:, 1]).astype(int), 0, h - 1)
    return float((distance[y, x] <= 1.5).mean())


def _canny(rgb: np.ndarray, det: DetectionParams) -> np.ndarray:
    """Canny edges of luminance and of the blue-yellow opponent channel (a light-blue card on
    white paper differs mostly in colour), thresholds from the image's own gradient level."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    edges = np.zeros(rgb.shape[:2], np.uint8)
    for channel in (lab[..., 0], lab[..., 2]):
        blurred = cv2.GaussianBlur(channel, (0, 0), 1.2)
        gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0)
        gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1)
        magnitude = cv2.magnitude(gx, gy)
        moving = magnitude[magnitude > 0]
        if not moving.size:
            continue
        # A desk's texture raises the typical gradient, and with it both thresholds.
        high = max(4.0 * float(np.median(moving)), det.canny_min_high)
        edges |= cv2.Canny(blurred, high * (1 - det.canny_sigma) / 2, high, L2gradient=True)
    return edges


def _colour_quads(seg: np.ndarray, det: DetectionParams) -> list[np.ndarray]:
    """Four-sided outlines of colour segments: k-means in Lab, each cluster's pixels closed over
    text and photo, each large connected piece's hull approximated."""
    h, w = seg.shape[:2]
    lab = cv2.cvtColor(cv2.GaussianBlur(seg, (0, 0), 1.0), cv2.COLOR_RGB2LAB)
    pixels = lab.reshape(-1, 3).astype(np.float32)
    sample = pixels[:: max(1, len(pixels) // 6000)]
    k = det.colour_clusters
    # Fixed initial centres (spread over the luminance range) keep this deterministic.
    order = np.argsort(sample[:, 0], kind="stable")
    centres = sample[order[np.linspace(0, len(order) - 1, k).astype(int)]].copy()
    for _ in range(6):
        labels = _nearest(sample, centres)
        for j in range(k):
            members = sample[labels == j]
            if len(members):
                centres[j] = members.mean(axis=0)
    labels = _nearest(pixels, centres).reshape(h, w)
    return [quad for j in range(k)
            for quad in _segment_quads((labels == j).astype(np.uint8), det)]


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for each point (squared Euclidean, via a dot product)."""
    best = np.full(len(points), np.inf, np.float32)
    index = np.zeros(len(points), np.int64)
    for j, centre in enumerate(centres):  # a loop over the few centres: no BLAS threads
        dist = ((points - centre) ** 2).sum(axis=1)
        closer = dist < best
        best[closer], index[closer] = dist[closer], j
    return index


def _ground_quads(seg: np.ndarray, det: DetectionParams) -> list[np.ndarray]:
    """Four-sided outlines of the pixels coloured like the KTP-el's light-blue ground."""
    hsv = cv2.cvtColor(cv2.GaussianBlur(seg, (0, 0), 1.0), cv2.COLOR_RGB2HSV_FULL)
    hue = hsv[..., 0].astype(np.float32) * (360.0 / 256.0)
    sat = hsv[..., 1].astype(np.float32) / 255.0
    val = hsv[..., 2].astype(np.float32) / 255.0
    (h0, h1), (s0, s1) = det.ground_hue_deg, det.ground_saturation
    mask = ((hue >= h0) & (hue <= h1) & (sat >= s0) & (sat <= s1)
            & (val >= det.ground_min_value)).astype(np.uint8)
    quads = _segment_quads(mask, det)
    # A card touching something of its own colour (a blue folder, another card) merges with it;
    # opening with a large disc cuts thin joins, and the refinement restores the corners.
    size = max(3, int(det.split_fraction * max(mask.shape)) | 1)
    opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return quads + _segment_quads(opened, det)


def _plain_background_quads(seg: np.ndarray, det: DetectionParams) -> list[np.ndarray]:
    """Four-sided outlines of what is not the background, when the background is plain (a
    scanner lid, a bare table): its colour is fitted to the image's rim (a plane per channel:
    even lighting or a linear gradient), and pixels unlike it by more than
    ``plain_background_min_delta`` (or ``plain_background_spread_factor`` x the rim's own 90th
    percentile residual) are foreground. A washed-out card on a white lid differs from it by
    only 10-20 levels: too little for Canny's thresholds or the ground colour bounds, plenty
    against a flat lid. Nothing when the rim is textured or cluttered (residual above
    ``plain_background_max_spread``)."""
    h, w = seg.shape[:2]
    f = cv2.GaussianBlur(seg, (0, 0), 1.0).astype(np.float32)
    band = max(2, int(round(det.plain_background_rim * min(h, w))))
    rim = np.zeros((h, w), bool)
    rim[:band], rim[-band:], rim[:, :band], rim[:, -band:] = True, True, True, True
    yy, xx = np.nonzero(rim)
    design = np.stack([np.ones(len(xx)), xx / w, yy / h], axis=1).astype(np.float32)
    coeffs, *_ = np.linalg.lstsq(design, f[yy, xx], rcond=None)  # (3, 3): plane per channel
    residual = np.linalg.norm(f[yy, xx] - design @ coeffs, axis=1)
    spread = float(np.percentile(residual, 90))
    if spread > det.plain_background_max_spread:
        return []
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    background = (coeffs[0] + coeffs[1] * (gx / w)[..., None] + coeffs[2] * (gy / h)[..., None])
    distance = np.linalg.norm(f - background, axis=2)
    threshold = max(det.plain_background_min_delta, det.plain_background_spread_factor * spread)
    return _segment_quads((distance > threshold).astype(np.uint8), det)


def _segment_quads(mask: np.ndarray, det: DetectionParams) -> list[np.ndarray]:
    """Each large connected piece of a (closed) mask, approximated by a quad."""
    h, w = mask.shape
    size = max(3, int(det.close_fraction * max(h, w)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
    count, comp, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    min_area = det.min_area_fraction * h * w
    quads = []
    for i in range(1, count):
        if stats[i, cv2.CC_STAT_AREA] < min_area:
            continue
        contours, _ = cv2.findContours((comp == i).astype(np.uint8), cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_SIMPLE)
        quads.append(_quad_from_contour(max(contours, key=cv2.contourArea), det.approx_epsilon))
    return quads


def _score_candidate(small: np.ndarray, candidate: _Candidate, cfg: CardConfig
                     ) -> _Candidate | None:
    det = cfg.detection
    frame = candidate.method == "frame"
    search = max(det.refine_min_search_px, det.refine_search_fraction * math.sqrt(
        abs(cv2.contourArea(candidate.corners.astype(np.float32)))))
    corners, support = _refine_quad(small, candidate.corners, det, search_px=search,
                                    border=frame)
    if corners is None or not _plausible(corners, small.shape, det):
        return None
    corners, support2 = _refine_quad(small, corners, det, search_px=max(
        det.refine_min_search_px, search / 3), border=frame)
    if corners is None or not _plausible(corners, small.shape, det):
        return None
    oriented, layout, margin = _orient(small, corners, cfg)
    candidate.corners, candidate.support = oriented, support2
    candidate.layout, candidate.margin = layout, margin
    candidate.score = _combined_score(support2, layout, det)
    return candidate


def _combined_score(support: float, layout: float, det: DetectionParams) -> float:
    """0-1: the geometric mean of edge support and layout fit, each ramped linearly from 0 at
    the low end of its ``*_ramp`` to 1 at the high end. Both must be good: straight edges
    alone are any rectangle (a sheet of paper, a photo's own frame), a layout-like pattern
    alone is not an outline."""
    (s0, s1), (l0, l1) = det.support_ramp, det.layout_ramp
    s = float(np.clip((support - s0) / (s1 - s0), 0, 1))
    fit = float(np.clip((layout - l0) / (l1 - l0), 0, 1))
    return math.sqrt(s * fit)


# --------------------------------------------------------------------------------------------
# Side refinement
# --------------------------------------------------------------------------------------------


def _refine_quad(rgb: np.ndarray, corners: np.ndarray, det: DetectionParams, *,
                 search_px: float, border: bool = False) -> tuple[np.ndarray | None, float]:
    """Move each side onto the card's edge near it; corners where the sides meet.

    ``corners`` are in pixel-index coordinates (pixel centres at integers), clockwise. Along
    ``refine_samples`` normals per side (the ends skipped: rounded corners) the colour profile
    is read over +-``search_px`` and averaged along the side; its steps that have the card's
    ground (the median colour inside the quad) on the inner side are the side's evidence, and
    :func:`_fit_offset_line` fits the side's line to them. A side without evidence keeps its
    old line; with ``border`` a side on the image border also keeps it (a tight scan's edge is
    the border) and counts as supported. Returns the new corners (same order) and the mean
    share of each side's normals that support its line.
    """
    quad = np.asarray(corners, np.float64)
    h, w = rgb.shape[:2]
    ground = _interior_colour(rgb, quad)
    lines, supports = [], []
    for i in range(4):
        p0, p1 = quad[i], quad[(i + 1) % 4]
        fitted, support = _refine_side(rgb, p0, p1, det, search_px, ground)
        on_border = border and _on_border(p0, p1, w, h)
        if fitted is None or (support < det.min_edge_support and on_border):
            fitted = (p0, p1 - p0)
            if on_border:
                support = 1.0  # the frame itself is the edge
        lines.append(fitted)
        supports.append(support)
    # Corner i is where side i-1 (ending at it) meets side i (starting at it).
    new = _quad_from_lines(lines)
    if new is None:
        return None, 0.0
    # A side may not jump far: that would be another object's edge, not a correction.
    if np.abs(new - quad).max() > 4 * search_px + 2:
        return None, 0.0
    return new, float(np.mean(supports))


def _interior_colour(rgb: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Median RGB over a grid inside the quad (its middle 80 %): the card's ground colour when
    the quad is a card, whose print covers a minority of its face."""
    u, v = np.meshgrid(np.linspace(0.1, 0.9, 24), np.linspace(0.1, 0.9, 16))
    u, v = u.ravel()[:, None], v.ravel()[:, None]
    a, b, c, d = quad
    points = (1 - u) * (1 - v) * a + u * (1 - v) * b + u * v * c + (1 - u) * v * d
    values = cv2.remap(rgb, points[:, 0].astype(np.float32)[None],
                       points[:, 1].astype(np.float32)[None], cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)[0]
    return np.median(values.astype(np.float32), axis=0)


def _ground_distance(colours: np.ndarray, ground: np.ndarray, det: DetectionParams
                     ) -> np.ndarray:
    """How unlike the ground colour (...x3 RGB): chromaticity distance in units of
    ``content_chromaticity`` plus the log brightness ratio in units of
    ``edge_brightness_tolerance`` (wide: a shadow across the card is still card); below 1
    reads as ground."""
    c = colours.astype(np.float32) + 1.0
    g = ground.astype(np.float32) + 1.0
    chroma = np.sqrt(((c / c.sum(axis=-1, keepdims=True) - g / g.sum()) ** 2).sum(axis=-1))
    ratio = c.sum(axis=-1) / g.sum()
    return (chroma / det.content_chromaticity
            + np.abs(np.log(ratio)) / det.edge_brightness_tolerance)


def _on_border(p0: np.ndarray, p1: np.ndarray, w: int, h: int, tol: float = 2.0) -> bool:
    return bool((abs(p0[0]) <= tol and abs(p1[0]) <= tol)
                or (abs(p0[1]) <= tol and abs(p1[1]) <= tol)
                or (abs(p0[0] - (w - 1)) <= tol and abs(p1[0] - (w - 1)) <= tol)
                or (abs(p0[1] - (h - 1)) <= tol and abs(p1[1] - (h - 1)) <= tol))


def _refine_side(rgb: np.ndarray, p0: np.ndarray, p1: np.ndarray, det: DetectionParams,
                 search_px: float, ground: np.ndarray
                 ) -> tuple[tuple[np.ndarray, np.ndarray] | None, float]:
    d = p1 - p0
    length = float(np.linalg.norm(d))
    if length < 8:
        return None, 0.0
    d = d / length
    n = np.array([d[1], -d[0]])  # outward for a clockwise quad (y down)
    skip = det.refine_corner_skip
    t = np.linspace(skip, 1 - skip, det.refine_samples) * length
    step = 0.5
    offsets = np.arange(-search_px, search_px + step / 2, step)
    along = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])  # averaged along the side: less noise
    base = p0[None, None, :] + (t[:, None, None] + along[None, :, None]) * d
    coords = base[:, :, None, :] + offsets[None, None, :, None] * n  # (N, L, M, 2)
    N, L, M = coords.shape[:3]
    map_x = coords[..., 0].reshape(N * L, M).astype(np.float32)
    map_y = coords[..., 1].reshape(N * L, M).astype(np.float32)
    profile = cv2.remap(rgb, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    profile = profile.reshape(N, L, M, 3).astype(np.float32).mean(axis=1)  # (N, M, 3)
    sigma = max(det.refine_smooth_px, 0.5) / step
    profile = cv2.GaussianBlur(profile, (0, 1), sigmaX=sigma) if M > 3 else profile
    deriv = np.diff(profile, axis=1)
    strength = np.sqrt((deriv ** 2).sum(axis=2))  # (N, M-1): colour step per half px
    # Up to three local maxima per normal: the card's edge need not be the strongest step
    # (the photo's edge runs parallel 3.6 mm inside), but it is the one present all along.
    floor = det.refine_min_step * step
    top = strength.max(axis=1, keepdims=True)
    inner = strength[:, 1:-1]
    is_peak = (inner >= strength[:, :-2]) & (inner > strength[:, 2:]) & (inner > floor) & (
        inner >= 0.25 * top)
    rows, cols = np.nonzero(is_peak)
    if not len(rows):
        return None, 0.0
    cols = cols + 1
    values = strength[rows, cols]
    order = np.lexsort((-values, rows))  # by normal, strongest first
    rows, cols, values = rows[order], cols[order], values[order]
    first = np.searchsorted(rows, rows)  # index of each normal's first (strongest) peak
    keep = (np.arange(len(rows)) - first) < 3
    rows, cols, values = rows[keep], cols[keep], values[keep]
    # The card's edge has the card's ground on its inner side and something else outside; a
    # printed line inside the card (header, photo edge) has print inside and ground outside,
    # a drop shadow's edge outside the card has no ground on either side.
    reach = int(round(1.5 / step))
    inside = profile[rows, np.maximum(cols - reach, 0)]
    outside = profile[rows, np.minimum(cols + 1 + reach, M - 1)]
    d_in, d_out = _ground_distance(inside, ground, det), _ground_distance(outside, ground, det)
    # The margin shrinks with the outside's own distance below 1: a pale card on a white lid
    # differs from it by less than the margin, but still by a clear share of that distance.
    margin = det.edge_ground_margin * np.minimum(d_out, 1.0)
    polar = (d_in < det.edge_max_ground_distance) & (d_in + margin < d_out)
    if not polar.any():
        return None, 0.0
    rows, cols, values = rows[polar], cols[polar], values[polar]
    # Sub-sample position of each peak (parabola through the peak and its neighbours).
    a, b, c = strength[rows, cols - 1], values, strength[rows, cols + 1]
    denom = a - 2 * b + c
    frac = np.where(np.abs(denom) > 1e-6, 0.5 * (a - c) / denom, 0.0)
    pos = offsets[0] + step * (cols + 0.5 + np.clip(frac, -1, 1))
    fit = _fit_offset_line(t[rows], pos, rows, values / top[rows, 0], N, det.refine_inlier_px,
                           max_slope=2.0 * search_px / length, outer_ratio=det.refine_outer_ratio)
    if fit is None:
        return None, 0.0
    (intercept, slope), support = fit
    point = p0 + intercept * n
    direction = d + slope * n
    return (point, direction / np.linalg.norm(direction)), support


def _fit_offset_line(t: np.ndarray, s: np.ndarray, normal: np.ndarray, weight: np.ndarray,
                     count: int, tol: float, max_slope: float, outer_ratio: float
                     ) -> tuple[tuple[float, float], float] | None:
    """The card's side as a line s = a + b t (``s`` outwards along the normals, ``t`` along the
    side) through step peaks: a deterministic Hough vote over slopes up to ``max_slope`` and
    offsets in bins of ``tol``, a line's votes being the peaks within it (ties go to stronger
    steps). Of the lines with at least ``outer_ratio`` of the best line's votes, the outermost
    is taken: print runs parallel just inside the card's edge (the header, the aligned starts
    of the field labels, the photo's edge), the card's edge is outside all of it. Then least
    squares on the inliers.

    Returns ((a, b), share of the ``count`` normals with a peak on the line).
    """
    span = float(t.max() - t.min()) + 1.0
    steps = max(3, int(math.ceil(2 * max_slope * span / tol)) | 1)
    slopes = np.linspace(-max_slope, max_slope, steps)
    offsets = s[None, :] - slopes[:, None] * t[None, :]  # (slopes, peaks)
    lo = offsets.min(axis=1, keepdims=True)
    bins = np.floor((offsets - lo) / tol).astype(np.int64)
    nbins = int(bins.max()) + 2
    flat = (bins + nbins * np.arange(steps)[:, None]).ravel()
    hits = np.bincount(flat, minlength=steps * nbins).reshape(steps, nbins).astype(np.float64)
    strong = np.bincount(flat, weights=np.broadcast_to(weight, offsets.shape).ravel(),
                         minlength=steps * nbins).reshape(steps, nbins)
    pair_hits = hits[:, :-1] + hits[:, 1:]  # a window of two bins: 2 x tol wide
    votes = pair_hits + 0.5 * (strong[:, :-1] + strong[:, 1:]) / np.maximum(pair_hits, 1)
    if votes.max() < 2:
        return None
    # Outermost of the good lines: the largest offset at the middle of the side.
    middle = float(np.median(t))
    k_slope, k_bin = np.nonzero(votes >= outer_ratio * votes.max())
    centres = lo[k_slope, 0] + (k_bin + 1) * tol
    pick = int(np.argmax(centres + slopes[k_slope] * middle))
    slope, intercept = float(slopes[k_slope[pick]]), float(centres[pick])
    for _ in range(2):  # least squares on the inliers, twice
        inlier = np.abs(s - (intercept + slope * t)) <= tol
        if inlier.sum() < 2:
            return None
        A = np.stack([np.ones(int(inlier.sum())), t[inlier]], axis=1)
        (intercept, slope), *_ = np.linalg.lstsq(A, s[inlier], rcond=None)
    inlier = np.abs(s - (intercept + slope * t)) <= tol
    support = len(np.unique(normal[inlier])) / count
    return (float(intercept), float(slope)), float(support)


# --------------------------------------------------------------------------------------------
# Layout: orientation and score
# --------------------------------------------------------------------------------------------


def _orient(small: np.ndarray, corners: np.ndarray, cfg: CardConfig
            ) -> tuple[np.ndarray, float, float]:
    """Order the corners TL, TR, BR, BL of the upright card; return them with the layout score
    and the orientation margin.

    The longer pair of opposite sides is the top and bottom (foreshortening at 30 deg tilt
    keeps a long side at least cos 30 x 85.6 = 74 mm against 54 mm). Upright and upside down
    are told apart by which fits the layout template better.
    """
    quad = _order_clockwise(corners)
    sides = np.linalg.norm(np.roll(quad, -1, axis=0) - quad, axis=1)
    start = 0 if sides[0] + sides[2] >= sides[1] + sides[3] else 1
    ordered = np.roll(quad, -start, axis=0)
    det, layout = cfg.detection, cfg.layout
    ppm = det.layout_px_per_mm
    # +0.5: candidates live in pixel-index coordinates, rectify takes continuous ones.
    content = content_map(rectify(small, ordered + 0.5, ppm, layout=layout), ppm, det)
    template = layout_template(layout, det, ppm)
    # The card turned by 180 deg rectifies to the same image turned by 180 deg.
    upright = _correlation(content, template, layout, ppm)
    flipped = _correlation(content, template[::-1, ::-1], layout, ppm)
    if flipped > upright:
        return np.roll(ordered, -2, axis=0), flipped, flipped - upright
    return ordered, upright, upright - flipped


def content_map(card_rgb: np.ndarray, px_per_mm: float, det: DetectionParams) -> np.ndarray:
    """Where the rectified card carries print (HxW bool): text, photo, signature.

    A pixel is content when its chromaticity (r, g, b over their sum; unchanged by shadows and
    lighting) is at least ``content_chromaticity`` from the card ground's, or its brightness
    differs from the ground's around it by ``content_brightness`` of that brightness. The
    ground is the median chromaticity of the card; its brightness is smoothed over
    ``ground_smooth_mm`` from the pixels that look like ground (normalised convolution), so a
    shadow across the card is not content. On a washed-out card the share shrinks with the
    print's contrast (1 - darkest print / ground, 2nd percentile) below
    ``content_full_contrast``, to no less than ``content_min_contrast`` of it: faded grey
    text still counts.
    """
    f = card_rgb.astype(np.float32) + 1.0
    total = f.sum(axis=2)
    chroma = f / total[..., None]
    ground_chroma = np.median(chroma.reshape(-1, 3)[::3], axis=0)
    chroma_far = np.sqrt(((chroma - ground_chroma) ** 2).sum(axis=2))
    brightness = total / 3.0
    ground = (chroma_far < det.content_chromaticity) & (brightness > 0.5 * np.median(brightness))
    sigma = det.ground_smooth_mm * px_per_mm
    weight = cv2.GaussianBlur(ground.astype(np.float32), (0, 0), sigma)
    level = cv2.GaussianBlur(brightness * ground, (0, 0), sigma) / np.maximum(weight, 1e-3)
    typical = float(np.median(brightness[ground]) if ground.any() else np.median(brightness))
    level = np.where(weight > 0.05, level, typical)
    darkest = float(np.percentile(brightness[::2, ::2], 2))
    contrast = np.clip((typical - darkest) / max(typical, 1.0), det.content_min_contrast,
                       det.content_full_contrast) / det.content_full_contrast
    ratio = brightness / np.maximum(level, 1.0)
    far = np.abs(ratio - 1) >= det.content_brightness * float(contrast)
    return (chroma_far >= det.content_chromaticity) | far


def layout_template(layout: CardLayout, det: DetectionParams, px_per_mm: float) -> np.ndarray:
    """Expected content share per pixel of the rectified card (HxW float32)."""
    w, h = round(layout.width_mm * px_per_mm), round(layout.height_mm * px_per_mm)
    template = np.zeros((h, w), np.float32)
    for box, value in ((layout.text, det.expect_text), (layout.header, det.expect_header),
                       (layout.issue, det.expect_issue), (layout.signature, det.expect_signature),
                       (layout.portrait, det.expect_portrait)):
        template[box.slices(px_per_mm, template.shape)] = value
    return template


def layout_fit(rgb: np.ndarray, corners: np.ndarray, cfg: CardConfig | None = None) -> float:
    """Correlation (-1..1) between the printed content of the card at ``corners`` (TL, TR, BR,
    BL, image px) and the layout template. A KTP-el the right way up scores high; the same
    card upside down, a blank card or a sheet of paper scores low."""
    cfg = cfg or default_config()
    det, layout = cfg.detection, cfg.layout
    ppm = det.layout_px_per_mm
    content = content_map(rectify(rgb, corners, ppm, layout=layout), ppm, det)
    return _correlation(content, layout_template(layout, det, ppm), layout, ppm)


def _correlation(content: np.ndarray, template: np.ndarray, layout: CardLayout,
                 ppm: float) -> float:
    """Pearson correlation inside the card less a 1 mm rim (misfit and rounded corners)."""
    inner = BoxMM(1.0, 1.0, layout.width_mm - 1.0, layout.height_mm - 1.0)
    rows, cols = inner.slices(ppm, template.shape)
    a = content[rows, cols].astype(np.float32).ravel()
    b = template[rows, cols].ravel()
    a, b = a - a.mean(), b - b.mean()
    denom = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum() / denom) if denom > 0 else 0.0


# --------------------------------------------------------------------------------------------
# Rectification and the portrait
# --------------------------------------------------------------------------------------------


def rectify(rgb: np.ndarray, corners: np.ndarray, px_per_mm: float, *,
            layout: CardLayout | None = None) -> np.ndarray:
    """The card warped flat and upright: ``round(85.60 * px_per_mm)`` x
    ``round(53.98 * px_per_mm)`` px (ID-1 aspect), pixel (i, j) covering card mm
    ``[i, i + 1) / px_per_mm`` x ``[j, j + 1) / px_per_mm``.

    ``corners``: TL, TR, BR, BL in image px (a :class:`CardQuad`'s ``corners``). Where the warp
    shrinks the image by more than 1.5x, the image is smoothed first so fine print does not
    alias. Pixels beyond the image are replicated from its border.
    """
    layout = layout or default_config().layout
    w, h = round(layout.width_mm * px_per_mm), round(layout.height_mm * px_per_mm)
    to_image = card_homography(corners, layout)
    # Output pixel (i, j) has its centre at card mm ((i + 0.5) / ppm, (j + 0.5) / ppm).
    out_to_mm = np.array([[1 / px_per_mm, 0, 0.5 / px_per_mm], [0, 1 / px_per_mm,
                                                                  0.5 / px_per_mm], [0, 0, 1]])
    unshift = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]])
    matrix = unshift @ to_image @ out_to_mm  # output index -> input index
    shrink = native_px_per_mm(corners, layout) / px_per_mm
    src = rgb
    if shrink > 1.5:
        # Smooth only the card's bounding box (plus the filter's reach), not the whole image.
        sigma = 0.4 * shrink
        pad = int(3 * sigma) + 2
        x0, y0 = np.floor(np.asarray(corners).min(axis=0)).astype(int) - pad
        x1, y1 = np.ceil(np.asarray(corners).max(axis=0)).astype(int) + pad
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, rgb.shape[1]), min(y1, rgb.shape[0])
        if x1 > x0 and y1 > y0:
            src = cv2.GaussianBlur(rgb[y0:y1, x0:x1], (0, 0), sigma)
            matrix = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]]) @ matrix
    return cv2.warpPerspective(src, matrix, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)


@dataclass(frozen=True)
class PortraitBox:
    """Where the portrait is printed on the rectified card.

    box_mm: the portrait box, card mm (after snapping).
    nominal_mm: the layout's box it started from.
    snapped: for the left, top, right and bottom edges: True when the edge moved onto a
        printed step, False when no clear step was found and the layout's edge was kept.
    """

    box_mm: BoxMM
    nominal_mm: BoxMM
    snapped: tuple[bool, bool, bool, bool]

    def crop(self, card_rgb: np.ndarray, px_per_mm: float) -> np.ndarray:
        """The portrait cut out of a card rectified at ``px_per_mm`` (a copy)."""
        rows, cols = self.box_mm.slices(px_per_mm, card_rgb.shape)
        return card_rgb[rows, cols].copy()

    def image_corners(self, card_corners: np.ndarray, layout: CardLayout | None = None
                      ) -> np.ndarray:
        """The portrait's corners (TL, TR, BR, BL) in image px, through the card's corners."""
        layout = layout or default_config().layout
        return card_to_image(self.box_mm.corners(), card_corners, layout)


def portrait_region(card_rgb: np.ndarray, px_per_mm: float,
                    config: CardConfig | None = None) -> PortraitBox:
    """The portrait box on a card rectified at ``px_per_mm`` (see :func:`rectify`).

    Starts from the layout's box and moves each edge onto the photo's printed edge when one is
    clear within ``[portrait] search_mm``: the colour step across the edge, taken as the median
    over the middle 60 % of the edge's length (a straight printed edge is there all along; the
    hair line or a text line is not), must beat the median of the search window by
    ``min_step_ratio`` and have bare card ground just outside it (the photo ends where the card
    begins: a straight line inside the picture has picture on both sides). Of such steps the
    strongest wins. An edge without one keeps the layout's position, and a pair of edges that
    would make the photo more than 8 % wider or taller than the layout's is undone.
    """
    cfg = config or default_config()
    params, nominal = cfg.portrait, cfg.layout.portrait
    # Only the box and its search margin are read: smooth just that window.
    rows, cols = nominal.inset(-params.search_mm - 2.0).slices(px_per_mm, card_rgb.shape)
    window = np.zeros(card_rgb.shape, np.float32)
    window[rows, cols] = cv2.GaussianBlur(card_rgb[rows, cols].astype(np.float32), (0, 0),
                                          max(params.smooth_mm * px_per_mm, 0.5))
    edges = [nominal.x0, nominal.y0, nominal.x1, nominal.y1]
    snapped = [False] * 4
    for i in range(4):
        position = _snap_edge(window, px_per_mm, nominal, i, params, cfg.detection)
        if position is not None:
            edges[i], snapped[i] = position, True
    for lo, hi, size in ((0, 2, nominal.width), (1, 3, nominal.height)):
        if abs((edges[hi] - edges[lo]) / size - 1) > 0.08:
            # Keep the better-supported edge only: undo both and re-snap neither.
            edges[lo], edges[hi] = (nominal.x0, nominal.x1) if lo == 0 else (nominal.y0,
                                                                              nominal.y1)
            snapped[lo] = snapped[hi] = False
    return PortraitBox(BoxMM(*edges), nominal, tuple(snapped))


def _snap_edge(smooth: np.ndarray, ppm: float, box: BoxMM, which: int,
               params: PortraitParams, det: DetectionParams) -> float | None:
    """New position (mm) of edge ``which`` (0 left, 1 top, 2 right, 3 bottom), or None.

    The ground colour is taken locally, beyond the search range on the outer side (the card's
    ground is graded, lighter in the middle)."""
    h, w = smooth.shape[:2]
    vertical = which in (0, 2)
    outward = -1 if which in (0, 1) else 1  # left and top edges have the card at smaller x, y
    at = (box.x0, box.y0, box.x1, box.y1)[which]
    lo, hi = (box.y0, box.y1) if vertical else (box.x0, box.x1)
    span = hi - lo
    a = int(round((lo + 0.2 * span) * ppm))
    b = int(round((hi - 0.2 * span) * ppm))
    reach = int(math.ceil(0.8 * ppm)) + 1  # the ground is looked for up to 0.8 mm outside
    c0 = int(math.floor((at - params.search_mm) * ppm)) - reach
    c1 = int(math.ceil((at + params.search_mm) * ppm)) + 1 + reach
    limit = w if vertical else h
    c0, c1 = max(c0, 0), min(c1, limit)
    if c1 - c0 < 5 + 2 * reach or b - a < 3:
        return None
    window = smooth[a:b, c0:c1] if vertical else smooth[c0:c1, a:b].transpose(1, 0, 2)
    step = np.sqrt((np.diff(window, axis=1) ** 2).sum(axis=2))  # (along edge, across - 1)
    profile = np.median(step, axis=0)
    outermost = window[:, :reach] if outward < 0 else window[:, -reach:]
    ground = np.median(outermost.reshape(-1, 3), axis=0)
    inner = profile[reach:len(profile) - reach]  # the search range proper
    floor = max(params.min_step_ratio * float(np.median(inner)), 2.0)
    near = max(1, int(round(0.3 * ppm)))
    best = None
    for k in range(reach, len(profile) - reach):
        if not (profile[k] >= floor and profile[k] >= profile[k - 1]
                and profile[k] > profile[k + 1]):
            continue
        # The strip 0.3-0.8 mm outside the step: bare ground if this is the photo's edge.
        if outward > 0:
            strip = window[:, k + 1 + near:k + 1 + reach]
        else:
            strip = window[:, k + 1 - reach:k + 1 - near]
        colour = np.median(strip.reshape(-1, 3), axis=0)
        if _ground_distance(colour, ground, det) >= det.edge_max_ground_distance:
            continue
        if best is None or profile[k] > profile[best]:
            best = k
    if best is None:
        return None
    y0, y1, y2 = profile[best - 1], profile[best], profile[best + 1]
    denom = y0 - 2 * y1 + y2
    frac = 0.5 * (y0 - y2) / denom if abs(denom) > 1e-9 else 0.0
    # Step k lies between pixel columns c0 + k and c0 + k + 1, whose centres are at +0.5:
    # the boundary is at pixel coordinate c0 + k + 1.
    return (c0 + best + 1 + float(np.clip(frac, -1, 1))) / ppm


# --------------------------------------------------------------------------------------------
# Shot quality versus printed-photo quality
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardShot:
    """Sharpness of the card's print outside the portrait and of the portrait itself.

    Both are :func:`photocheck.measures.edge_blur` (the Gaussian sigma that explains the
    strongest edges' gradient ratio, mean of vertical and horizontal edges) on the rectified
    card, converted to mm on the card. Text and the header are printed sharply on every card,
    so ``text_blur_mm`` is a property of this shot (focus, motion, resolution: a shot with few
    pixels per mm is soft too); ``portrait_blur_mm`` is the shot's blur plus the printed photo's
    own. None when a region has too few edges to judge.

    px_per_mm: resolution of the rectified card the measures were taken on.
    native_px_per_mm: the card's own resolution in the image.
    text_blur_px, portrait_blur_px: the same in px of the rectified card.
    """

    px_per_mm: float
    native_px_per_mm: float
    text_blur_mm: float | None
    portrait_blur_mm: float | None
    text_blur_px: float | None
    portrait_blur_px: float | None

    @property
    def blur_ratio(self) -> float | None:
        """portrait_blur_mm / text_blur_mm: about 1 when only the shot is soft, well above 1 when
        the printed photo is blurrier than the print around it."""
        if self.text_blur_mm is None or self.portrait_blur_mm is None or self.text_blur_mm <= 0:
            return None
        return self.portrait_blur_mm / self.text_blur_mm


def measure_shot(card_rgb: np.ndarray, px_per_mm: float, portrait: BoxMM, *,
                 native_px_per_mm: float | None = None,
                 config: CardConfig | None = None) -> CardShot:
    """Sharpness of the text/header and of the portrait on a card rectified at ``px_per_mm``.

    ``portrait``: the portrait box (mm), e.g. ``portrait_region(...).box_mm``. The text region
    is the layout's text column and header, minus everything within 1 mm of the portrait; the
    portrait region is the box less ``[shot] portrait_inset_mm`` (its own printed border is
    the printer's edge, not the photo's).
    """
    cfg = config or default_config()
    params = cfg.shot
    grey = cv2.cvtColor(card_rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    text = np.zeros(grey.shape, bool)
    for box in (cfg.layout.text, cfg.layout.header):
        text[box.slices(px_per_mm, grey.shape)] = True
    text[portrait.inset(-1.0).slices(px_per_mm, grey.shape)] = False
    photo = np.zeros(grey.shape, bool)
    photo[portrait.inset(params.portrait_inset_mm).slices(px_per_mm, grey.shape)] = True

    def blur(mask: np.ndarray) -> float | None:
        values = edge_blur(grey, mask, fine_sigma=params.fine_sigma_px,
                           coarse_sigma=params.coarse_sigma_px,
                           edge_fraction=params.edge_fraction)
        return float(np.mean(values)) if values else None

    text_px, photo_px = blur(text), blur(photo)
    return CardShot(
        px_per_mm=float(px_per_mm),
        native_px_per_mm=float(native_px_per_mm if native_px_per_mm is not None else px_per_mm),
        text_blur_mm=None if text_px is None else text_px / px_per_mm,
        portrait_blur_mm=None if photo_px is None else photo_px / px_per_mm,
        text_blur_px=text_px, portrait_blur_px=photo_px)


#: Mean blur (Gaussian sigma, px of the output) of bilinear resampling at a random sub-pixel
#: phase ``t``: the two weights ``1 - t`` and ``t`` have variance ``t (1 - t)``, which averages
#: to 1/6 over ``t``. :func:`rectify` resamples the card this way once.
RECTIFY_BLUR_PX = math.sqrt(1 / 6)


def remove_blur(measured_px: float, *known_px: float) -> float:
    """The blur left when independent blurs of known size are taken out of a measured one.

    Blurs of independent, roughly Gaussian processes (the photo's own softness, the print's
    dot spread, the camera) add in quadrature: ``measured**2 = own**2 + sum(known**2)``; so
    ``own = sqrt(max(0, measured**2 - sum(known**2)))`` (0 when the known blurs explain all
    of it). Units: any, the same for all (Gaussian-equivalent sigma, e.g. px of the canonical
    face).
    """
    left = measured_px**2 - sum(k**2 for k in known_px)
    return math.sqrt(left) if left > 0 else 0.0


def card_added_blur_px(shot: CardShot, *, print_blur_mm: float, camera_blur_px: float,
                       face_width_px: float, canonical_face_width: float) -> float:
    """Blur that printing the portrait and photographing the card add to it, as it reaches
    the canonical face (Gaussian sigma, px of the canonical face).

    Three independent blurs, in quadrature, in px of the rectified card (``shot.px_per_mm``):
    the print's dot spread, ``print_blur_mm`` (mm on the card) x px/mm; the camera's own blur
    (lens, pixel aperture, demosaicing), ``camera_blur_px`` (px of the photo of the card),
    x px/mm of the rectified card / native px/mm (smaller where the card was rectified below
    its own resolution); and the rectification's bilinear resampling,
    :data:`RECTIFY_BLUR_PX`. The sum is enlarged with the face: x ``canonical_face_width`` /
    ``face_width_px`` (the face's width on the rectified portrait, px). Not included: the
    shot's focus and motion, which the card's text measures (``retake_*`` in the policy).
    """
    camera_px = camera_blur_px * shot.px_per_mm / shot.native_px_per_mm
    on_card_px = math.sqrt((print_blur_mm * shot.px_per_mm) ** 2 + camera_px**2
                           + RECTIFY_BLUR_PX**2)
    return on_card_px * canonical_face_width / face_width_px


#: Share of a KTP portrait's width its face box spans (LABELS.md: 45-55 %).
FACE_SHARE_OF_PORTRAIT = 0.5


def printed_face_width_px(inspection: CardInspection, face_width_px: float | None) -> float:
    """Width of the printed face in px of the rectified card: the face found on the portrait
    (``face_width_px``, px of the crop) or, when none was, what a KTP portrait's face spans
    (:data:`FACE_SHARE_OF_PORTRAIT` of the portrait box's width)."""
    if face_width_px is not None:
        return face_width_px
    return FACE_SHARE_OF_PORTRAIT * inspection.portrait.box_mm.width * inspection.px_per_mm


# --------------------------------------------------------------------------------------------
# Damage of the photo area
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhotoDamage:
    """Raw damage measures on the rectified portrait area, each a share (0-1) of its area,
    and where the damage lies.

    glare_fraction: clipped, specular pixels (grey >= ``glare_level``) in blobs of at least
        ``glare_min_area_mm2``: light reflected by the laminate. Counts a clipped white shirt
        or background, and the clipped bright skin of a washed-out or over-bright print, just
        the same: it is evidence, and only :func:`damage_over_face` decides (by what it hides).
        Does not see glare that only washes colours out without clipping.
    scratch_fraction: the area within ``scratch_reach_mm`` of thin (narrower than about
        ``2 x scratch_max_width_mm``), straight lines at least ``scratch_min_length_mm`` long,
        brighter or darker than their surroundings by ``scratch_min_contrast``. Also counts
        straight thin lines of the picture itself (a flag pole, a stripe, a collar edge);
        misses curved, short or faint scratches.
    peeled_fraction: flat (local std below ``peel_flat_std``), light (grey >=
        ``peel_min_level``) but not clipped, colourless (chroma below ``peel_max_chroma``) areas
        of at least ``peel_min_area_mm2``: peeled print showing the silver or white substrate.
        The photo's own background colour (from its top ``peel_background_mm``) does not count,
        so a plain light-grey background is not peeling; peeling in the colour of such a
        background is missed (KTP photos have red or blue backgrounds; the light-grey sample
        portrait does not), as is peeling that leaves coloured or textured residue. A flat
        white or grey shirt, and the washed-out halo of a glare spot, count.
    glare, peeled: HxW bool masks on the portrait crop as given (its rim included, never
        marked): the clipped blobs and the peeled areas, for :func:`damage_over_face`.
    """

    glare_fraction: float
    scratch_fraction: float
    peeled_fraction: float
    glare: np.ndarray | None = field(default=None, repr=False)
    peeled: np.ndarray | None = field(default=None, repr=False)


def measure_damage(portrait_rgb: np.ndarray, px_per_mm: float,
                   config: CardConfig | None = None) -> PhotoDamage:
    """Glare, scratches and peeling on the portrait crop (``PortraitBox.crop``) of a card
    rectified at ``px_per_mm``. See :class:`PhotoDamage` for what each share counts."""
    p = (config or default_config()).damage
    full_shape = portrait_rgb.shape[:2]
    # The crop's outermost rim may hold a sliver of card ground: its edge is not damage.
    m = int(round(p.inset_mm * px_per_mm))
    m = m if min(full_shape) > 4 * m else 0
    if m:
        portrait_rgb = portrait_rgb[m:-m, m:-m]
    grey = cv2.cvtColor(portrait_rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    area = grey.size
    if area == 0:
        return PhotoDamage(0.0, 0.0, 0.0)
    mm2 = px_per_mm * px_per_mm

    clipped = _large_components(grey >= p.glare_level, p.glare_min_area_mm2 * mm2)
    glare = float(clipped.sum() / area)

    radius = max(1, int(round(p.scratch_max_width_mm * px_per_mm)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    reach = max(1, int(round(p.scratch_reach_mm * px_per_mm)))
    near = np.zeros(grey.shape, np.uint8)
    for ridge in (cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, disc),     # bright thin lines
                  cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, disc)):  # dark thin lines
        for x0, y0, x1, y1 in _straight_segments(ridge >= p.scratch_min_contrast,
                                                 p.scratch_min_length_mm * px_per_mm,
                                                 p.scratch_max_gap_mm * px_per_mm):
            cv2.line(near, (x0, y0), (x1, y1), 1, 2 * reach + 1)
    scratch = float(np.count_nonzero(near) / area)

    window = max(3, int(round(p.peel_window_mm * px_per_mm)) | 1)
    mean = cv2.blur(grey, (window, window))
    var = cv2.blur(grey * grey, (window, window)) - mean * mean
    lab = cv2.cvtColor(portrait_rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    chroma = cv2.magnitude(lab[..., 1] - 128.0, lab[..., 2] - 128.0)
    # Clipped white is glare or over-bright skin, not the silver substrate.
    flat_grey = (var < p.peel_flat_std ** 2) & (grey >= p.peel_min_level) & (
        grey < p.glare_level) & (chroma < p.peel_max_chroma)
    # The photo's own background (above the head: the top rows) is not peeling, even when it
    # is a plain light grey. Its colour is the median of the top strip's other pixels, unless
    # nearly all of the strip is flat grey (then the background is flat grey itself).
    rows = max(1, int(round(p.peel_background_mm * px_per_mm)))
    top, top_grey = lab[:rows].reshape(-1, 3), flat_grey[:rows].ravel()
    other = top[~top_grey]
    background = np.median(other if len(other) >= 0.1 * len(top) else top, axis=0)
    flat_grey &= np.sqrt(((lab - background) ** 2).sum(axis=2)) >= p.peel_background_delta
    peeled = _large_components(flat_grey, p.peel_min_area_mm2 * mm2)

    def full(mask: np.ndarray) -> np.ndarray:
        out = np.zeros(full_shape, bool)
        out[m:full_shape[0] - m, m:full_shape[1] - m] = mask
        return out

    return PhotoDamage(glare_fraction=glare, scratch_fraction=scratch,
                       peeled_fraction=float(peeled.sum() / area), glare=full(clipped),
                       peeled=full(peeled))


@dataclass(frozen=True)
class FaceDamage:
    """How much of each facial feature the card's damage covers (shares 0-1 of each region).

    eyes: the less covered eye (both eyes hidden: high). nose_mouth: the less covered of nose
    and mouth. feature_max: the most covered of the four (one eye hidden). face: the share of
    the face oval where the print has peeled (clipped pixels left out: on the face they are
    glare or over-bright skin alike, judged by the features they hide). Thin scratches count
    in none of them: they hide no feature, and the face's own visibility measures see them.
    """

    eyes: float
    nose_mouth: float
    feature_max: float
    face: float


def damage_over_face(damage: PhotoDamage, regions: Mapping[str, np.ndarray],
                     to_crop: np.ndarray) -> FaceDamage | None:
    """The damage of the photo area over the face's features, LABELS.md's way: an occluder
    counts by what it hides, never by where the print is bright.

    ``regions``: canonical-face masks (HxW bool) "right_eye", "left_eye", "nose", "mouth" and
    "oval" (``context.CanonicalFace``); ``to_crop``: 2x3 affine matrix from canonical px to
    px of the portrait crop the damage was measured on. None without the masks.
    """
    if damage.glare is None or damage.peeled is None:
        return None
    size = next(iter(regions.values())).shape[::-1]
    to_canonical = cv2.invertAffineTransform(np.asarray(to_crop, np.float64))

    def warp(mask: np.ndarray) -> np.ndarray:
        return cv2.warpAffine(mask.astype(np.uint8), to_canonical, size,
                              flags=cv2.INTER_NEAREST, borderValue=0) > 0

    # Thin scratches hide no feature (and the straight line between the lips reads as one):
    # the face's own visibility measures judge them. Peeling and glare can hide a feature.
    peeled = warp(damage.peeled)
    hidden = peeled | warp(damage.glare)

    def share(mask: np.ndarray, name: str) -> float:
        region = regions[name]
        count = int(region.sum())
        return float((mask & region).sum() / count) if count else 0.0

    features = {name: share(hidden, name) for name in ("right_eye", "left_eye", "nose",
                                                       "mouth")}
    return FaceDamage(eyes=min(features["right_eye"], features["left_eye"]),
                      nose_mouth=min(features["nose"], features["mouth"]),
                      feature_max=max(features.values()), face=share(peeled, "oval"))


def _large_components(mask: np.ndarray, min_area_px: float) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8)
    keep = np.zeros(count, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area_px
    return keep[labels]


def _straight_segments(mask: np.ndarray, min_length_px: float, max_gap_px: float
                       ) -> list[tuple[int, int, int, int]]:
    """Straight runs of ``mask`` at least ``min_length_px`` long with gaps of at most
    ``max_gap_px``: the progressive probabilistic Hough transform (deterministic in OpenCV: its
    random generator is seeded the same on every call), at least 80 % of the length voting."""
    segments = cv2.HoughLinesP(mask.astype(np.uint8) * 255, 1, np.pi / 180,
                               threshold=max(2, int(0.8 * min_length_px)),
                               minLineLength=float(min_length_px),
                               maxLineGap=float(max(1.0, max_gap_px)))
    return [] if segments is None else [tuple(s) for s in segments.reshape(-1, 4).tolist()]


# --------------------------------------------------------------------------------------------
# All of it at once
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardInspection:
    """Everything :func:`inspect_card` learnt about one card photo.

    quad: the card found. px_per_mm: resolution of ``card`` (the rectified card; the card's
    native resolution in the image, capped at ``[shot] max_px_per_mm``). portrait: the box on
    it. portrait_rgb: the portrait crop. portrait_corners: the portrait's corners in image px
    (TL, TR, BR, BL), for drawing. shot, damage: the raw measures.
    """

    quad: CardQuad
    px_per_mm: float
    card: np.ndarray = field(repr=False)
    portrait: PortraitBox
    portrait_rgb: np.ndarray = field(repr=False)
    portrait_corners: np.ndarray
    shot: CardShot
    damage: PhotoDamage


def inspect_card(rgb: np.ndarray, config: CardConfig | None = None, *,
                 quad: CardQuad | None = None) -> CardInspection | None:
    """Find the card (or use ``quad``), rectify it, locate and crop the portrait, and take the
    shot and damage measures. None when no card is found."""
    cfg = config or default_config()
    quad = quad or find_card(rgb, cfg)
    if quad is None:
        return None
    native = quad.px_per_mm(cfg.layout)
    ppm = float(min(native, cfg.shot.max_px_per_mm))
    flat = rectify(rgb, quad.corners, ppm, layout=cfg.layout)
    portrait = portrait_region(flat, ppm, cfg)
    crop = portrait.crop(flat, ppm)
    return CardInspection(
        quad=quad, px_per_mm=ppm, card=flat, portrait=portrait, portrait_rgb=crop,
        portrait_corners=portrait.image_corners(quad.corners, cfg.layout),
        shot=measure_shot(flat, ppm, portrait.box_mm, native_px_per_mm=native, config=cfg),
        damage=measure_damage(crop, ppm, cfg))


@dataclass(frozen=True)
class CardLikeness:
    """Whether an image shows a whole card (for choosing card or portrait mode automatically).

    score: 0-1, the best card candidate's confidence (0 when there is none).
    is_card: score >= ``[detection] min_card_score``; also the truth value of this object.
    quad: the card found, or None.
    """

    score: float
    is_card: bool
    quad: CardQuad | None

    def __bool__(self) -> bool:
        return self.is_card


def looks_like_card(rgb: np.ndarray, config: CardConfig | None = None) -> CardLikeness:
    """Tell a photo or scan of a whole card from an ordinary portrait: a card is a four-sided
    outline with straight edges around a printed layout with the photo on the right.

    ``score`` is the best candidate's confidence even when it falls short (0 without any
    candidate); ``quad`` is the card, as :func:`find_card` returns it, when ``is_card``.
    """
    cfg = config or default_config()
    best, scale = _best_candidate(_check_rgb(rgb), cfg)
    if best is None:
        return CardLikeness(score=0.0, is_card=False, quad=None)
    is_card = best.score >= cfg.detection.min_card_score
    return CardLikeness(score=round(float(best.score), 4), is_card=is_card,
                        quad=_full_resolution(rgb, best, scale, cfg) if is_card else None)
