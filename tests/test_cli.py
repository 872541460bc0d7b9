"""Tests for the photocheck command line. Every input is made here (tmp_path, matplotlib's
public-domain portrait of Grace Hopper); one test runs the real ``python -m photocheck``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import jsonschema
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import photocheck
from photocheck import i18n
from photocheck.cli import app
from photocheck.schema import json_schema

cbook = pytest.importorskip("matplotlib.cbook")

REQUIRED_KEYS = {"path", "decision", "reasons", "measures", "face", "policy", "version", "error"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """face.jpg (a portrait), flat.png (no face), notes.txt (not an image), a missing path."""
    folder = tmp_path_factory.mktemp("inputs")
    face = folder / "face.jpg"
    shutil.copyfile(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), face)
    flat = folder / "flat.png"
    Image.new("RGB", (400, 300), (90, 140, 200)).save(flat)
    notes = folder / "notes.txt"
    notes.write_text("not a photo\n")
    return {"face": str(face), "flat": str(flat), "text": str(notes),
            "missing": str(folder / "missing.jpg")}


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def json_rows(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_json_lines_one_valid_object_per_input(files):
    order = [files["face"], files["flat"], files["text"], files["missing"]]
    result = run("check", "--json", *order)
    assert result.exit_code == 1  # two inputs could not be judged
    rows = json_rows(result.stdout)
    assert len(rows) == 4
    schema = json_schema()
    for row, path in zip(rows, order):
        assert REQUIRED_KEYS <= set(row)
        jsonschema.validate(row, schema)
        assert row["path"] == path
        assert row["version"] == photocheck.__version__
    face, flat, text, missing = rows
    assert face["decision"] in ("eligible", "not_eligible", "review")
    assert face["face"] is not None and face["measures"]["edge_blur_px"] is not None
    assert (flat["decision"], flat["reasons"], flat["face"]) == ("eligible", ["no_face"], None)
    assert (text["decision"], text["error"]["code"]) == ("error", "not_an_image")
    assert (missing["decision"], missing["error"]["code"]) == ("error", "file_not_found")
    assert flat["error"] is None


def test_exit_code_zero_when_every_input_is_judged(files):
    result = run("check", "--json", files["face"], files["flat"])
    assert result.exit_code == 0
    assert all(r["decision"] != "error" for r in json_rows(result.stdout))
    assert run("check", files["missing"]).exit_code == 1


def test_human_output_in_indonesian_by_default(files):
    result = run("check", files["flat"], files["missing"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(files["flat"])
    assert i18n.decision_label("eligible", "id") in lines[0]
    assert i18n.reason_text("no_face", "id") in lines[0]
    assert i18n.decision_label("error", "id") in lines[1]
    assert i18n.error_text("file_not_found", "id") in lines[1]
    assert lines[2].startswith("Ringkasan: 2 gambar")
    assert "Eligible" not in result.stdout


def test_human_output_in_english(files):
    result = run("check", "--lang", "en", files["flat"])
    assert result.exit_code == 0
    assert "Eligible for photo replacement" in result.stdout
    assert "No face was detected" in result.stdout
    assert "Memenuhi" not in result.stdout
    assert len(result.stdout.splitlines()) == 1  # one input: no summary line


def test_clear_portrait_is_refused_for_appearance(files):
    result = run("check", "--json", files["face"])
    (row,) = json_rows(result.stdout)
    if row["decision"] != "not_eligible":
        pytest.skip(f"the portrait is judged {row['decision']} by this policy")
    assert row["reasons"] == ["clear_photo"]
    human = run("check", files["face"]).stdout
    assert "Tidak memenuhi syarat" in human and "penampilan" in human


def test_hijab_request_is_eligible_by_policy(files):
    result = run("check", "--json", "--reason", "hijab", files["face"])
    assert result.exit_code == 0
    (row,) = json_rows(result.stdout)
    assert row["decision"] == "eligible"
    assert row["reasons"] == ["policy_hijab"]
    assert row["request_reason"] == "hijab"
    human = run("check", "-r", "hijab", files["face"]).stdout
    assert "hijab" in human and i18n.decision_label("eligible", "id") in human


def test_unknown_reason_and_language_are_usage_errors(files):
    assert run("check", "--reason", "vanity", files["face"]).exit_code == 2
    assert run("check", "--lang", "fr", files["face"]).exit_code == 2
    assert run("check").exit_code == 2


def test_annotate_writes_pngs(files, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copyfile(files["face"], other / "face.jpg")  # same stem as files["face"]
    out = tmp_path / "annotations"
    result = run("check", "--json", "--annotate", str(out), files["face"], str(other / "face.jpg"),
                 files["flat"], files["missing"])
    assert result.exit_code == 1  # the missing file
    assert len(json_rows(result.stdout)) == 4  # annotation leaves stdout alone
    assert sorted(p.name for p in out.iterdir()) == ["face-2.png", "face.png", "flat.png"]
    original = np.asarray(Image.open(files["face"]).convert("RGB"))
    with Image.open(out / "face.png") as png:
        assert png.format == "PNG"
        annotated = np.asarray(png.convert("RGB"))
    assert annotated.shape[1] == original.shape[1]  # 512 px wide: drawn at its own size
    assert annotated.shape[0] > original.shape[0]  # plus the header band
    photo = annotated[-original.shape[0]:]
    assert np.abs(photo.astype(int) - original.astype(int)).sum() > 0


def test_directory_is_expanded_sorted_and_non_recursive(files, tmp_path):
    folder = tmp_path / "batch"
    (folder / "sub").mkdir(parents=True)
    shutil.copyfile(files["flat"], folder / "b.PNG")
    shutil.copyfile(files["flat"], folder / "a.png")
    shutil.copyfile(files["flat"], folder / "sub" / "c.png")
    shutil.copyfile(files["text"], folder / "notes.txt")
    result = run("check", "--json", str(folder))
    assert result.exit_code == 0
    assert [r["path"] for r in json_rows(result.stdout)] == [str(folder / "a.png"),
                                                              str(folder / "b.PNG")]
    (tmp_path / "empty").mkdir()
    assert run("check", str(tmp_path / "empty")).exit_code == 2


def test_bad_policy_is_a_usage_error(files, tmp_path):
    assert run("check", "--policy", "no-such-policy", files["flat"]).exit_code == 2
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    assert run("check", "--policy", str(broken), files["flat"]).exit_code == 2
    assert run("policy", "--policy", str(tmp_path / "absent.toml")).exit_code == 2


def test_schema_command_prints_the_schema():
    result = run("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json_schema()


def test_policy_command_shows_the_rules():
    result = run("policy")
    assert result.exit_code == 0
    policy = photocheck.Policy.load()
    assert policy.name in result.stdout and policy.version in result.stdout
    for rule in policy.rules:
        assert rule.measure in result.stdout
        if rule.card_measure is not None:  # what the rule reads on a photo of a whole card
            assert f"membaca {rule.card_measure} sebagai ganti {rule.measure}" in result.stdout
    assert "edge_blur_px" in result.stdout and "> 2" in result.stdout


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"photocheck {photocheck.__version__}"


def test_module_entry_point_keeps_stdout_clean(files):
    """The real process: python -m photocheck, JSON Lines only on stdout, exit code 1."""
    proc = subprocess.run(
        [sys.executable, "-m", "photocheck", "check", "--json", files["flat"], files["missing"]],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    assert [json.loads(line)["decision"] for line in lines] == ["eligible", "error"]


def english_leaks(output: str) -> list[str]:
    """English catalogue texts (longer than a label) that appear in ``output``."""
    indonesian = set(i18n.ID.values())
    return [text for text in i18n.EN.values()
            if len(text) > 12 and text not in indonesian and text in output]


@pytest.fixture(scope="module")
def truncated(tmp_path_factory, files) -> str:
    path = tmp_path_factory.mktemp("cut") / "cut.jpg"
    data = open(files["face"], "rb").read()
    path.write_bytes(data[: len(data) // 3])
    return str(path)


def test_indonesian_output_holds_no_english(files, truncated):
    """Every kind of line (verdicts, reasons, errors, summary) in Indonesian; the English
    technical message of an error stays in --json."""
    inputs = (files["face"], files["flat"], files["text"], files["missing"], truncated)
    result = run("check", *inputs)
    assert result.exit_code == 1
    output = result.stdout + result.stderr
    assert not english_leaks(output), english_leaks(output)
    assert i18n.error_text("truncated", "id") in output
    messages = [row["error"]["message"] for row in json_rows(run("check", "--json",
                                                                  *inputs).stdout)
                if row["error"]]
    assert len(messages) == 3
    for message in messages:
        assert message not in output  # e.g. "the JPEG image is truncated: ..."
    # The same inputs in English do show English words (the test can fail).
    assert english_leaks(run("check", "--lang", "en", *inputs).stdout)


def test_empty_folder_is_said_once_in_the_language(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("check", str(tmp_path / "empty"))
    assert result.exit_code == 2
    assert result.stderr.count(i18n.text("cli.no_images", "id")) == 1
    assert "image" not in result.stderr.lower()
    english = run("check", "--lang", "en", str(tmp_path / "empty"))
    assert english.exit_code == 2 and i18n.text("cli.no_images", "en") in english.stderr
    batch = run("batch", str(tmp_path / "empty"), "--out", str(tmp_path / "r.jsonl"))
    assert batch.exit_code == 2
    assert batch.stderr.count(i18n.text("cli.no_images", "id")) == 1
    assert "no images" not in batch.stderr


def test_batch_and_report_speak_indonesian(files, truncated, tmp_path):
    folder = tmp_path / "arsip"
    folder.mkdir()
    for name in ("face", "flat"):
        shutil.copyfile(files[name], folder / os.path.basename(files[name]))
    shutil.copyfile(truncated, folder / "cut.jpg")
    out = tmp_path / "hasil.jsonl"
    result = run("batch", str(folder), "--out", str(out), "--workers", "1", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "3 dari 3 masukan" in result.stderr
    assert i18n.decision_label("error", "id") in result.stderr
    assert "Tidak ada wajah yang" in result.stderr  # (the table wraps long sentences)
    assert not english_leaks(result.stderr), english_leaks(result.stderr)
    assert run("batch", str(folder), "--out", str(tmp_path / "r2.jsonl"), "--workers", "1",
               "--no-progress", "--lang", "en").stderr.count("3 of 3 inputs") == 1
    report = tmp_path / "laporan.html"
    written = run("report", str(out), "--html", str(report))
    assert written.exit_code == 0 and "Laporan ditulis" in written.stderr
    page = report.read_text(encoding="utf-8")
    assert not english_leaks(page), english_leaks(page)
    assert 'lang="id"' in page


def test_an_unreadable_file_is_an_error_result_and_the_others_are_judged(files, tmp_path,
                                                                         monkeypatch):
    # As root nothing is unreadable, so the permission checks of a normal user are imitated:
    # os.access (what Click's readable check asks) and the loader's open().
    import builtins

    from photocheck import load

    locked = tmp_path / "noperm.jpg"
    shutil.copy(files["face"], locked)
    real_access, real_open = __import__("os").access, builtins.open

    def access(path, mode, *args, **kwargs):
        return False if str(path) == str(locked) else real_access(path, mode, *args, **kwargs)

    def denied_open(path, *args, **kwargs):
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("os.access", access)
    monkeypatch.setattr(load, "open", denied_open, raising=False)
    result = run("check", str(files["face"]), str(locked), "--json")
    assert result.exit_code == 1, result.output
    rows = json_rows(result.stdout)
    assert rows[0]["decision"] != "error"  # judged
    assert (rows[1]["decision"], rows[1]["error"]["code"]) == ("error", "unreadable")


def test_a_folder_that_cannot_be_listed_is_an_error_result(files, tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    real_iterdir = type(folder).iterdir

    def iterdir(self):
        if self == folder:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(type(folder), "iterdir", iterdir)
    result = run("check", str(files["face"]), str(folder), "--json")
    assert result.exit_code == 1
    rows = json_rows(result.stdout)
    assert rows[0]["decision"] != "error"
    assert (rows[1]["decision"], rows[1]["error"]["code"]) == ("error", "unreadable")


def test_file_names_with_terminal_escape_codes_are_printed_escaped(files, tmp_path):
    hostile = tmp_path / "a\x1b[2J\x1b]0;owned\x07.jpg"
    shutil.copy(files["face"], hostile)
    result = run("check", str(hostile), str(tmp_path / "gone\x1b[31m.jpg"), "--lang", "en")
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "a\\x1b[2J\\x1b]0;owned\\x07.jpg" in result.output
    assert "gone\\x1b[31m.jpg" in result.output  # also inside the error message
