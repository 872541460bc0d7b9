"""Build a labelled evaluation set from a folder of portraits, following ``LABELS.md``.

Every source portrait with a face is framed like a KTP photo
(:func:`photocheck.evaluation.synth.degrade.normalise_portrait`: 3:4, face box 50 % of the width,
eyes 40 % from the top) and degraded with the functions of
:mod:`photocheck.evaluation.synth.degrade`; each output image gets the label that ``LABELS.md``
gives its degradation. Images without a face become ``eligible`` (``face_not_visible``) as they are,
and two flat KTP backgrounds (red and blue) are added.

Face widths and JPEG qualities
------------------------------
LABELS asks for the same verdict whatever the face box width W (110-220 px) and the JPEG
quality (70-95). To cover that without tripling the set, the **clean** portrait is written at
*every* W in ``face_widths`` (each with a random quality from ``qualities``), while **each
degradation** is written once, at one W and one quality drawn at random per source image and
case. The strong-artefact case (``jpeg_artefacts``) is saved at its own quality 10-25 instead.

Determinism
-----------
Each source image gets its own ``numpy.random.Generator`` seeded from
``sha256(f"{seed}:{file name}")``, draws happen in a fixed order, and JPEGs are written with
fixed settings (4:2:0, no optimisation, not progressive, no metadata), so rebuilding with the
same seed gives byte-identical images and ``labels.csv``. ``build.json`` records the seed, the
photocheck version, the parameters and the counts (no timestamps).

Output
------
``out/images/<stem>__<case>.jpg`` (one flat folder) and ``out/labels.csv`` with the columns of
:data:`COLUMNS`; see :func:`build_eval_set`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from photocheck.evaluation.synth import degrade

from . import occluders

__all__ = ["COLUMNS", "IMAGE_SUFFIXES", "build_eval_set"]

#: Columns of ``labels.csv``, in order.
COLUMNS: tuple[str, ...] = (
    "file", "source", "group", "tags", "case", "degradation", "params", "face_width",
    "jpeg_quality", "label", "reason_family",
)
#: Source files picked up in ``src`` (not recursive), lower-case suffixes.
IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".webp", ".bmp")

NOT_ELIGIBLE, ELIGIBLE, GREY = "not_eligible", "eligible", "grey"
#: Manifest tags of a source portrait whose face is already covered (LABELS.md: eligible).
OCCLUDED_TAGS = frozenset({"mask", "niqab", "sunglasses"})
BLURRY, FACE_NOT_VISIBLE = "blurry", "face_not_visible"

#: Face Mesh points outlining both eyes (corners and mid-lids), as in ``tests/test_portraits.py``.
EYE_OUTLINE = (33, 133, 263, 362, 159, 145, 386, 374)
RIGHT_EYE = (33, 133, 159, 145)  # subject's right eye
LEFT_EYE = (263, 362, 386, 374)
CHEEK_LANDMARKS = (50, 280)  # subject's right and left cheek
MIN_PRESENCE = 0.5  # Face Mesh presence needed to call an image "with a face" (no manifest)
NOFACE_MAX_SIDE = 800
KTP_BACKGROUNDS = (("ktp_red", (200, 30, 30)), ("ktp_blue", (30, 60, 180)))
KTP_BACKGROUND_SIZE = (300, 400)  # width, height
PATCH_COLOUR = (185, 185, 190)  # flat silver grey (peeled laminate), degrade's default
SCRATCH_COLOUR = (25, 25, 25)
JPEG_SETTINGS = dict(subsampling=2, optimize=False, progressive=False)

# Loader limits: full resolution (no JPEG draft decoding, no reduction) for framing.
_LOAD_LIMITS = dict(max_pixels=200_000_000, working_min_side=1_000_000, working_max_side=20_000)


# --------------------------------------------------------------------------------------------
# small helpers


def _rng_for(seed: int, name: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{int(seed)}:{name}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _encode_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb), "RGB").save(
        buf, format="JPEG", quality=int(quality), **JPEG_SETTINGS)
    return buf.getvalue()


def _fmt(v: float) -> str:
    """Short, stable number text: 2.6, 12, 0.18, 31.5."""
    return f"{round(float(v), 2):g}"


def _params(**kw: object) -> str:
    return ";".join(f"{k}={_fmt(v) if isinstance(v, (int, float)) else v}"
                    for k, v in kw.items())


def _load_rgb(path: Path) -> np.ndarray:
    from photocheck.load import load_image

    return load_image(path, **_LOAD_LIMITS).rgb


@dataclass
class _Source:
    path: Path
    tags: tuple[str, ...] = ()
    group: str = ""
    in_manifest: bool = False

    @property
    def name(self) -> str:
        return self.path.name


def _read_manifest(src: Path) -> dict[str, dict[str, str]]:
    manifest = src / "MANIFEST.csv"
    if not manifest.is_file():
        return {}
    with manifest.open(newline="", encoding="utf-8") as f:
        return {row["file"]: row for row in csv.DictReader(f) if row.get("file")}


def _group_of(row: dict[str, str] | None, path: Path) -> str:
    if row:
        person = (row.get("person") or "").strip()
        if person:
            return person
        repo = (row.get("source_repo") or "").strip()
        spath = (row.get("source_path") or "").strip()
        if repo and spath:
            parent = Path(spath).parent.as_posix()
            return repo if parent in ("", ".") else f"{repo}/{parent}"
    return path.stem


def _list_sources(src: Path, limit: int | None) -> tuple[list[_Source], bool]:
    manifest = _read_manifest(src)
    files = sorted((p for p in src.iterdir()
                    if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                   key=lambda p: p.name)
    if limit is not None:
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        if limit < len(files):
            # Evenly spread over the sorted list, so that a small limit still mixes kinds
            # (e.g. dev_n* no-face images and dev_p* portraits).
            idx = sorted({int(round(i)) for i in np.linspace(0, len(files) - 1, limit)})
            files = [files[i] for i in idx] if limit else []
    out = []
    for p in files:
        row = manifest.get(p.name)
        tags = tuple(t.strip() for t in (row or {}).get("tags", "").split(";") if t.strip())
        out.append(_Source(p, tags, _group_of(row, p), row is not None))
    return out, bool(manifest)


# --------------------------------------------------------------------------------------------
# geometry from the detector


@dataclass(frozen=True)
class _Framed:
    """A KTP-framed portrait at one face width, with the face geometry mapped into it."""

    rgb: np.ndarray
    box: tuple[float, float, float, float]
    landmarks: np.ndarray  # (468, 2) px in the framed image

    @property
    def W(self) -> float:
        return self.box[2]

    def eye_box(self) -> tuple[float, float, float, float]:
        """Box around both eyes (Face Mesh outline) padded by 25 % of its width horizontally and
        10 % of the face box height vertically."""
        pts = self.landmarks[list(EYE_OUTLINE)]
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        px, py = 0.25 * (x1 - x0), 0.10 * self.box[3]
        return (float(x0 - px), float(y0 - py), float(x1 - x0 + 2 * px), float(y1 - y0 + 2 * py))

    def eye_centres(self) -> tuple[np.ndarray, np.ndarray]:
        return (self.landmarks[list(RIGHT_EYE)].mean(axis=0),
                self.landmarks[list(LEFT_EYE)].mean(axis=0))


def _frame(rgb: np.ndarray, face, W: float) -> _Framed:
    eye_y = float(face.keypoints[:2, 1].mean())  # detector eye keypoints, as make_samples.py
    framed, box = degrade.normalise_portrait(rgb, face.box, face_width=W, eye_y=eye_y)
    # normalise_portrait is a pure scale + translation: map the source landmarks through it.
    s = box[2] / face.box[2]
    t = np.array([box[0] - face.box[0] * s, box[1] - face.box[1] * s])
    return _Framed(framed, tuple(float(v) for v in box), face.landmarks[:, :2] * s + t)


# --------------------------------------------------------------------------------------------
# the cases


@dataclass
class _Item:
    case: str
    degradation: str
    params: str
    label: str
    reason_family: str
    rgb: np.ndarray = field(repr=False)
    face_width: float | None
    quality: int


def _degraded_items(fr: dict[float, _Framed], rng: np.random.Generator,
                    face_widths: Sequence[float], qualities: Sequence[int]) -> Iterable[_Item]:
    """Yield the clean portraits (every W) and one image per degradation (random W, quality).

    Random draws happen in a fixed order: for each case, W then quality, then the case's own
    parameters, so a given seed and source always give the same images."""
    for W in face_widths:
        q = int(rng.choice(qualities))
        yield _Item(f"clean_w{_fmt(W)}", "clean", "", NOT_ELIGIBLE, "", fr[W].rgb, W, q)

    def pick() -> tuple[_Framed, float, int]:
        W = face_widths[int(rng.integers(len(face_widths)))]
        return fr[W], W, int(rng.choice(qualities))

    # -- blur -----------------------------------------------------------------------------
    for sigma, label in ((0.4, NOT_ELIGIBLE), (1.0, GREY), (1.6, GREY), (2.6, ELIGIBLE),
                         (3.5, ELIGIBLE)):
        f, W, q = pick()
        yield _Item(f"gaussian_{_fmt(sigma)}", "gaussian", _params(sigma=sigma), label,
                    BLURRY if label == ELIGIBLE else "",
                    degrade.gaussian_blur(f.rgb, sigma, face_width=W), W, q)
    for length, label in ((3, GREY), (9, ELIGIBLE), (12, ELIGIBLE)):
        f, W, q = pick()
        angle = round(float(rng.uniform(0.0, 180.0)), 1)
        yield _Item(f"motion_{length}", "motion", _params(length=length, angle=angle), label,
                    BLURRY if label == ELIGIBLE else "",
                    degrade.motion_blur(f.rgb, length, angle, face_width=W), W, q)
    for radius, label in ((2, GREY), (4, ELIGIBLE), (5, ELIGIBLE)):
        f, W, q = pick()
        yield _Item(f"defocus_{radius}", "defocus", _params(radius=radius), label,
                    BLURRY if label == ELIGIBLE else "",
                    degrade.defocus_blur(f.rgb, radius, face_width=W), W, q)
    for factor, label in ((2, GREY), (4, ELIGIBLE)):
        f, W, q = pick()
        yield _Item(f"lowres_{factor}", "lowres", _params(factor=factor), label,
                    BLURRY if label == ELIGIBLE else "",
                    degrade.low_resolution(f.rgb, factor), W, q)

    # -- noise and compression --------------------------------------------------------------
    f, W, q = pick()
    sigma = round(float(rng.uniform(6.0, 12.0)), 1)
    yield _Item("noise", "noise", _params(sigma=sigma), NOT_ELIGIBLE, "",
                degrade.add_noise(f.rgb, sigma, rng=rng), W, q)
    f, W, q = pick()
    yield _Item("blur_noise", "blur_noise", _params(blur_sigma=3.5, noise_sigma=8), ELIGIBLE,
                BLURRY, degrade.add_noise(degrade.gaussian_blur(f.rgb, 3.5, face_width=W), 8.0,
                                          rng=rng), W, q)
    f, W, _ = pick()
    q = int(rng.integers(10, 26))  # saved at this quality, not at one of `qualities`
    yield _Item("jpeg_artefacts", "jpeg", _params(quality=q), GREY, "", f.rgb, W, q)

    # -- exposure and fading -----------------------------------------------------------------
    f, W, q = pick()
    yield _Item("exposure_bright", "exposure", _params(offset=30), NOT_ELIGIBLE, "",
                degrade.exposure(f.rgb, offset=30), W, q)
    f, W, q = pick()
    yield _Item("exposure_dim", "exposure", _params(gain=0.5), GREY, "",
                degrade.exposure(f.rgb, gain=0.5), W, q)
    f, W, q = pick()
    yield _Item("exposure_dark", "exposure", _params(gain=0.18, gamma=1.4), ELIGIBLE,
                FACE_NOT_VISIBLE, degrade.exposure(f.rgb, gain=0.18, gamma=1.4), W, q)
    f, W, q = pick()
    yield _Item("overexposed", "exposure", _params(fraction=0.95, level=245), ELIGIBLE,
                FACE_NOT_VISIBLE, degrade.overexpose(f.rgb, f.box, 0.95), W, q)
    f, W, q = pick()
    yield _Item("fade_50", "fade", _params(contrast=0.5), GREY, "",
                degrade.fade(f.rgb, 0.5), W, q)
    f, W, q = pick()
    yield _Item("fade_15_yellow", "fade", _params(contrast=0.15, yellow=0.5), ELIGIBLE,
                FACE_NOT_VISIBLE, degrade.fade(f.rgb, 0.15, yellow=0.5), W, q)

    # -- occlusion -----------------------------------------------------------------------------
    f, W, q = pick()
    x, y, w, h = f.box
    side = 0.2 * math.sqrt(w * h)  # 4 % of the face box area (LABELS: <= 5 %)
    lm = CHEEK_LANDMARKS[int(rng.integers(2))]
    cx, cy = f.landmarks[lm]
    yield _Item("patch_cheek", "patch", _params(landmark=lm, side=side, area=0.04),
                NOT_ELIGIBLE, "",
                degrade.occlude_patch(f.rgb, (cx - side / 2, cy - side / 2, side, side)), W, q)

    f, W, q = pick()
    H_img, W_img = f.rgb.shape[:2]
    x, y, w, h = f.box
    side = 0.2 * math.sqrt(w * h)
    margin = 0.03 * W_img
    corner = ("top_left", "top_right", "bottom_left", "bottom_right")[int(rng.integers(4))]
    px = margin if corner.endswith("left") else W_img - margin - side
    py = margin if corner.startswith("top") else H_img - margin - side
    yield _Item("patch_background", "patch", _params(corner=corner, side=side), NOT_ELIGIBLE,
                "", degrade.occlude_patch(f.rgb, (px, py, side, side)), W, q)

    f, W, q = pick()
    H_img, W_img = f.rgb.shape[:2]
    x, y, w, h = f.box
    width = 0.06 * h
    left = bool(rng.integers(2))
    # A slanted scratch in the side strip beside the face box, kept a band width away from it.
    lo, hi = 0.04 * W_img + width, x - 1.5 * width  # strip left of the box
    xa, xb = (float(v) for v in rng.uniform(lo, max(lo, hi), size=2))
    if not left:
        xa, xb = W_img - xa, W_img - xb
    ya, yb = 0.05 * H_img, float(rng.uniform(0.45, 0.65)) * H_img
    yield _Item("scratch_background", "scratch",
                _params(side="left" if left else "right", width=width), NOT_ELIGIBLE, "",
                degrade.scratch_band(f.rgb, (xa, ya), (xb, yb), width, colour=SCRATCH_COLOUR),
                W, q)

    f, W, q = pick()
    eb = f.eye_box()
    yield _Item("patch_eyes", "patch", _params(box="eyes", pad_x=0.25, pad_y=0.1), ELIGIBLE,
                FACE_NOT_VISIBLE, degrade.occlude_patch(f.rgb, eb, colour=PATCH_COLOUR), W, q)

    f, W, q = pick()
    x, y, w, h = f.box
    right, left_eye = f.eye_centres()
    d = left_eye - right
    u = d / max(float(np.hypot(*d)), 1e-6)
    # Along the eye line, across the whole face box (and a little beyond).
    mid = (right + left_eye) / 2.0
    reach = 0.6 * w
    p0, p1 = mid - u * reach, mid + u * reach
    width = 0.12 * h
    yield _Item("scratch_eyes", "scratch", _params(width_frac=0.12), ELIGIBLE, FACE_NOT_VISIBLE,
                degrade.scratch_band(f.rgb, tuple(p0), tuple(p1), width,
                                     colour=SCRATCH_COLOUR), W, q)

    f, W, q = pick()
    eb = f.eye_box()
    centre = sum(f.eye_centres()) / 2.0  # between the eyes
    radius = eb[2] / 2.0  # the padded eye box half width
    eyes = f.landmarks[list(EYE_OUTLINE)]
    reach = float(np.max(np.hypot(*(eyes - centre).T)))
    # Saturated core out to 10 % beyond the farthest eye point: the eyes are clipped to white.
    core = min(0.95, max(0.3, 1.1 * reach / radius))
    radius = max(radius, 1.1 * reach / core)
    yield _Item("glare_eyes", "glare", _params(radius=radius, core=core, strength=1),
                ELIGIBLE, FACE_NOT_VISIBLE,
                degrade.glare(f.rgb, tuple(centre), radius, strength=1.0, core=core), W, q)

    f, W, q = pick()
    x, y, w, h = f.box
    area = round(float(rng.uniform(0.55, 0.75)), 2)
    k = math.sqrt(area)
    box = (x + w * (1 - k) / 2, y + h * (1 - k) / 2, w * k, h * k)
    yield _Item("patch_large", "patch", _params(area=area), ELIGIBLE, FACE_NOT_VISIBLE,
                degrade.occlude_patch(f.rgb, box, colour=PATCH_COLOUR), W, q)

    # -- framing -------------------------------------------------------------------------------
    sides = ("left", "right", "top", "bottom")
    f, W, q = pick()
    s = sides[int(rng.integers(4))]
    yield _Item("cut_off_10", "cut_off", _params(outside=0.1, side=s), GREY, "",
                degrade.cut_off(f.rgb, f.box, 0.10, s, keep_aspect=True), W, q)
    f, W, q = pick()
    s = sides[int(rng.integers(4))]
    frac = round(float(rng.uniform(0.45, 0.60)), 2)
    yield _Item("cut_off_large", "cut_off", _params(outside=frac, side=s), ELIGIBLE,
                FACE_NOT_VISIBLE, degrade.cut_off(f.rgb, f.box, frac, s, keep_aspect=True), W, q)

    # -- real occluders, textured (LABELS.md: judged by what they hide) ---------------------
    # Procedural textures of styles the visibility model never saw in training.
    pool = occluders.TexturePool({}, occluders.TEST_STYLES)
    for kind in TEXTURED_OCCLUDERS:
        f, W, q = pick()
        shown = occluders.occlude(f.rgb, f.landmarks, kind, rng, pool)
        label, family = _label_by_coverage(occluders.feature_coverage(shown.alpha, f.landmarks))
        yield _Item(f"occluder_{kind}", "occluder", _params(kind=kind), label, family,
                    shown.rgb, W, q)


#: Occluders and look-alikes added to every source (``occluders.OCCLUDERS`` and
#: ``occluders.NOT_OCCLUSION`` names).
TEXTURED_OCCLUDERS = ("mask", "niqab", "sunglasses", "hand", "band", "object", "clear_glasses",
                      "headscarf", "hand_beside")


def _label_by_coverage(coverage: dict[str, float]) -> tuple[str, str]:
    """LABELS.md on what an occluder hides: both eyes, nose and mouth, or most features hidden
    (>= 60 % of each outline) is eligible; nothing hidden (<= 15 % each) is not eligible;
    anything between is grey."""
    eyes = min(coverage["right_eye"], coverage["left_eye"])
    lower = min(coverage["nose"], coverage["mouth"])
    hidden = sum(share >= 0.6 for share in coverage.values())
    if eyes >= 0.6 or lower >= 0.6 or hidden >= 3:
        return ELIGIBLE, FACE_NOT_VISIBLE
    if max(coverage.values()) <= 0.15:
        return NOT_ELIGIBLE, ""
    return GREY, ""


def _limit_side(rgb: np.ndarray, max_side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    if max(h, w) <= max_side:
        return rgb
    s = max_side / max(h, w)
    size = (max(1, int(round(w * s))), max(1, int(round(h * s))))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


# --------------------------------------------------------------------------------------------
# the build


def build_eval_set(
    src: Path,
    out: Path,
    *,
    seed: int = 0,
    face_widths: Sequence[float] = (110, 160, 220),
    qualities: Sequence[int] = (70, 80, 95),
    limit: int | None = None,
    verbose: bool = True,
) -> Path:
    """Build a labelled evaluation set from the portraits in ``src``; return ``out/labels.csv``.

    Parameters
    ----------
    src : Path
        Folder of portraits (``.jpg .jpeg .png .webp .bmp``, not recursive). An optional
        ``src/MANIFEST.csv`` gives ``tags`` (``;``-separated: ``noface`` = no face, ``lowres`` =
        soft original) and the person/group (column ``person``, else
        ``source_repo/<parent folder of source_path>``, else the file stem). Without a manifest
        entry the tags are empty, the group is the file stem and an image is ``noface`` when the
        detector finds no face with Face Mesh presence >= 0.5.
    out : Path
        Output folder: ``images/<stem>__<case>.jpg``, ``labels.csv``, ``build.json``. Images
        listed by a previous ``labels.csv`` there and not rebuilt are removed.
    seed : int
        Seed of all random choices (per source via ``sha256(f"{seed}:{file name}")``).
    face_widths : sequence of float
        Face box widths W (px). The clean portrait is written at every W; each degradation at
        one W drawn at random.
    qualities : sequence of int
        JPEG qualities; one is drawn at random per image (``jpeg_artefacts`` uses 10-25).
    limit : int, optional
        Use at most this many source images, spread evenly over the name-sorted list.
    verbose : bool
        Print a few progress lines.

    Returns
    -------
    Path
        ``out/labels.csv``; columns :data:`COLUMNS`.
    """
    from photocheck import __version__
    from photocheck.detect import FaceFinder, FaceFinderOptions

    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise NotADirectoryError(f"source folder not found: {src}")
    face_widths = tuple(float(w) if float(w) != int(w) else int(w) for w in face_widths)
    qualities = tuple(int(q) for q in qualities)
    if not face_widths or not qualities:
        raise ValueError("face_widths and qualities must not be empty")
    say: Callable[[str], None] = (lambda m: print(m, flush=True)) if verbose else (lambda m: None)

    sources, has_manifest = _list_sources(src, limit)
    images_dir = out / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    labels_path = out / "labels.csv"
    previous: set[str] = set()
    if labels_path.is_file():
        with labels_path.open(newline="", encoding="utf-8") as f:
            previous = {r["file"] for r in csv.DictReader(f) if r.get("file")}

    stems = Counter(s.path.stem for s in sources)
    rows: list[dict[str, object]] = []
    written: set[str] = set()
    skipped: list[str] = []

    def write(stem: str, source: _Source | None, item: _Item) -> None:
        rel = f"images/{stem}__{item.case}.jpg"
        if rel in written:
            raise RuntimeError(f"duplicate output name {rel}")
        (out / rel).write_bytes(_encode_jpeg(item.rgb, item.quality))
        written.add(rel)
        label, family = item.label, item.reason_family
        if source is not None and "lowres" in source.tags and label == NOT_ELIGIBLE:
            label = GREY  # LABELS: a soft original is grey, not not_eligible
        if source is not None and OCCLUDED_TAGS & set(source.tags) and label != ELIGIBLE:
            # The source's face is already covered (a mask, a niqab): whatever is added, the
            # face is not clearly visible.
            label, family = ELIGIBLE, FACE_NOT_VISIBLE
        rows.append({
            "file": rel,
            "source": source.name if source else "generated",
            "group": source.group if source else "generated",
            "tags": ";".join(source.tags) if source else "",
            "case": item.case,
            "degradation": item.degradation,
            "params": item.params,
            "face_width": "" if item.face_width is None else _fmt(item.face_width),
            "jpeg_quality": item.quality,
            "label": label,
            "reason_family": family if label == ELIGIBLE else "",
        })

    say(f"building evaluation set from {len(sources)} source images in {src}")
    finder = FaceFinder.create_from_options(FaceFinderOptions())
    try:
        for k, source in enumerate(sources, 1):
            rng = _rng_for(seed, source.name)
            stem = source.path.stem
            if stems[stem] > 1:
                stem = f"{stem}_{source.path.suffix.lstrip('.').lower()}"
            try:
                rgb = _load_rgb(source.path)
            except Exception as exc:  # unreadable source: skip, record
                skipped.append(f"{source.name}: {exc}")
                continue
            face = None
            if "noface" not in source.tags:
                faces = finder.detect(rgb)
                if faces and faces[0].landmarks is not None and (
                        source.in_manifest or (faces[0].presence or 0.0) >= MIN_PRESENCE):
                    face = faces[0]
                elif source.in_manifest:  # the manifest says there is a face, the detector not
                    skipped.append(f"{source.name}: no face detected")
                    continue
            if face is None:
                write(stem, source, _Item("noface", "noface", _params(reason="no_face"),
                                          ELIGIBLE, FACE_NOT_VISIBLE,
                                          _limit_side(rgb, NOFACE_MAX_SIDE), None,
                                          int(rng.choice(qualities))))
            else:
                framed = {W: _frame(rgb, face, W) for W in face_widths}
                for item in _degraded_items(framed, rng, face_widths, qualities):
                    write(stem, source, item)
            if verbose and (k % 10 == 0 or k == len(sources)):
                say(f"  {k}/{len(sources)} sources, {len(rows)} images")
    finally:
        finder.close()

    rng = _rng_for(seed, "generated")
    w, h = KTP_BACKGROUND_SIZE
    for case, colour in KTP_BACKGROUNDS:
        write("generated", None, _Item(case, "noface", _params(colour="/".join(map(str, colour))),
                                       ELIGIBLE, FACE_NOT_VISIBLE, degrade.solid(w, h, colour),
                                       None, int(rng.choice(qualities))))

    with labels_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    for stale in sorted(previous - written):
        p = out / stale
        if p.is_file() and p.parent == images_dir:
            p.unlink()

    info = {
        "seed": int(seed),
        "photocheck_version": __version__,
        "parameters": {
            "src": str(src),
            "face_widths": list(face_widths),
            "qualities": list(qualities),
            "limit": limit,
            "manifest": has_manifest,
            "jpeg": dict(JPEG_SETTINGS),
            "choice": "clean portrait at every face width (random quality each); each "
                      "degradation at one random face width and one random quality; "
                      "jpeg_artefacts at quality 10-25",
        },
        "sources": len(sources),
        "skipped": skipped,
        "images": len(rows),
        "labels": dict(sorted(Counter(str(r["label"]) for r in rows).items())),
        "degradations": dict(sorted(Counter(str(r["degradation"]) for r in rows).items())),
        "reason_families": dict(sorted(Counter(str(r["reason_family"]) for r in rows
                                               if r["reason_family"]).items())),
    }
    (out / "build.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    say(f"wrote {len(rows)} images and {labels_path}"
        + (f" ({len(skipped)} sources skipped)" if skipped else ""))
    if skipped and verbose:
        for s in skipped:
            print(f"  skipped {s}", file=sys.stderr)
    return labels_path
