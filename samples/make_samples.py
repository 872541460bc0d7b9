"""Regenerate the redistributable sample images in this folder.

Run by hand from the repository root (the images are committed; nothing runs this in CI):

    pip install scikit-image        # generation only: not a runtime or test dependency
    python samples/make_samples.py

Sources (all public domain, shipped inside packages, so nothing personal is ever used):

* ``skimage.data.astronaut()``: Eileen Collins, NASA portrait (public domain).
* ``matplotlib.cbook.get_sample_data("grace_hopper.jpg")``: Rear Admiral Grace Hopper,
  US Navy photograph (public domain).
* ``skimage.data.coffee()``: a cup of coffee, by Rachel Michetti (CC0, no copyright
  restrictions), and ``skimage.data.rocket()``: a Falcon 9 launch, by SpaceX (released into the
  public domain), for the no-face cases.

Each portrait's face box is found with photocheck's own detector, the portrait is framed like a KTP
photo with :func:`photocheck.evaluation.synth.degrade.normalise_portrait` (3:4, face box 50 % of the
width, eyes 40 % from the top) and degraded with the functions of
:mod:`photocheck.evaluation.synth.degrade`, following the labelled cases of LABELS.md. The expected
outcome of every file is written to ``expected.csv`` from the table below.

Deterministic: fixed seeds, fixed JPEG settings (quality 90, 4:2:0, no optimisation) and no
timestamps, so running it twice gives byte-identical files (``--check`` verifies that the
files on disk are what this script would write).

``capture/`` holds the samples of the capture profile (a new photo taken at the office): the
portraits are cut out with photocheck's person segmentation (``FaceFinder.person_mask``), put
on a plain KTP red or blue backdrop and given one defect each; ``capture/expected.csv`` lists
the birth year given with each and the exact outcome (``--capture-table`` prints the table of
``capture/README.md``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from photocheck.evaluation.synth import degrade
from photocheck.evaluation.synth.degrade import close_eyes
from photocheck.detect import FaceFinder

HERE = Path(__file__).resolve().parent
SEED = 20260101
JPEG_QUALITY = 90
JPEG_PARAMS = dict(quality=JPEG_QUALITY, subsampling=2, optimize=False, progressive=False)
KTP_RED = (200, 30, 30)
FACE_WIDTH = 160
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")

LICENCES = {
    "astronaut": "Eileen Collins, NASA; public domain (scikit-image `data.astronaut`)",
    "grace_hopper": "Grace Hopper, US Navy; public domain (matplotlib `grace_hopper.jpg`)",
    "coffee": "Rachel Michetti; CC0, no copyright restrictions (scikit-image `data.coffee`)",
    "rocket": "SpaceX; released into the public domain (scikit-image `data.rocket`)",
    "generated": "generated (flat colour); no copyright",
}


@dataclass(frozen=True)
class Sample:
    file: str
    decision: str  # eligible / not_eligible / review / error
    reasons: str  # ';'-separated reasons that must all be present; 'a|b' = a or b
    error: str = ""  # expected error code, for decision == error
    # What photocheck gets today where it falls short of LABELS.md (the test expects it to fail).
    known_gap: str = ""
    how: str = ""
    source: str = ""


# --------------------------------------------------------------------------------------------
# sources


def load_sources() -> dict[str, np.ndarray]:
    import matplotlib.cbook as cbook
    from skimage import data  # generation-only dependency

    with cbook.get_sample_data("grace_hopper.jpg") as f, Image.open(f) as im:
        hopper = np.array(im.convert("RGB"), dtype=np.uint8)
    return {
        "astronaut": np.ascontiguousarray(data.astronaut()[:, :, :3], dtype=np.uint8),
        "grace_hopper": hopper,
        "coffee": np.ascontiguousarray(data.coffee()[:, :, :3], dtype=np.uint8),
        "rocket": np.ascontiguousarray(data.rocket()[:, :, :3], dtype=np.uint8),
    }


@dataclass(frozen=True)
class FaceGeometry:
    box: tuple[float, float, float, float]  # detector box (x, y, w, h), px
    eye_y: float  # mean y of the two eye keypoints, px
    eye_x: tuple[float, float]  # x of the subject's right and left eye keypoints, px


def find_face(finder: FaceFinder, rgb: np.ndarray, what: str) -> FaceGeometry:
    faces = finder.detect(rgb)
    if not faces:
        raise SystemExit(f"no face detected in {what}")
    face = faces[0]
    (rx, ry), (lx, ly) = face.keypoints[0], face.keypoints[1]
    return FaceGeometry(face.box, float(ry + ly) / 2.0, (float(rx), float(lx)))


# --------------------------------------------------------------------------------------------
# encoding (deterministic: no timestamps, fixed settings)


def encode_jpeg(rgb_or_grey: np.ndarray, *, exif: bytes | None = None) -> bytes:
    mode = "L" if rgb_or_grey.ndim == 2 else "RGB"
    img = Image.fromarray(np.ascontiguousarray(rgb_or_grey), mode)
    buf = io.BytesIO()
    params = dict(JPEG_PARAMS)
    if exif is not None:
        params["exif"] = exif
    img.save(buf, format="JPEG", **params)
    return buf.getvalue()


def encode_png(rgba: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(
        buf, format="PNG", optimize=False, compress_level=9
    )
    return buf.getvalue()


def rotated_with_exif(rgb: np.ndarray) -> bytes:
    """Store the pixels turned 90 deg clockwise, tagged so that viewers turn them back upright."""
    stored = np.ascontiguousarray(np.rot90(rgb, k=-1))  # k=-1: clockwise
    exif = Image.Exif()
    exif[0x0112] = 8  # Orientation 8: display = stored rotated 90 deg counter-clockwise
    data = encode_jpeg(stored, exif=exif.tobytes())
    with Image.open(io.BytesIO(data)) as im:  # self-check: the tag makes it upright again
        upright = np.asarray(ImageOps.exif_transpose(im).convert("RGB"), dtype=np.float64)
    assert upright.shape == rgb.shape, (upright.shape, rgb.shape)
    assert np.abs(upright - rgb).mean() < 3.0, "EXIF orientation does not restore the portrait"
    return data


def alpha_cutout(rgb: np.ndarray, box) -> np.ndarray:
    """RGBA: opaque ellipse around the head and neck, soft edge, transparent background."""
    h, w = rgb.shape[:2]
    x, y, bw, bh = box
    cx, cy = x + bw / 2.0, y + bh * 0.6
    rx, ry = bw * 0.8, bh * 1.2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    d = np.hypot((xx - cx) / rx, (yy - cy) / ry)
    alpha = np.clip((1.0 - d) / 0.08, 0.0, 1.0)  # soft, anti-aliased edge
    a = np.rint(alpha * 255).astype(np.uint8)
    colour = rgb.copy()
    colour[a == 0] = 255  # hidden pixels carry no data: smaller file, nothing to leak
    return np.dstack([colour, a])


def crop_to_portrait(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Centre-crop to ``width:height`` and resize (for the no-face photo)."""
    import cv2

    h, w = rgb.shape[:2]
    if w * height > h * width:
        cw, ch = int(round(h * width / height)), h
    else:
        cw, ch = w, int(round(w * height / width))
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    return cv2.resize(rgb[y0 : y0 + ch, x0 : x0 + cw], (width, height),
                      interpolation=cv2.INTER_AREA)


# --------------------------------------------------------------------------------------------
# the samples


def build(finder: FaceFinder) -> tuple[dict[str, bytes], list[Sample]]:
    src = load_sources()
    geo = {name: find_face(finder, src[name], name) for name in ("astronaut", "grace_hopper")}
    files: dict[str, bytes] = {}
    table: list[Sample] = []

    def add(name: str, data: bytes, sample: Sample) -> None:
        assert name == sample.file and name not in files
        files[name] = data
        table.append(sample)

    def portrait(name: str, face_width: float = FACE_WIDTH):
        # Eyes at 40 % of the height (LABELS.md): give the detector's eye keypoints, since the
        # BlazeFace box puts the eyes nearer 25 % of its height than the default 40 %.
        g = geo[name]
        return degrade.normalise_portrait(src[name], g.box, face_width=face_width, eye_y=g.eye_y)

    A, G = "astronaut", "grace_hopper"
    a160, abox = portrait(A)
    g160, gbox = portrait(G)
    fw = FACE_WIDTH

    # -- clear ------------------------------------------------------------------------------
    for name, rgb in ((A, a160), (G, g160)):
        add(f"{name}_clear.jpg", encode_jpeg(rgb), Sample(
            f"{name}_clear.jpg", "not_eligible", "clear_photo",
            how=f"KTP-framed portrait, face box {fw} px, no degradation", source=name))
    a110, _ = portrait(A, 110)
    add("astronaut_clear_w110.jpg", encode_jpeg(a110), Sample(
        "astronaut_clear_w110.jpg", "not_eligible", "clear_photo",
        how="KTP-framed portrait with a small face (box 110 px), no degradation", source=A))
    noisy = degrade.add_noise(a160, 8.0, rng=np.random.default_rng(SEED))
    add("astronaut_noise_sigma8.jpg", encode_jpeg(noisy), Sample(
        "astronaut_noise_sigma8.jpg", "not_eligible", "clear_photo",
        how=f"clear {fw} px portrait + Gaussian sensor noise sigma 8 (seed {SEED}); "
            "noise is not blur", source=A))

    # -- blurry -----------------------------------------------------------------------------
    add("astronaut_blur_gaussian.jpg",
        encode_jpeg(degrade.gaussian_blur(a160, 3.5, face_width=fw)), Sample(
            "astronaut_blur_gaussian.jpg", "eligible", "blurry",
            how=f"clear {fw} px portrait, Gaussian blur sigma 3.5 (canonical units)", source=A))
    g220, g220box = portrait(G, 220)
    add("grace_hopper_blur_gaussian_w220.jpg",
        encode_jpeg(degrade.gaussian_blur(g220, 3.5, face_width=g220box[2])), Sample(
            "grace_hopper_blur_gaussian_w220.jpg", "eligible", "blurry",
            how="KTP-framed portrait with a large face (box 220 px), Gaussian blur sigma 3.5 "
                "(canonical units: 4.8 px)", source=G))
    add("grace_hopper_blur_motion.jpg",
        encode_jpeg(degrade.motion_blur(g160, 12.0, 0.0, face_width=fw)), Sample(
            "grace_hopper_blur_motion.jpg", "eligible", "blurry",
            known_gap="review (blurry): axis-aligned motion blur leaves the horizontal edges "
                      "sharp, and the blurrier orientation reaches only the review band",
            how=f"clear {fw} px portrait, horizontal linear motion blur length 12", source=G))

    # -- face not clearly visible -----------------------------------------------------------
    add("grace_hopper_dark.jpg",
        encode_jpeg(degrade.exposure(g160, gain=0.18, gamma=1.4)), Sample(
            "grace_hopper_dark.jpg", "eligible", "underexposed",
            how=f"clear {fw} px portrait, very dark: gain 0.18, gamma 1.4", source=G))
    add("astronaut_overexposed.jpg",
        encode_jpeg(degrade.overexpose(a160, abox, 0.97)), Sample(
            "astronaut_overexposed.jpg", "eligible", "overexposed|no_face",
            how=f"clear {fw} px portrait, over-exposed until 97 % of the face box is >= 245",
            source=A))
    add("grace_hopper_faded.jpg",
        encode_jpeg(degrade.fade(g160, 0.15, yellow=0.5)), Sample(
            "grace_hopper_faded.jpg", "eligible", "low_contrast",
            how=f"clear {fw} px portrait, contrast 15 % and yellowed (yellow 0.5): faded card",
            source=G))
    # A band as wide as the face box and 25 % of its height, from the brows to below the lower
    # lids, centred on the eye keypoints found on the normalised portrait itself.
    x, _, w, h = abox
    eye_y = find_face(finder, a160, "astronaut portrait").eye_y
    eyes = (x, eye_y - 0.14 * h, w, 0.25 * h)
    add("astronaut_eyes_covered.jpg",
        encode_jpeg(degrade.occlude_patch(a160, eyes)), Sample(
            "astronaut_eyes_covered.jpg", "eligible", "face_occluded",
            how=f"clear {fw} px portrait, flat silver-grey patch (185, 185, 190) over both eyes "
                "(peeled laminate): face-box x to x+w, from 0.14h above to 0.11h below the eye "
                "keypoints", source=A))
    cut = degrade.cut_off(g160, gbox, 0.55, "left", keep_aspect=True)
    assert isinstance(cut, np.ndarray)
    add("grace_hopper_cut_off.jpg", encode_jpeg(cut), Sample(
        "grace_hopper_cut_off.jpg", "eligible", "face_cut_off|no_face",
        how=f"clear {fw} px portrait cropped so that 55 % of the face box is outside the left "
            f"edge (aspect kept, {cut.shape[1]}x{cut.shape[0]} px)", source=G))

    # -- no face ----------------------------------------------------------------------------
    w_out, h_out = a160.shape[1], a160.shape[0]
    add("noface_coffee.jpg", encode_jpeg(crop_to_portrait(src["coffee"], w_out, h_out)), Sample(
        "noface_coffee.jpg", "eligible", "no_face",
        how=f"photo of a coffee cup, centre-cropped to 3:4, {w_out}x{h_out} px", source="coffee"))
    add("noface_rocket.jpg", encode_jpeg(crop_to_portrait(src["rocket"], w_out, h_out)), Sample(
        "noface_rocket.jpg", "eligible", "no_face",
        how=f"photo of a rocket launch, centre-cropped to 3:4, {w_out}x{h_out} px",
        source="rocket"))
    add("noface_ktp_red.jpg", encode_jpeg(degrade.solid(w_out, h_out, KTP_RED)), Sample(
        "noface_ktp_red.jpg", "eligible", "no_face",
        how=f"flat KTP red background {KTP_RED}, {w_out}x{h_out} px (empty photo area)",
        source="generated"))

    # -- loader cases -----------------------------------------------------------------------
    add("grace_hopper_clear_rotated.jpg", rotated_with_exif(g160), Sample(
        "grace_hopper_clear_rotated.jpg", "not_eligible", "clear_photo",
        how="grace_hopper_clear pixels stored turned 90 deg clockwise, with EXIF Orientation 8 "
            "so that it displays (and must be judged) upright", source=G))
    add("astronaut_clear_alpha.png", encode_png(alpha_cutout(a110, portrait(A, 110)[1])), Sample(
        "astronaut_clear_alpha.png", "not_eligible", "clear_photo",
        how="astronaut_clear_w110 as RGBA PNG: opaque ellipse around head and neck, soft edge, "
            "transparent background (composited over white by the loader)", source=A))
    grey = np.asarray(Image.fromarray(g160, "RGB").convert("L"), dtype=np.uint8)
    add("grace_hopper_clear_gray.jpg", encode_jpeg(grey), Sample(
        "grace_hopper_clear_gray.jpg", "not_eligible", "clear_photo",
        how="grace_hopper_clear converted to one-channel greyscale (Pillow 'L') JPEG",
        source=G))
    full = files["astronaut_clear.jpg"]
    # In a subfolder so that `photocheck check samples/` (not recursive) judges every input and
    # exits 0, while `photocheck check samples/bad/` shows a bad input's error row (exit 1).
    add("bad/broken.jpg", full[: int(len(full) * 0.4)], Sample(
        "bad/broken.jpg", "error", "", error="truncated",
        how="first 40 % of the bytes of astronaut_clear.jpg (download cut short)", source=A))

    return files, table


# --------------------------------------------------------------------------------------------
# capture samples (samples/capture/): a new photo taken at the office, judged with
# `--profile capture`. Each failing sample is a good passport-style photo with one defect.

KTP_BLUE = (30, 90, 200)
BACKDROP_GREY = (150, 150, 150)
CAPTURE_FACE_WIDTH = 240  # eye distance about 110 px: above ICAO's 90 px
CAPTURE_DIR = "capture"


@dataclass(frozen=True)
class CaptureSample:
    file: str
    birth_year: str  # '' = not given
    decision: str  # accepted / rejected / review
    reasons: str  # ';'-separated: exactly these reasons (in any order)
    # What photocheck gets today where it falls short (the test expects it to fail).
    known_gap: str = ""
    how: str = ""
    source: str = ""


def on_backdrop(rgb: np.ndarray, person: np.ndarray, colour) -> np.ndarray:
    """The person of ``rgb`` on a plain backdrop: ``person`` (HxW 0-1, the segmentation
    probability) is the alpha, so hair and hijab edges blend softly."""
    alpha = np.clip(person, 0.0, 1.0)[..., None].astype(np.float32)
    backdrop = np.empty_like(rgb, dtype=np.float32)
    backdrop[:] = np.asarray(colour, np.float32)
    return np.rint(alpha * rgb.astype(np.float32) + (1 - alpha) * backdrop).astype(np.uint8)


def capture_portrait(rgb: np.ndarray, person: np.ndarray, geo: FaceGeometry, colour, *,
                     face_width: float = CAPTURE_FACE_WIDTH, face_fraction: float = 0.5):
    """A passport-style photo: the person on ``colour``, framed like a KTP photo (3:4)."""
    composite = on_backdrop(rgb, person, colour)
    return degrade.normalise_portrait(composite, geo.box, face_width=face_width,
                                      face_fraction=face_fraction, eye_y=geo.eye_y)


def rolled(rgb: np.ndarray, box, degrees: float, colour) -> np.ndarray:
    """The photo turned ``degrees`` counter-clockwise about the face centre (head tilt)."""
    import cv2

    x, y, w, h = box
    matrix = cv2.getRotationMatrix2D((x + w / 2, y + h / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, matrix, (rgb.shape[1], rgb.shape[0]), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=tuple(map(int, colour)))


def side_light(rgb: np.ndarray, person: np.ndarray, box, bright: float, dark: float
               ) -> np.ndarray:
    """Directional light on the person only (the backdrop is lit on its own): brightness falls
    linearly from ``bright`` at the left edge of the face box to ``dark`` at its right edge."""
    x, _, w, _ = box
    columns = np.arange(rgb.shape[1], dtype=np.float32)
    gain = np.clip(bright + (dark - bright) * (columns - x) / w, min(bright, dark),
                   max(bright, dark))
    gain = 1 + (gain[None, :] - 1) * np.clip(person, 0, 1)
    return np.clip(rgb.astype(np.float32) * gain[..., None], 0, 255).round().astype(np.uint8)


def brim_shadow(rgb: np.ndarray, person: np.ndarray, landmarks: np.ndarray, gain: float
                ) -> np.ndarray:
    """A hard-edged shadow band, as a cap's brim casts, on the person from above the forehead
    down to the brows."""
    import cv2

    top = landmarks[10, 1] - 10
    brows = landmarks[[70, 63, 105, 66, 107, 336, 296, 334, 293, 300], 1].max()
    band = np.zeros(rgb.shape[:2], np.float32)
    band[int(top):int(round(brows)), :] = 1.0
    band = cv2.GaussianBlur(band, (0, 0), 1.5) * np.clip(person, 0, 1)
    gains = 1 - (1 - gain) * band
    return np.clip(rgb.astype(np.float32) * gains[..., None], 0, 255).round().astype(np.uint8)


def cluttered(rgb: np.ndarray, person: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Objects behind the person (shelves, a poster): rectangles of other blues and whites on
    the backdrop, drawn only where the backdrop shows."""
    import cv2

    layer = rgb.copy()
    height, width = rgb.shape[:2]
    for _ in range(14):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(20, 90)), y0 + int(rng.integers(10, 60))
        colour = [(235, 235, 240), (20, 40, 110), (90, 150, 230), (60, 60, 70)][_ % 4]
        cv2.rectangle(layer, (x0, y0), (x1, y1), colour, -1)
    alpha = np.clip(person, 0, 1)[..., None]
    return np.rint(alpha * rgb + (1 - alpha) * layer).astype(np.uint8)


def mouth_patch(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """A flat pale patch (a card or paper held up) over the lips."""
    from photocheck.context import LIPS

    lips = landmarks[list(LIPS), :2]
    (x0, y0), (x1, y1) = lips.min(axis=0), lips.max(axis=0)
    pad_x, pad_y = 0.15 * (x1 - x0), 0.35 * (y1 - y0)
    return degrade.occlude_patch(rgb, (x0 - pad_x, y0 - pad_y, x1 - x0 + 2 * pad_x,
                                       y1 - y0 + 2 * pad_y), colour=(225, 228, 232))


def build_capture(finder: FaceFinder) -> tuple[dict[str, bytes], list[CaptureSample]]:
    """The capture samples: a good photo on blue and on red, then one defect each."""
    src = load_sources()
    files: dict[str, bytes] = {}
    table: list[CaptureSample] = []

    def add(name: str, rgb: np.ndarray | None, sample: CaptureSample) -> None:
        path = f"{CAPTURE_DIR}/{name}"
        if rgb is not None:
            assert path not in files
            files[path] = encode_jpeg(rgb)
        table.append(sample)

    def landmarks_of(rgb: np.ndarray) -> np.ndarray:
        faces = finder.detect(rgb)
        assert faces and faces[0].landmarks is not None
        return faces[0].landmarks

    G, A = "grace_hopper", "astronaut"
    person = {name: finder.person_mask(src[name]) for name in (G, A)}
    geo = {name: find_face(finder, src[name], name) for name in (G, A)}

    blue, box = capture_portrait(src[G], person[G], geo[G], KTP_BLUE)
    red, _ = capture_portrait(src[G], person[G], geo[G], KTP_RED)
    blue_person = finder.person_mask(blue)
    blue_marks = landmarks_of(blue)
    fw = CAPTURE_FACE_WIDTH
    made = (f"Grace Hopper cut out with the person segmentation and put on a plain "
            f"{{colour}} backdrop, framed 3:4 with the face box {fw} px (50 % of the width)")

    # -- good photos ------------------------------------------------------------------------
    add("grace_hopper_blue.jpg", blue, CaptureSample(
        "grace_hopper_blue.jpg", "1990", "accepted", "meets_capture_standard",
        how=made.format(colour=f"KTP blue {KTP_BLUE}") + "; birth year 1990 (even)", source=G))
    add("grace_hopper_red.jpg", red, CaptureSample(
        "grace_hopper_red.jpg", "1991", "accepted", "meets_capture_standard",
        how=made.format(colour=f"KTP red {KTP_RED}") + "; birth year 1991 (odd)", source=G))
    astro, _ = capture_portrait(src[A], person[A], geo[A], KTP_BLUE)
    add("astronaut_blue.jpg", astro, CaptureSample(
        "astronaut_blue.jpg", "1990", "accepted", "meets_capture_standard",
        how="Eileen Collins on a plain KTP blue backdrop, as grace_hopper_blue", source=A))

    # -- the colour rule --------------------------------------------------------------------
    add("grace_hopper_red.jpg", None, CaptureSample(
        "grace_hopper_red.jpg", "1990", "rejected", "background_colour_mismatch",
        how="grace_hopper_red with birth year 1990: even, so blue is asked for", source=G))
    add("grace_hopper_blue.jpg", None, CaptureSample(
        "grace_hopper_blue.jpg", "", "review", "birth_year_missing",
        how="grace_hopper_blue without a birth year: red or blue cannot be confirmed",
        source=G))
    grey, _ = capture_portrait(src[G], person[G], geo[G], BACKDROP_GREY)
    add("grace_hopper_grey.jpg", grey, CaptureSample(
        "grace_hopper_grey.jpg", "1990", "rejected", "background_colour_mismatch",
        how=made.format(colour=f"grey {BACKDROP_GREY}") + ": neither red nor blue", source=G))

    # -- one defect each, on the blue photo (birth year 1990) -------------------------------
    def defect(name: str, rgb: np.ndarray, reasons: str, how: str, source: str = G) -> None:
        add(name, rgb, CaptureSample(name, "1990", "rejected", reasons, how=how,
                                     source=source))

    defect("grace_hopper_cluttered.jpg",
           cluttered(blue, blue_person, np.random.default_rng(SEED)), "background_not_uniform",
           "grace_hopper_blue with 14 rectangles of other blues, white and grey behind the "
           f"person (objects on the backdrop; seed {SEED})")
    defect("grace_hopper_rolled.jpg", rolled(blue, box, 15.0, KTP_BLUE), "not_frontal",
           "grace_hopper_blue turned 15 deg about the face centre (head tilted: roll)")
    astro_marks = landmarks_of(astro)
    closing = ("each upper lid slid down until its lash line rests on the lower lid (the lid "
               "margin and lashes moved down whole, the skin up to the brow stretched after "
               "them; nothing of the eye opening left)")
    add("astronaut_eyes_closed.jpg", close_eyes(astro, astro_marks), CaptureSample(
        "astronaut_eyes_closed.jpg", "1990", "rejected", "eyes_closed",
        known_gap="rejected for eyes_closed and also not_frontal: with the eyes shut the Face "
                  "Mesh reads the head as nodded down (pitch -5.9 deg open, -10.8 shut; "
                  "limit 10), the head itself is as in astronaut_blue",
        how=f"astronaut_blue with both eyes closed: {closing}", source=A))
    defect("astronaut_right_eye_closed.jpg", close_eyes(astro, astro_marks, ("right",)),
           "eyes_closed", "astronaut_blue with the subject's right eye closed as in "
           "astronaut_eyes_closed, the left open (the rule reads the more closed eye)",
           source=A)
    defect("grace_hopper_mouth_covered.jpg", mouth_patch(blue, blue_marks), "mouth_covered",
           "grace_hopper_blue with a flat pale patch (225, 228, 232) over the lips, 15 % wider "
           "and 35 % taller each side (a card held up)")
    defect("grace_hopper_side_light.jpg", side_light(blue, blue_person, box, 1.3, 0.45),
           "uneven_lighting",
           "grace_hopper_blue lit from the left: on the person only, brightness falls from "
           "x1.3 at the face box's left edge to x0.45 at its right edge")
    defect("grace_hopper_brim_shadow.jpg", brim_shadow(blue, blue_person, blue_marks, 0.4),
           "strong_shadow",
           "grace_hopper_blue with a hard-edged shadow (x0.4) on the person from above the "
           "forehead down to the brows, as a cap's brim casts")
    defect("grace_hopper_blurry.jpg", degrade.gaussian_blur(blue, 2.6, face_width=fw),
           "blurry", "grace_hopper_blue, Gaussian blur sigma 2.6 (canonical units)")
    import cv2

    small = np.empty_like(blue)
    small[:] = KTP_BLUE
    shrunk = cv2.resize(blue, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
    left = (blue.shape[1] - shrunk.shape[1]) // 2
    small[-shrunk.shape[0]:, left:left + shrunk.shape[1]] = shrunk
    defect("grace_hopper_small_face.jpg", small, "face_too_small",
           "grace_hopper_blue shrunk to 40 % and set at the bottom of a KTP blue frame of the "
           f"same size: face box {0.4 * fw:.0f} px, 20 % of the width (taken from too far)")
    cut = degrade.cut_off(blue, box, 0.1, "left", keep_aspect=True)
    assert isinstance(cut, np.ndarray)
    defect("grace_hopper_cut_off.jpg", cut, "face_cut_off",
           "grace_hopper_blue cropped so that 10 % of the face box is outside the left edge "
           f"(aspect kept, {cut.shape[1]}x{cut.shape[0]} px)")
    defect("grace_hopper_dark.jpg", degrade.exposure(blue, gain=0.38), "underexposed",
           "grace_hopper_blue, whole photo darkened: gain 0.38")
    defect("grace_hopper_bright.jpg", degrade.overexpose(blue, box, 0.01), "overexposed",
           "grace_hopper_blue over-exposed until 1 % of the face box is >= 245 (about 8 % of "
           "the face oval)")
    weight = np.clip(blue_person, 0, 1)[..., None]
    faded = degrade.fade(blue, 0.3)
    defect("grace_hopper_flat_light.jpg",
           np.rint(weight * faded + (1 - weight) * blue).astype(np.uint8), "low_contrast",
           "grace_hopper_blue with the person's contrast cut to 30 % (flat, hazy light; the "
           "backdrop untouched)")
    x, _, w, h = box
    eye_y = float(blue_marks[[33, 263], 1].mean())
    cheek = (x + 0.1 * w, eye_y + 0.1 * h, 0.36 * w, 0.4 * h)
    defect("grace_hopper_cheek_covered.jpg", degrade.occlude_patch(blue, cheek),
           "face_occluded",
           "grace_hopper_blue with a flat silver-grey patch (185, 185, 190) over the right "
           "cheek: 36 % x 40 % of the face box, below the eye")
    pair = np.empty((blue.shape[0], 800, 3), np.uint8)
    pair[:] = KTP_BLUE
    half = cv2.resize(blue, None, fx=0.9, fy=0.9, interpolation=cv2.INTER_AREA)
    for left in (0, 800 - half.shape[1]):
        pair[-half.shape[0]:, left:left + half.shape[1]] = half
    defect("grace_hopper_two_people.jpg", pair, "multiple_faces",
           "two copies of grace_hopper_blue at 90 % side by side on an 800x640 KTP blue "
           "frame (someone else in the picture)")
    defect("noface_blue.jpg", degrade.solid(blue.shape[1], blue.shape[0], KTP_BLUE), "no_face",
           f"flat KTP blue {KTP_BLUE}, {blue.shape[1]}x{blue.shape[0]} px (nobody in front "
           "of the camera)", source="generated")
    return files, table


def capture_csv(table: list[CaptureSample]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["file", "birth_year", "expected_decision", "expected_reasons", "known_gap"])
    for s in table:
        writer.writerow([s.file, s.birth_year, s.decision, s.reasons, s.known_gap])
    return buf.getvalue().encode()


def capture_markdown(table: list[CaptureSample], sizes: dict[str, int]) -> str:
    """The table of samples/capture/README.md."""
    lines = ["| file | birth year | how it was made | source and licence | expected outcome "
             "| size |", "|---|---|---|---|---|---|"]
    for s in table:
        reasons = ", ".join(f"`{r}`" for r in s.reasons.split(";"))
        if s.known_gap:
            reasons += f" (known gap, gets today: {s.known_gap})"
        size = f"{sizes[f'{CAPTURE_DIR}/{s.file}'] / 1000:.1f} kB"
        lines.append(f"| `{s.file}` | {s.birth_year or '-'} | {s.how} | {LICENCES[s.source]} "
                     f"| `{s.decision}`: {reasons} | {size} |")
    return "\n".join(lines) + "\n"


def expected_csv(table: list[Sample]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["file", "expected_decision", "expected_reasons", "expected_error",
                     "known_gap"])
    for s in table:
        writer.writerow([s.file, s.decision, s.reasons, s.error, s.known_gap])
    return buf.getvalue().encode()


def markdown_table(table: list[Sample], sizes: dict[str, int]) -> str:
    """The table of samples/README.md, so that it can be pasted after a change."""
    lines = ["| file | how it was made | source and licence | expected outcome | size |",
             "|---|---|---|---|---|"]
    for s in table:
        if s.decision == "error":
            outcome = f"`error`, code `{s.error}`"
        else:
            reasons = " and ".join(
                " or ".join(f"`{r}`" for r in item.split("|")) for item in s.reasons.split(";"))
            outcome = f"`{s.decision}`, {reasons}"
        if s.known_gap:
            outcome += f" (known gap, gets today: {s.known_gap})"
        size = f"{sizes[s.file] / 1000:.1f} kB"
        lines.append(f"| `{s.file}` | {s.how} | {LICENCES[s.source]} | {outcome} | {size} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; fail if a file on disk differs from a fresh build")
    parser.add_argument("--table", action="store_true",
                        help="write nothing; print the Markdown table for README.md")
    parser.add_argument("--capture-table", action="store_true",
                        help="write nothing; print the Markdown table for capture/README.md")
    args = parser.parse_args(argv)

    from photocheck.detect import FaceFinderOptions

    finder = FaceFinder.create_from_options(FaceFinderOptions(person_mask=True))
    try:
        files, table = build(finder)
        capture_files, capture_table = build_capture(finder)
    finally:
        finder.close()
    files["expected.csv"] = expected_csv(table)
    files.update(capture_files)
    files[f"{CAPTURE_DIR}/expected.csv"] = capture_csv(capture_table)
    if args.table:
        print(markdown_table(table, {name: len(data) for name, data in files.items()}), end="")
        return 0
    if args.capture_table:
        print(capture_markdown(capture_table, {n: len(d) for n, d in files.items()}), end="")
        return 0
    stale = []
    for name, data in files.items():
        path = args.out / name
        digest = hashlib.sha256(data).hexdigest()[:16]
        if args.check:
            ok = path.is_file() and path.read_bytes() == data
            stale += [] if ok else [name]
            print(f"{'ok ' if ok else 'DIFF'} {name:40s} {len(data):7d} B  {digest}")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            print(f"{name:40s} {len(data):7d} B  {digest}")
        if not name.endswith("expected.csv") and len(data) >= 100_000:
            print(f"warning: {name} is {len(data)} bytes (>= 100 KB)", file=sys.stderr)
    if args.check:
        extra = sorted(name for p in args.out.rglob("*")
                       if p.suffix.lower() in IMAGE_EXTENSIONS
                       and (name := p.relative_to(args.out).as_posix()) not in files)
        for name in extra:
            print(f"EXTRA {name}")
        return 1 if stale or extra else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
