"""Deterministic synthetic photos of KTP-el-like cards, with ground truth, for tests and benchmarks.

A blank KTP-el-like card is drawn from the layout file (``photocheck/cards/ktp_el.toml``): a
light-blue ground with a guilloche-like line pattern, the header, placeholder fields
("NIK : 0000000000000000", "Nama : CONTOH", ...), a portrait in the photo box, the place and
date of issue and a scribbled signature. **No real card data is ever used**: every text is a
placeholder and the portraits are the public-domain sample images of ``samples/`` (Eileen
Collins, NASA; Grace Hopper, US Navy).

The card is then photographed: put on a desk (wood, cloth, plain, paper or blue cloth; other
things around it: paper sheets, a white card of the same size, a pen, a phone, coins), seen
through a pinhole camera at a tilt of up to ``tilt_deg`` out of the image plane and any
in-plane rotation, at a scale where its bounding box fills ``fill`` of the frame, with a drop
shadow, a cast shadow, a glare spot on the laminate, a lighting gradient, a colour cast, camera
blur, sensor noise and JPEG compression. A flat scan (``scan=True``) puts the card, square to
the frame, almost edge to edge.

Every draw comes from ``numpy.random.default_rng(seed)``: the same seed and arguments give the
same pixels. The ground truth is the card's four corners (the corners of the ID-1 rectangle
before rounding, TL, TR, BR, BL with the card upright) and the printed photo's four corners,
both in image px.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ...card import BoxMM, CardLayout, default_config
from . import degrade

#: Sample portraits (in ``samples/`` of the repository) that may be printed on a card.
PORTRAITS = {
    "astronaut": "astronaut_clear.jpg",
    "grace_hopper": "grace_hopper_clear.jpg",
}
SAMPLES_DIR = Path(__file__).resolve().parents[3] / "samples"

#: Resolution the flat card is drawn at before it is photographed.
CARD_PX_PER_MM = 12.0
#: Width of the face detector's box on each sample portrait at its own size, px (photocheck's
#: BlazeFace box on samples/*_clear.jpg): the scale of LABELS.md's blur sizes on them.
PORTRAIT_FACE_WIDTH_PX = {"astronaut": 168.0, "grace_hopper": 163.0}
BACKGROUNDS = ("wood", "cloth", "plain", "paper", "blue_cloth")
#: Light, plain surfaces a card is scanned or photographed on: a flatbed scanner's white lid, a
#: light-grey lid or table. Not in :func:`random_shot`'s draw (the benchmark's photo set stays
#: as it was); :func:`light_background_photo` uses them.
LIGHT_BACKGROUNDS = ("white", "light_grey")

# Placeholder fields of the left column (label, value): never real data.
FIELDS = (
    ("Nama", "CONTOH NAMA"),
    ("Tempat/Tgl Lahir", "KOTA CONTOH, 01-01-1970"),
    ("Jenis Kelamin", "-            Gol. Darah : -"),
    ("Alamat", "JL. CONTOH NO. 0"),
    ("RT/RW", "000/000"),
    ("Kel/Desa", "CONTOH"),
    ("Kecamatan", "CONTOH"),
    ("Agama", "-"),
    ("Status Perkawinan", "-"),
    ("Pekerjaan", "CONTOH"),
    ("Kewarganegaraan", "WNI"),
    ("Berlaku Hingga", "SEUMUR HIDUP"),
)


# --------------------------------------------------------------------------------------------
# What is printed on the card, and how it is photographed
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardDesign:
    """The printed card and its damage.

    portrait: key of :data:`PORTRAITS`.
    print_blur_mm: Gaussian sigma (mm on the card) of the printed photo alone: a blurry
        printed portrait on an otherwise sharp card. 0 = as sharp as the rest of the print.
    photo_blur: the photo was blurry before it was printed: Gaussian sigma in LABELS.md's units
        (px at a 160 px face box; ``../shared/LABELS.md``: >= 2.6 is clearly blurry), applied
        to the sample portrait at its own face width (:data:`PORTRAIT_FACE_WIDTH_PX`).
    photo_motion: likewise, the length of a linear motion blur (>= 9 clearly blurry), at
        ``photo_motion_deg`` degrees.
    print_spread_mm: Gaussian sigma (mm on the card) of the whole print (ground, text, photo):
        the softness every print has, from the printer's dot and the dye's spread. The default
        0.05 mm is about what a 300 dpi dye-sublimation card printer gives (its dot pitch is
        0.085 mm; see the policy's ``[card] print_blur_mm``).
    photo_offset_mm, photo_scale: where the photo is really printed, relative to the layout
        box (print registration differs a little between cards).
    ground_shift: -1..1, shifts the light-blue ground colour a little (card-to-card variation).
    glare_on_photo: 0-1 strength of a glare blob on the photo's laminate (1: clipped core).
    scratches: number of scratches across the photo.
    peel: share (0-1) of the photo's area where the print has peeled off (silver substrate),
        starting from one corner of the photo.
    damage_at: where the photo's damage lies: "anywhere" (glare anywhere on the middle of the
        photo, peeling from a random corner), "eyes" (the glare blob, or the peeled patch,
        over both eyes), "background" (glare in a top corner of the photo, above and beside
        the head).
    print_fade: 0-1, a washed-out print: the whole card's print (ground, text, photo) lifted
        towards white and its contrast lowered (an old or sun-faded card, an over-bright scan).
    skin_highlight: 0-1, bright skin in the printed photo: the lit skin (forehead, cheeks,
        nose) brightened until its brightest parts clip, without glare; eyes, brows and lips
        stay as they are.
    """

    portrait: str = "astronaut"
    print_blur_mm: float = 0.0
    photo_blur: float = 0.0
    photo_motion: float = 0.0
    photo_motion_deg: float = 0.0
    print_spread_mm: float = 0.05
    photo_offset_mm: tuple[float, float] = (0.0, 0.0)
    photo_scale: float = 1.0
    ground_shift: float = 0.0
    glare_on_photo: float = 0.0
    scratches: int = 0
    peel: float = 0.0
    damage_at: str = "anywhere"
    print_fade: float = 0.0
    skin_highlight: float = 0.0


#: Where on the sample portraits (share of the photo box, x and y) the eyes lie: the centre of
#: the two eyes and the half distance between them. Measured on the printed box (cover-fit).
EYES_IN_PHOTO = {"astronaut": ((0.503, 0.387), 0.112), "grace_hopper": ((0.486, 0.404), 0.112)}
DAMAGE_AT = ("anywhere", "eyes", "background")


@dataclass(frozen=True)
class Shot:
    """How the card is photographed.

    width, height: frame size, px.
    fill: the card's bounding box spans this share of the frame (the larger of the width and
        height shares), 0.3-0.95 for a photo; a scan ignores it.
    tilt_deg: angle between the card's plane and the image plane (0 = square on), degrees.
    tilt_axis_deg: direction in the image of the axis the card is tilted about, degrees.
    rotation_deg: in-plane rotation of the card, counter-clockwise on screen; 180 = upside down.
    focal: focal length as a multiple of the frame's longer side (phone main camera ~0.8-1.2).
    position: where the card's box sits in the free room of the frame, 0-1 in x and y.
    background: one of :data:`BACKGROUNDS` or :data:`LIGHT_BACKGROUNDS`.
    distractors: number of other things on the desk.
    business_card: also put a plain white card of ID-1 size on the desk (a hard negative).
    shadow: 0-1 darkening of a soft cast shadow (a hand or phone) across part of the frame.
    laminate_glare: 0-1 strength of a glare spot somewhere on the card's laminate.
    light_gradient: 0-1 strength of uneven lighting across the frame.
    colour_cast: 0-1 strength of a white-balance error.
    blur_px: camera blur (Gaussian sigma) of the whole shot, image px.
    noise: sensor noise sigma, grey levels.
    jpeg_quality: JPEG quality of the saved photo (None: not compressed).
    scan: a flat scan: card square to the frame, edges at or near the border, white margin.
    """

    width: int = 1200
    height: int = 900
    fill: float = 0.7
    tilt_deg: float = 0.0
    tilt_axis_deg: float = 0.0
    rotation_deg: float = 0.0
    focal: float = 1.0
    position: tuple[float, float] = (0.5, 0.5)
    background: str = "wood"
    distractors: int = 0
    business_card: bool = False
    shadow: float = 0.0
    laminate_glare: float = 0.0
    light_gradient: float = 0.0
    colour_cast: float = 0.0
    blur_px: float = 0.0
    noise: float = 2.0
    jpeg_quality: int | None = 90
    scan: bool = False


@dataclass(frozen=True)
class CardPhoto:
    """A synthetic photo of a card with its ground truth.

    rgb: HxWx3 uint8 image.
    card_corners: 4x2 float, image px: TL, TR, BR, BL of the card (upright), the corners of the
        ID-1 rectangle before rounding.
    portrait_corners: 4x2 float, image px: TL, TR, BR, BL of the printed photo.
    portrait_mm: the printed photo's box on the card, mm.
    card_to_image: 3x3 homography from card mm to image px.
    px_per_mm: mean scale of the card in the image, px per mm (sqrt of area ratio).
    """

    rgb: np.ndarray = field(repr=False)
    card_corners: np.ndarray
    portrait_corners: np.ndarray
    portrait_mm: BoxMM
    card_to_image: np.ndarray = field(repr=False)
    px_per_mm: float
    design: CardDesign
    shot: Shot
    seed: int

    def conditions(self) -> dict:
        """Every condition used, flat, for reports."""
        return {**asdict(self.design), **asdict(self.shot), "seed": self.seed}


# --------------------------------------------------------------------------------------------
# Random conditions
# --------------------------------------------------------------------------------------------


def random_design(rng: np.random.Generator, **overrides) -> CardDesign:
    """A random, undamaged card design; keyword arguments override any field."""
    design = CardDesign(
        portrait=str(rng.choice(sorted(PORTRAITS))),
        photo_offset_mm=(float(rng.uniform(-0.7, 0.7)), float(rng.uniform(-0.7, 0.7))),
        photo_scale=float(rng.uniform(0.97, 1.03)),
        ground_shift=float(rng.uniform(-1, 1)),
    )
    return replace(design, **overrides)


def random_shot(rng: np.random.Generator, *, max_tilt_deg: float = 30.0, **overrides) -> Shot:
    """Random photo conditions over the benchmark range; keyword arguments override any field.

    Tilt 0-``max_tilt_deg`` in any direction, any in-plane rotation (a third near upright,
    a sixth near upside down, the rest anywhere), fill 0.3-0.95, five desk kinds with up to
    four other things, a shadow, a glare spot and uneven lighting each on about half the
    shots, mild camera blur (sigma 0-1.2 px), noise 1-4 grey levels, JPEG quality 60-95.
    """
    width, height = [(1200, 900), (1280, 960), (1024, 768), (900, 1200), (1280, 720)][
        int(rng.integers(5))]
    kind = rng.uniform()
    if kind < 1 / 3:
        rotation = rng.uniform(-10, 10)
    elif kind < 0.5:
        rotation = 180 + rng.uniform(-10, 10)
    else:
        rotation = rng.uniform(-180, 180)
    shot = Shot(
        width=width, height=height,
        fill=float(rng.uniform(0.30, 0.95)),
        tilt_deg=float(rng.uniform(0, max_tilt_deg)),
        tilt_axis_deg=float(rng.uniform(0, 180)),
        rotation_deg=float(rotation),
        focal=float(rng.uniform(0.8, 1.3)),
        position=(float(rng.uniform()), float(rng.uniform())),
        background=str(rng.choice(BACKGROUNDS)),
        distractors=int(rng.integers(0, 5)),
        business_card=bool(rng.uniform() < 0.2),
        shadow=float(rng.uniform(0.2, 0.55)) if rng.uniform() < 0.5 else 0.0,
        laminate_glare=float(rng.uniform(0.5, 1.0)) if rng.uniform() < 0.5 else 0.0,
        light_gradient=float(rng.uniform(0.1, 0.4)) if rng.uniform() < 0.6 else 0.0,
        colour_cast=float(rng.uniform(0, 1)),
        blur_px=float(rng.uniform(0, 1.2)),
        noise=float(rng.uniform(1, 4)),
        jpeg_quality=int(rng.integers(60, 96)),
    )
    return replace(shot, **overrides)


def card_photo(seed: int, *, max_tilt_deg: float = 30.0, design: dict | None = None,
               **shot_overrides) -> CardPhoto:
    """A random card photo from ``seed``: random design and shot, with overrides."""
    rng = np.random.default_rng(seed)
    d = random_design(rng, **(design or {}))
    s = random_shot(rng, max_tilt_deg=max_tilt_deg, **shot_overrides)
    return render(d, s, seed=seed)


def blurry_print_photo(seed: int, print_blur_mm: float = 0.3, **shot_overrides) -> CardPhoto:
    """A sharp shot of a card whose printed photo is blurry (text and edges sharp)."""
    defaults = dict(tilt_deg=10.0, fill=0.8, blur_px=0.3, laminate_glare=0.0, shadow=0.0)
    return card_photo(seed, design={"print_blur_mm": print_blur_mm},
                      **{**defaults, **shot_overrides})


def blurry_shot_photo(seed: int, blur_px: float = 4.0, **shot_overrides) -> CardPhoto:
    """A blurry shot of a card with a sharp printed photo: everything is soft."""
    defaults = dict(tilt_deg=10.0, fill=0.8, laminate_glare=0.0, shadow=0.0)
    return card_photo(seed, **{**defaults, **shot_overrides, "blur_px": blur_px})


def damaged_card_photo(seed: int, kind: str, *, portrait: str | None = None,
                       at: str = "anywhere", **shot_overrides) -> CardPhoto:
    """A sharp shot of a card whose photo area is damaged.

    kind: "glare" (a clipped glare blob on the photo's laminate), "scratches" (six thin
    scratches across the photo), "peel" (print peeled off the photo from a corner) or "none"
    (the same card undamaged, for comparison). ``portrait`` picks the sample portrait (default:
    drawn from the seed). ``at`` (:data:`DAMAGE_AT`): "eyes" puts the glare blob over both eyes
    and peels 55 % of the photo from a top corner (over the eyes); "background" puts a small
    glare spot in a top corner and peels 8 % from a bottom corner (shoulders), both beside the
    face; "anywhere": glare somewhere in the middle, 35 % peeled from any corner.
    """
    if at not in DAMAGE_AT:
        raise ValueError(f"at must be one of {DAMAGE_AT}, got {at!r}")
    peel = {"eyes": 0.55, "background": 0.08}.get(at, 0.35)
    damage = {"glare": {"glare_on_photo": 1.0}, "scratches": {"scratches": 6},
              "peel": {"peel": peel}, "none": {}}
    if kind not in damage:
        raise ValueError(f"kind must be one of {sorted(damage)}, got {kind!r}")
    design = dict(damage[kind], damage_at=at,
                  **({} if portrait is None else {"portrait": portrait}))
    defaults = dict(tilt_deg=8.0, fill=0.85, blur_px=0.3, laminate_glare=0.0, shadow=0.0)
    return card_photo(seed, design=design, **{**defaults, **shot_overrides})


def light_background_photo(seed: int, *, design: dict | None = None,
                           **shot_overrides) -> CardPhoto:
    """A clean card on a light surface: laid on a flatbed scanner (white or light-grey lid,
    square to the frame, anywhere on the glass, filling 25-80 % of it) or photographed from
    above on a white or light-grey table (tilt up to 15 deg), with the print washed out
    (``print_fade`` 0.3-0.7) in half of them and bright, clipping skin (``skin_highlight``
    0.4-0.8) in half of them. No damage: the card must never be judged ``card_damaged``.
    ``design`` overrides design fields (e.g. a stronger fade)."""
    rng = np.random.default_rng([seed, 3])
    scanner = rng.uniform() < 0.5
    # Up to fades and highlights that leave the face plainly visible to a person (a print
    # faded past ~0.8 with bright skin loses the face: that card is eligible, not clean).
    d = random_design(
        rng, print_fade=float(rng.uniform(0.3, 0.7)) if rng.uniform() < 0.5 else 0.0,
        skin_highlight=float(rng.uniform(0.4, 0.8)) if rng.uniform() < 0.5 else 0.0)
    width, height = ((1240, 1754) if rng.uniform() < 0.5 else (1700, 1170)) if scanner else \
        ((1200, 900), (1280, 960), (900, 1200))[int(rng.integers(3))]
    s = Shot(
        width=width, height=height, fill=float(rng.uniform(0.25, 0.8)),
        tilt_deg=0.0 if scanner else float(rng.uniform(0, 15)),
        tilt_axis_deg=float(rng.uniform(0, 180)),
        rotation_deg=float(rng.uniform(-4, 4) + (180 if rng.uniform() < 0.2 else 0)),
        focal=20.0 if scanner else float(rng.uniform(0.8, 1.3)),  # a scanner: no perspective
        position=(float(rng.uniform()), float(rng.uniform())),
        background=str(rng.choice(LIGHT_BACKGROUNDS)),
        shadow=0.0 if scanner else float(rng.uniform(0, 0.3)),
        light_gradient=0.0 if scanner else float(rng.uniform(0, 0.3)),
        colour_cast=float(rng.uniform(0, 0.5)), blur_px=float(rng.uniform(0.2, 0.8)),
        noise=float(rng.uniform(1, 3)), jpeg_quality=int(rng.integers(75, 96)))
    return render(replace(d, **(design or {})), replace(s, **shot_overrides), seed=seed)


def scan_photo(seed: int, margin_px: int = 0, **shot_overrides) -> CardPhoto:
    """A flat scan: the card square to the frame, ``margin_px`` of white scanner lid around it
    (0: the card's edges are the image border)."""
    rng = np.random.default_rng(seed)
    d = random_design(rng)
    width = int(rng.integers(900, 1300))
    s = Shot(width=width, height=int(round(width * 53.98 / 85.60)), scan=True,
             rotation_deg=float(rng.uniform(-1.5, 1.5)), position=(float(margin_px), 0.0),
             background="paper", noise=1.5, jpeg_quality=90, blur_px=0.4)
    return render(d, replace(s, **shot_overrides), seed=seed)


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def render(design: CardDesign, shot: Shot, *, seed: int, layout: CardLayout | None = None
           ) -> CardPhoto:
    """Draw the card, damage it, and photograph it. Deterministic in ``seed``."""
    layout = layout or default_config().layout
    rng = np.random.default_rng([seed, 1])  # a stream of its own: overrides don't shift it
    card, alpha, photo_box = render_card(design, layout, rng, px_per_mm=CARD_PX_PER_MM)
    specular = _specular(design, shot, photo_box, card.shape[:2], rng, CARD_PX_PER_MM) * alpha
    homography = _card_homography(shot, layout, rng)
    background = desk(shot.background, shot.width, shot.height, rng)
    scene = _place_things(background, shot, layout, homography, rng, before_card=True)
    scene = _composite_card(scene, card, alpha, homography, rng)
    scene = _place_things(scene, shot, layout, homography, rng, before_card=False)
    scene = _light(scene, shot, rng)
    # Glare is light reflected by the laminate straight into the camera: it is added after the
    # scene's lighting, so its core clips whatever the shading.
    if specular.any():
        glare = _warp(specular, homography, (shot.width, shot.height))[..., None]
        scene = scene + glare * (255.0 - np.minimum(scene, 255.0))
    if shot.blur_px > 0:
        scene = cv2.GaussianBlur(scene, (0, 0), shot.blur_px)
    rgb = np.clip(np.rint(scene), 0, 255).astype(np.uint8)
    if shot.noise > 0:
        rgb = degrade.add_noise(rgb, shot.noise, rng=rng, monochrome=True)
    if shot.jpeg_quality is not None:
        rgb = degrade.jpeg(rgb, shot.jpeg_quality)
    card_corners = _project(homography, BoxMM(0, 0, layout.width_mm, layout.height_mm).corners())
    area = cv2.contourArea(card_corners.astype(np.float32))
    return CardPhoto(
        rgb=rgb, card_corners=card_corners,
        portrait_corners=_project(homography, photo_box.corners()), portrait_mm=photo_box,
        card_to_image=homography, px_per_mm=math.sqrt(area / (layout.width_mm * layout.height_mm)),
        design=design, shot=shot, seed=seed)


def render_card(design: CardDesign, layout: CardLayout, rng: np.random.Generator, *,
                px_per_mm: float = CARD_PX_PER_MM) -> tuple[np.ndarray, np.ndarray, BoxMM]:
    """The flat card at ``px_per_mm``: float32 RGB 0-255, float32 alpha 0-1 (rounded corners),
    and the box (mm) where the photo is really printed."""
    w, h = int(round(layout.width_mm * px_per_mm)), int(round(layout.height_mm * px_per_mm))
    card = _ground(w, h, design.ground_shift, rng, px_per_mm)
    card = _print_text(card, layout, px_per_mm, rng)
    photo_box = _photo_box(design, layout)
    card = _print_photo(card, design, photo_box, px_per_mm)
    if design.print_fade > 0:
        # Faded dyes: everything drifts towards the white of the card body.
        fade = 0.75 * design.print_fade
        card = card * (1 - fade) + np.float32(250.0 * fade)
    # The whole print is a little soft (dye sublimation / inkjet on PVC), not pixel-sharp.
    if design.print_spread_mm > 0:
        card = cv2.GaussianBlur(card, (0, 0), design.print_spread_mm * px_per_mm)
    card = _damage(card, design, photo_box, px_per_mm, rng)
    alpha = _rounded_rect_alpha(w, h, layout.corner_radius_mm * px_per_mm)
    return card, alpha, photo_box


def _photo_box(design: CardDesign, layout: CardLayout) -> BoxMM:
    box = layout.portrait
    cx = (box.x0 + box.x1) / 2 + design.photo_offset_mm[0]
    cy = (box.y0 + box.y1) / 2 + design.photo_offset_mm[1]
    hw, hh = box.width / 2 * design.photo_scale, box.height / 2 * design.photo_scale
    return BoxMM(cx - hw, cy - hh, cx + hw, cy + hh)


def _ground(w: int, h: int, shift: float, rng: np.random.Generator, ppm: float) -> np.ndarray:
    """Light-blue ground, lighter towards the middle, with fine wavy guilloche lines."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = xx / w, yy / h
    edge = np.array([150, 200, 228], np.float32) + shift * np.array([8, 4, -4], np.float32)
    centre = np.array([208, 234, 246], np.float32)
    t = np.clip(1.0 - 1.6 * np.hypot(u - 0.45, (v - 0.55) * 0.8), 0, 1)[..., None]
    ground = edge + (centre - edge) * t
    canvas = Image.fromarray(np.zeros((h, w), np.uint8))
    draw = ImageDraw.Draw(canvas)
    # Two families of sine waves crossing each other: a guilloche-like security pattern.
    for family in range(2):
        period = rng.uniform(9, 14) * ppm
        amp = rng.uniform(1.2, 2.5) * ppm
        pitch = rng.uniform(1.1, 1.6) * ppm
        phase = rng.uniform(0, 2 * np.pi)
        xs = np.arange(0, w + 8, 4, dtype=np.float32)
        for k, y0 in enumerate(np.arange(-amp, h + amp, pitch)):
            sign = 1 if family == 0 else -1
            ys = y0 + amp * np.sin(2 * np.pi * xs / period + phase + sign * 0.35 * k)
            draw.line(list(zip(xs.tolist(), ys.tolist())), fill=255, width=max(1, int(0.08 * ppm)))
    lines = cv2.GaussianBlur(np.asarray(canvas, np.float32) / 255.0, (0, 0), 0.5)[..., None]
    ground = ground * (1 - 0.07 * lines)
    # A faint round emblem (watermark) in the middle of the text column.
    cx, cy, r = 0.33 * w, 0.58 * h, 0.22 * h
    d = np.hypot(xx - cx, yy - cy)
    rings = (0.5 + 0.5 * np.cos(d / (0.6 * ppm))) * (d < r)
    ground = ground * (1 - 0.05 * rings[..., None])
    return ground.astype(np.float32)


@lru_cache(maxsize=8)
def _font(size_px: int) -> ImageFont.FreeTypeFont:
    # Pillow's built-in font (no file of this machine): same glyphs everywhere.
    return ImageFont.load_default(size=size_px)


def _print_text(card: np.ndarray, layout: CardLayout, ppm: float,
                rng: np.random.Generator) -> np.ndarray:
    """Header, NIK, fields, issue place and date, and a scribbled signature, in black."""
    h, w = card.shape[:2]
    ink = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(ink)
    head = layout.header
    big = _font(int(2.6 * ppm))
    for i, line in enumerate(("PROVINSI CONTOH", "KABUPATEN CONTOH")):
        y = (head.y0 + 0.3 + i * head.height / 2) * ppm
        draw.text(((head.x0 + head.x1) / 2 * ppm, y), line, font=big, fill=255, anchor="ma",
                  stroke_width=max(1, int(0.06 * ppm)), stroke_fill=255)
    text = layout.text
    x_label, x_colon = (text.x0 + 0.5) * ppm, (text.x0 + 19.0) * ppm
    nik_font = _font(int(3.0 * ppm))
    y = (text.y0 + 0.8) * ppm
    draw.text((x_label, y), "NIK", font=nik_font, fill=255, stroke_width=1, stroke_fill=255)
    draw.text((x_colon - 0.5 * ppm, y), ":  0000000000000000", font=nik_font, fill=255,
              stroke_width=1, stroke_fill=255)
    small = _font(int(1.85 * ppm))
    pitch = (text.y1 - text.y0 - 6.5) / len(FIELDS)
    for i, (label, value) in enumerate(FIELDS):
        y = (text.y0 + 6.0 + i * pitch) * ppm
        draw.text((x_label, y), label, font=small, fill=255)
        draw.text((x_colon, y), ": " + value, font=small, fill=255)
    issue = layout.issue
    for i, line in enumerate(("KOTA CONTOH", "01-01-2020")):
        draw.text(((issue.x0 + issue.x1) / 2 * ppm, (issue.y0 + 0.2 + 2.6 * i) * ppm), line,
                  font=small, fill=255, anchor="ma")
    _signature(draw, layout.signature, ppm, rng)
    coverage = np.asarray(ink, np.float32)[..., None] / 255.0
    return card * (1 - coverage) + np.float32(25.0) * coverage


def _signature(draw: ImageDraw.ImageDraw, box: BoxMM, ppm: float,
               rng: np.random.Generator) -> None:
    """A smooth random scribble (not anybody's signature)."""
    n = 9
    xs = np.linspace(box.x0 + 2, box.x1 - 2, n) + rng.uniform(-1.5, 1.5, n)
    ys = (box.y0 + box.y1) / 2 + rng.uniform(-0.35, 0.35, n) * box.height
    t = np.linspace(0, n - 1, 200)
    px = np.interp(t, np.arange(n), xs) + 0.8 * np.sin(t * 2.7)
    py = np.interp(t, np.arange(n), ys) + 1.2 * np.sin(t * 3.3 + 1)
    points = list(zip((px * ppm).tolist(), (py * ppm).tolist()))
    draw.line(points, fill=255, width=max(1, int(0.25 * ppm)), joint="curve")


def sample_portrait(name: str) -> np.ndarray:
    """A sample portrait (RGB uint8) from ``samples/`` of the repository."""
    path = SAMPLES_DIR / PORTRAITS[name]
    if not path.is_file():
        raise FileNotFoundError(f"sample portrait {PORTRAITS[name]} not found in samples/; "
                                "the generator runs from a checkout of the repository")
    return _read_rgb(str(path))


@lru_cache(maxsize=4)
def _read_rgb(path: str) -> np.ndarray:
    with Image.open(path) as im:
        rgb = np.array(im.convert("RGB"), dtype=np.uint8)
    rgb.flags.writeable = False
    return rgb


def _print_photo(card: np.ndarray, design: CardDesign, box: BoxMM, ppm: float) -> np.ndarray:
    """Print the portrait into ``box``: cover-cropped to the box, resampled, optionally blurred.
    Edges are anti-aliased to sub-pixel accuracy, so the true box is exact."""
    src = sample_portrait(design.portrait)
    face_width = PORTRAIT_FACE_WIDTH_PX[design.portrait]
    if design.photo_blur > 0:
        src = degrade.gaussian_blur(src, design.photo_blur, face_width=face_width)
    if design.photo_motion > 0:
        src = degrade.motion_blur(src, design.photo_motion, design.photo_motion_deg,
                                  face_width=face_width)
    src = src.astype(np.float32)
    # Map box (mm) -> card px with an affine warp of the whole portrait (cover fit).
    sh, sw = src.shape[:2]
    scale = max(box.width * ppm / sw, box.height * ppm / sh)
    ox = box.x0 * ppm - (sw * scale - box.width * ppm) / 2
    oy = box.y0 * ppm - (sh * scale - box.height * ppm) / 2
    if scale < 1:  # area-average before a shrinking warp, against aliasing
        src = cv2.GaussianBlur(src, (0, 0), 0.5 / scale)
    matrix = np.array([[scale, 0, ox - 0.5 + 0.5 * scale], [0, scale, oy - 0.5 + 0.5 * scale]],
                      np.float64)
    h, w = card.shape[:2]
    photo = cv2.warpAffine(src, matrix, (w, h), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
    if design.skin_highlight > 0:
        photo = _brighten_skin(photo, design.skin_highlight)
    if design.print_blur_mm > 0:
        photo = cv2.GaussianBlur(photo, (0, 0), design.print_blur_mm * ppm)
    cover = _box_coverage(box, ppm, (h, w))[..., None]
    return card * (1 - cover) + photo * cover


def _brighten_skin(photo: np.ndarray, strength: float) -> np.ndarray:
    """Lit skin brightened past white where it is already brightest: the skin-coloured pixels
    (YCrCb bounds, softened), lifted by the square of how bright they are, so the highlights of
    forehead, cheeks and nose clip (at full strength about a tenth of the photo) while eyes,
    brows, lips and hair keep their tone. ``photo``: float32 RGB 0-255."""
    ycc = cv2.cvtColor(np.clip(photo, 0, 255).astype(np.uint8), cv2.COLOR_RGB2YCrCb)
    y, cr, cb = (ycc[..., k].astype(np.float32) for k in range(3))
    skin = ((cr >= 133) & (cr <= 175) & (cb >= 77) & (cb <= 130)).astype(np.float32)
    skin = cv2.GaussianBlur(skin, (0, 0), 1.5)
    lit = np.clip((y - 110.0) / 100.0, 0, 1) ** 2
    lift = (strength * skin * lit)[..., None]
    return photo + lift * (290.0 - photo)  # past 255: clipped when the photo is taken


def _box_coverage(box: BoxMM, ppm: float, shape: tuple[int, int]) -> np.ndarray:
    """Per-pixel coverage (0-1) of an axis-aligned box: exact area, anti-aliased edges."""
    h, w = shape
    xs = np.arange(w, dtype=np.float32)
    ys = np.arange(h, dtype=np.float32)
    cx = np.clip(np.minimum(xs + 1, box.x1 * ppm) - np.maximum(xs, box.x0 * ppm), 0, 1)
    cy = np.clip(np.minimum(ys + 1, box.y1 * ppm) - np.maximum(ys, box.y0 * ppm), 0, 1)
    return np.outer(cy, cx).astype(np.float32)


def _rounded_rect_alpha(w: int, h: int, radius: float) -> np.ndarray:
    """Anti-aliased alpha of a w x h rectangle with rounded corners of ``radius`` px."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    dx = np.maximum(np.maximum(radius - xx, xx - (w - radius)), 0)
    dy = np.maximum(np.maximum(radius - yy, yy - (h - radius)), 0)
    outside = np.hypot(dx, dy) - radius
    return np.clip(0.5 - outside, 0, 1).astype(np.float32)


def _damage(card: np.ndarray, design: CardDesign, box: BoxMM, ppm: float,
            rng: np.random.Generator) -> np.ndarray:
    """Glare on the photo's laminate, scratches across it, print peeled from a corner."""
    h, w = card.shape[:2]
    if design.peel > 0:
        # Over the eyes: from a top corner (0 TL, 1 TR); away from the face: a bottom corner.
        corners = {"eyes": (0, 1), "background": (2, 3)}.get(design.damage_at, (0, 1, 2, 3))
        card = _peel(card, box, design.peel, ppm, rng, corners)
    if design.scratches:
        rgb = np.clip(np.rint(card), 0, 255).astype(np.uint8)
        for _ in range(design.scratches):
            # A long, slightly curved scratch through the photo, as two joined segments.
            cx, cy = rng.uniform(box.x0, box.x1), rng.uniform(box.y0, box.y1)
            angle = rng.uniform(0, np.pi)
            length = rng.uniform(0.5, 0.9) * box.height
            bend = rng.uniform(-0.15, 0.15)
            pts = []
            for s in (-0.5, 0.0, 0.5):
                a = angle + bend * s
                pts.append(((cx + s * length * math.cos(a)) * ppm,
                            (cy + s * length * math.sin(a)) * ppm))
            bright = rng.uniform() < 0.7  # laminate scratches scatter light: mostly whitish
            colour = (235, 235, 235) if bright else (40, 40, 45)
            width = rng.uniform(0.1, 0.25) * ppm
            for p0, p1 in zip(pts[:-1], pts[1:]):
                rgb = degrade.scratch_band(rgb, p0, p1, width, colour=colour,
                                           opacity=float(rng.uniform(0.7, 0.95)))
        card = rgb.astype(np.float32)
    return card


def _peel(card: np.ndarray, box: BoxMM, share: float, ppm: float,
          rng: np.random.Generator, corners: tuple[int, ...] = (0, 1, 2, 3)) -> np.ndarray:
    """Print peeled off from one of ``corners`` of the photo (0 TL, 1 TR, 2 BR, 3 BL): a
    ragged triangle-like patch of silver substrate covering ``share`` of the photo's area,
    with a thin darker rim."""
    h, w = card.shape[:2]
    corner = corners[int(rng.integers(len(corners)))]
    bx, by = box.x0 * ppm, box.y0 * ppm
    bw, bh = box.width * ppm, box.height * ppm
    # A right triangle with legs a*bw, a*bh covers a^2/2 of the box: a = sqrt(2 * share),
    # clipped by the box when the share is large; ragged edge from a noisy hypotenuse.
    a = math.sqrt(2 * share)
    n = 24
    t = np.linspace(0, 1, n)
    wobble = rng.normal(0, 0.02, n).cumsum()
    wobble -= np.linspace(wobble[0], wobble[-1], n)
    edge = np.stack([a * bw * (1 - t), a * bh * t], axis=1) + wobble[:, None] * [bw, bh]
    poly = np.concatenate([[[0, 0]], edge])
    sx, sy = (1, 1) if corner == 0 else (-1, 1) if corner == 1 else (-1, -1) if corner == 2 \
        else (1, -1)
    ox = bx if sx > 0 else bx + bw
    oy = by if sy > 0 else by + bh
    pts = np.stack([ox + sx * poly[:, 0], oy + sy * poly[:, 1]], axis=1)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.round(pts * 4).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=2)
    clip = _box_coverage(box, ppm, (h, w))
    cover = (mask.astype(np.float32) / 255.0) * clip
    silver = np.array([192, 192, 197], np.float32) + rng.normal(0, 1.5, (h, w, 1)).astype(
        np.float32)
    rim = cv2.GaussianBlur(cover, (0, 0), 0.08 * ppm)
    rim = np.clip(4 * rim * (1 - rim), 0, 1)  # bright where the edge is
    out = card * (1 - cover[..., None]) + silver * cover[..., None]
    return out * (1 - 0.25 * rim[..., None])


def _specular(design: CardDesign, shot: Shot, photo_box: BoxMM, shape: tuple[int, int],
              rng: np.random.Generator, ppm: float) -> np.ndarray:
    """Card-space strength (0-1) of light reflected by the laminate: a soft, elongated glare
    spot anywhere on the card (``shot.laminate_glare``) and a rounder one on the photo
    (``design.glare_on_photo``), each with a saturated core."""
    h, w = shape
    out = np.zeros((h, w), np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)

    def blob(cx, cy, rx, ry, angle, strength, core):
        u = ((xx - cx) * math.cos(angle) + (yy - cy) * math.sin(angle)) / rx
        v = (-(xx - cx) * math.sin(angle) + (yy - cy) * math.cos(angle)) / ry
        profile = np.clip((1 - np.sqrt(u * u + v * v)) / (1 - core), 0, 1)
        return strength * profile * profile * (3 - 2 * profile)

    if shot.laminate_glare > 0:
        out = np.maximum(out, blob(rng.uniform(0.1, 0.9) * w, rng.uniform(0.15, 0.85) * h,
                                   rng.uniform(4, 12) * ppm, rng.uniform(2, 6) * ppm,
                                   rng.uniform(0, np.pi), shot.laminate_glare, 0.4))
    if design.glare_on_photo > 0:
        box = photo_box
        if design.damage_at == "eyes":
            # Wide enough that its clipped core (half the radius) spans both eyes.
            (ex, ey), half = EYES_IN_PHOTO[design.portrait]
            cx, cy = (box.x0 + ex * box.width) * ppm, (box.y0 + ey * box.height) * ppm
            r = (2.2 * half * box.width + rng.uniform(0.5, 1.5)) * ppm
            shape = (r, r * rng.uniform(0.55, 0.7), rng.uniform(-0.15, 0.15))
        elif design.damage_at == "background":
            # A small spot in a top corner: above and beside the head, not on the face.
            left = rng.uniform() < 0.5
            cx = (box.x0 + (0.1 if left else 0.9) * box.width) * ppm
            cy = (box.y0 + 0.1 * box.height) * ppm
            r = rng.uniform(2.5, 3.5) * ppm
            shape = (r, r * rng.uniform(0.7, 1.0), rng.uniform(0, np.pi))
        else:
            cx = rng.uniform(box.x0 + 0.3 * box.width, box.x1 - 0.3 * box.width) * ppm
            cy = rng.uniform(box.y0 + 0.25 * box.height, box.y1 - 0.35 * box.height) * ppm
            r = rng.uniform(5.0, 7.5) * ppm
            shape = (r, r * rng.uniform(0.7, 1.0), rng.uniform(0, np.pi))
        out = np.maximum(out, blob(cx, cy, *shape, design.glare_on_photo, 0.5))
    return out


# --------------------------------------------------------------------------------------------
# Camera
# --------------------------------------------------------------------------------------------


def _card_homography(shot: Shot, layout: CardLayout, rng: np.random.Generator) -> np.ndarray:
    """3x3 homography from card mm to image px, for a pinhole camera."""
    W, H = shot.width, shot.height
    cw, ch = layout.width_mm, layout.height_mm
    corners = BoxMM(0, 0, cw, ch).corners()
    if shot.scan:
        # Square to the frame; ``position[0]`` is the white margin in px (0: edge to edge).
        margin = shot.position[0]
        sx, sy = (W - 2 * margin) / cw, (H - 2 * margin) / ch
        a = math.radians(-shot.rotation_deg)
        c, s = math.cos(a), math.sin(a)
        centred = corners - [cw / 2, ch / 2]
        pts = np.stack([c * centred[:, 0] - s * centred[:, 1],
                        s * centred[:, 0] + c * centred[:, 1]], axis=1) * [sx, sy] + [W / 2, H / 2]
        return cv2.getPerspectiveTransform(corners.astype(np.float32), pts.astype(np.float32))
    f = shot.focal * max(W, H)
    centred = np.concatenate([corners - [cw / 2, ch / 2], np.zeros((4, 1))], axis=1)
    # In-plane rotation (counter-clockwise on screen, y pointing down), then the tilt about an
    # axis in the image plane.
    a = math.radians(-shot.rotation_deg)
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    axis = np.array([math.cos(math.radians(shot.tilt_axis_deg)),
                     math.sin(math.radians(shot.tilt_axis_deg)), 0.0])
    tilt, _ = cv2.Rodrigues(axis * math.radians(shot.tilt_deg))
    points = centred @ (tilt @ rz).T
    distance = f * cw / (shot.fill * W)  # first guess, refined below
    for _ in range(4):
        z = points[:, 2] + distance
        proj = f * points[:, :2] / z[:, None]
        span = proj.max(axis=0) - proj.min(axis=0)
        current = max(span[0] / W, span[1] / H)
        distance *= current / shot.fill
    z = points[:, 2] + distance
    proj = f * points[:, :2] / z[:, None]
    lo, hi = proj.min(axis=0), proj.max(axis=0)
    room = np.array([W, H]) - (hi - lo)
    offset = -lo + room * np.clip(shot.position, 0, 1)
    pts = proj + offset
    return cv2.getPerspectiveTransform(corners.astype(np.float32), pts.astype(np.float32))


def _project(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    pts = cv2.perspectiveTransform(points.reshape(-1, 1, 2).astype(np.float64), homography)
    return pts.reshape(-1, 2)


def _warp(image: np.ndarray, homography: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Warp a card-space image (at CARD_PX_PER_MM) into the scene; pre-smoothed where the warp
    shrinks it, so fine print does not alias."""
    ppm = CARD_PX_PER_MM
    to_px = np.diag([1 / ppm, 1 / ppm, 1.0])
    # Card px -> mm -> image; pixel centres at +0.5 in both.
    shift = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    unshift = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]])
    matrix = unshift @ homography @ to_px @ shift
    scale = math.sqrt(abs(np.linalg.det(matrix[:2, :2])))
    src = image
    if scale < 0.8:
        src = cv2.GaussianBlur(image, (0, 0), 0.45 / scale)
    return cv2.warpPerspective(src, matrix, size, flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _composite_card(scene: np.ndarray, card: np.ndarray, alpha: np.ndarray,
                    homography: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = scene.shape[:2]
    warped = _warp(card, homography, (w, h))
    a = _warp(alpha, homography, (w, h))[..., None]
    # Soft drop shadow under the card, offset towards the bottom-right by a few px.
    size = math.sqrt(max(a.sum(), 1.0))
    dx, dy = rng.uniform(0.005, 0.02, 2) * size
    shadow = cv2.warpAffine(a[..., 0], np.float32([[1, 0, dx], [0, 1, dy]]), (w, h))
    shadow = cv2.GaussianBlur(shadow, (0, 0), 0.015 * size + 1)[..., None]
    scene = scene * (1 - rng.uniform(0.25, 0.45) * shadow)
    # The card's cut edge catches light: a thin bright rim just inside the outline.
    rim = np.clip(a - cv2.erode(a[..., 0], np.ones((3, 3), np.uint8))[..., None], 0, 1)
    warped = warped + rim * 0.35 * (255 - warped)
    return scene * (1 - a) + warped * a


# --------------------------------------------------------------------------------------------
# Desk and things on it
# --------------------------------------------------------------------------------------------


def _smooth_noise(shape: tuple[int, int], scale: float, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-std noise with features about ``scale`` px large."""
    h, w = shape
    sh, sw = max(2, int(h / scale) + 2), max(2, int(w / scale) + 2)
    small = rng.normal(0, 1, (sh, sw)).astype(np.float32)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return (big - big.mean()) / (big.std() + 1e-6)


def desk(kind: str, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A desk surface, float32 RGB 0-255."""
    shape = (height, width)
    if kind == "wood":
        # Grain: noise stretched along the planks, rings bent by it, darker plank joints.
        angle = rng.uniform(0, 180)
        big = int(math.hypot(width, height)) + 4
        sh, sw = big // 3 + 2, big // 60 + 2
        grain = cv2.resize(rng.normal(0, 1, (sh, sw)).astype(np.float32), (big, big),
                           interpolation=cv2.INTER_CUBIC)
        xs = np.arange(big, dtype=np.float32)[None, :]
        rings = np.sin(xs / rng.uniform(6, 14) + 3 * grain)
        plank = np.abs(((xs / rng.uniform(150, 260)) % 1.0) - 0.5) > 0.49
        tone = 0.6 * grain + 0.4 * rings - 1.5 * plank
        m = cv2.getRotationMatrix2D((big / 2, big / 2), angle, 1.0)
        tone = cv2.warpAffine(tone, m, (big, big))[
            (big - height) // 2:(big - height) // 2 + height,
            (big - width) // 2:(big - width) // 2 + width]
        base = np.array([rng.uniform(120, 190), rng.uniform(80, 125), rng.uniform(45, 80)],
                        np.float32)
        return np.clip(base * (1 + 0.12 * tone[..., None]), 0, 255).astype(np.float32)
    if kind in ("cloth", "blue_cloth"):
        if kind == "blue_cloth":
            # A medium blue: the card's hue, darker and more saturated than its light ground
            # (a cloth of the card's own light blue is a known limit, see docs/card.md).
            base = np.array([rng.uniform(40, 110), rng.uniform(90, 150),
                             rng.uniform(170, 220)], np.float32)
        else:
            base = rng.uniform(40, 200, 3).astype(np.float32)
        period = rng.uniform(2.5, 5.0)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        weave = np.sin(2 * np.pi * xx / period) * np.sin(2 * np.pi * yy / period)
        folds = _smooth_noise(shape, rng.uniform(80, 200), rng)
        tone = 0.05 * weave + 0.06 * folds + 0.03 * _smooth_noise(shape, 2, rng)
        return np.clip(base * (1 + tone[..., None]), 0, 255).astype(np.float32)
    if kind == "paper":
        base = np.array([rng.uniform(225, 245)] * 3, np.float32) + rng.uniform(-4, 4, 3)
        tone = 0.015 * _smooth_noise(shape, 40, rng) + 0.01 * _smooth_noise(shape, 2, rng)
        return np.clip(base * (1 + tone[..., None]), 0, 255).astype(np.float32)
    if kind in LIGHT_BACKGROUNDS:
        # A scanner lid or a light table: almost flat, white (near clipping) or light grey.
        level = rng.uniform(238, 252) if kind == "white" else rng.uniform(195, 225)
        base = np.float32(level) + rng.uniform(-3, 3, 3).astype(np.float32)
        tone = 0.01 * _smooth_noise(shape, 200, rng) + 0.004 * _smooth_noise(shape, 2, rng)
        return np.clip(base * (1 + tone[..., None]), 0, 255).astype(np.float32)
    if kind == "plain":
        base = rng.uniform(30, 230, 3).astype(np.float32)
        tone = 0.03 * _smooth_noise(shape, 150, rng) + 0.01 * _smooth_noise(shape, 3, rng)
        return np.clip(base * (1 + tone[..., None]), 0, 255).astype(np.float32)
    raise ValueError(f"background must be one of {BACKGROUNDS + LIGHT_BACKGROUNDS}, "
                     f"got {kind!r}")


def _place_things(scene: np.ndarray, shot: Shot, layout: CardLayout, homography: np.ndarray,
                  rng: np.random.Generator, *, before_card: bool) -> np.ndarray:
    """Things on the desk. Under the card (before_card): paper sheets and a same-size white
    card (hard negatives for the quad search). On top, but never over the card: a pen, a phone,
    coins."""
    if shot.scan:
        return scene
    h, w = scene.shape[:2]
    card = _project(homography, BoxMM(0, 0, layout.width_mm, layout.height_mm).corners())
    card_mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(card_mask, np.round(card).astype(np.int32), 1)
    ppm = math.sqrt(cv2.contourArea(card.astype(np.float32)) / (layout.width_mm *
                                                                  layout.height_mm))
    out = scene.copy()
    kinds_under, kinds_over = ("paper",), ("pen", "phone", "coin")
    draws = rng.uniform(size=(max(shot.distractors, 0), 6))
    for i in range(shot.distractors):
        r = draws[i]
        under = r[0] < 0.4
        if under != before_card:
            continue
        kind = kinds_under[0] if under else kinds_over[int(r[1] * 3) % 3]
        out = _thing(out, kind, ppm, card_mask, r, rng)
    if before_card and shot.business_card:
        out = _thing(out, "white_card", ppm, card_mask, rng.uniform(size=6), rng)
    return out


def _thing(scene: np.ndarray, kind: str, ppm: float, card_mask: np.ndarray, r: np.ndarray,
           rng: np.random.Generator) -> np.ndarray:
    h, w = scene.shape[:2]
    cx, cy = r[2] * w, r[3] * h
    angle = r[4] * 180
    mask = np.zeros((h, w), np.uint8)
    if kind == "paper":
        size = (rng.uniform(100, 210) * ppm, rng.uniform(70, 150) * ppm)
        colour = np.array([rng.uniform(215, 250)] * 3, np.float32) - [0, 0, rng.uniform(0, 15)]
        box = cv2.boxPoints(((cx, cy), size, angle))
        cv2.fillConvexPoly(mask, np.round(box * 4).astype(np.int32), 255, cv2.LINE_AA, 2)
        # Printed lines on the sheet.
        texture = np.full((h, w, 3), colour, np.float32)
        lines = np.zeros((h, w), np.uint8)
        a = math.radians(angle)
        d, n = np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])
        # Lines of "text": dashes of word length, 2 mm high, 5 mm apart.
        for k in np.arange(-size[1] / 2 + 20 * ppm, size[1] / 2 - 20 * ppm, 5 * ppm):
            along = -0.4 * size[0]
            end = along + rng.uniform(0.5, 0.8) * size[0]
            while along < end:
                word = rng.uniform(4, 18) * ppm
                p0 = np.array([cx, cy]) + n * k + d * along
                p1 = p0 + d * min(word, end - along)
                cv2.line(lines, tuple(np.round(p0).astype(int)), tuple(np.round(p1).astype(int)),
                         255, max(1, int(round(2 * ppm))), cv2.LINE_AA)
                along += word + 2.5 * ppm
        texture *= 1 - 0.55 * (lines.astype(np.float32) / 255)[..., None]
        return _blend(scene, texture, mask)
    if kind == "white_card":
        size = (85.6 * ppm * rng.uniform(0.9, 1.1), 54.0 * ppm * rng.uniform(0.9, 1.1))
        colour = np.array(rng.choice([[245, 245, 242], [235, 230, 215], [250, 250, 250]]),
                          np.float32)
        box = cv2.boxPoints(((cx, cy), size, angle))
        cv2.fillConvexPoly(mask, np.round(box * 4).astype(np.int32), 255, cv2.LINE_AA, 2)
        texture = np.full((h, w, 3), colour, np.float32)
        return _blend(scene, texture, mask)
    if kind == "pen":
        length, width = rng.uniform(110, 150) * ppm, rng.uniform(7, 10) * ppm
        colour = np.array(rng.choice([[20, 30, 120], [15, 15, 15], [160, 20, 20], [230, 230, 230]]),
                          np.float32)
        a = math.radians(angle)
        d = np.array([math.cos(a), math.sin(a)]) * length / 2
        p0, p1 = np.array([cx, cy]) - d, np.array([cx, cy]) + d
        cv2.line(mask, tuple(np.round(p0).astype(int)), tuple(np.round(p1).astype(int)), 255,
                 max(2, int(width)), cv2.LINE_AA)
        highlight = np.zeros((h, w), np.uint8)
        cv2.line(highlight, tuple(np.round(p0).astype(int)), tuple(np.round(p1).astype(int)), 255,
                 max(1, int(width / 5)), cv2.LINE_AA)
        texture = np.full((h, w, 3), colour, np.float32)
        texture += (highlight.astype(np.float32) / 255 * 0.5)[..., None] * (255 - texture)
    elif kind == "phone":
        size = (rng.uniform(140, 160) * ppm, rng.uniform(68, 76) * ppm)
        box = cv2.boxPoints(((cx, cy), size, angle))
        cv2.fillConvexPoly(mask, np.round(box * 4).astype(np.int32), 255, cv2.LINE_AA, 2)
        texture = np.full((h, w, 3), rng.uniform(10, 40), np.float32)
    else:  # coin
        radius = rng.uniform(10, 14) * ppm
        cv2.circle(mask, (int(cx), int(cy)), int(radius), 255, -1, cv2.LINE_AA)
        # Metal: a smooth sheen across the disc, a faint relief.
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        sheen = ((xx - cx) + (yy - cy)) / (2 * radius)
        tone = 0.25 * sheen + 0.04 * _smooth_noise((h, w), 1.5 * ppm, rng)
        texture = np.array([rng.uniform(170, 210), rng.uniform(150, 180), rng.uniform(90, 130)],
                           np.float32) * (1 + tone[..., None])
    # Things on top never cover the card: the card is the subject of the photo.
    mask[card_mask > 0] = 0
    shadow = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), 2 + 0.5 * ppm)
    scene = scene * (1 - 0.35 * np.roll(shadow, (int(ppm), int(ppm)), (0, 1))[..., None])
    return _blend(scene, texture, mask)


def _blend(scene: np.ndarray, texture: np.ndarray, mask: np.ndarray) -> np.ndarray:
    a = (mask.astype(np.float32) / 255.0)[..., None]
    return scene * (1 - a) + texture * a


def _light(scene: np.ndarray, shot: Shot, rng: np.random.Generator) -> np.ndarray:
    """Cast shadow, lighting gradient and colour cast over the whole frame."""
    h, w = scene.shape[:2]
    out = scene
    if shot.shadow > 0:
        # A soft-edged shadow of something between the light and the desk (a hand, a phone):
        # a big blob entering from one side of the frame.
        mask = np.zeros((h, w), np.uint8)
        side = int(rng.integers(4))
        cx = [rng.uniform(0, w), w, rng.uniform(0, w), 0][side]
        cy = [0, rng.uniform(0, h), h, rng.uniform(0, h)][side]
        axes = (int(rng.uniform(0.25, 0.6) * w), int(rng.uniform(0.2, 0.5) * h))
        cv2.ellipse(mask, (int(cx), int(cy)), axes, rng.uniform(0, 180), 0, 360, 255, -1)
        soft = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), rng.uniform(0.01, 0.05)
                                * max(w, h))
        out = out * (1 - shot.shadow * soft[..., None])
    if shot.light_gradient > 0:
        a = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ramp = ((xx / w - 0.5) * math.cos(a) + (yy / h - 0.5) * math.sin(a))
        out = out * (1 + shot.light_gradient * ramp)[..., None]
    if shot.colour_cast > 0:
        warm = rng.uniform(-1, 1) * shot.colour_cast
        gains = np.array([1 + 0.08 * warm, 1.0, 1 - 0.08 * warm], np.float32)
        out = out * gains
    return out


def desk_photo(seed: int, **shot_overrides) -> np.ndarray:
    """A desk with things on it and no KTP card (a hard negative): paper sheets, a white card
    of ID-1 size, a pen, a phone, coins, with the same lighting and camera as
    :func:`card_photo`. Returns the RGB image."""
    rng = np.random.default_rng(seed)
    shot = random_shot(rng, **{"distractors": 4, "business_card": True, **shot_overrides})
    layout = default_config().layout
    rng = np.random.default_rng([seed, 2])
    homography = _card_homography(shot, layout, rng)
    scene = desk(shot.background, shot.width, shot.height, rng)
    scene = _place_things(scene, shot, layout, homography, rng, before_card=True)
    scene = _place_things(scene, shot, layout, homography, rng, before_card=False)
    scene = _light(scene, shot, rng)
    if shot.blur_px > 0:
        scene = cv2.GaussianBlur(scene, (0, 0), shot.blur_px)
    rgb = np.clip(np.rint(scene), 0, 255).astype(np.uint8)
    rgb = degrade.add_noise(rgb, shot.noise, rng=rng, monochrome=True)
    return degrade.jpeg(rgb, shot.jpeg_quality) if shot.jpeg_quality is not None else rgb
