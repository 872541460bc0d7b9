"""Tests for batch audits (photocheck.batch and ``photocheck batch``).

Every input is generated here from matplotlib's public-domain portrait of Grace Hopper (framed
like a KTP photo by the conftest ``portrait`` fixture): sharp, blurred, dark and shifted
variants, a flat image without a face, and broken files. Runs with worker processes (spawn) and
the subprocess tests (SIGKILL and resume, Ctrl-C) are the slow ones, a few seconds each.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from photocheck import batch
from photocheck.evaluation.synth import degrade
from photocheck.batch import (COLUMNS, CSV_COLUMNS, BatchError, LocalEngine, collect_tasks,
                              judge_chunk, read_results, run_batch)
from photocheck.cli import app
from photocheck.measures import MEASURES

pytest.importorskip("matplotlib.cbook")

DECISIONS = {"eligible", "not_eligible", "review", "error"}
BROKEN = ("truncated.jpg", "empty.jpg", "notes.jpg")


def jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def photos(portrait) -> dict[str, bytes]:
    """Encoded test images by file name: faces, a flat image, and broken files."""
    rgb = portrait(face_width=120).rgb
    sharp = jpeg(rgb)
    return {
        "sharp.jpg": sharp,
        "blurred.jpg": jpeg(degrade.gaussian_blur(rgb, 3.0, face_width=120)),
        "dark.jpg": jpeg(degrade.exposure(rgb, gain=0.35)),
        "shifted.png": _png(np.roll(rgb, 6, axis=1)),
        "flat.png": _png(np.full((320, 240, 3), 128, np.uint8)),
        "truncated.jpg": sharp[: len(sharp) // 2],
        "empty.jpg": b"",
        "notes.jpg": b"not a photo\n",
    }


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def archive_dir(tmp_path, photos) -> Path:
    """arsip/ with images at two levels, plus files a folder scan must skip."""
    folder = tmp_path / "arsip"
    (folder / "sub").mkdir(parents=True)
    for index, (name, data) in enumerate(photos.items()):
        (folder / ("sub" if index % 2 else "") / name).write_bytes(data)
    (folder / "readme.txt").write_text("not an image")
    (folder / "._sharp.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    return folder


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".jpg", ".png")
                  and not p.name.startswith("._"))


def by_key(rows: list[dict]) -> dict[str, dict]:
    keyed = {row["key"]: row for row in rows}
    assert len(keyed) == len(rows), "a key appears twice"
    return keyed


def assert_valid(row: dict) -> None:
    assert tuple(row) == COLUMNS
    assert row["decision"] in DECISIONS
    assert list(row["measures"]) == list(MEASURES)
    if row["decision"] == "error":
        assert row["error_code"] and row["error_message"] and row["reasons"] == []
    else:
        assert row["error_code"] is None and len(row["sha256"]) == 64 and row["reasons"]


# --------------------------------------------------------------------------------------------
# Inputs


def test_folder_is_recursive_sorted_and_inputs_are_judged_once(archive_dir):
    tasks = collect_tasks([archive_dir, archive_dir / "sub" / "blurred.jpg", str(archive_dir)])
    assert [t.key for t in tasks] == [str(p) for p in image_files(archive_dir)]
    assert all(t.kind == "file" and t.path.startswith(str(archive_dir)) for t in tasks)
    for task in tasks:
        assert task.read_bytes() == Path(task.key).read_bytes()


def test_glob_pattern_is_expanded_by_the_program(archive_dir, monkeypatch):
    monkeypatch.chdir(archive_dir.parent)
    tasks = collect_tasks(["arsip/**/*.jpg"])
    assert sorted(t.path for t in tasks) == sorted(
        str(p.relative_to(archive_dir.parent)) for p in image_files(archive_dir)
        if p.suffix == ".jpg")
    assert all(os.path.isabs(t.key) for t in tasks)


@pytest.mark.parametrize("name", ["photos.zip", "photos.tar", "photos.tar.gz", "photos.tgz"])
def test_archive_members_are_read_in_any_order(tmp_path, photos, name):
    archive = tmp_path / name
    members = {f"ktp/{n}": data for n, data in photos.items()}
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive, "w") as zf:
            for member, data in members.items():
                zf.writestr(member, data)
            zf.writestr("ktp/list.txt", "skipped")
            zf.writestr("__MACOSX/ktp/._sharp.jpg", "skipped")
    else:
        with tarfile.open(archive, "w:gz" if name.endswith("gz") else "w") as tf:
            for member, data in [*members.items(), ("ktp/list.txt", b"skipped")]:
                info = tarfile.TarInfo(member)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    tasks = collect_tasks([str(archive)])
    assert [t.path for t in tasks] == [f"{archive}!{m}" for m in members]
    assert tasks[0].key == f"{archive.resolve()}!ktp/sharp.jpg"
    for task in reversed(tasks):  # backwards: every read seeks back in a compressed stream
        assert task.read_bytes() == members[task.member]
    batch.close_archives()


def test_manifest_paths_ids_and_birth_years(archive_dir, tmp_path):
    manifest = tmp_path / "lists" / "daftar.csv"
    manifest.parent.mkdir()
    manifest.write_text("\ufeffID;Path;Birth_Year;note\n"
                        "K-1;../arsip/sharp.jpg;1961;x\n"
                        "K-2;../arsip/gone.jpg;;\n"
                        ";;;\n"
                        "K-3;../arsip/sharp.jpg;1999;same file, another person\n",
                        encoding="utf-8")
    tasks = collect_tasks([manifest])
    assert [(t.path, t.id, t.birth_year) for t in tasks] == [
        ("../arsip/sharp.jpg", "K-1", "1961"), ("../arsip/gone.jpg", "K-2", None),
        ("../arsip/sharp.jpg", "K-3", "1999")]
    assert tasks[0].key == f"{archive_dir / 'sharp.jpg'}#id=K-1"
    (tmp_path / "bad.csv").write_text("file,id\na.jpg,1\n")
    with pytest.raises(BatchError, match="no 'path' column"):
        collect_tasks([tmp_path / "bad.csv"])


def test_each_manifest_row_is_its_own_record_through_a_run_and_its_resume(archive_dir, tmp_path):
    manifest = tmp_path / "daftar.csv"
    manifest.write_text("path,id\n"
                        f"{archive_dir / 'sharp.jpg'},A\n"
                        f"{archive_dir / 'sharp.jpg'},B\n"
                        f"{archive_dir / 'sharp.jpg'},A\n"  # the same record again
                        f"{archive_dir / 'dark.jpg'},B\n"  # a duplicate id, another file
                        f"{archive_dir / 'dark.jpg'}\n")
    notes: list[str] = []
    tasks = collect_tasks([manifest], warn=notes.append)
    assert [(Path(t.path).name, t.id) for t in tasks] == [
        ("sharp.jpg", "A"), ("sharp.jpg", "B"), ("dark.jpg", "B"), ("dark.jpg", None)]
    assert any("line 4" in note and "line 2" in note for note in notes)
    assert any("'B'" in note and "line 5" in note and "line 3" in note for note in notes)
    out = tmp_path / "r.jsonl"
    assert run_batch(tasks, out, workers=1).judged == 4
    rows = read_results(out)
    assert sorted((Path(r["path"]).name, r["id"] or "") for r in rows) == sorted(
        (Path(t.path).name, t.id or "") for t in tasks)
    again = run_batch(collect_tasks([manifest], warn=notes.append), out, workers=1)
    assert (again.judged, again.skipped) == (0, 4)
    assert len(read_results(out)) == 4


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_manifest_reads_standard_csv_quoting_with_any_delimiter(tmp_path, delimiter):
    d = delimiter
    manifest = tmp_path / "daftar.csv"
    manifest.write_text(f'path{d}id{d}birth_year\n'
                        f'"a{d}b.jpg"{d}"say ""hi"""{d}1961\n'
                        f'c.jpg{d}"K{d}""2"""{d}1990\n'
                        f'"multi\nline.jpg"{d}K3{d}2001\n', encoding="utf-8")
    tasks = collect_tasks([manifest])
    assert [(t.path, t.id, t.birth_year) for t in tasks] == [
        (f"a{d}b.jpg", 'say "hi"', "1961"), ("c.jpg", f'K{d}"2"', "1990"),
        ("multi\nline.jpg", "K3", "2001")]


def test_csv_output_escapes_formulas_and_reads_them_back(archive_dir, tmp_path):
    from photocheck import report

    ids = ['=HYPERLINK("http://x.example/","klik")', "+62812", "-1", "@SUM(A1)", "\tTAB",
           "\rCR", "'=quoted", "'plain", "K-1"]
    (photo,) = collect_tasks([archive_dir / "sharp.jpg"])
    tasks = [dataclasses.replace(photo, key=f"{photo.key}#id={id}", id=id) for id in ids]
    for suffix in (".csv", ".jsonl"):
        run_batch(tasks, tmp_path / f"r{suffix}", workers=1)
        assert sorted(r["id"] for r in read_results(tmp_path / f"r{suffix}")) == sorted(ids)
    with open(tmp_path / "r.csv", newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    written = {record["id"] for record in records}
    assert written == {"'" + id for id in ids if id not in ("'plain", "K-1")} | {"'plain", "K-1"}
    for record in records:
        for column, cell in record.items():
            assert not cell[:1] in ("=", "+", "@", "\t", "\r") or column.startswith("m_"), cell
            assert not (cell.startswith("-") and not column.startswith("m_")), (column, cell)
    raw = {row["id"] for row in map(json.loads, (tmp_path / "r.jsonl").read_text().splitlines())}
    assert raw == set(ids)  # JSONL stays raw
    assert sorted(row["id"] for row in report.read_results(tmp_path / "r.csv")) == sorted(ids)


def test_missing_inputs(tmp_path):
    (task,) = collect_tasks([str(tmp_path / "gone.jpg")])  # an error row, like `check`
    assert task.key == str(tmp_path / "gone.jpg")
    with pytest.raises(BatchError, match="no such file"):
        collect_tasks([str(tmp_path / "gone.zip")])
    notes = []
    assert collect_tasks([str(tmp_path / "*.jpg")], warn=notes.append) == []
    assert notes and "No image files in" in notes[0]


# --------------------------------------------------------------------------------------------
# Judging and output formats


def test_judge_chunk_rows_and_bad_files(archive_dir, tmp_path):
    tasks = collect_tasks([archive_dir, tmp_path / "gone.jpg"])
    rows = judge_chunk(tasks, None, "quality")
    assert [r["key"] for r in rows] == [t.key for t in tasks]
    named = {Path(r["key"]).name: r for r in rows}
    for row in rows:
        assert_valid(row)
        if row["sha256"]:
            assert row["sha256"] == hashlib.sha256(Path(row["key"]).read_bytes()).hexdigest()
    for name in BROKEN:
        assert named[name]["decision"] == "error"
    assert named["empty.jpg"]["error_code"] == "empty"
    assert named["notes.jpg"]["error_code"] == "not_an_image"
    assert named["gone.jpg"]["error_code"] == "file_not_found"
    assert named["gone.jpg"]["sha256"] == ""
    assert named["flat.png"]["reasons"] == ["no_face"]
    assert named["sharp.jpg"]["face_box"] and len(named["sharp.jpg"]["face_box"]) == 4
    assert named["blurred.jpg"]["decision"] == "eligible"
    assert "blurry" in named["blurred.jpg"]["reasons"]


def test_formats_round_trip_to_the_same_rows(archive_dir, tmp_path):
    tasks = collect_tasks([archive_dir, tmp_path / "gone.jpg"])
    reference = by_key(judge_chunk(tasks, None, "quality"))
    for suffix in (".jsonl", ".csv", ".parquet"):
        out = tmp_path / f"results{suffix}"
        summary = run_batch(tasks, out, workers=1)
        assert (summary.judged, summary.skipped, summary.interrupted) == (len(tasks), 0, False)
        assert by_key(read_results(out)) == reference, suffix
    assert not (tmp_path / "results.parquet.parts").exists()
    header = (tmp_path / "results.csv").read_text().splitlines()[0]
    assert header.split(",") == list(CSV_COLUMNS)
    assert header.count("m_") == len(MEASURES)
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(tmp_path / "results.parquet")
    assert table.schema.field("measures").type.num_fields == len(MEASURES)
    assert str(table.schema.field("reasons").type.value_type) == "string"


def test_summary_counts_decisions_and_reasons(archive_dir, tmp_path):
    tasks = collect_tasks([archive_dir])
    summary = run_batch(tasks, tmp_path / "r.jsonl", workers=1)
    assert sum(summary.decisions.values()) == len(tasks)
    assert summary.decisions["error"] == len(BROKEN)
    assert summary.reasons["no_face"] >= 1 and summary.reasons["blurry"] >= 1


# --------------------------------------------------------------------------------------------
# Resume


def test_resume_skips_done_inputs_and_rejudges_changed_bytes(archive_dir, tmp_path, photos):
    out = tmp_path / "r.csv"
    tasks = collect_tasks([archive_dir, tmp_path / "gone.jpg"])
    first = run_batch(tasks, out, workers=1)
    assert first.judged == len(tasks)

    again = run_batch(tasks, out, workers=1)  # the missing file is still missing: done
    assert (again.judged, again.skipped) == (0, len(tasks))

    changed = archive_dir / "sharp.jpg"
    changed.write_bytes(photos["blurred.jpg"])
    third = run_batch(tasks, out, workers=1)
    assert (third.judged, third.skipped) == (1, len(tasks) - 1)
    rows = by_key(read_results(out))  # compacted: the changed file's old row is gone
    assert len(rows) == len(tasks)
    row = rows[str(changed)]
    assert row["sha256"] == hashlib.sha256(photos["blurred.jpg"]).hexdigest()
    assert row["decision"] == "eligible"


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_torn_last_line_is_truncated_before_appending(archive_dir, tmp_path, suffix):
    out = tmp_path / f"r{suffix}"
    tasks = collect_tasks([archive_dir])
    run_batch(tasks[:3], out, workers=1)
    whole = out.read_bytes()
    last_line = whole.splitlines(keepends=True)[-1]
    out.write_bytes(whole[: -len(last_line)] + last_line[: len(last_line) // 2])  # SIGKILL
    assert len(read_results(out)) == 2
    summary = run_batch(tasks, out, workers=1)
    assert (summary.skipped, summary.judged) == (2, len(tasks) - 2)
    rows = by_key(read_results(out))
    assert set(rows) == {t.key for t in tasks}
    for row in rows.values():
        assert_valid(row)


def test_torn_csv_header_and_foreign_files(archive_dir, tmp_path):
    tasks = collect_tasks([archive_dir])[:2]
    out = tmp_path / "r.csv"
    out.write_bytes(b"key,path,i")  # killed while writing the header
    run_batch(tasks, out, workers=1)
    assert len(read_results(out)) == 2
    foreign = tmp_path / "mine.jsonl"
    foreign.write_text('{"name": "not a result"}\n')
    with pytest.raises(BatchError, match="not a photocheck batch row"):
        run_batch(tasks, foreign, workers=1)
    assert foreign.read_text() == '{"name": "not a result"}\n'


def test_resume_refuses_another_policy_or_reason(archive_dir, tmp_path):
    tasks = collect_tasks([archive_dir])[:2]
    out = tmp_path / "r.jsonl"
    run_batch(tasks, out, workers=1)
    with pytest.raises(BatchError, match="same --policy and --reason"):
        run_batch(tasks, out, workers=1, reason="hijab")


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_two_runs_cannot_write_one_output(archive_dir, tmp_path, suffix):
    out = tmp_path / f"r{suffix}"
    running = batch.open_output(out)
    running.load()
    try:
        with pytest.raises(BatchError, match="Another photocheck batch"):
            run_batch(collect_tasks([archive_dir])[:1], out, workers=1)
        running.append(judge_chunk(collect_tasks([archive_dir])[:1], None, "quality"))
    finally:
        running.close()
    assert len(read_results(out)) == 1


def test_parquet_parts_of_a_killed_run_are_resumed(archive_dir, tmp_path):
    tasks = collect_tasks([archive_dir])
    out = tmp_path / "r.parquet"
    run_batch(tasks[:2], out, workers=1)
    # A killed run: RESULTS from before, two parts written, one part caught mid-write.
    output = batch.open_output(out)
    output.load()
    output.append(judge_chunk(tasks[2:4], None, "quality"))
    output.append(judge_chunk(tasks[0:3], None, "quality"))  # again: all of RESULTS superseded
    output.close()
    (output.parts / "part-000003.parquet.tmp").write_bytes(b"PAR1 half")
    summary = run_batch(tasks, out, workers=1)
    assert (summary.skipped, summary.judged) == (4, len(tasks) - 4)
    assert set(by_key(read_results(out))) == {t.key for t in tasks}
    assert not output.parts.exists()


# --------------------------------------------------------------------------------------------
# Worker processes


def test_one_and_two_workers_give_the_same_decisions(archive_dir, tmp_path):
    tasks = collect_tasks([archive_dir])
    run_batch(tasks, tmp_path / "one.jsonl", workers=1)
    run_batch(tasks, tmp_path / "two.jsonl", workers=2, chunk_size=2)
    one = by_key(read_results(tmp_path / "one.jsonl"))
    two = by_key(read_results(tmp_path / "two.jsonl"))
    assert one.keys() == two.keys() == {t.key for t in tasks}
    for key in one:
        assert (one[key]["decision"], one[key]["reasons"], one[key]["sha256"]) == \
               (two[key]["decision"], two[key]["reasons"], two[key]["sha256"])
        assert one[key]["measures"] == pytest.approx(two[key]["measures"], nan_ok=True)


def test_an_input_that_kills_its_worker_becomes_an_error_row(archive_dir, tmp_path,
                                                               monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))  # spawned workers inherit it
    from crashing_task import CrashingTask

    files = image_files(archive_dir)
    tasks = [CrashingTask(key=str(p) + ("#crash" if i == 2 else ""), path=str(p), file=str(p))
             for i, p in enumerate(files)]
    summary = run_batch(tasks, tmp_path / "r.jsonl", workers=2, chunk_size=3)
    rows = by_key(read_results(tmp_path / "r.jsonl"))
    assert summary.judged == len(rows) == len(tasks)
    crashed = rows[tasks[2].key]
    assert (crashed["decision"], crashed["error_code"]) == ("error", "internal")
    assert "worker process died" in crashed["error_message"]
    assert crashed["sha256"] == hashlib.sha256(files[2].read_bytes()).hexdigest()
    assert all(r["error_code"] != "internal" for k, r in rows.items() if k != tasks[2].key)


def test_a_chunk_submitted_to_a_pool_that_just_broke_is_run_again(archive_dir, tmp_path,
                                                                   monkeypatch):
    """The race CI once hit: a worker dies between the last wait and the next submit."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    from concurrent.futures import ProcessPoolExecutor

    from crashing_task import CrashingTask

    files = image_files(archive_dir)
    tasks = [CrashingTask(key=str(p) + ("#crash" if i == 0 else ""), path=str(p), file=str(p))
             for i, p in enumerate(files)]
    original_submit = ProcessPoolExecutor.submit
    submitted_crash = held_once = False

    def submit_after_the_pool_broke(self, fn, chunk, *args):
        nonlocal submitted_crash, held_once
        if submitted_crash and not held_once:  # hold one submit until the crash broke the pool
            held_once = True
            deadline = time.monotonic() + 60
            while not self._broken and time.monotonic() < deadline:
                time.sleep(0.01)
            assert self._broken, "the crashing worker never broke the pool"
        submitted_crash = any(t.key.endswith("#crash") for t in chunk)
        return original_submit(self, fn, chunk, *args)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", submit_after_the_pool_broke)
    summary = run_batch(tasks, tmp_path / "r.jsonl", workers=2, chunk_size=2)
    rows = by_key(read_results(tmp_path / "r.jsonl"))
    assert summary.judged == len(rows) == len(tasks)
    assert rows[tasks[0].key]["error_code"] == "internal"
    assert all(r["error_code"] != "internal" for k, r in rows.items() if k != tasks[0].key)


def test_engine_refuses_fork():
    with pytest.raises(ValueError, match="fork"):
        LocalEngine(2, start_method="fork")


# --------------------------------------------------------------------------------------------
# The command: exit codes, SIGKILL + resume, Ctrl-C


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_cli_summary_and_exit_codes(archive_dir, tmp_path):
    result = run("batch", str(archive_dir), "--out", str(tmp_path / "r.jsonl"), "--workers", "1",
                 "--lang", "en")
    assert result.exit_code == 0, result.output  # error rows are results, not failures
    assert "judging" in result.output and "img/s" in result.output  # the progress bar
    assert f"{len(image_files(archive_dir))} judged now" in result.output
    assert "rows are inputs that could not be judged" in result.output
    assert run("batch", str(archive_dir), "--out", str(tmp_path / "r.txt")).exit_code == 2
    assert run("batch", str(tmp_path / "nothing-*.jpg"), "--out",
               str(tmp_path / "x.jsonl")).exit_code == 2
    assert run("batch", str(archive_dir), "--out", str(tmp_path / "r.jsonl"),
               "--reason", "hijab").exit_code == 2


def test_cli_exit_1_when_the_models_cannot_be_loaded(archive_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTOCHECK_MODELS", str(tmp_path / "no-models"))
    out = tmp_path / "r.parquet"
    result = run("batch", str(archive_dir), "--out", str(out), "--workers", "1",
                 "--policy", "replacement", "--no-progress", "--lang", "en")  # a policy no
    # checker here has
    assert result.exit_code == 1
    assert "rerun the same command to resume" in result.output
    assert read_results(out) == [] and not (tmp_path / "r.parquet.parts").exists()


@pytest.fixture(scope="module")
def sixty(tmp_path_factory, portrait) -> Path:
    """60 distinct portraits (brightness steps and shifts), 400x532 px."""
    folder = tmp_path_factory.mktemp("sixty")
    rgb = portrait(face_width=200).rgb
    for index in range(60):
        variant = degrade.exposure(np.roll(rgb, index % 7, axis=1), gain=0.85 + 0.005 * index)
        (folder / f"{index:02d}.jpg").write_bytes(jpeg(variant))
    return folder


def start_batch(folder: Path, out: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "photocheck", "batch", str(folder), "--out", str(out),
               "--workers", "2", "--chunk-size", "4", "--no-progress", "--lang", "en", *extra]
    return subprocess.Popen(command, cwd=out.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_as_from_a_terminal)


def _as_from_a_terminal() -> None:
    """Ctrl-C's default action, as under a terminal: a test run started in the background by a
    non-interactive shell inherits SIGINT ignored, and so would the batch."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for_rows(out: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 4:
            return
        time.sleep(0.005)
    raise AssertionError(f"no rows appeared (exit {process.poll()})")


def test_sigkill_mid_run_then_resume_gives_every_input_exactly_once(sixty, tmp_path):
    out = tmp_path / "r.jsonl"
    process = start_batch(sixty, out)
    wait_for_rows(out, process)
    process.kill()  # SIGKILL: no cleanup at all
    process.communicate()
    written = out.read_bytes().count(b"\n")
    assert 0 < written < 60, "the run was not stopped mid-way"

    resumed = start_batch(sixty, out)
    _, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["path"] for r in rows) == sorted(str(p) for p in sixty.glob("*.jpg"))
    for row in rows:
        assert_valid(row)
        assert row["decision"] != "error"
    assert f"{60 - written} judged now, {written} already done" in stderr


def test_ctrl_c_stops_with_exit_130_and_a_valid_output(sixty, tmp_path):
    out = tmp_path / "r.jsonl"
    process = start_batch(sixty, out)
    wait_for_rows(out, process)
    os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "run the same command again to finish" in stderr
    assert "Traceback" not in stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert 0 < len(rows) < 60
    by_key(rows)
    for row in rows:
        assert_valid(row)


def test_fsspec_urls_of_a_folder_a_glob_and_a_file(archive_dir, tmp_path, photos):
    pytest.importorskip("fsspec")
    folder_url = archive_dir.as_uri()
    tasks = collect_tasks([folder_url])
    expected = [p.as_uri() for p in image_files(archive_dir)]
    assert sorted(task.key for task in tasks) == sorted(expected)
    assert all(task.kind == "url" and task.path == task.key for task in tasks)
    assert {t.key for t in collect_tasks([folder_url + "/sub/*.jpg"])} == {
        p.as_uri() for p in image_files(archive_dir / "sub") if p.suffix == ".jpg"}

    out = tmp_path / "urls.jsonl"
    missing = folder_url + "/gone.jpg"
    run_batch(collect_tasks([folder_url, missing]), out, workers=1)
    rows = by_key(read_results(out))
    local = by_key(read_results(_local_run(archive_dir, tmp_path)))
    for path in image_files(archive_dir):
        url_row, local_row = rows[path.as_uri()], local[str(path)]
        assert (url_row["decision"], url_row["sha256"], url_row["error_code"]) == (
            local_row["decision"], local_row["sha256"], local_row["error_code"])
    assert (rows[missing]["decision"], rows[missing]["error_code"]) == ("error", "file_not_found")
    again = run_batch(collect_tasks([folder_url, missing]), out, workers=1)
    # resumed by URL and SHA-256 (the missing file is still missing: its row stands)
    assert (again.skipped, again.judged) == (len(expected) + 1, 0)


def _local_run(folder: Path, tmp_path: Path) -> Path:
    out = tmp_path / "local.jsonl"
    run_batch(collect_tasks([folder]), out, workers=1)
    return out


def test_a_url_that_cannot_be_listed_is_a_usage_error():
    pytest.importorskip("fsspec")
    with pytest.raises(BatchError, match="nosuchprotocol://"):
        collect_tasks(["nosuchprotocol://bucket/arsip/"])


def test_manifest_birth_years_reach_the_capture_policy(tmp_path):
    photo = Path(__file__).resolve().parent.parent / "samples" / "capture" / "grace_hopper_blue.jpg"
    ids = ("even", "odd", "typo", "unknown", "superscript")
    for name in ids:
        shutil.copyfile(photo, tmp_path / f"{name}.jpg")
    manifest = tmp_path / "daftar.csv"
    manifest.write_text("path,id,birth_year\n" + "".join(
        f"{name}.jpg,{name},{year}\n"
        for name, year in zip(ids, ("1990", "1991", "19x0", "", "\u00b2"))), encoding="utf-8")
    tasks = collect_tasks([manifest])
    out = tmp_path / "capture.jsonl"
    run_batch(tasks, out, workers=1, policy="capture")
    rows = {row["id"]: row for row in read_results(out)}
    assert (rows["even"]["decision"], rows["even"]["birth_year"]) == ("accepted", "1990")
    assert rows["odd"]["decision"] == "rejected"
    assert rows["odd"]["reasons"] == ["background_colour_mismatch"]
    assert (rows["typo"]["decision"], rows["typo"]["error_code"]) == ("error", "invalid_argument")
    # A Unicode digit passes str.isdigit but is no year: a clear error, not an internal one.
    assert rows["superscript"]["error_code"] == "invalid_argument"
    assert rows["unknown"]["reasons"] == ["birth_year_missing"]
