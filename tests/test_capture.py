"""Capture profile: a new photo taken at the office (``--profile capture``).

* every capture sample (``samples/capture/expected.csv``) gets exactly its decision and reasons:
  the good photos are accepted, each defect sample is rejected for exactly its defect;
* the capture measures (head pose, eye openness, background, lighting, shadow) on synthetic
  inputs, by property;
* the policy kind, the rule syntax and the KTP-el background colour rule (red for an odd birth
  year, blue for an even one; review without a birth year);
* replacement results keep exactly the core measures and never load the segmentation model
  nor the iris landmark model;
* eye openness from the iris landmark model's eyelid contours: closed eyes below the limit,
  every open eye (samples, development portraits) above the review limit;
* the CLI options ``--profile`` and ``--birth-year``;
* on the development portraits (skipped when ``../shared/data/portraits`` is absent): frontal
  ID photos look frontal, and a hijab counts as the person, not the background.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

import photocheck
from photocheck.evaluation.synth import degrade
from photocheck.cli import app
from photocheck.detect import (EYE_MODEL, MESH_EYE_CORNERS, FaceFinder, FaceFinderOptions,
                               models_dir)
from photocheck.measures import (CANONICAL_FACE_POINTS, CORE_MEASURES, MEASURES,
                                 background_colour, eye_aspect_ratio, halves_brightness_ratio,
                                 head_pose, shadow_fraction)
from photocheck.policy import Policy
from photocheck.schema import Decision, Reason

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = ROOT / "samples" / "capture"
PORTRAITS = ROOT.parent / "shared" / "data" / "portraits"
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


def _rows() -> list[dict[str, str]]:
    with (CAPTURE / "expected.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


ROWS = _rows()


@pytest.fixture(scope="module")
def capture_checker():
    with photocheck.Checker("capture") as shared:
        yield shared


def _describe(result: photocheck.Result) -> str:
    measures = {k: (None if v is None else round(v, 3)) for k, v in result.measures.items()}
    findings = [f"{f.reason.value}:{f.measure}={f.value}{f.comparison}{f.threshold}"
                for f in result.findings]
    return (f"decision={result.decision.value} reasons={[r.value for r in result.reasons]} "
            f"findings={findings} measures={measures}")


# --------------------------------------------------------------------------------------------
# Samples: one passes every rule, each other fails for exactly its reason
# --------------------------------------------------------------------------------------------


def _param(row: dict[str, str]):
    marks = [pytest.mark.xfail(strict=True, reason=row["known_gap"])] if row["known_gap"] else []
    return pytest.param(row, id=f"{row['file']}-{row['birth_year'] or 'no_year'}", marks=marks)


@pytest.mark.parametrize("row", [_param(r) for r in ROWS])
def test_capture_sample_gets_exactly_its_outcome(capture_checker, row):
    year = int(row["birth_year"]) if row["birth_year"] else None
    result = capture_checker.check(CAPTURE / row["file"], birth_year=year)
    info = _describe(result)
    assert result.decision.value == row["expected_decision"], info
    assert {r.value for r in result.reasons} == set(row["expected_reasons"].split(";")), info
    assert result.policy.kind == "capture"
    assert result.birth_year == year


def test_every_capture_rule_reason_has_a_failing_sample_and_the_good_photos_pass():
    rejected = {reason for row in ROWS if row["expected_decision"] == "rejected"
                and not row["known_gap"] for reason in row["expected_reasons"].split(";")}
    policy = Policy.load("capture")
    # Rule reasons with a sample that fails for exactly that reason, plus the colour rule's own.
    wanted = {rule.reason.value for rule in policy.rules} | {"background_colour_mismatch"}
    assert wanted <= rejected, sorted(wanted - rejected)
    accepted = [row for row in ROWS if row["expected_decision"] == "accepted"]
    assert {row["birth_year"] for row in accepted} >= {"1990", "1991"}  # blue and red


def test_every_capture_sample_is_listed_and_small():
    images = {p.name for p in CAPTURE.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS}
    listed = {row["file"] for row in ROWS}
    assert images == listed
    readme = (CAPTURE / "README.md").read_text(encoding="utf-8")
    for name in images:
        assert f"`{name}`" in readme, name
        assert (CAPTURE / name).stat().st_size < 100_000, name


def test_capture_result_reports_background_and_pose(capture_checker):
    result = capture_checker.check(CAPTURE / "grace_hopper_red.jpg", birth_year=1990)
    assert result.background is not None
    assert (result.background.colour, result.background.expected) == ("red", "blue")
    for name in ("head_yaw_deg", "head_pitch_deg", "head_roll_deg", "eyes_openness",
                 "background_hue_deg", "background_chroma", "background_hue_error_deg"):
        assert result.measures[name] is not None, name
    assert result.measures["background_hue_error_deg"] > 90
    back = photocheck.Result.from_json(result.to_json())
    assert back == result


def test_birth_year_outside_the_accepted_years_is_an_input_error(capture_checker):
    for bad in (19900, 1850, True, "1990"):
        result = capture_checker.check(CAPTURE / "grace_hopper_blue.jpg", birth_year=bad)
        assert result.decision is Decision.ERROR, bad
        assert result.error.code.value == "invalid_argument"


def test_hijab_request_reason_plays_no_part_in_a_capture_check(capture_checker):
    result = capture_checker.check(CAPTURE / "grace_hopper_blurry.jpg", reason="hijab",
                                   birth_year=1990)
    assert result.decision is Decision.REJECTED
    assert set(result.reasons) == {Reason.BLURRY}


# --------------------------------------------------------------------------------------------
# Replacement stays as it was
# --------------------------------------------------------------------------------------------


def test_replacement_results_hold_exactly_the_measures_their_rules_read(checker, portrait):
    result = checker.check(portrait().rgb)
    assert list(result.measures) == list(checker.policy.measure_names)
    assert set(CORE_MEASURES) < set(result.measures)  # plus the feature-visibility ones
    assert result.background is None and result.policy.kind == "replacement"
    assert not checker.policy.needs_person_mask
    assert checker._finder._segmenter is None  # the segmentation model is not even loaded
    assert not checker.policy.needs_eye_contours
    assert checker._finder._eye_model is None  # nor the iris landmark model


def test_capture_policy_reads_the_capture_measures():
    policy = Policy.load("capture")
    assert policy.kind == "capture" and policy.needs_person_mask and policy.needs_eye_contours
    assert set(CORE_MEASURES) <= set(policy.measure_names)
    assert {"head_yaw_deg", "eyes_openness", "background_clutter", "background_hue_deg",
            "face_lighting_ratio", "face_shadow_fraction"} <= set(policy.measure_names)
    assert not MEASURES["head_yaw_deg"].core


# --------------------------------------------------------------------------------------------
# Measures (pure functions)
# --------------------------------------------------------------------------------------------


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rotation (y up, z to the camera) that turns a face by these angles, degrees."""
    y, p, r = (math.radians(v) for v in (yaw, pitch, roll))
    about_y = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    about_x = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    about_z = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return about_z @ about_y @ about_x


def _mesh(yaw: float, pitch: float, roll: float, scale: float = 20.0) -> np.ndarray:
    """Face Mesh-like landmarks (x, y down px; z smaller = nearer) of the canonical face."""
    landmarks = np.zeros((468, 3))
    rotation = _rotation(yaw, -pitch, -roll)
    for index, point in CANONICAL_FACE_POINTS.items():
        x, y, z = rotation @ np.array(point) * scale
        landmarks[index] = (300 + x, 400 - y, -z)
    return landmarks


@pytest.mark.parametrize("angles", [(0, 0, 0), (12, 0, 0), (-20, 0, 0), (0, 10, 0),
                                    (0, -15, 0), (0, 0, 10), (0, 0, -10)])
def test_head_pose_recovers_a_rotation_about_one_axis(angles):
    yaw, pitch, roll = head_pose(_mesh(*angles))
    assert (yaw, pitch, abs(roll)) == pytest.approx((angles[0], angles[1], abs(angles[2])),
                                                    abs=0.5)


def test_head_pose_of_a_combined_rotation_is_near_each_angle():
    # Several axes at once: within a degree (the angles are not of one Euler convention).
    yaw, pitch, roll = head_pose(_mesh(8, -6, 4))
    assert (yaw, pitch, abs(roll)) == pytest.approx((8, -6, 4), abs=1.0)


def test_head_pose_roll_follows_an_in_plane_turn_of_the_image():
    flat = _mesh(0, 0, 0)
    turned = flat.copy()
    centre = flat[list(CANONICAL_FACE_POINTS), :2].mean(axis=0)
    matrix = cv2.getRotationMatrix2D(tuple(centre), 15, 1.0)
    turned[:, :2] = flat[:, :2] @ matrix[:, :2].T + matrix[:, 2]
    assert abs(head_pose(turned)[2] - head_pose(flat)[2]) == pytest.approx(15, abs=0.5)


def test_eye_aspect_ratio_falls_as_the_lids_close():
    def eye(gap: float) -> np.ndarray:
        points = np.zeros((10, 2))
        points[0], points[1] = (0, 0), (30, 0)
        points[2:5] = [(8, -gap), (15, -gap), (22, -gap)]
        points[5:8] = [(8, gap), (15, gap), (22, gap)]
        return points

    values = [eye_aspect_ratio(eye(gap), (0, 1), (2, 3, 4), (5, 6, 7)) for gap in (5, 2, 0.3)]
    assert values[0] == pytest.approx(10 / 30)
    assert values[0] > values[1] > values[2]


# --------------------------------------------------------------------------------------------
# Eye openness from the iris landmark model
# --------------------------------------------------------------------------------------------


def _eyes_closed_rule():
    (rule,) = [r for r in Policy.load("capture").rules if r.measure == "eyes_openness"]
    assert rule.reason is Reason.EYES_CLOSED
    assert rule.eligible_below < rule.review_below  # defect_below, then the review band
    return rule


def _openness(checker, path: Path) -> dict[str, float]:
    """Eye aspect ratio of each eye (the subject's right, left) as the capture check reads it."""
    inspection = checker.inspect(path, birth_year=1990)
    contours = inspection.context.eye_contours
    from photocheck.measures import EYE_OPENNESS_POINTS

    return {side: eye_aspect_ratio(contours[side], *EYE_OPENNESS_POINTS)
            for side in ("right", "left")}


def test_closed_eyes_measure_below_the_limit_and_open_eyes_above_the_review_band(
        capture_checker):
    rule = _eyes_closed_rule()
    closed = {"astronaut_eyes_closed.jpg", "astronaut_right_eye_closed.jpg"}
    values = {}
    for name in sorted({row["file"] for row in ROWS}):
        value = capture_checker.check(CAPTURE / name, birth_year=1990).measures["eyes_openness"]
        if value is not None:  # noface_blue
            values[name] = value
    assert closed <= set(values)
    open_values = [v for name, v in values.items() if name not in closed]
    assert len(open_values) >= 15
    # With a margin either side: closed eyes measure about 0.08, open ones 0.28 and more.
    assert max(values[name] for name in closed) < rule.eligible_below - 0.03, values
    assert min(open_values) > rule.review_below + 0.1, values


def test_eye_contours_follow_each_lid(capture_checker):
    rule = _eyes_closed_rule()
    open_eyes = _openness(capture_checker, CAPTURE / "astronaut_blue.jpg")
    shut = _openness(capture_checker, CAPTURE / "astronaut_eyes_closed.jpg")
    one = _openness(capture_checker, CAPTURE / "astronaut_right_eye_closed.jpg")
    for side in ("right", "left"):
        assert open_eyes[side] > 0.3 and shut[side] < rule.eligible_below, (open_eyes, shut)
        assert shut[side] < open_eyes[side] / 3
    # One eye shut: that eye reads closed, the other stays open (each eye is read by itself).
    assert one["right"] < rule.eligible_below and one["left"] > 0.3, one


def test_eye_contours_lie_on_the_eyes(portrait):
    rgb = portrait(200).rgb
    with FaceFinder.create_from_options(FaceFinderOptions(eye_contours=True)) as own:
        (face,) = own.detect(rgb)
        contours = own.eye_contours(rgb, face)
    eye_width = float(np.linalg.norm(face.landmarks[33, :2] - face.landmarks[133, :2]))
    for side, (near_left, near_right) in MESH_EYE_CORNERS.items():
        points = contours[side]
        assert points.shape == (71, 2)
        # Points 0 and 8 are the outer and inner corners; the subject's left eye is mirrored
        # for the model and back, so its outer corner (263) is on the image's right. The iris
        # model puts the outer corner up to a quarter of the eye width inside the mesh's (which
        # runs on into the fold); swapped corners would be a whole eye width off.
        outer, inner = (near_left, near_right) if side == "right" else (near_right, near_left)
        for index, mesh, within in ((0, outer, 0.35), (8, inner, 0.15)):
            off = np.linalg.norm(points[index] - face.landmarks[mesh, :2])
            assert off < within * eye_width, (side, index, off / eye_width)
        upper, lower = points[9:16, 1].mean(), points[1:8, 1].mean()
        assert upper < lower  # y grows downwards: the upper lid is above the lower
    with FaceFinder.create_from_options(FaceFinderOptions()) as without:
        with pytest.raises(RuntimeError, match="eye_contours=True"):
            without.eye_contours(rgb, face)  # a finder made without the iris model


def test_eye_openness_is_not_assessed_without_eye_contours(capture_checker):
    inspection = capture_checker.inspect(CAPTURE / "astronaut_blue.jpg", birth_year=1990)
    context = replace(inspection.context, eye_contours=None)
    assert MEASURES["eyes_openness"].compute(context, {}, {}) is None
    assert MEASURES["eyes_openness"].compute(inspection.context, {}, {}) == pytest.approx(
        inspection.result.measures["eyes_openness"])


def test_a_missing_eye_model_is_named_when_eye_contours_are_asked_for(tmp_path, portrait):
    for name in ("face_detection_short_range.tflite", "face_landmark.tflite"):
        (tmp_path / name).write_bytes((models_dir() / name).read_bytes())
    with FaceFinder.create_from_options(FaceFinderOptions(models=tmp_path)) as own:
        assert own.detect(portrait().rgb)  # a replacement check needs no iris model
    with pytest.raises(FileNotFoundError, match=EYE_MODEL):
        FaceFinder.create_from_options(FaceFinderOptions(models=tmp_path, eye_contours=True))


def _background_of(rgb: np.ndarray) -> tuple[float, float, float, float]:
    mask = np.ones(rgb.shape[:2], bool)
    mask[60:, 80:160] = False  # a "person" in the middle, not background
    return background_colour(rgb, mask, spread_percentile=90, clutter_sigma=14)


def test_background_measures_tell_plain_graded_and_cluttered_backdrops_apart():
    plain = degrade.solid(240, 320, (30, 90, 200))
    graded = plain.astype(np.float32) * np.linspace(0.75, 1.15, 240)[None, :, None]
    graded = np.clip(graded, 0, 255).astype(np.uint8)
    cluttered = plain.copy()
    for k in range(12):
        cv2.rectangle(cluttered, (17 * k, 23 * k % 300), (17 * k + 30, 23 * k % 300 + 20),
                      (235, 235, 240), -1)
    plain_values, graded_values, cluttered_values = map(_background_of,
                                                        (plain, graded, cluttered))
    assert plain_values[0] < 1 and plain_values[1] < 1
    assert graded_values[0] > 5 and graded_values[1] < 3  # a gradient is not clutter
    assert cluttered_values[1] > 5
    red = _background_of(degrade.solid(240, 320, (200, 30, 30)))
    grey = _background_of(degrade.solid(240, 320, (150, 150, 150)))
    assert 20 < red[2] < 50 and 270 < plain_values[2] < 310  # hue angles h_ab
    assert red[3] > 40 and plain_values[3] > 40 and grey[3] < 1  # chroma


def test_halves_brightness_ratio_and_shadow_fraction():
    rng = np.random.default_rng(1)
    face = np.full((100, 100), 150.0, np.float32) + rng.normal(0, 1, (100, 100)).astype(np.float32)
    mask = np.zeros((100, 100), bool)
    mask[10:90, 10:90] = True
    assert halves_brightness_ratio(face, mask, 50) == pytest.approx(1.0, abs=0.01)
    lit = face * np.linspace(1.2, 0.6, 100, dtype=np.float32)[None, :]
    assert halves_brightness_ratio(lit, mask, 50) > 1.25
    kwargs = dict(dark_ratio=0.5, skin_percentile=80, window=7, flat_std=5.0)
    assert shadow_fraction(face, mask, **kwargs) == 0.0
    shaded = face.copy()
    shaded[10:40] *= 0.35
    # 30 of the 80 rows are shaded; the few rows at the shadow's edge are not smooth.
    assert 0.25 < shadow_fraction(shaded, mask, **kwargs) <= 30 / 80
    bearded = face.copy()
    bearded[60:90] = 50 + rng.normal(0, 25, (30, 100)).astype(np.float32)  # dark, textured
    assert shadow_fraction(bearded, mask, **kwargs) < 0.05


# --------------------------------------------------------------------------------------------
# Policy: kind, rule syntax, background colour rule
# --------------------------------------------------------------------------------------------


CAPTURE_TEXT = (ROOT / "photocheck" / "policies" / "capture.toml").read_text(encoding="utf-8")


def test_capture_policy_file_is_strict():
    with pytest.raises(ValueError, match="use defect_above"):
        Policy.from_toml(CAPTURE_TEXT.replace("defect_above = 1.5", "eligible_above = 1.5", 1))
    with pytest.raises(ValueError, match="both"):
        Policy.from_toml(CAPTURE_TEXT.replace("defect_above = 1.5",
                                              "defect_above = 1.5\neligible_above = 1.5", 1))
    with pytest.raises(ValueError, match="unknown kind"):
        Policy.from_toml(CAPTURE_TEXT.replace('kind = "capture"', 'kind = "print"'))
    with pytest.raises(ValueError, match="background_colour"):
        Policy.from_toml(CAPTURE_TEXT.replace('kind = "capture"', 'kind = "replacement"'))
    with pytest.raises(ValueError, match="unknown key"):
        Policy.from_toml(CAPTURE_TEXT.replace("min_chroma = 20.0", "min_chroma = 20.0\nred = 1"))
    with pytest.raises(ValueError, match="no hue"):
        Policy.from_toml(CAPTURE_TEXT.replace('even_year = "blue"', 'even_year = "green"'))


def test_a_replacement_policy_accepts_the_neutral_defect_keys():
    text = (ROOT / "photocheck" / "policies" / "replacement.toml").read_text(encoding="utf-8")
    neutral = Policy.from_toml(text.replace("eligible_", "defect_"))
    assert neutral.rules == Policy.load().rules


GOOD = {"detection_confidence": 0.95, "background_hue_deg": 35.0, "background_chroma": 60.0}


@pytest.mark.parametrize("hue, chroma, year, decision, reasons, colour", [
    (35, 60, 1991, Decision.ACCEPTED, {"meets_capture_standard"}, "red"),
    (35, 60, 1990, Decision.REJECTED, {"background_colour_mismatch"}, "red"),
    (285, 60, 1990, Decision.ACCEPTED, {"meets_capture_standard"}, "blue"),
    (285, 60, 1991, Decision.REJECTED, {"background_colour_mismatch"}, "blue"),
    (285, 60, None, Decision.REVIEW, {"birth_year_missing"}, "blue"),
    (35, 5, None, Decision.REJECTED, {"background_colour_mismatch"}, "other"),  # grey
    (150, 60, None, Decision.REJECTED, {"background_colour_mismatch"}, "other"),  # green
    (None, None, 1990, Decision.REVIEW, {"background_colour_mismatch"}, None),  # not seen
])
def test_background_colour_rule(hue, chroma, year, decision, reasons, colour):
    policy = Policy.from_toml(CAPTURE_TEXT[:CAPTURE_TEXT.index("\n[[rules]]")] + """
[[rules]]
reason = "no_face"
measure = "detection_confidence"
needs_face = false
defect_below = 0.5
""")
    measures = {**GOOD, "background_hue_deg": hue, "background_chroma": chroma}
    assessment = policy.assess(measures, has_face=True, birth_year=year)
    assert assessment.decision is decision
    assert {r.value for r in assessment.reasons} == reasons
    assert assessment.background.colour == colour
    assert assessment.background.expected == (None if year is None else
                                              ("red" if year % 2 else "blue"))


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def test_cli_check_with_profile_and_birth_year():
    runner = CliRunner()
    ran = runner.invoke(app, ["check", "--profile", "capture", "--birth-year", "1991", "--json",
                              str(CAPTURE / "grace_hopper_red.jpg"),
                              str(CAPTURE / "grace_hopper_rolled.jpg")])
    assert ran.exit_code == 0, ran.output
    results = [json.loads(line) for line in ran.output.splitlines()]
    assert [r["decision"] for r in results] == ["accepted", "rejected"]
    assert results[1]["reasons"] == ["not_frontal"] or "not_frontal" in results[1]["reasons"]
    assert all(r["birth_year"] == 1991 and r["policy"]["kind"] == "capture" for r in results)


def test_cli_profile_must_match_the_policy_file():
    runner = CliRunner()
    ran = runner.invoke(app, ["check", "--profile", "capture", "--policy", "replacement",
                              str(CAPTURE / "grace_hopper_red.jpg")])
    assert ran.exit_code == 2
    assert "--profile" in ran.output
    shown = runner.invoke(app, ["policy", "--profile", "capture", "--lang", "en"])
    assert shown.exit_code == 0 and "kind capture" in shown.output
    assert "Background colour" in shown.output


# --------------------------------------------------------------------------------------------
# Development portraits (never committed; skipped when absent)
# --------------------------------------------------------------------------------------------


def _portraits(tag: str) -> list[Path]:
    manifest = PORTRAITS / "MANIFEST.csv"
    if not manifest.is_file():
        pytest.skip("development portraits not available")
    with manifest.open(newline="", encoding="utf-8") as f:
        return [PORTRAITS / row["file"] for row in csv.DictReader(f)
                if tag in row["tags"].split(";")]


def test_an_id_photo_on_blue_is_accepted_and_frontal(capture_checker):
    paths = [p for p in _portraits("hijab") if p.name == "dev_p001.jpg"]
    assert paths, "dev_p001.jpg (an ID photo on a blue backdrop, hijab) is expected"
    result = capture_checker.check(paths[0], birth_year=1990)
    assert result.decision is Decision.ACCEPTED, _describe(result)
    for name in ("head_yaw_deg", "head_pitch_deg", "head_roll_deg"):
        assert abs(result.measures[name]) < 3, _describe(result)


def test_a_hijab_belongs_to_the_person_not_the_background(capture_checker):
    # Hijab portraits in front of a plain wall or backdrop: the hijab must not make the
    # background look cluttered, nor the face covered.
    plain = {"dev_p001.jpg", "dev_p002.jpg", "dev_p005.jpg", "dev_p006.jpg", "dev_p007.jpg"}
    paths = [p for p in _portraits("hijab") if p.name in plain]
    assert len(paths) == len(plain)
    for path in paths:
        result = capture_checker.check(path, birth_year=1990)
        reasons = set(result.reasons)
        assert Reason.BACKGROUND_NOT_UNIFORM not in reasons, (path.name, _describe(result))
        assert Reason.FACE_OCCLUDED not in reasons, (path.name, _describe(result))
        assert Reason.MOUTH_COVERED not in reasons, (path.name, _describe(result))


def test_no_open_eyed_portrait_is_taken_for_closed(capture_checker):
    # All development portraits show open eyes, the narrowest (smiling) ones measure 0.17.
    rule = _eyes_closed_rule()
    paths = _portraits("frontal")
    assert len(paths) >= 50
    values = {}
    for path in paths:
        value = capture_checker.check(path, birth_year=1990).measures["eyes_openness"]
        assert value is not None, path.name
        values[path.name] = value
    low = min(values, key=values.get)
    assert values[low] > rule.review_below, (low, values[low])


def test_a_degenerate_mesh_leaves_eye_openness_unassessed(portrait):
    """Eye corners on one point (no eye to crop): not assessed, not an internal error."""
    import dataclasses

    rgb = portrait().rgb
    with FaceFinder.create_from_options(FaceFinderOptions(eye_contours=True)) as own:
        (face,) = own.detect(rgb)
        landmarks = face.landmarks.copy()
        landmarks[133] = landmarks[33]
        assert own.eye_contours(rgb, dataclasses.replace(face, landmarks=landmarks)) is None
        assert own.eye_contours(rgb, face) is not None
