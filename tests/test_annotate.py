"""Tests for photocheck.annotate on images made here (and matplotlib's public-domain portrait)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from photocheck.annotate import (COLOURS, MARKS, MIN_WIDTH, OCCLUSION_ALPHA, annotate,
                                 annotate_marks,
                                 save_annotation)
from photocheck.context import LEFT_EYE, RIGHT_EYE
from photocheck.pipeline import Checker
from photocheck.schema import Decision, Reason

cbook = pytest.importorskip("matplotlib.cbook")


@pytest.fixture(scope="module")
def checker():
    with Checker() as c:
        yield c


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    return np.array(Image.open(path).convert("RGB"))


@pytest.fixture(scope="module")
def clean(checker, portrait):
    inspection = checker.inspect(portrait)
    assert inspection.context.face is not None and inspection.context.face.landmarks is not None
    return inspection


@pytest.fixture(scope="module")
def occluded(checker, portrait, clean):
    """The portrait with a flat grey bar over both eyes (placed by the landmarks)."""
    points = clean.context.face.landmarks[list(RIGHT_EYE + LEFT_EYE), :2]
    x0, y0 = np.floor(points.min(0) - 8).astype(int)
    x1, y1 = np.ceil(points.max(0) + 8).astype(int)
    covered = portrait.copy()
    covered[y0:y1, x0:x1] = 128
    return checker.inspect(covered), (x0, y0, x1, y1)


def photo_part(annotated: np.ndarray, image: np.ndarray) -> np.ndarray:
    """The annotation below the header (the header is the part above the photo)."""
    return annotated[annotated.shape[0] - image.shape[0]:]


def tinted(image: np.ndarray) -> np.ndarray:
    expected = image.astype(np.float32) * (1 - OCCLUSION_ALPHA)
    expected += np.array(MARKS["covered"], np.float32) * OCCLUSION_ALPHA
    return np.round(expected).astype(np.uint8)


def box_edge_share(photo: np.ndarray, row: int, x0: int, x1: int, colour) -> float:
    """Best share, over rows near ``row``, of pixels in ``x0:x1`` painted exactly ``colour``."""
    return max(float(np.all(photo[r, x0:x1] == colour, axis=1).mean())
               for r in range(max(0, row - 2), min(photo.shape[0], row + 3)))


def test_face_annotation_layout(clean, portrait, checker):
    out = annotate(clean, checker.policy)
    height, width = portrait.shape[:2]
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    assert out.shape[1] == width  # 512 px wide: no upscaling
    header = out.shape[0] - height
    assert header > 40  # verdict, reasons and measures need several text lines
    photo = photo_part(out, portrait)
    # Far from the face the photo is untouched; on the face it is drawn on.
    assert np.array_equal(photo[-80:, :100], portrait[-80:, :100])
    x, y, w, h = (int(round(v)) for v in clean.context.face.box)
    assert not np.array_equal(photo[y:y + h, x:x + w], portrait[y:y + h, x:x + w])


def test_box_colour_follows_the_decision(clean, portrait, checker):
    assert clean.result.decision is Decision.NOT_ELIGIBLE
    photo = photo_part(annotate(clean, checker.policy), portrait)
    x, y, w, h = (int(round(v)) for v in clean.context.face.box)
    assert box_edge_share(photo, y, x + 10, x + w - 10, COLOURS[Decision.NOT_ELIGIBLE]) > 0.9
    assert box_edge_share(photo, y, x + 10, x + w - 10, COLOURS[Decision.ELIGIBLE]) == 0


def test_landmarks_are_drawn(clean, portrait, checker):
    photo = photo_part(annotate(clean, checker.policy), portrait)
    points = np.floor(clean.context.face.landmarks[:, :2]).astype(int)
    inside = (points[:, 0] > 0) & (points[:, 1] > 0) & (points[:, 0] < photo.shape[1]) \
        & (points[:, 1] < photo.shape[0])
    changed = np.any(photo[points[inside, 1], points[inside, 0]]
                     != portrait[points[inside, 1], points[inside, 0]], axis=1)
    assert changed.mean() > 0.9


def test_occlusion_is_tinted(occluded, clean, portrait, checker):
    inspection, (x0, y0, x1, y1) = occluded
    assert inspection.context.canonical is not None
    image = inspection.image.rgb
    photo = photo_part(annotate(inspection, checker.policy), image)
    bar = (slice(y0 + 2, y1 - 2), slice(x0 + 2, x1 - 2))
    magenta = np.all(photo[bar] == tinted(image)[bar], axis=2).mean()
    assert magenta > 0.5, magenta
    # The clean portrait has (almost) nothing tinted in the same place.
    clean_photo = photo_part(annotate(clean, checker.policy), portrait)
    assert np.all(clean_photo[bar] == tinted(portrait)[bar], axis=2).mean() < 0.05
    # The box has the colour of the decision (judging the bar is the measures' business).
    x, y, w, h = (int(round(v)) for v in inspection.context.face.box)
    colour = COLOURS[inspection.result.decision]
    assert box_edge_share(photo, y + h, x + 10, x + w - 10, colour) > 0.9


def test_no_face_gets_only_a_header(checker):
    flat = np.full((300, 520, 3), (90, 140, 200), np.uint8)
    inspection = checker.inspect(flat)
    assert inspection.result.reasons == (Reason.NO_FACE,)
    out = annotate(inspection, checker.policy, lang="en")
    assert out.shape[1] == 520 and out.shape[0] > 300
    assert np.array_equal(photo_part(out, flat), flat)
    header = out[: out.shape[0] - 300]
    assert len(np.unique(header.reshape(-1, 3), axis=0)) > 5  # text was drawn


def test_small_images_are_enlarged_by_a_whole_factor(checker, portrait):
    small = np.array(Image.fromarray(portrait).resize((200, 234), Image.Resampling.LANCZOS))
    inspection = checker.inspect(small)
    assert inspection.result.decision is not Decision.ERROR
    out = annotate(inspection, checker.policy)
    assert out.shape[1] >= MIN_WIDTH and out.shape[1] % 200 == 0
    factor = out.shape[1] // 200
    photo = out[out.shape[0] - 234 * factor:]
    # Nearest-neighbour: a corner far from the face is the original pixels repeated.
    corner = photo[-20 * factor:, : 20 * factor]
    assert np.array_equal(corner, np.repeat(np.repeat(small[-20:, :20], factor, 0), factor, 1))


def test_language_changes_the_header(clean, checker):
    id_text = annotate(clean, checker.policy, lang="id")
    en_text = annotate(clean, checker.policy, lang="en")
    assert not np.array_equal(id_text, en_text)
    with pytest.raises(ValueError):
        annotate(clean, checker.policy, lang="fr")


def test_error_results_are_not_annotated(checker, tmp_path):
    inspection = checker.inspect(tmp_path / "missing.jpg")
    assert inspection.result.decision is Decision.ERROR
    assert annotate(inspection, checker.policy) is None
    target = tmp_path / "out.png"
    assert save_annotation(inspection, target, checker.policy) is None
    assert not target.exists()


def test_save_annotation_writes_a_png(clean, checker, tmp_path):
    target = tmp_path / "face.png"
    assert save_annotation(clean, target, checker.policy, "en") == target
    with Image.open(target) as written:
        assert written.format == "PNG"
        assert np.array_equal(np.asarray(written.convert("RGB")),
                              annotate(clean, checker.policy, lang="en"))


@pytest.mark.parametrize("content, width", [
    ("Foto buram [ketajaman tepi 1.23 px > 0.9 px; varians Laplace 12.3]", 120),
    ("satu dua tiga", 1000),
    ("kata-yang-terlalu-panjang-untuk-satu-baris lalu pendek", 60),
    ("", 100),
])
def test_header_wrap_fills_each_row_and_loses_nothing(content, width):
    from PIL import ImageDraw

    from photocheck.annotate import _font, _wrap

    draw, font = ImageDraw.Draw(Image.new("RGB", (1, 1))), _font(19)
    rows = _wrap(draw, content, font, width)
    assert "".join(rows).replace(" ", "") == content.replace(" ", "")
    for row, following in zip(rows, rows[1:]):
        assert draw.textlength(row, font=font) <= width or len(row) == 1
        # Greedy: the next row's first word (or, for a cut word, its next character) did
        # not fit on this one.
        word_boundary = f"{row} {following}" in content or not row.strip(" ")
        addition = f" {following.split(' ')[0]}" if word_boundary else following[0]
        assert draw.textlength(row + addition, font=font) > width
    assert len(_wrap(draw, content, font, 10_000)) == 1


def test_marks_are_named_for_the_legend(clean, occluded, checker):
    """Every mark drawn is named, so the header, page and report can show its legend line."""
    from photocheck import i18n

    _, marks = annotate_marks(clean, checker.policy, header=False)
    assert marks[:2] == ("face_box", "landmarks") and "card" not in marks
    _, covered_marks = annotate_marks(occluded[0], checker.policy)
    assert "covered" in covered_marks
    for mark in covered_marks:
        assert i18n.text(f"legend.{mark}", "id") != i18n.text(f"legend.{mark}", "en")


def test_header_has_a_legend_line(clean, checker):
    """The legend adds a line to the header (the band is taller than without marks)."""
    from photocheck.annotate import _header

    plain = _header(clean.result, 512, "id", has_face=True)
    with_legend = _header(clean.result, 512, "id", has_face=True,
                          marks=("face_box", "landmarks"))
    assert with_legend.height > plain.height


def test_each_feature_is_outlined_in_the_colour_of_its_verdict(checker, clean, occluded):
    """Clear face: the four feature boxes in the clear colour and the word "terlihat"; eyes
    under a grey bar: the eye boxes in the defect colour."""
    from photocheck.palette import CLEAR, DEFECT

    for inspection, eye_colour in ((clean, CLEAR), (occluded[0], DEFECT)):
        drawn, marks = annotate_marks(inspection, checker.policy, header=False)
        assert "features" in marks
        covered = inspection.context.covered
        eyes_hidden = min(covered["right_eye"], covered["left_eye"]) >= 0.65
        assert eyes_hidden == (eye_colour == DEFECT)
        hits = np.all(drawn == np.array(eye_colour, np.uint8), axis=-1)
        assert hits.sum() > 50  # box outlines of that colour were drawn
