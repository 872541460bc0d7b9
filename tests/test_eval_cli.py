"""`photocheck eval build | run | score | calibrate | agreement` end to end on a tiny set."""

from __future__ import annotations

import json
import shutil

import pytest
from matplotlib import cbook
from typer.testing import CliRunner

from photocheck import Policy
from photocheck.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory):
    """A set built from one public-domain portrait, judged by photocheck and the baseline."""
    root = tmp_path_factory.mktemp("eval")
    src = root / "src"
    src.mkdir()
    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        (src / "grace_hopper.jpg").write_bytes(handle.read())
    built = runner.invoke(app, ["eval", "build", str(src), str(root / "set"), "--seed", "3"])
    assert built.exit_code == 0, built.output
    ran = runner.invoke(app, ["eval", "run", str(root / "set" / "labels.csv"),
                              "--out", str(root / "run")])
    assert ran.exit_code == 0, ran.output
    return root, ran.output


def test_run_writes_results_scores_and_plot(evaluation):
    root, output = evaluation
    run = root / "run"
    results = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    labels = (root / "set" / "labels.csv").read_text().splitlines()
    assert len(results) == len(labels) - 1
    report = json.loads((run / "scores.json").read_text())
    assert report["photocheck"]["missing"] == 0
    assert report["baseline"]["missing"] == 0
    assert 0.0 <= report["photocheck"]["accuracy"] <= 1.0
    assert (run / "edge_blur_px.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "photocheck vs baseline" in output


def test_min_accuracy_floor_fails_the_run(evaluation):
    root, _ = evaluation
    result = runner.invoke(app, ["eval", "run", str(root / "set" / "labels.csv"), "--out",
                                 str(root / "floor"), "--no-baseline", "--min-accuracy", "1.01"])
    assert result.exit_code == 1
    assert "below the floor" in result.output


def test_score_reads_results_written_by_run(evaluation, monkeypatch):
    root, _ = evaluation
    monkeypatch.chdir(root)
    result = runner.invoke(app, ["eval", "score", "set/labels.csv", "run/results.jsonl",
                                 "--json", "again.json"])
    assert result.exit_code == 0, result.output
    again = json.loads((root / "again.json").read_text())
    first = json.loads((root / "run" / "scores.json").read_text())["photocheck"]
    assert again["accuracy"] == first["accuracy"]


def test_calibrate_writes_a_loadable_policy(evaluation):
    root, _ = evaluation
    out = root / "fitted.toml"
    result = runner.invoke(app, ["calibrate", str(root / "set" / "labels.csv"),
                                 str(root / "run" / "results.jsonl"), "--out", str(out),
                                 "--folds", "2", "--version", "2099.1"])
    assert result.exit_code == 0, result.output
    fitted = Policy.load(out)
    assert fitted.version == "2099.1"
    assert "held-out" in fitted.fitted_on
    assert [r.measure for r in fitted.rules] == [r.measure for r in Policy.load().rules]


def test_agreement_with_staff_decisions(evaluation):
    root, _ = evaluation
    images = root / "set" / "images"
    clear = next(images.glob("*__clean_w160.jpg"))
    blurred = next(images.glob("*__gaussian_3.5.jpg"))
    shutil.copy(clear, root / "a.jpg")
    shutil.copy(blurred, root / "b.jpg")
    (root / "staff.csv").write_text("path,decision\na.jpg,not_eligible\nb.jpg,eligible\n")
    result = runner.invoke(app, ["eval", "agreement", str(root / "staff.csv")])
    assert result.exit_code == 0, result.output
    assert "agreement: 100.0 % of 2" in result.output


def test_refit_from_staff_decisions_writes_a_policy(evaluation):
    root, _ = evaluation
    images = sorted((root / "set" / "images").glob("*.jpg"))
    clear = [p for p in images if "__clean" in p.name or "__gaussian_0.4" in p.name]
    blurred = [p for p in images if "__gaussian_3.5" in p.name or "__defocus_5" in p.name]
    rows = [f"{p},not_eligible" for p in clear] + [f"{p},eligible" for p in blurred]
    (root / "staff2.csv").write_text("path,decision\n" + "\n".join(rows) + "\n")
    out = root / "staff_policy.toml"
    result = runner.invoke(app, ["eval", "agreement", str(root / "staff2.csv"), "--refit",
                                 str(out), "--folds", "2"])
    assert result.exit_code == 0, result.output
    fitted = Policy.load(out)
    assert fitted.version.endswith("+staff2")
    assert "staff decisions" in fitted.fitted_on


def test_agreement_rejects_unknown_decisions(evaluation):
    root, _ = evaluation
    (root / "bad.csv").write_text("path,decision\na.jpg,maybe\n")
    result = runner.invoke(app, ["eval", "agreement", str(root / "bad.csv")])
    assert result.exit_code == 2
