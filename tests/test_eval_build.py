"""The evaluation-set builder (photocheck.evaluation.build) follows LABELS.md and is deterministic.

Sources: the public-domain photograph of Grace Hopper shipped with matplotlib and a flat image
without a face, copied into a temporary folder; nothing is written to the repository. One test
uses the shared development portraits (``../shared/data/portraits``) and skips without them.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photocheck.evaluation.build import (COLUMNS, OCCLUDED_TAGS, TEXTURED_OCCLUDERS,
                                        _label_by_coverage, build_eval_set)

SHARED_PORTRAITS = Path(__file__).resolve().parents[2] / "shared" / "data" / "portraits"
EYE_OUTLINE = [33, 133, 263, 362, 159, 145, 386, 374]
LABELS = {"not_eligible", "eligible", "grey"}

#: case -> (label, reason_family) for a sharp (not lowres) source, as LABELS.md gives them.
EXPECTED = {
    "clean_w110": ("not_eligible", ""),
    "clean_w160": ("not_eligible", ""),
    "clean_w220": ("not_eligible", ""),
    "gaussian_0.4": ("not_eligible", ""),
    "gaussian_1": ("grey", ""),
    "gaussian_1.6": ("grey", ""),
    "gaussian_2.6": ("eligible", "blurry"),
    "gaussian_3.5": ("eligible", "blurry"),
    "motion_3": ("grey", ""),
    "motion_9": ("eligible", "blurry"),
    "motion_12": ("eligible", "blurry"),
    "defocus_2": ("grey", ""),
    "defocus_4": ("eligible", "blurry"),
    "defocus_5": ("eligible", "blurry"),
    "lowres_2": ("grey", ""),
    "lowres_4": ("eligible", "blurry"),
    "noise": ("not_eligible", ""),
    "blur_noise": ("eligible", "blurry"),
    "jpeg_artefacts": ("grey", ""),
    "exposure_bright": ("not_eligible", ""),
    "exposure_dim": ("grey", ""),
    "exposure_dark": ("eligible", "face_not_visible"),
    "overexposed": ("eligible", "face_not_visible"),
    "fade_50": ("grey", ""),
    "fade_15_yellow": ("eligible", "face_not_visible"),
    "patch_cheek": ("not_eligible", ""),
    "patch_background": ("not_eligible", ""),
    "scratch_background": ("not_eligible", ""),
    "patch_eyes": ("eligible", "face_not_visible"),
    "scratch_eyes": ("eligible", "face_not_visible"),
    "glare_eyes": ("eligible", "face_not_visible"),
    "patch_large": ("eligible", "face_not_visible"),
    "cut_off_10": ("grey", ""),
    "cut_off_large": ("eligible", "face_not_visible"),
}


def test_an_already_covered_source_makes_every_item_eligible():
    assert _label_by_coverage({"right_eye": 0.9, "left_eye": 0.8, "nose": 0.0,
                               "mouth": 0.0}) == ("eligible", "face_not_visible")
    assert _label_by_coverage(dict.fromkeys(("right_eye", "left_eye", "nose", "mouth"),
                                            0.1)) == ("not_eligible", "")
    assert _label_by_coverage({"right_eye": 0.9, "left_eye": 0.0, "nose": 0.0,
                               "mouth": 0.0})[0] == "grey"  # one eye: borderline
    assert "mask" in OCCLUDED_TAGS


def _rows(labels: Path) -> list[dict[str, str]]:
    with labels.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.fixture(scope="module")
def src(tmp_path_factory) -> Path:
    from matplotlib import cbook

    folder = tmp_path_factory.mktemp("eval_src")
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        (folder / "grace_hopper.jpg").write_bytes(f.read())
    Image.new("RGB", (300, 400), (214, 190, 160)).save(folder / "flat.png")
    return folder


@pytest.fixture(scope="module")
def builds(src, tmp_path_factory) -> dict[str, Path]:
    """labels.csv of three builds: seed 0 twice (separate folders), seed 1 once."""
    out = {}
    for key, seed in (("a", 0), ("b", 0), ("c", 1)):
        out[key] = build_eval_set(src, tmp_path_factory.mktemp(f"eval_{key}"), seed=seed,
                                  verbose=False)
    return out


def test_returns_labels_csv_with_the_columns(builds):
    labels = builds["a"]
    assert labels.name == "labels.csv" and labels.is_file()
    with labels.open(newline="", encoding="utf-8") as f:
        assert tuple(next(csv.reader(f))) == COLUMNS
    info = json.loads((labels.parent / "build.json").read_text())
    rows = _rows(labels)
    assert info["seed"] == 0 and info["images"] == len(rows)
    assert sum(info["labels"].values()) == len(rows)


def test_same_seed_gives_identical_bytes(builds):
    a, b = builds["a"], builds["b"]
    assert a.read_bytes() == b.read_bytes()
    files = [r["file"] for r in _rows(a)]
    assert len(files) == len(set(files))
    for rel in files:
        assert (a.parent / rel).read_bytes() == (b.parent / rel).read_bytes(), rel
    # Nothing besides the listed images.
    assert sorted(p.name for p in (a.parent / "images").iterdir()) == sorted(
        Path(f).name for f in files)


def test_other_seed_differs(builds):
    a, c = builds["a"], builds["c"]
    rows_a = {r["file"]: r for r in _rows(a)}
    rows_c = {r["file"]: r for r in _rows(c)}
    assert rows_a.keys() == rows_c.keys()  # same cases, different random choices
    differ = [f for f in rows_a if rows_a[f] != rows_c[f]
              or (a.parent / f).read_bytes() != (c.parent / f).read_bytes()]
    assert len(differ) > len(rows_a) // 3


def test_labels_follow_labels_md(builds):
    rows = _rows(builds["a"])
    for r in rows:
        assert r["label"] in LABELS, r
        assert (r["reason_family"] != "") == (r["label"] == "eligible"), r
        assert r["reason_family"] in {"", "blurry", "face_not_visible"}, r
        assert (builds["a"].parent / r["file"]).is_file()
    hopper = {r["case"]: r for r in rows if r["source"] == "grace_hopper.jpg"}
    occluder_cases = {f"occluder_{kind}" for kind in TEXTURED_OCCLUDERS}
    assert set(hopper) == set(EXPECTED) | occluder_cases
    for case, (label, family) in EXPECTED.items():
        assert (hopper[case]["label"], hopper[case]["reason_family"]) == (label, family), case
    # Textured occluders are labelled by what they hide: look-alikes hide nothing.
    for kind in ("clear_glasses", "headscarf"):
        assert hopper[f"occluder_{kind}"]["label"] == "not_eligible", kind
    for kind in ("mask", "niqab", "sunglasses"):
        assert hopper[f"occluder_{kind}"]["label"] != "not_eligible", kind
    # Every face width for the clean portrait; a quality from the set except for artefacts.
    for case, r in hopper.items():
        assert r["face_width"] in {"110", "160", "220"}, r
        q = int(r["jpeg_quality"])
        assert (10 <= q <= 25) if case == "jpeg_artefacts" else q in {70, 80, 95}, r
    for w in (110, 160, 220):
        img = _rgb(builds["a"].parent / hopper[f"clean_w{w}"]["file"])
        k = round(w / 0.5 / 3)
        assert img.shape == (4 * k, 3 * k, 3)


def test_no_face_inputs_are_eligible(builds):
    rows = _rows(builds["a"])
    flat = [r for r in rows if r["source"] == "flat.png"]
    assert len(flat) == 1
    assert flat[0]["degradation"] == "noface" and flat[0]["label"] == "eligible"
    assert flat[0]["reason_family"] == "face_not_visible" and flat[0]["group"] == "flat"
    generated = {r["case"]: r for r in rows if r["source"] == "generated"}
    assert set(generated) == {"ktp_red", "ktp_blue"}
    for r in generated.values():
        assert (r["label"], r["reason_family"]) == ("eligible", "face_not_visible")
        img = _rgb(builds["a"].parent / r["file"])
        assert img.shape == (400, 300, 3)
    red = _rgb(builds["a"].parent / generated["ktp_red"]["file"]).reshape(-1, 3).mean(axis=0)
    assert np.abs(red - (200, 30, 30)).max() < 4


def _eyes_on_clean(builds, finder, case: str):
    rows = {r["case"]: r for r in _rows(builds["a"]) if r["source"] == "grace_hopper.jpg"}
    row = rows[case]
    clean = _rgb(builds["a"].parent / rows[f"clean_w{row['face_width']}"]["file"])
    degraded = _rgb(builds["a"].parent / row["file"])
    faces = finder.detect(np.ascontiguousarray(clean))
    assert faces, "the clean portrait should show a face"
    eyes = faces[0].landmarks[EYE_OUTLINE, :2]
    return clean, degraded, eyes


def test_eye_patch_covers_the_eyes(builds, finder):
    clean, patched, eyes = _eyes_on_clean(builds, finder, "patch_eyes")
    assert clean.shape == patched.shape
    for x, y in eyes:
        j, i = int(y), int(x)
        # A little margin around each eye point is covered too: the patch is padded.
        block = patched[j - 3:j + 4, i - 3:i + 4].reshape(-1, 3).astype(int)
        assert np.abs(block - (185, 185, 190)).max() <= 12, (x, y)
        assert np.abs(clean[j, i].astype(int) - (185, 185, 190)).max() > 12  # not grey before


def test_glare_clips_the_eyes(builds, finder):
    _, glared, eyes = _eyes_on_clean(builds, finder, "glare_eyes")
    for x, y in eyes:
        assert glared[int(y), int(x)].min() >= 240, (x, y)


def test_manifest_tags_and_groups(src, tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(src / "grace_hopper.jpg", folder / "hopper.jpg")
    shutil.copy(src / "grace_hopper.jpg", folder / "hopper_noface.jpg")
    with (folder / "MANIFEST.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "source_repo", "source_path", "face_width_px", "tags"])
        w.writerow(["hopper.jpg", "matplotlib/matplotlib", "sample_data/grace_hopper.jpg", "",
                    "frontal;lowres"])
        w.writerow(["hopper_noface.jpg", "", "", "", "noface"])
    rows = _rows(build_eval_set(folder, tmp_path / "out", seed=3, verbose=False))
    hopper = [r for r in rows if r["source"] == "hopper.jpg"]
    assert {r["group"] for r in hopper} == {"matplotlib/matplotlib/sample_data"}
    assert {r["tags"] for r in hopper} == {"frontal;lowres"}
    # A soft original is grey, never not_eligible; eligible cases stay eligible.
    assert "not_eligible" not in {r["label"] for r in hopper}
    assert {r["label"] for r in hopper if r["case"] == "clean_w160"} == {"grey"}
    assert {r["label"] for r in hopper if r["case"] == "gaussian_3.5"} == {"eligible"}
    # The manifest's noface tag wins over the detector.
    tagged = [r for r in rows if r["source"] == "hopper_noface.jpg"]
    assert [(r["degradation"], r["label"], r["group"]) for r in tagged] == [
        ("noface", "eligible", "hopper_noface")]


def test_rebuild_removes_stale_images(src, tmp_path):
    out = tmp_path / "out"
    build_eval_set(src, out, seed=0, verbose=False)
    labels = build_eval_set(src, out, seed=0, limit=1, verbose=False)  # flat.png only
    rows = _rows(labels)
    assert {r["source"] for r in rows} == {"flat.png", "generated"}
    assert sorted(p.name for p in (out / "images").iterdir()) == sorted(
        Path(r["file"]).name for r in rows)


@pytest.mark.skipif(not (SHARED_PORTRAITS / "MANIFEST.csv").is_file(),
                    reason=f"no shared portraits at {SHARED_PORTRAITS}")
def test_shared_portraits_limit(tmp_path):
    labels = build_eval_set(SHARED_PORTRAITS, tmp_path, seed=1, limit=3, verbose=False)
    rows = _rows(labels)
    info = json.loads((tmp_path / "build.json").read_text())
    assert info["sources"] == 3 and not info["skipped"]
    sources = {r["source"] for r in rows} - {"generated"}
    assert len(sources) == 3
    assert all(r["label"] in LABELS and r["group"] for r in rows)
    assert all((r["label"] == "eligible") == bool(r["reason_family"]) for r in rows)
    faced = {r["source"] for r in rows if r["degradation"] != "noface"}
    assert faced, "a limited build should still include portraits with a face"
