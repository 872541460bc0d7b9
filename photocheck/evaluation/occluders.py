"""Synthetic occluders of many kinds and textures, drawn from a face's landmarks.

Test-data maker for the visibility model (``visibility_train.py``) and the synthetic visibility
set: masks, niqab, scarves, sunglasses, hands, stickers, scratch bands, hair, paper and other
objects, glare and peeled laminate, and the look-alikes that are *not* occlusion (clear glasses,
a hand beside the face, a headscarf around the face). Textures are procedural or cut from the
licensed training photos themselves (clothing, hair, skin), from a :class:`TexturePool`, so that
a model learns what a covered feature looks like, not what one painter paints.

Every function takes the full image and its (468, 2+) Face Mesh points (image px) and returns the
occluded image with the occluders' opacity map; :func:`feature_coverage` turns that map into the
covered share of each feature, the label a model is trained and judged on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .synth import degrade
from ..context import FACE_OVAL, REGIONS
from ..visibility import FEATURES

#: Outline (Face Mesh points) of each feature whose covered share labels a sample: the same
#: regions the checker reads.
FEATURE_OUTLINES: dict[str, tuple[int, ...]] = {name: REGIONS[name] for name in FEATURES}

# Jaw line from the right temple down to the chin and up to the left temple (Face Mesh).
JAW = (234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288,
       361, 323, 454)
# Below the eyes, right cheek to left cheek across the nose bridge: the top edge of a mask.
UNDER_EYES = (234, 118, 117, 6, 346, 347, 454)
NOSE_BRIDGE, NOSE_TIP, CHIN, FOREHEAD = 6, 1, 152, 10
RIGHT_EYE_CORNERS, LEFT_EYE_CORNERS = (33, 133), (362, 263)


@dataclass(frozen=True)
class Occluded:
    """An image with occluders: ``alpha`` is their opacity (HxW float32, 0-1)."""

    rgb: np.ndarray
    alpha: np.ndarray
    kind: str


# --------------------------------------------------------------------------------------------
# Textures


@dataclass
class TexturePool:
    """Patches cut from licensed photos (clothing, hair, skin), by kind."""

    patches: dict[str, list[np.ndarray]]
    #: Procedural styles to draw from (:data:`FIT_STYLES` for training; :data:`TEST_STYLES`
    #: for the synthetic test set, disjoint from them).
    styles: tuple[str, ...] = ()

    def style(self, rng: np.random.Generator, fit_choices: Sequence[str]) -> str:
        """A procedural style: one of ``fit_choices`` when training, else of the test styles."""
        choices = fit_choices if not self.styles or self.styles[0] in FIT_STYLES else self.styles
        return choices[int(rng.integers(len(choices)))]

    @classmethod
    def from_faces(cls, faces: Sequence[tuple[np.ndarray, np.ndarray]],
                   styles: tuple[str, ...] = ()) -> TexturePool:
        """Cut clothing (below the chin), hair (above the forehead) and skin (cheeks) from each
        (rgb, points) pair; patches that fall outside the image are skipped."""
        pool: dict[str, list[np.ndarray]] = {"clothing": [], "hair": [], "skin": []}
        for rgb, points in faces:
            width = float(np.ptp(points[list(FACE_OVAL), 0]))
            chin, top = points[CHIN, :2], points[FOREHEAD, :2]
            spots = {"clothing": (chin[0], chin[1] + 0.55 * width, 0.25),
                     "hair": (top[0], top[1] - 0.12 * width, 0.25),
                     "skin": (*points[[205, 50, 187], :2].mean(axis=0), 0.1)}  # mid cheek
            for kind, (cx, cy, size) in spots.items():
                side = max(8, int(size * width))
                x0, y0 = int(cx - side / 2), int(cy - side / 2)
                if x0 >= 0 and y0 >= 0 and x0 + side <= rgb.shape[1] and y0 + side <= rgb.shape[0]:
                    pool[kind].append(rgb[y0:y0 + side, x0:x0 + side].copy())
        return cls(pool, styles)

    def pick(self, kind: str, rng: np.random.Generator) -> np.ndarray | None:
        options = self.patches.get(kind) or []
        return options[int(rng.integers(len(options)))] if options else None


def _tile(patch: np.ndarray, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Fill height x width with mirrored copies of ``patch`` (seamless), randomly offset."""
    reps = (height // patch.shape[0] + 2, width // patch.shape[1] + 2)
    row = np.concatenate([patch, patch[:, ::-1]] * (reps[1] // 2 + 1), axis=1)
    big = np.concatenate([row, row[::-1]] * (reps[0] // 2 + 1), axis=0)
    oy = int(rng.integers(max(1, big.shape[0] - height)))
    ox = int(rng.integers(max(1, big.shape[1] - width)))
    return big[oy:oy + height, ox:ox + width].astype(np.float32)


def _noise(height: int, width: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth random field, zero mean, unit-ish spread, features about ``scale`` px."""
    small = rng.standard_normal((max(2, int(height / scale)) + 1, max(2, int(width / scale)) + 1))
    return cv2.resize(small.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)


def _random_colour(rng: np.random.Generator, family: str | None = None) -> np.ndarray:
    families = {
        "surgical": [(150, 190, 215), (225, 228, 230), (40, 40, 45), (235, 200, 210),
                     (120, 175, 160)],
        "dark": [(20, 20, 22), (35, 30, 28), (45, 40, 60), (30, 40, 35)],
        "bright": [(220, 40, 40), (40, 90, 210), (250, 200, 30), (30, 160, 70),
                   (240, 120, 20), (150, 60, 170)],
    }
    if family is None:
        return rng.uniform(0, 255, 3).astype(np.float32)
    base = np.array(families[family][int(rng.integers(len(families[family])))], np.float32)
    return np.clip(base + rng.normal(0, 12, 3), 0, 255).astype(np.float32)


#: Procedural styles the visibility model is trained with, and styles kept for testing only
#: (the synthetic set's occluders use these, so its figures are on textures never seen).
FIT_STYLES = ("plain", "pleated", "woven", "knit", "printed", "striped", "checked", "paper",
              "lens", "metal")
TEST_STYLES = ("camouflage", "denim", "newsprint", "spotted")


def procedural_texture(height: int, width: int, rng: np.random.Generator,
                       style: str | None = None, styles: Sequence[str] = FIT_STYLES
                       ) -> np.ndarray:
    """A procedural fabric/object texture (HxWx3 float32, 0-255) of ``style`` or one drawn from
    ``styles``: plain, pleated, woven, knitted, printed, striped, checked, paper, dark lens,
    metal (:data:`FIT_STYLES`); camouflage, denim, newsprint, spotted (:data:`TEST_STYLES`)."""
    style = style or styles[int(rng.integers(len(styles)))]
    if style in TEST_STYLES:
        return _test_texture(height, width, rng, style)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    family = {"paper": None, "lens": "dark", "metal": None}.get(style, None)
    pick = rng.random()
    if style == "lens":
        colour = _random_colour(rng, "dark")
    elif style == "paper":
        colour = np.full(3, rng.uniform(215, 250), np.float32)
    elif style == "metal":
        colour = np.full(3, rng.uniform(120, 200), np.float32)
    elif pick < 0.45:
        colour = _random_colour(rng, "surgical")
    elif pick < 0.7:
        colour = _random_colour(rng, "dark")
    else:
        colour = _random_colour(rng, family or "bright")
    tex = np.ones((height, width, 3), np.float32) * colour
    shade = np.zeros((height, width), np.float32)
    if style == "pleated":
        period = rng.uniform(6, 16)
        shade += 18 * np.sin(2 * np.pi * yy / period + rng.uniform(0, 6))
    elif style == "woven":
        period = rng.uniform(2.5, 5)
        shade += 10 * np.sin(2 * np.pi * xx / period) * np.sin(2 * np.pi * yy / period)
    elif style == "knit":
        period = rng.uniform(4, 9)
        shade += 16 * np.abs(np.sin(np.pi * (xx + 0.5 * np.abs(np.sin(np.pi * yy / period))
                                             * period) / period)) - 8
    elif style in ("printed", "checked", "striped"):
        other = _random_colour(rng)
        if style == "printed":
            blobs = _noise(height, width, rng.uniform(4, 14), rng) > rng.uniform(0.3, 1.0)
        elif style == "checked":
            period = rng.uniform(6, 20)
            blobs = ((xx // period + yy // period) % 2).astype(bool)
        else:
            period = rng.uniform(5, 18)
            angle = rng.uniform(0, np.pi)
            blobs = (((np.cos(angle) * xx + np.sin(angle) * yy) // period) % 2).astype(bool)
        tex[blobs] = other
    elif style == "paper":
        shade += 4 * _noise(height, width, 2, rng)
    elif style == "lens":
        shade += np.linspace(rng.uniform(-10, 0), rng.uniform(0, 25), height)[:, None]
    elif style == "metal":
        shade += 25 * _noise(height, width, rng.uniform(10, 40), rng)
    shade += rng.uniform(2, 9) * _noise(height, width, rng.uniform(1, 3), rng)  # grain
    return np.clip(tex + shade[..., None], 0, 255)


def _test_texture(height: int, width: int, rng: np.random.Generator, style: str) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    if style == "camouflage":
        palette = [_random_colour(rng) * 0.6 for _ in range(4)]
        field_ = _noise(height, width, rng.uniform(8, 25), rng)
        level = np.digitize(field_, np.quantile(field_, [0.25, 0.5, 0.75]))
        tex = np.stack(palette)[level]
    elif style == "denim":
        base = np.array([40, 60, 110], np.float32) * rng.uniform(0.6, 1.4)
        twill = 20 * np.sin(2 * np.pi * (xx + yy) / rng.uniform(2.5, 4))
        tex = base + twill[..., None] + 10 * _noise(height, width, 1.5, rng)[..., None]
    elif style == "newsprint":
        tex = np.full((height, width, 3), rng.uniform(200, 235), np.float32)
        line = rng.uniform(6, 12)
        text = ((yy % line) < line * 0.45) & (_noise(height, width, 2.0, rng) > 0.2)
        tex[text] = rng.uniform(20, 70)
    else:  # spotted
        tex = np.ones((height, width, 3), np.float32) * _random_colour(rng, "bright") * 0.8
        spots = _noise(height, width, rng.uniform(4, 10), rng) > 1.0
        tex[spots] = rng.uniform(10, 40)
    return np.clip(tex, 0, 255).astype(np.float32)


def texture(height: int, width: int, rng: np.random.Generator, pool: TexturePool | None,
            cut_kinds: Sequence[str] = ("clothing",), cut_share: float = 0.35) -> np.ndarray:
    """A texture for an occluder: cut from ``pool`` (one of ``cut_kinds``) with probability
    ``cut_share``, else procedural."""
    if pool is not None and rng.random() < cut_share:
        patch = pool.pick(cut_kinds[int(rng.integers(len(cut_kinds)))], rng)
        if patch is not None:
            return _tile(patch, height, width, rng)
    return procedural_texture(height, width, rng, pool.style(rng, FIT_STYLES) if pool else None)


def _style(rng: np.random.Generator, pool: TexturePool | None, choices: Sequence[str]) -> str:
    if pool is not None:
        return pool.style(rng, choices)
    return choices[int(rng.integers(len(choices)))]


# --------------------------------------------------------------------------------------------
# Compositing and labels


def _composite(rgb: np.ndarray, shape: np.ndarray, tex: np.ndarray, rng: np.random.Generator,
               *, opacity: float = 1.0, soft_px: float = 1.0, shading: float = 0.25
               ) -> tuple[np.ndarray, np.ndarray]:
    """Blend ``tex`` into ``rgb`` where ``shape`` (HxW uint8/bool) is set, with soft edges and
    a smooth light falloff (an occluder is lit like the face, not pasted flat)."""
    alpha = shape.astype(np.float32)
    if soft_px > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), soft_px)
    alpha *= opacity
    height, width = alpha.shape
    light = 1.0 + shading * _noise(height, width, max(height, width) / 3, rng) / 2
    out = rgb.astype(np.float32) * (1 - alpha[..., None]) + \
        np.clip(tex * light[..., None], 0, 255) * alpha[..., None]
    return np.clip(out, 0, 255).astype(np.uint8), alpha


def feature_coverage(alpha: np.ndarray, points: np.ndarray) -> dict[str, float]:
    """Covered share (0-1, opacity-weighted) of each feature's outline polygon."""
    shares = {}
    for name, idx in FEATURE_OUTLINES.items():
        mask = np.zeros(alpha.shape, np.uint8)
        hull = cv2.convexHull(np.round(points[list(idx), :2]).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1)
        inside = mask.astype(bool)
        shares[name] = float(alpha[inside].mean()) if inside.any() else 0.0
    return shares


def _poly(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
    return mask


def _face_scale(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[234, :2] - points[454, :2]))


def _eye_centre(points: np.ndarray, corners: tuple[int, int]) -> np.ndarray:
    return points[list(corners), :2].mean(axis=0)


# --------------------------------------------------------------------------------------------
# Occluders. Each: (rgb, points, rng, pool) -> (rgb, alpha)

Maker = Callable[[np.ndarray, np.ndarray, np.random.Generator, TexturePool | None],
                 tuple[np.ndarray, np.ndarray]]


def face_mask(rgb, points, rng, pool, *, niqab: bool = False):
    """A mask (surgical, cloth, N95, printed) or, with ``niqab``, a veil up to the eyes."""
    p = points[:, :2]
    scale = _face_scale(points)
    top = p[list(UNDER_EYES)].copy()
    # How high the mask sits: from just under the eyes down to the nose tip (nose uncovered).
    lift = rng.uniform(-0.05, 0.22) if not niqab else rng.uniform(-0.1, 0.0)
    top[:, 1] += lift * scale
    top[3, 1] = min(top[3, 1], p[NOSE_TIP, 1] + 0.02 * scale) if not niqab else top[3, 1]
    jaw = p[list(JAW)].copy()
    centre = p[NOSE_TIP]
    grow = rng.uniform(1.02, 1.12) if not niqab else rng.uniform(1.25, 1.6)
    jaw = centre + (jaw - centre) * grow
    if niqab:
        jaw[:, 1] += 0.25 * scale  # falls over the chin and neck
        top[[0, -1], 0] += np.array([-1, 1]) * 0.25 * scale
    shape = _poly(rgb.shape[:2], np.concatenate([top, jaw[::-1]]))
    tex = texture(*rgb.shape[:2], rng, pool, ("clothing",), cut_share=0.4 if niqab else 0.25)
    out, alpha = _composite(rgb, shape, tex, rng, soft_px=rng.uniform(0.5, 2.0),
                            opacity=rng.uniform(0.93, 1.0))
    if niqab:  # the headscarf above the brows
        brow_y = p[[70, 300, 9], 1].min() - rng.uniform(0.0, 0.12) * scale
        band = np.zeros(rgb.shape[:2], np.uint8)
        cx = p[NOSE_TIP, 0]
        band[:max(0, int(brow_y)), max(0, int(cx - 0.9 * scale)):int(cx + 0.9 * scale)] = 1
        out, band_alpha = _composite(out, band, tex, rng)
        alpha = np.maximum(alpha, band_alpha)
    return out, alpha


def niqab(rgb, points, rng, pool):
    return face_mask(rgb, points, rng, pool, niqab=True)


def sunglasses(rgb, points, rng, pool, *, tint: float | None = None,
               frame_scale: float = 1.0):
    """Two lenses around the eyes with frame and bridge; ``tint`` the lens opacity (dark by
    default), lenses with a highlight; clear glasses with a low ``tint``."""
    p = points[:, :2]
    shape = np.zeros(rgb.shape[:2], np.uint8)
    frame = np.zeros(rgb.shape[:2], np.uint8)
    eye_w = np.linalg.norm(p[33] - p[133])
    size_w = eye_w * rng.uniform(0.85, 1.6)
    size_h = size_w * rng.uniform(0.65, 1.0)
    angle = np.degrees(np.arctan2(*(p[263] - p[33])[::-1]))
    rect = rng.random() < 0.4
    thickness = max(1, int(rng.uniform(0.04, 0.14) * eye_w * frame_scale))
    centres = [_eye_centre(points, RIGHT_EYE_CORNERS), _eye_centre(points, LEFT_EYE_CORNERS)]
    lift = rng.uniform(-0.1, 0.15) * size_h
    for c in centres:
        c = (int(c[0]), int(c[1] - lift))
        axes = (int(size_w), int(size_h))
        if rect:
            box = cv2.boxPoints(((c[0], c[1]), (2 * min(axes[0], 1.3 * eye_w), 2 * axes[1]),
                                 angle))
            cv2.fillPoly(shape, [box.astype(np.int32)], 1)
            cv2.polylines(frame, [box.astype(np.int32)], True, 1, thickness)
        else:
            cv2.ellipse(shape, c, axes, angle, 0, 360, 1, -1)
            cv2.ellipse(frame, c, axes, angle, 0, 360, 1, thickness)
    a, b = (centres[0] + [size_w, -lift]).astype(int), (centres[1] - [size_w, lift]).astype(int)
    cv2.line(frame, tuple(int(v) for v in a), tuple(int(v) for v in b), 1, thickness)
    tint = rng.uniform(0.85, 1.0) if tint is None else tint
    lens = procedural_texture(*rgb.shape[:2], rng, "lens")
    tone = rng.random()
    if tone < 0.3:  # a mirrored or coloured lens
        lens = np.clip(lens * 0.5 + _random_colour(rng, "bright") * 0.5, 0, 255)
    elif tone < 0.6:  # a gradient lens, brown or grey, dark at the top
        top, bottom = rng.uniform(10, 50), rng.uniform(50, 130)
        rows = np.arange(rgb.shape[0], dtype=np.float32)
        lens_top = float(np.mean([c[1] for c in centres])) - lift - size_h
        ramp = (top + (bottom - top) * np.clip((rows - lens_top) / (2 * size_h), 0, 1)
                )[:, None, None]
        lens = ramp * np.array([1.0, rng.uniform(0.6, 1.0), rng.uniform(0.4, 1.0)], np.float32)
        lens = np.broadcast_to(lens, (*rgb.shape[:2], 3)).copy()
    out, alpha = _composite(rgb, shape, lens, rng, opacity=tint, soft_px=0.8, shading=0.4)
    if tint > 0.5 and rng.random() < 0.6:  # a highlight on the lens
        c = centres[int(rng.integers(2))]
        glint = np.zeros(rgb.shape[:2], np.uint8)
        cv2.ellipse(glint, (int(c[0] + rng.normal(0, size_w / 3)), int(c[1] - lift)),
                    (max(1, int(size_w * rng.uniform(0.1, 0.35))),
                     max(1, int(size_h * rng.uniform(0.05, 0.2)))), rng.uniform(0, 180),
                    0, 360, 1, -1)
        out, _ = _composite(out, glint & shape, np.full((*rgb.shape[:2], 3), 250.0), rng,
                            opacity=rng.uniform(0.5, 0.95), soft_px=1.5)
    frame_tex = np.ones((*rgb.shape[:2], 3), np.float32) * _random_colour(
        rng, "dark" if rng.random() < 0.6 else "bright")
    out, frame_alpha = _composite(out, frame, frame_tex, rng, soft_px=0.6)
    # The lenses hide the eyes; the frame alone hides none. Returned as the lenses' opacity.
    return out, alpha


def clear_glasses(rgb, points, rng, pool):
    """Not occlusion: frames (thin or thick, dark or coloured) with clear or lightly tinted
    lenses, often with a reflection across a lens."""
    out, lenses = sunglasses(rgb, points, rng, pool, tint=rng.uniform(0.0, 0.3),
                             frame_scale=rng.uniform(1.0, 2.5))
    if rng.random() < 0.5:  # a window or lamp reflected in a lens: light, partly see-through
        reflection = (lenses > 0.0).astype(np.uint8) & (
            _noise(*rgb.shape[:2], _face_scale(points) * 0.08, rng) > rng.uniform(0.3, 1.2)
        ).astype(np.uint8)
        out, _ = _composite(out, reflection, np.full((*rgb.shape[:2], 3), 240.0), rng,
                            opacity=rng.uniform(0.15, 0.45), soft_px=2.0, shading=0.0)
    return out, np.zeros(rgb.shape[:2], np.float32)


def hand(rgb, points, rng, pool, *, target: str | None = None):
    """A hand (palm and fingers) over the eyes, one eye, the mouth or beside the face."""
    p = points[:, :2]
    scale = _face_scale(points)
    targets = {"eyes": (p[33] + p[263]) / 2, "right_eye": _eye_centre(points, RIGHT_EYE_CORNERS),
               "left_eye": _eye_centre(points, LEFT_EYE_CORNERS), "mouth": p[13],
               "lower": (p[1] + p[152]) / 2, "beside": p[234] + [-0.35 * scale, 0.3 * scale]}
    target = target or list(targets)[int(rng.integers(len(targets)))]
    centre = targets[target] + rng.normal(0, 0.04 * scale, 2)
    palm = scale * rng.uniform(0.28, 0.42)
    angle = rng.uniform(-70, 70) + (90 if target in ("eyes", "mouth", "lower") else 0)
    shape = np.zeros(rgb.shape[:2], np.uint8)
    cv2.ellipse(shape, tuple(int(v) for v in centre), (int(palm), int(palm * 0.8)), angle, 0,
                360, 1, -1)
    direction = np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])
    normal = np.array([-direction[1], direction[0]])
    finger_w = max(2, int(palm * rng.uniform(0.18, 0.26)))
    for k, length in zip(range(4), rng.uniform(1.2, 1.9, 4)):
        base = centre + direction * palm * 0.6 + normal * palm * (k - 1.5) * 0.45
        tip = base + direction * palm * length
        cv2.line(shape, tuple(int(v) for v in base), tuple(int(v) for v in tip), 1, finger_w)
    skin = pool.pick("skin", rng) if pool is not None else None
    if skin is not None:
        tex = _tile(skin, *rgb.shape[:2], rng)
    else:
        tex = np.ones((*rgb.shape[:2], 3), np.float32) * np.array(
            [rng.uniform(60, 235), 0, 0], np.float32)
        tex[..., 1] = tex[..., 0] * rng.uniform(0.7, 0.85)
        tex[..., 2] = tex[..., 0] * rng.uniform(0.55, 0.75)
        tex += 5 * _noise(*rgb.shape[:2], 2, rng)[..., None]
    tex *= rng.uniform(0.6, 1.3)  # skin of another tone or light
    return _composite(rgb, shape, tex, rng, soft_px=1.2, shading=0.5)


def sticker(rgb, points, rng, pool):
    """A sticker, label or ink blot over a random spot of the face."""
    p = points[:, :2]
    scale = _face_scale(points)
    spot = p[[33, 263, 1, 13, 168][int(rng.integers(5))]] + rng.normal(0, 0.08 * scale, 2)
    w, h = scale * rng.uniform(0.15, 0.6), scale * rng.uniform(0.15, 0.5)
    shape = np.zeros(rgb.shape[:2], np.uint8)
    if rng.random() < 0.5:
        box = cv2.boxPoints(((spot[0], spot[1]), (w, h), rng.uniform(0, 90)))
        cv2.fillPoly(shape, [box.astype(np.int32)], 1)
    else:
        blob = _noise(*rgb.shape[:2], scale * 0.1, rng)
        cv2.ellipse(shape, tuple(int(v) for v in spot), (int(w / 2), int(h / 2)),
                    rng.uniform(0, 180), 0, 360, 1, -1)
        shape &= (blob > rng.uniform(-1.0, 0.0)).astype(np.uint8)
    tex = procedural_texture(*rgb.shape[:2], rng, _style(
        rng, pool, ("printed", "striped", "checked", "plain", "paper")))
    return _composite(rgb, shape, tex, rng, soft_px=0.6)


def band(rgb, points, rng, pool, *, over: str | None = None):
    """A scratch band or strip (dark, textured, or silver) across the eyes or the mouth."""
    p = points[:, :2]
    scale = _face_scale(points)
    over = over or ("eyes" if rng.random() < 0.6 else "mouth")
    centre = (p[33] + p[263]) / 2 if over == "eyes" else (p[13] + p[1]) / 2 * 0.3 + p[13] * 0.7
    thickness = scale * rng.uniform(0.14, 0.32)
    angle = np.degrees(np.arctan2(*(p[263] - p[33])[::-1])) + rng.normal(0, 8)
    box = cv2.boxPoints(((centre[0], centre[1]), (scale * rng.uniform(1.1, 2.0), thickness),
                         angle))
    shape = _poly(rgb.shape[:2], box)
    tex = procedural_texture(*rgb.shape[:2], rng,
                             _style(rng, pool, ("lens", "metal", "plain", "knit", "printed")))
    scratches = np.zeros(rgb.shape[:2], np.uint8)
    for _ in range(int(rng.integers(0, 40))):
        a = centre + rng.normal(0, scale * 0.5, 2)
        b = a + rng.normal(0, scale * 0.4, 2)
        cv2.line(scratches, tuple(int(v) for v in a), tuple(int(v) for v in b), 1, 1)
    tex[scratches.astype(bool)] = rng.uniform(150, 255)
    return _composite(rgb, shape, tex, rng, soft_px=rng.uniform(0.5, 2.5))


def hair(rgb, points, rng, pool):
    """Locks of hair across one or both eyes (dense: the eye is hidden; sparse: it shows)."""
    p = points[:, :2]
    scale = _face_scale(points)
    strands = np.zeros(rgb.shape[:2], np.uint8)
    target = [(p[33] + p[263]) / 2, _eye_centre(points, RIGHT_EYE_CORNERS),
              _eye_centre(points, LEFT_EYE_CORNERS)][int(rng.integers(3))]
    spread = scale * rng.uniform(0.12, 0.35)
    count = int(rng.integers(20, 160))
    for _ in range(count):
        start = target + [rng.normal(0, spread), -scale * rng.uniform(0.3, 0.6)]
        bend = rng.normal(0, 0.15 * scale)
        pts = np.array([start + [bend * t * t, scale * rng.uniform(0.55, 0.8) * t]
                        for t in np.linspace(0, 1, 12)])
        cv2.polylines(strands, [pts.astype(np.int32)], False, 1,
                      max(1, int(rng.uniform(0.006, 0.02) * scale)))
    shape = cv2.dilate(strands, np.ones((2, 2), np.uint8))
    tex = np.ones((*rgb.shape[:2], 3), np.float32) * _random_colour(rng, "dark")
    if rng.random() < 0.3:  # blond, grey or dyed
        tex = np.clip(tex + rng.uniform(60, 180), 0, 255)
    tex += 12 * _noise(*rgb.shape[:2], 1.5, rng)[..., None]
    return _composite(rgb, shape, tex, rng, soft_px=0.5, shading=0.2)


def held_object(rgb, points, rng, pool):
    """Paper, a phone, a bottle or a cup held over half the face or the lower face."""
    p = points[:, :2]
    scale = _face_scale(points)
    height, width = rgb.shape[:2]
    shape = np.zeros((height, width), np.uint8)
    side = rng.random()
    if side < 0.4:  # from below, up over the mouth and maybe the nose
        top = p[NOSE_TIP, 1] + rng.uniform(-0.2, 0.15) * scale
        cx = p[NOSE_TIP, 0] + rng.normal(0, 0.1 * scale)
        half = scale * rng.uniform(0.25, 0.7)
        shape[int(top):, max(0, int(cx - half)):int(cx + half)] = 1
    elif side < 0.8:  # from one side, over half the face
        edge = p[NOSE_TIP, 0] + rng.uniform(-0.15, 0.15) * scale
        top, bottom = p[FOREHEAD, 1] - 0.2 * scale, p[CHIN, 1] + 0.3 * scale
        if rng.random() < 0.5:
            shape[max(0, int(top)):int(bottom), :max(1, int(edge))] = 1
        else:
            shape[max(0, int(top)):int(bottom), int(edge):] = 1
    else:  # a card or phone over the eyes
        c = (p[33] + p[263]) / 2
        box = cv2.boxPoints(((c[0], c[1]), (scale * rng.uniform(0.9, 1.4),
                                            scale * rng.uniform(0.25, 0.6)), rng.normal(0, 10)))
        shape = _poly((height, width), box)
    style = _style(rng, pool, ("paper", "plain", "metal", "printed", "lens"))
    return _composite(rgb, shape, procedural_texture(height, width, rng, style), rng,
                      soft_px=1.0, shading=0.3)


def glare_or_patch(rgb, points, rng, pool):
    """Clipped glare or a flat peeled-laminate patch over part of the face."""
    p = points[:, :2]
    scale = _face_scale(points)
    spot = p[[33, 263, 1, 13, 168, 9][int(rng.integers(6))]] + rng.normal(0, 0.1 * scale, 2)
    shape = np.zeros(rgb.shape[:2], np.uint8)
    cv2.ellipse(shape, tuple(int(v) for v in spot), (int(scale * rng.uniform(0.12, 0.45)),
                                                     int(scale * rng.uniform(0.1, 0.35))),
                rng.uniform(0, 180), 0, 360, 1, -1)
    if rng.random() < 0.5:
        tex = np.full((*rgb.shape[:2], 3), rng.uniform(245, 255), np.float32)
        return _composite(rgb, shape, tex, rng, soft_px=scale * 0.02, shading=0.0)
    return _composite(rgb, shape, procedural_texture(*rgb.shape[:2], rng, "metal"), rng,
                      soft_px=0.8)


def headscarf(rgb, points, rng, pool):
    """Not occlusion: a hijab around the face, framing it from forehead to chin."""
    p = points[:, :2]
    oval = p[list(FACE_OVAL)]
    centre = oval.mean(axis=0)
    inner = centre + (oval - centre) * rng.uniform(0.9, 1.0)
    inner[:, 1] = np.where(inner[:, 1] < p[9, 1], np.minimum(inner[:, 1], p[9, 1] - 0.02),
                           inner[:, 1])
    height, width = rgb.shape[:2]
    outer = np.zeros((height, width), np.uint8)
    cv2.ellipse(outer, tuple(int(v) for v in centre),
                (int(np.ptp(oval[:, 0]) * rng.uniform(0.75, 0.95)),
                 int(np.ptp(oval[:, 1]) * rng.uniform(0.75, 0.95))), 0, 0, 360, 1, -1)
    outer[int(centre[1]):, :] = np.maximum(outer[int(centre[1]):, :],
                                           (np.abs(np.arange(width) - centre[0])
                                            < np.ptp(oval[:, 0]) * 0.9)[None, :].astype(np.uint8))
    shape = outer & (1 - _poly((height, width), inner))
    tex = texture(height, width, rng, pool, ("clothing",), cut_share=0.3)
    out, _ = _composite(rgb, shape, tex, rng, soft_px=1.0)
    return out, np.zeros((height, width), np.float32)


def closed_eyes(rgb, points, rng, pool):
    """Not occlusion (LABELS.md: aesthetic): one or both eyes closed, or the lids half down (a
    blink, a downcast look)."""
    eyes = (("right", "left"), ("right",), ("left",))[int(rng.integers(3))]
    closed = 1.0 if rng.random() < 0.5 else float(rng.uniform(0.5, 0.9))
    return degrade.close_eyes(rgb, points, eyes, closed), np.zeros(rgb.shape[:2], np.float32)


# Lips (Face Mesh): outer and inner contours, upper and lower, each from corner to corner.
UPPER_OUTER_LIP = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LOWER_OUTER_LIP = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
UPPER_INNER_LIP = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_INNER_LIP = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
MOUTH_CORNERS = (61, 291)
EXPRESSIONS = ("pressed_lips", "smile", "frown", "teeth", "grimace", "open_mouth")


def _height_along(line: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Height of a polyline (K, 2 px, in any x order) at each of ``xs``."""
    order = np.argsort(line[:, 0])
    return np.interp(xs, line[order, 0], line[order, 1])


def _displace(rgb: np.ndarray, anchors: np.ndarray, shifts: np.ndarray, sigma: float
              ) -> np.ndarray:
    """Move the image content at ``anchors`` (N, 2) by ``shifts`` (N, 2) px, smoothly: each
    pixel moves by the Gaussian-weighted (``sigma`` px) sum of the shifts, within 3 sigma of
    the anchors (a backward map, exact enough for shifts well under ``sigma``)."""
    height, width = rgb.shape[:2]
    x0, y0 = np.maximum(np.floor(anchors.min(axis=0) - 3 * sigma), 0).astype(int)
    x1 = int(min(np.ceil(anchors[:, 0].max() + 3 * sigma), width))
    y1 = int(min(np.ceil(anchors[:, 1].max() + 3 * sigma), height))
    if x1 <= x0 or y1 <= y0:
        return rgb
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    field_x, field_y = np.zeros_like(xs), np.zeros_like(ys)
    for (ax, ay), (dx, dy) in zip(anchors, shifts):
        weight = np.exp(-((xs - ax - dx) ** 2 + (ys - ay - dy) ** 2) / (2 * sigma ** 2))
        field_x += weight * dx
        field_y += weight * dy
    out = rgb.copy()
    out[y0:y1, x0:x1] = cv2.remap(rgb, xs - field_x, ys - field_y, cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REPLICATE)
    return out


def _teeth(rgb: np.ndarray, upper: np.ndarray, lower: np.ndarray, scale: float,
           rng: np.random.Generator, *, rows_share: float = 0.55) -> np.ndarray:
    """Paint an open mouth between the ``upper`` and ``lower`` inner lip lines (K, 2 each, the
    same columns): a row of teeth under the upper lip (and often over the lower), separated by
    thin shadows, with the dark of the mouth between the rows. ``rows_share``: the share of
    the opening's height (0-1) the upper row fills (small for a mouth wide open)."""
    height, width = rgb.shape[:2]
    polygon = np.concatenate([upper, lower[::-1]])
    mouth = _poly((height, width), polygon).astype(bool)
    if not mouth.any():
        return rgb
    ys, xs = np.nonzero(mouth)
    top, bottom = _height_along(upper, xs), _height_along(lower, xs)
    depth = (ys - top) / np.maximum(bottom - top, 1.0)  # 0 at the upper lip, 1 at the lower
    both_rows = rng.random() < 0.6
    # The lower row: just under the upper one when the teeth nearly meet (a bite, a grimace),
    # along the lower lip when the mouth is wide open.
    lower_row = depth > rows_share + 0.07 if rows_share >= 0.5 else depth > 1 - rows_share / 2
    tooth = (depth < rows_share) | (lower_row if both_rows else np.zeros_like(depth, bool))
    brightness = rng.uniform(190, 245)
    enamel = brightness * np.array([1.0, rng.uniform(0.93, 0.99), rng.uniform(0.8, 0.93)])
    centre_x = float(upper[:, 0].mean())
    # Teeth narrow from the middle outwards; the shadow between two is a pixel or so.
    offset = np.abs(xs - centre_x) / (rng.uniform(0.045, 0.065) * scale)
    position = offset - 0.25 * offset ** 1.5 / (1 + offset ** 0.5)
    gaps = np.abs((position + 0.5) % 1.0 - 0.5)
    shade = np.clip(gaps * rng.uniform(4, 8), rng.uniform(0.55, 0.8), 1.0) * \
        (1.0 - 0.4 * np.abs(xs - centre_x) / max(np.ptp(upper[:, 0]) / 2, 1.0))
    inside = np.array(rng.uniform(25, 70)) * np.array([1.0, 0.55, 0.55])
    colour = np.where(tooth[:, None], enamel * shade[:, None], inside)
    out = rgb.astype(np.float32)
    out[ys, xs] = colour
    blurred = cv2.GaussianBlur(out, (0, 0), max(0.6, 0.006 * scale))
    out[ys, xs] = blurred[ys, xs]
    return np.clip(out, 0, 255).astype(np.uint8)


def expression(rgb, points, rng, pool, *, kind: str | None = None):
    """Not occlusion (LABELS.md: aesthetic): a facial expression drawn by moving the lips
    along the mesh: lips pressed or rolled in (little red left), a smile or a frown (corners up
    or down), bared teeth, a grimace (teeth with the corners pulled wide), or a mouth wide
    open (talking, a yawn, a scream: dark inside, the teeth at its edges). The mouth is there
    to be seen in every one of them."""
    kind = kind or EXPRESSIONS[int(rng.integers(len(EXPRESSIONS)))]
    p = points[:, :2].astype(np.float64)
    scale = _face_scale(points)
    corners = p[list(MOUTH_CORNERS)]
    anchors, shifts = [], []
    if kind == "pressed_lips":
        def meeting_line(xs: np.ndarray) -> np.ndarray:  # where the lips meet
            return (_height_along(p[list(UPPER_INNER_LIP)], xs)
                    + _height_along(p[list(LOWER_INNER_LIP)], xs)) / 2

        squeeze = rng.uniform(0.5, 0.9)  # share of each lip's height pressed away
        for idx in (UPPER_OUTER_LIP[1:-1], LOWER_OUTER_LIP[1:-1], UPPER_INNER_LIP[1:-1],
                    LOWER_INNER_LIP[1:-1]):
            pts = p[list(idx)]
            anchors.append(pts)
            shifts.append(np.stack([np.zeros(len(pts)),
                                    (meeting_line(pts[:, 0]) - pts[:, 1]) * squeeze], axis=1))
    if kind in ("smile", "frown", "grimace"):
        lift = {"smile": rng.uniform(0.03, 0.07), "frown": -rng.uniform(0.02, 0.05),
                "grimace": rng.uniform(-0.01, 0.03)}[kind] * scale
        wide = {"smile": rng.uniform(0.01, 0.04), "frown": rng.uniform(-0.01, 0.01),
                "grimace": rng.uniform(0.03, 0.06)}[kind] * scale
        outward = np.array([[-1.0, 0.0], [1.0, 0.0]]) if corners[0, 0] < corners[1, 0] \
            else np.array([[1.0, 0.0], [-1.0, 0.0]])
        anchors.append(corners)
        shifts.append(outward * wide + np.array([0.0, -lift]))
    sigma = 0.06 * scale
    out = rgb
    if anchors:
        out = _displace(rgb, np.concatenate(anchors), np.concatenate(shifts), sigma)
    if kind in ("teeth", "grimace", "open_mouth"):
        wide_open = kind == "open_mouth"
        gap = rng.uniform(0.1, 0.2) * scale if wide_open else rng.uniform(0.03, 0.08) * scale
        upper, lower = p[list(UPPER_INNER_LIP)], p[list(LOWER_INNER_LIP)]
        opening = np.sin(np.linspace(0, np.pi, len(upper)))  # open most in the middle
        still = np.zeros_like(opening)
        up = np.stack([still, -0.4 * gap * opening], axis=1)
        down = np.stack([still, 0.6 * gap * opening], axis=1)
        out = _displace(out, np.concatenate([upper[1:-1], lower[1:-1]]),
                        np.concatenate([up[1:-1], down[1:-1]]), 0.04 * scale)
        out = _teeth(out, upper + up, lower + down, scale, rng,
                     rows_share=rng.uniform(0.1, 0.3) if wide_open else 0.55)
    return out, np.zeros(rgb.shape[:2], np.float32)


#: Occluder makers by name. Those after ``NOT_OCCLUSION`` cover no feature by design.
OCCLUDERS: dict[str, Maker] = {
    "mask": face_mask, "niqab": niqab, "sunglasses": sunglasses, "hand": hand,
    "sticker": sticker, "band": band, "hair": hair, "object": held_object,
    "glare_patch": glare_or_patch,
}
NOT_OCCLUSION: dict[str, Maker] = {
    "clear_glasses": clear_glasses, "headscarf": headscarf, "closed_eyes": closed_eyes,
    "expression": expression,
    "hand_beside": lambda rgb, points, rng, pool: hand(rgb, points, rng, pool, target="beside"),
}


def occlude(rgb: np.ndarray, points: np.ndarray, kind: str, rng: np.random.Generator,
            pool: TexturePool | None = None) -> Occluded:
    """Apply one occluder (a name of :data:`OCCLUDERS` or :data:`NOT_OCCLUSION`)."""
    maker = OCCLUDERS.get(kind) or NOT_OCCLUSION[kind]
    out, alpha = maker(rgb, points, rng, pool)
    return Occluded(out, alpha.astype(np.float32), kind)
