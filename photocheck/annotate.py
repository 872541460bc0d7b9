"""Draw what photocheck saw: the verdict, its reasons and the evidence, on the photo itself.

An annotation is the working image (as measured, see :class:`~photocheck.load.LoadedImage`)
under a header band:

* header: the verdict in the decision's colour, one line per reason in the chosen language with
  the numbers behind it (``[Lebar kabur garis wajah 2,61 px > 2,00 px]``), the key measures
  (edge blur, fine detail, face brightness and contrast, occlusion), a legend line for every
  mark drawn and a footer with the file name, image size and policy;
* the main face's detector box, in the decision's colour (:mod:`photocheck.palette`:
  vermillion = the photo is defective, blue = clear, orange = review); other faces get a thin
  white box;
* the 468 Face Mesh landmarks as small sky-blue dots;
* in semi-transparent reddish purple, the face pixels the occlusion measures counted as covered,
  glared or clipped (:func:`photocheck.measures.occlusion_map`, limited to the face oval and
  feature regions: the measures read nothing outside them).

Every colour comes from :mod:`photocheck.palette` (one colour-blind-safe scheme for the
annotation, page, slip and report); every mark has a ``legend.<mark>`` line in
:mod:`photocheck.i18n`. :func:`annotate_marks` also names the marks drawn, so that a page that
draws no header can show the same legend.

For a capture result (a new photo) the header shows the head pose angles, eye openness,
lighting ratio and the background colour found against the one expected for the birth year,
and a yellow outline marks the background region whose colour and uniformity were
measured (:func:`photocheck.measures.background_region`).

Without a face only the header is drawn over the unmarked photo. An ``error`` result has no
image: :func:`annotate` returns None and :func:`save_annotation` writes nothing.

Images narrower than :data:`MIN_WIDTH` px are enlarged by a whole factor with nearest-neighbour
sampling, so the text stays legible while the photo's own pixels (and blur) are shown as they
are, with no smoothing added.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from . import i18n, palette
from .measures import background_region, occlusion_map, unit_of
from .visibility import patch_corners
from .pipeline import Inspection
from .policy import DERIVED_MEASURES, Policy
from .schema import Decision, Finding, RequestReason, Result

#: Narrower working images are enlarged (by a whole factor) until at least this wide.
MIN_WIDTH = 480

#: Box and verdict colours (RGB) by decision, and the colours of the other marks: one palette.
COLOURS = palette.DECISION_COLOURS
MARKS = palette.MARK_COLOURS
DERIVED_UNITS = {name: unit for name, (unit, _) in DERIVED_MEASURES.items()}
OCCLUSION_ALPHA = 0.5
HEADER_BACKGROUND = (24, 24, 24)
HEADER_TEXT = (235, 235, 235)
HEADER_DIM = (160, 160, 160)

#: Measures shown in the header, in this order (when measured).
KEY_MEASURES = ("edge_blur_px", "laplacian_variance", "face_brightness", "face_contrast",
                "eyes_covered", "nose_mouth_covered", "face_occluded")
#: ... and for a capture result.
CAPTURE_KEY_MEASURES = ("head_yaw_deg", "head_pitch_deg", "head_roll_deg", "eyes_openness",
                        "edge_blur_px", "face_lighting_ratio", "background_clutter")


def annotate(inspection: Inspection, policy: Policy, *,
             lang: str = i18n.DEFAULT_LANGUAGE, header: bool = True) -> np.ndarray | None:
    """The annotated image as an HxWx3 uint8 RGB array, or None for an ``error`` result.

    ``policy`` must be the one the inspection was judged with: its measure parameters
    recompute the occlusion map. ``lang`` is ``id`` (default) or ``en``. ``header=False``
    leaves out the text band (verdict, reasons, measures, legend) for a page that shows them
    itself: the photo and its marks only, at the working image's size.
    """
    drawn = annotate_marks(inspection, policy, lang=lang, header=header)
    return None if drawn is None else drawn[0]


def annotate_marks(inspection: Inspection, policy: Policy, *,
                   lang: str = i18n.DEFAULT_LANGUAGE,
                   header: bool = True) -> tuple[np.ndarray, tuple[str, ...]] | None:
    """:func:`annotate`, and the names of the marks drawn (``face_box``, ``other_face``,
    ``landmarks``, ``covered``, ``background``, ``card``, ``portrait_area``: the keys of their
    ``legend.<mark>`` lines), in legend order."""
    lang = i18n.check_language(lang)
    result = inspection.result
    if result.decision is Decision.ERROR or inspection.image is None:
        return None
    rgb = inspection.image.rgb
    height, width = rgb.shape[:2]
    factor = max(1, math.ceil(MIN_WIDTH / width)) if header else 1
    canvas = np.ascontiguousarray(rgb).copy()
    context = inspection.context
    covered = False
    if context is not None and context.canonical is not None:
        # Tinted before the enlargement: pixel replication commutes with a per-pixel tint,
        # and the working image has factor**2 times fewer pixels to tint.
        mask = _occlusion_in_image(inspection, policy)
        covered = mask is not None and bool(mask.any())
        if covered:
            tinted = canvas[mask].astype(np.float32) * (1 - OCCLUSION_ALPHA)
            tinted += np.array(MARKS["covered"], np.float32) * OCCLUSION_ALPHA
            canvas[mask] = np.round(tinted).astype(np.uint8)
    if factor > 1:
        canvas = cv2.resize(canvas, (width * factor, height * factor),
                            interpolation=cv2.INTER_NEAREST)
    background = (context is not None and context.person is not None
                  and _outline_background(canvas, context, policy))

    photo = Image.fromarray(canvas)
    draw = ImageDraw.Draw(photo)
    marks: list[str] = []
    if context is not None and context.faces:
        marks.append("face_box")
        line = max(2, round(photo.width / 250))
        for other in context.faces[1:]:
            draw.rectangle(_scaled_box(other.box, factor), outline=MARKS["other_face"],
                           width=max(1, line // 2))
        if len(context.faces) > 1:
            marks.append("other_face")
        face = context.faces[0]
        if face.landmarks is not None:
            marks.append("landmarks")
            # A point at (x, y) lies in pixel (floor x, floor y); dots are centred there.
            radius = max(1, round(photo.width / 500))
            for x, y in np.floor(face.landmarks[:, :2] * factor).astype(int):
                draw.ellipse((x - radius, y - radius, x + radius, y + radius),
                             fill=MARKS["landmarks"])
        draw.rectangle(_scaled_box(face.box, factor), outline=COLOURS[result.decision],
                       width=line)
        if context.covered is not None and context.canonical is not None:
            _mark_features(draw, context, policy, factor, line, lang)
            marks.append("features")
    if covered:
        marks.append("covered")
    if background:
        marks.append("background")
    card = inspection.card is not None and inspection.scene is not None
    if card:
        marks += ["card", "portrait_area"]

    out = np.asarray(photo)
    if header:
        band = _header(result, photo.width, lang, has_face=bool(context and context.faces),
                       marks=tuple(marks))
        out = np.vstack([np.asarray(band), out])
    if card:
        out = _beside_card(out, inspection)
    return out, tuple(marks)


def _beside_card(annotated: np.ndarray, inspection: Inspection) -> np.ndarray:
    """Card mode: the photo of the card, with the card's outline and the portrait area that was
    cut out and judged, to the left of the annotated portrait (both the same height)."""
    scene = np.ascontiguousarray(inspection.scene.rgb).copy()
    line = max(2, round(max(scene.shape[:2]) / 300))
    for corners, colour in ((inspection.card.quad.corners, MARKS["card"]),
                            (inspection.card.portrait_corners, MARKS["portrait_area"])):
        cv2.polylines(scene, [np.round(corners).astype(np.int32)], True, colour, line,
                      cv2.LINE_AA)
    height = annotated.shape[0]
    width = max(1, round(scene.shape[1] * height / scene.shape[0]))
    panel = cv2.resize(scene, (width, height), interpolation=cv2.INTER_AREA)
    gap = np.full((height, max(4, height // 100), 3), HEADER_BACKGROUND, np.uint8)
    return np.hstack([panel, gap, annotated])


def save_annotation(inspection: Inspection, path: str | os.PathLike, policy: Policy,
                    lang: str = i18n.DEFAULT_LANGUAGE) -> Path | None:
    """Write the annotation of ``inspection`` as a PNG at ``path``; return the path.

    For an ``error`` result nothing is written and None is returned. The folder must exist.
    """
    array = annotate(inspection, policy, lang=lang)
    if array is None:
        return None
    target = Path(path)
    Image.fromarray(array).save(target, format="PNG")
    return target


# --------------------------------------------------------------------------------------------
# Drawing helpers


def _outline_background(canvas: np.ndarray, context, policy: Policy) -> bool:
    """Outline, on ``canvas`` (the possibly enlarged working image), the background region the
    background measures read; False when there is none."""
    region = background_region(context, policy.measure_params)
    if region is None or not region.any():
        return False
    height, width = canvas.shape[:2]
    mask = cv2.resize(region.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(canvas, contours, -1, MARKS["background"], max(1, round(width / 300)))
    return True


def _occlusion_in_image(inspection: Inspection, policy: Policy) -> np.ndarray | None:
    """The occlusion map in working-image px (HxW bool), limited to the face oval and regions."""
    context = inspection.context
    canonical = context.canonical
    occluded = occlusion_map(context, policy.measure_params)
    if occluded is None:
        return None
    counted = canonical.oval.copy()
    for region in canonical.regions.values():
        counted |= region
    height, width = inspection.image.rgb.shape[:2]
    warped = cv2.warpAffine((occluded & counted).astype(np.uint8) * 255, canonical.to_image,
                            (width, height), flags=cv2.INTER_LINEAR, borderValue=0)
    return warped >= 128


def _mark_features(draw: ImageDraw.ImageDraw, context, policy: Policy, factor: int, line: int,
                   lang: str) -> None:
    """Each judged feature's patch (eyes, nose, mouth) outlined in the colour of its verdict,
    with the verdict in words: covered (the policy's eligible bound), uncertain (its review
    bound) or visible."""
    covered_at, uncertain_at = _feature_bounds(policy)
    corners = patch_corners(context.canonical.points)
    to_image = context.canonical.to_image
    font = _font(max(10, round(line * 5)))
    for name, probability in context.covered.items():
        if probability >= covered_at:
            verdict, colour = "covered", COLOURS[Decision.ELIGIBLE]
        elif probability >= uncertain_at:
            verdict, colour = "uncertain", COLOURS[Decision.REVIEW]
        else:
            verdict, colour = "visible", COLOURS[Decision.NOT_ELIGIBLE]
        points = (corners[name] @ to_image[:, :2].T + to_image[:, 2]) * factor
        outline = [tuple(float(v) for v in p) for p in points]
        draw.polygon(outline, outline=colour, width=max(1, line // 2))
        label = i18n.text(f"ui.feature_{verdict}", lang)
        x, y = min(p[0] for p in outline), max(p[1] for p in outline)
        draw.text((x + 2, y + 1), label, fill=colour, font=font, stroke_width=1,
                  stroke_fill=(0, 0, 0))


def _feature_bounds(policy: Policy) -> tuple[float, float]:
    """(covered, uncertain) bounds of one feature: those of the policy's both-eyes rule."""
    for rule in policy.rules:
        if rule.measure == "eyes_covered":
            eligible = rule.eligible_above if rule.eligible_above is not None else 1.0
            review = rule.review_above if rule.review_above is not None else eligible
            return eligible, review
    return 1.0, 1.0


def _scaled_box(box: tuple[float, float, float, float], factor: int) -> tuple[float, ...]:
    x, y, w, h = (v * factor for v in box)
    return (x, y, x + w, y + h)


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    # Cached: loading the embedded font costs more than drawing a line with it.
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _header(result: Result, width: int, lang: str, *, has_face: bool,
            marks: tuple[str, ...] = ()) -> Image.Image:
    """The text band: verdict, reasons with evidence, key measures, legend, footer."""
    size = int(min(36, max(13, round(width / 34))))
    big, body, small = _font(round(size * 1.3)), _font(size), _font(max(11, round(size * 0.85)))
    margin = max(6, size // 2)
    colour = COLOURS[result.decision]

    verdict = i18n.decision_label(result.decision, lang)
    if result.request_reason is not RequestReason.QUALITY:
        verdict += (f"  ({i18n.text('ui.request', lang)}: "
                    f"{i18n.request_label(result.request_reason, lang)})")
    lines: list[tuple[str, object, tuple[int, int, int]]] = [(verdict, big, colour)]
    for reason in result.reasons:
        # The findings that made this decision (an eligible verdict omits review-level ones).
        evidence = [_evidence(f, lang) for f in result.findings
                    if f.reason is reason and f.outcome == result.decision.value]
        sentence = i18n.reason_sentence(reason, result.decision, lang)
        if evidence:
            sentence += " [" + "; ".join(evidence) + "]"
        lines.append(("- " + sentence, body, HEADER_TEXT))
    if has_face:
        capture = result.policy.kind == "capture"
        values = [f"{i18n.measure_label(name, lang)} "
                  f"{_format(name, result.measures.get(name), lang)}"
                  for name in (CAPTURE_KEY_MEASURES if capture else KEY_MEASURES)
                  if name in result.measures]
        if result.background is not None:
            values.append(_background_text(result, lang))
        if values:
            lines.append((" | ".join(values), body, HEADER_TEXT))
    if marks:
        legend = "; ".join(i18n.text(f"legend.{mark}", lang) for mark in marks)
        lines.append((f"{i18n.text('legend.title', lang)}: {legend}", small, HEADER_TEXT))
    footer = [os.path.basename(result.path) if result.path else None]
    if result.image is not None:
        footer.append(f"{result.image.width}x{result.image.height} px")
    footer.append(f"{i18n.text('ui.policy', lang)} {result.policy.name} {result.policy.version}")
    lines.append((" | ".join(p for p in footer if p), small, HEADER_DIM))

    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    rows = []
    for content, font, fill in lines:
        for row in _wrap(scratch, content, font, width - 2 * margin):
            rows.append((row, font, fill, _line_height(scratch, font)))
    stripe = max(3, size // 4)
    height = margin + sum(r[3] for r in rows) + margin + stripe
    band = Image.new("RGB", (width, height), HEADER_BACKGROUND)
    draw = ImageDraw.Draw(band)
    y = margin
    for row, font, fill, line_height in rows:
        draw.text((margin, y), row, font=font, fill=fill)
        y += line_height
    draw.rectangle((0, height - stripe, width, height), fill=colour)
    return band


def _line_height(draw: ImageDraw.ImageDraw, font) -> int:
    left, top, right, bottom = draw.textbbox((0, 0), "Ag[|]", font=font)
    return int(math.ceil(bottom + max(2, bottom * 0.25)))


def _wrap(draw: ImageDraw.ImageDraw, content: str, font, max_width: int) -> list[str]:
    """Greedy word wrap to ``max_width`` px; a single over-long word is cut by characters.

    Each row is the longest run of words that fits, found by bisection: measuring text is
    the slow part of drawing the header, so a row costs a few measurements, not one a word.
    """
    def fits(text: str) -> bool:
        return draw.textlength(text, font=font) <= max_width

    rows: list[str] = []
    words = content.split(" ")
    while words:
        if fits(" ".join(words)):
            rows.append(" ".join(words))
            break
        low, high = 0, len(words)  # words[:low] fits, words[:high] does not
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if fits(" ".join(words[:middle])) else (low, middle)
        if low:
            rows.append(" ".join(words[:low]))
            words = words[low:]
            continue
        word = words.pop(0)  # wider than a row on its own: cut it by characters
        low, high = 1, len(word)
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if fits(word[:middle]) else (low, middle)
        rows.append(word[:low])
        if word[low:]:
            words.insert(0, word[low:])
    return rows or [""]


def _format(name: str, value: float | None, lang: str) -> str:
    """A measure value with its unit for a reader of ``lang``, e.g. ``0,88 px``, ``142/255``,
    ``12%``, ``4,5 derajat`` (``id``)."""
    if value is None:
        return i18n.text("ui.not_assessed", lang)
    unit = unit_of(name) or DERIVED_UNITS.get(name, "")

    def number(decimals: int) -> str:
        return i18n.format_number(value, lang, decimals)

    if unit == "deg":
        return f"{number(1)} {i18n.text('ui.unit.deg', lang)}"
    if unit == "ratio":
        return number(2)
    if unit == "px":
        whole = name in ("face_width_px", "eye_distance_px")
        return f"{number(0 if whole else 2)} px"
    if unit == "0-1":
        return (f"{i18n.format_number(100 * value, lang, 0)}%"
                if name != "detection_confidence" else number(2))
    if unit == "0-255":
        return f"{number(0)}/255"
    if unit == "count":
        return number(0)
    return number(1)


def _background_text(result: Result, lang: str) -> str:
    """``Latar merah (seharusnya biru)``: the colour class found and the one asked for."""
    def colour(name: str | None) -> str:
        if name is None:
            return i18n.text("ui.not_assessed", lang)
        return i18n.MESSAGES[lang].get(f"ui.colour.{name}", name)

    text = f"{i18n.text('ui.background', lang)} {colour(result.background.colour)}"
    if result.background.expected is not None:
        text += f" ({i18n.text('ui.expected', lang)} {colour(result.background.expected)})"
    return text


def _evidence(finding: Finding, lang: str) -> str:
    label = i18n.measure_label(finding.measure, lang)
    if finding.comparison == "not_assessed":
        return f"{label}: {i18n.text('ui.not_assessed', lang)}"
    return (f"{label} {_format(finding.measure, finding.value, lang)} {finding.comparison} "
            f"{_format(finding.measure, finding.threshold, lang)}")
