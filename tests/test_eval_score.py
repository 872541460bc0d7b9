"""Tests for photocheck.evaluation.score: every metric on tiny hand-computable label sets."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

from photocheck import Decision, Reason, Result
from photocheck.evaluation.score import NONE_KEY, compare, join, plot_measure, score
from photocheck.schema import PolicyRef

COLUMNS = ("file", "source", "group", "tags", "case", "degradation", "params", "face_width",
           "jpeg_quality", "label", "reason_family")


def write_labels(folder: Path, rows: list[dict]) -> Path:
    """Write a labels CSV in ``folder``; each row needs ``file`` and ``label``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "labels.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return path


def res(path, decision, reasons=(), **measures) -> dict:
    """A result dict as ``photocheck check --json`` writes it (only the keys scoring reads)."""
    return {"path": str(path), "decision": decision, "reasons": list(reasons),
            "measures": measures}


def render(table: Table) -> str:
    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(table)
    return console.file.getvalue()


# --------------------------------------------------------------------------------------------


def test_one_false_eligible_in_ten(tmp_path):
    labels = write_labels(tmp_path, [{"file": f"{k}.jpg", "label": "not_eligible"}
                                     for k in range(10)])
    results = [res(f"{k}.jpg", "eligible" if k == 3 else "not_eligible") for k in range(10)]
    s = score(labels, results)
    assert s.n == 10
    assert s.false_eligible_rate == pytest.approx(0.1)
    assert s.accuracy == pytest.approx(0.9)
    assert s.accuracy_decided == pytest.approx(0.9)
    assert s.missed_eligible_rate is None  # no eligible item: no denominator
    assert s.review_rate == 0 and s.error_rate == 0
    assert s.false_eligible_files == ("3.jpg",)
    assert s.missing == 0 and s.unmatched == 0


@pytest.fixture
def mixed(tmp_path):
    """4 not_eligible (3 right, 1 review), 4 eligible (2 right, 1 missed, 1 error), 2 grey."""
    rows = [
        {"file": "n1.jpg", "label": "not_eligible"},
        {"file": "n2.jpg", "label": "not_eligible"},
        {"file": "n3.jpg", "label": "not_eligible"},
        {"file": "n4.jpg", "label": "not_eligible"},
        {"file": "e1.jpg", "label": "eligible", "reason_family": "blurry"},
        {"file": "e2.jpg", "label": "eligible", "reason_family": "blurry"},
        {"file": "e3.jpg", "label": "eligible", "reason_family": "blurry"},
        {"file": "e4.jpg", "label": "eligible", "reason_family": "face_not_visible"},
        {"file": "g1.jpg", "label": "grey"},
        {"file": "g2.jpg", "label": "grey"},
    ]
    results = [
        res("n1.jpg", "not_eligible", ["clear_photo"]),
        res("n2.jpg", "not_eligible", ["clear_photo"]),
        res("n3.jpg", "not_eligible", ["clear_photo"]),
        res("n4.jpg", "review", ["blurry"]),
        res("e1.jpg", "eligible", ["blurry"]),
        res("e2.jpg", "eligible", ["blurry"]),
        res("e3.jpg", "not_eligible", ["clear_photo"]),
        res("e4.jpg", "error", []),
        res("g1.jpg", "review", ["blurry"]),
        res("g2.jpg", "eligible", ["blurry"]),
    ]
    return write_labels(tmp_path, rows), results


def test_headline_metrics(mixed):
    s = score(*mixed)
    assert s.n == 8  # grey excluded
    assert (s.n_not_eligible, s.n_eligible) == (4, 4)
    assert s.accuracy == pytest.approx(5 / 8)  # review and error are wrong
    assert s.accuracy_decided == pytest.approx(5 / 7)  # the review item left out
    assert s.false_eligible_rate == 0
    assert s.missed_eligible_rate == pytest.approx(1 / 4)
    assert s.review_rate == pytest.approx(1 / 8)
    assert s.error_rate == pytest.approx(1 / 8)
    assert s.missed_files == ("e3.jpg",)
    assert s.confusion["not_eligible"] == {"eligible": 0, "not_eligible": 3, "review": 1,
                                           "error": 0}
    assert s.confusion["eligible"] == {"eligible": 2, "not_eligible": 1, "review": 0,
                                       "error": 1}


def test_grey_counted_per_decision_not_scored(mixed):
    labels, results = mixed
    s = score(labels, results)
    assert s.n_grey == 2
    assert s.grey == {"eligible": 1, "not_eligible": 0, "review": 1, "error": 0}
    # changing the grey verdicts changes no rate
    flipped = [dict(r, decision="not_eligible") if r["path"].startswith("g") else r
               for r in results]
    t = score(labels, flipped)
    assert (t.accuracy, t.review_rate, t.false_eligible_rate) == \
        (s.accuracy, s.review_rate, s.false_eligible_rate)
    assert t.grey["not_eligible"] == 2


def test_missing_and_unmatched_results(mixed):
    labels, results = mixed
    kept = [r for r in results if r["path"] not in ("n1.jpg", "e1.jpg")]
    kept.append(res("stranger.jpg", "eligible"))
    kept.append({"path": None, "decision": "eligible", "reasons": []})
    s = score(labels, kept)
    assert s.missing == 2
    assert s.missing_files == ("n1.jpg", "e1.jpg")
    assert s.labelled == 10
    assert s.unmatched == 2
    assert s.n == 6  # rates are over judged items only
    assert s.accuracy == pytest.approx(3 / 6)
    assert s.by_degradation[NONE_KEY].missing == 2


def test_path_join_absolute_relative_and_result_objects(tmp_path):
    folder = tmp_path / "set"
    labels = write_labels(folder, [
        {"file": "img/a.jpg", "label": "eligible", "reason_family": "blurry"},
        {"file": "img/b.jpg", "label": "not_eligible"},
        {"file": "img/c.jpg", "label": "not_eligible"},
        {"file": "img/d.jpg", "label": "not_eligible"},
    ])
    policy = PolicyRef(name="default", version="1")
    results = [
        res(folder / "img" / "a.jpg", "eligible", ["blurry"]),  # absolute
        res("img/b.jpg", "not_eligible"),  # relative to the labels folder
        res("img/../img/./c.jpg", "not_eligible"),  # unnormalised relative
        Result(path=str(folder / "img" / "d.jpg"), decision=Decision.ELIGIBLE,
               reasons=(Reason.BLURRY,), policy=policy, version="0"),
    ]
    s = score(labels, results)
    assert s.missing == 0 and s.unmatched == 0
    assert s.n == 4
    assert s.false_eligible_files == ("img/d.jpg",)
    assert s.reason_agreement == 1.0


def test_relative_labels_path(tmp_path, monkeypatch):
    folder = tmp_path / "set"
    labels = write_labels(folder, [{"file": "img/a.jpg", "label": "eligible"},
                                   {"file": "img/b.jpg", "label": "not_eligible"}])
    results = [res(folder / "img" / "a.jpg", "eligible"), res("img/b.jpg", "not_eligible")]
    monkeypatch.chdir(tmp_path)
    items, unmatched = join(Path("set") / labels.name, results)
    assert unmatched == 0
    assert [i.decision for i in items] == ["eligible", "not_eligible"]


def test_results_root_for_relative_paths(tmp_path):
    labels = write_labels(tmp_path / "set", [{"file": "a.jpg", "label": "not_eligible"}])
    results = [res("set/a.jpg", "not_eligible")]  # relative to tmp_path, as a CLI run there
    assert score(labels, results).missing == 1
    s = score(labels, results, results_root=tmp_path)
    assert s.missing == 0 and s.accuracy == 1.0


def test_reason_agreement(tmp_path):
    labels = write_labels(tmp_path, [
        {"file": "b1.jpg", "label": "eligible", "reason_family": "blurry"},
        {"file": "b2.jpg", "label": "eligible", "reason_family": "blurry"},
        {"file": "v1.jpg", "label": "eligible", "reason_family": "face_not_visible"},
        {"file": "v2.jpg", "label": "eligible", "reason_family": "face_not_visible"},
        {"file": "v3.jpg", "label": "eligible", "reason_family": "face_not_visible"},
        {"file": "x1.jpg", "label": "eligible"},  # no family: not checked
    ])
    results = [
        res("b1.jpg", "eligible", ["blurry"]),  # agrees
        res("b2.jpg", "eligible", ["low_contrast"]),  # wrong family
        res("v1.jpg", "eligible", ["face_occluded"]),  # agrees
        res("v2.jpg", "eligible", ["no_face", "blurry"]),  # agrees (one of the family)
        res("v3.jpg", "not_eligible", ["clear_photo"]),  # not judged eligible: not checked
        res("x1.jpg", "eligible", ["blurry"]),
    ]
    s = score(labels, results)
    assert s.n_reason_checked == 4
    assert s.reason_agreement == pytest.approx(3 / 4)
    assert s.blur_reason_rate == pytest.approx(1 / 2)
    assert s.visibility_reason_rate == 1.0


@pytest.mark.parametrize("reason", ["face_cut_off", "face_too_small", "underexposed",
                                    "overexposed", "low_contrast", "multiple_faces"])
def test_visibility_family_members(tmp_path, reason):
    labels = write_labels(tmp_path, [{"file": "v.jpg", "label": "eligible",
                                      "reason_family": "face_not_visible"}])
    assert score(labels, [res("v.jpg", "eligible", [reason])]).visibility_reason_rate == 1.0
    assert score(labels, [res("v.jpg", "eligible", ["blurry"])]).visibility_reason_rate == 0


def test_breakdowns(tmp_path):
    labels = write_labels(tmp_path, [
        {"file": "1.jpg", "label": "not_eligible", "tags": "hijab;glasses", "case": "clean",
         "face_width": "160"},
        {"file": "2.jpg", "label": "not_eligible", "tags": "hijab", "case": "clean",
         "face_width": "160.0"},
        {"file": "3.jpg", "label": "eligible", "tags": "glasses", "case": "blur",
         "degradation": "gaussian", "face_width": "110", "reason_family": "blurry"},
        {"file": "4.jpg", "label": "eligible", "tags": "", "case": "blur",
         "degradation": "gaussian", "face_width": "220", "reason_family": "blurry"},
        {"file": "5.jpg", "label": "grey", "tags": "hijab", "case": "blur",
         "degradation": "gaussian", "face_width": "220"},
    ])
    results = [
        res("1.jpg", "eligible", ["face_occluded"]),  # hijab false eligible
        res("2.jpg", "not_eligible"),
        res("3.jpg", "review"),
        res("4.jpg", "not_eligible"),  # missed
        res("5.jpg", "review"),
    ]
    s = score(labels, results)

    assert list(s.by_tag) == [NONE_KEY, "glasses", "hijab"]
    hijab = s.by_tag["hijab"]
    assert (hijab.n, hijab.n_grey) == (2, 1)
    assert hijab.false_eligible_rate == pytest.approx(1 / 2)
    assert hijab.accuracy == pytest.approx(1 / 2)
    assert hijab.missed_eligible_rate is None
    glasses = s.by_tag["glasses"]
    assert glasses.n == 2 and glasses.accuracy == 0
    assert glasses.review_rate == pytest.approx(1 / 2)
    assert glasses.false_eligible_rate == 1.0
    assert s.by_tag[NONE_KEY].missed_eligible_rate == 1.0

    assert list(s.by_degradation) == [NONE_KEY, "gaussian"]
    gauss = s.by_degradation["gaussian"]
    assert (gauss.n, gauss.n_review, gauss.n_missed, gauss.n_grey) == (2, 1, 1, 1)
    assert gauss.missed_eligible_rate == pytest.approx(1 / 2)
    assert gauss.review_rate == pytest.approx(1 / 2)

    assert set(s.by_case) == {"clean", "blur"}
    assert s.by_case["clean"].false_eligible_rate == pytest.approx(1 / 2)

    assert list(s.by_face_width) == ["110", "160", "220"]  # numeric order, 160.0 == 160
    assert s.by_face_width["160"].n == 2
    assert s.by_face_width["220"].n_grey == 1


def test_to_dict_json_tables_and_compare(mixed):
    labels, results = mixed
    s = score(labels, results)
    data = json.loads(json.dumps(s.to_dict()))
    assert data["n"] == 8
    assert data["by_degradation"][NONE_KEY]["n"] == 8
    assert data["missing_files"] == []
    assert data["grey"]["review"] == 1

    tables = s.tables("dev")
    assert all(isinstance(t, Table) for t in tables)
    text = render(s.table("dev"))
    assert "false eligible" in text and "62.5 %" in text

    worse = score(labels, [dict(r, decision="eligible") for r in results])
    assert worse.false_eligible_rate == 1.0
    table = compare(s, worse, names=("photocheck", "baseline"))
    assert isinstance(table, Table)
    text = render(table)
    assert "photocheck" in text and "baseline" in text and "100.0 %" in text


def test_deterministic(mixed):
    labels, results = mixed
    assert score(labels, results) == score(labels, list(reversed(results)))


def test_bad_input_is_rejected(tmp_path):
    labels = write_labels(tmp_path, [{"file": "a.jpg", "label": "maybe"}])
    with pytest.raises(ValueError, match="label"):
        score(labels, [])
    labels = write_labels(tmp_path, [{"file": "a.jpg", "label": "eligible",
                                      "reason_family": "ugly"}])
    with pytest.raises(ValueError, match="reason_family"):
        score(labels, [])
    labels = write_labels(tmp_path, [{"file": "a.jpg", "label": "eligible"}])
    with pytest.raises(ValueError, match="two results"):
        score(labels, [res("a.jpg", "eligible"), res(tmp_path / "a.jpg", "review")])
    with pytest.raises(ValueError, match="decision"):
        score(labels, [res("a.jpg", "maybe")])
    bare = tmp_path / "bare.csv"
    bare.write_text("file\na.jpg\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column"):
        score(bare, [])


def _assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5000


def test_plot_measure_writes_png(tmp_path):
    rows, results = [], []
    for k in range(12):
        rows.append({"file": f"n{k}.jpg", "label": "not_eligible"})
        results.append(res(f"n{k}.jpg", "not_eligible", edge_blur_px=1.0 + 0.1 * k))
    for k in range(8):
        rows.append({"file": f"e{k}.jpg", "label": "eligible", "reason_family": "blurry"})
        results.append(res(f"e{k}.jpg", "eligible", ["blurry"],
                           edge_blur_px=None if k < 2 else 3.0 + 0.2 * k))
    rows.append({"file": "g.jpg", "label": "grey"})
    results.append(res("g.jpg", "review", edge_blur_px=2.2))
    rows.append({"file": "v.jpg", "label": "eligible", "reason_family": "face_not_visible"})
    results.append(res("v.jpg", "eligible", ["no_face"], edge_blur_px=9.0))  # not plotted
    labels = write_labels(tmp_path, rows)

    out = plot_measure(labels, results, tmp_path / "plots" / "edge.png",
                       thresholds={"review_above": 2.0, "blurry_above": 2.6})
    assert out == tmp_path / "plots" / "edge.png"
    _assert_png(out)


def test_plot_measure_without_values(tmp_path):
    labels = write_labels(tmp_path, [{"file": "a.jpg", "label": "not_eligible"},
                                     {"file": "b.jpg", "label": "eligible",
                                      "reason_family": "blurry"}])
    out = plot_measure(labels, [res("a.jpg", "error")], tmp_path / "empty.png",
                       measure="sharpness")
    _assert_png(out)
