"""Tests for the Dask engine (photocheck.batch.dask_engine and ``photocheck batch --engine dask``).

One LocalCluster of two single-threaded worker processes is started for the module (a few
seconds: each worker loads the models once); the CLI test connects to it with ``--scheduler``.
Inputs are variants of matplotlib's portrait of Grace Hopper (conftest ``portrait``) and a
corrupt file.
"""

from __future__ import annotations

import dataclasses
import io
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from photocheck.evaluation.synth import degrade
from photocheck.batch import BatchError, LocalEngine, collect_tasks, read_results, run_batch
from photocheck.cli import app
from photocheck.limits import Limits

pytest.importorskip("matplotlib.cbook")
pytest.importorskip("distributed")

from photocheck.batch.dask_engine import DaskEngine  # noqa: E402

COMPARED = ("key", "path", "sha256", "decision", "reasons", "error_code", "policy",
            "request_reason")


def _jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory, portrait):
    """~20 variants (sharp, blurred, dark, bright, shifted, low quality) and a corrupt JPEG."""
    rgb = portrait(face_width=120).rgb
    folder = tmp_path_factory.mktemp("dask") / "arsip"
    folder.mkdir()
    variants = {"sharp": rgb, "flat": np.full((320, 240, 3), 128, np.uint8)}
    for sigma in (1.0, 2.0, 3.0, 4.5):
        variants[f"blur{sigma}"] = degrade.gaussian_blur(rgb, sigma, face_width=120)
    for gain in (0.3, 0.5, 0.8, 1.6, 2.5):
        variants[f"gain{gain}"] = degrade.exposure(rgb, gain=gain)
    for shift in (8, 40, 90):
        variants[f"shift{shift}"] = np.roll(rgb, shift, axis=1)
    for name, image in list(variants.items())[:5]:
        (folder / f"{name}_q35.jpg").write_bytes(_jpeg(image, 35))
    for name, image in variants.items():
        (folder / f"{name}.jpg").write_bytes(_jpeg(image))
    sharp = (folder / "sharp.jpg").read_bytes()
    (folder / "corrupt.jpg").write_bytes(sharp[: len(sharp) // 3])
    return folder


@pytest.fixture(scope="module")
def expected(photo_dir, tmp_path_factory) -> dict[str, dict]:
    """Rows of the local engine (judged in this process), by key."""
    out = tmp_path_factory.mktemp("local") / "local.jsonl"
    run_batch(collect_tasks([photo_dir]), out, engine=LocalEngine(1))
    return {row["key"]: row for row in read_results(out)}


@pytest.fixture(scope="module")
def engine():
    with DaskEngine(workers=2) as started:
        yield started


def _same(rows: list[dict], expected: dict[str, dict]) -> None:
    keys = [row["key"] for row in rows]
    assert len(keys) == len(set(keys)) == len(expected)  # every input exactly once
    assert set(keys) == set(expected)
    for row in rows:
        want = expected[row["key"]]
        assert {name: row[name] for name in COMPARED} == {name: want[name] for name in COMPARED}
        assert row["measures"].keys() == want["measures"].keys()
        for name, value in row["measures"].items():
            wanted = want["measures"][name]
            if wanted is None or value is None:
                assert value is wanted, name
            else:
                assert value == pytest.approx(wanted, rel=1e-6, abs=1e-9, nan_ok=True), name


def test_dask_engine_matches_local(engine, photo_dir, expected, tmp_path):
    tasks = collect_tasks([photo_dir])
    assert len(tasks) >= 20
    out = tmp_path / "dask.jsonl"
    summary = run_batch(tasks, out, engine=engine, chunk_size=3)
    assert (summary.total, summary.judged, summary.skipped) == (len(tasks), len(tasks), 0)
    rows = read_results(out)
    _same(rows, expected)
    corrupt = [row for row in rows if row["path"].endswith("corrupt.jpg")]
    assert len(corrupt) == 1
    assert corrupt[0]["decision"] == "error" and corrupt[0]["error_code"]
    assert {row["decision"] for row in rows} >= {"eligible", "not_eligible", "error"}


def test_dask_engine_resume_skips_done(engine, photo_dir, expected, tmp_path):
    tasks = collect_tasks([photo_dir])
    out = tmp_path / "resume.csv"
    first = run_batch(tasks[:8], out, engine=engine)
    assert first.judged == 8
    second = run_batch(tasks, out, engine=engine)
    assert (second.skipped, second.judged) == (8, len(tasks) - 8)
    _same(read_results(out), expected)
    third = run_batch(tasks, out, engine=engine)
    assert (third.skipped, third.judged) == (len(tasks), 0)


def test_dask_workers_apply_the_limits_of_the_run(engine, photo_dir, tmp_path):
    tasks = collect_tasks([photo_dir])[:4]
    tiny = dataclasses.replace(Limits.load(), max_image_bytes=1000)  # every photo is larger
    run_batch(tasks, tmp_path / "tiny.jsonl", engine=engine, limits=tiny)
    rows = read_results(tmp_path / "tiny.jsonl")
    assert len(rows) == 4
    assert {(row["decision"], row["error_code"]) for row in rows} == {("error", "too_large")}


def test_closing_early_cancels_and_engine_stays_usable(engine, photo_dir):
    tasks = collect_tasks([photo_dir])
    chunks = [[task] for task in tasks]
    results = engine.map_chunks(iter(chunks), None, "quality")
    assert len(next(results)) == 1
    results.close()
    assert not engine._futures  # nothing left outstanding
    rows = [row for chunk in engine.map_chunks(chunks[:3], None, "quality") for row in chunk]
    assert sorted(row["key"] for row in rows) == sorted(task.key for task in tasks[:3])


def test_cli_scheduler_connects_to_existing_cluster(engine, photo_dir, expected, tmp_path):
    address = engine.client.scheduler.address
    out = tmp_path / "cli.jsonl"
    result = CliRunner().invoke(app, ["batch", str(photo_dir), "--out", str(out),
                                      "--scheduler", address, "--no-progress"])
    assert result.exit_code == 0, result.output
    _same(read_results(out), expected)
    # the existing cluster keeps running after the command closed its client
    assert engine.client.submit(sum, [1, 2], pure=False).result() == 3


def test_cli_workers_with_scheduler_is_usage_error(tmp_path, photo_dir):
    result = CliRunner().invoke(app, ["batch", str(photo_dir), "--out", str(tmp_path / "x.jsonl"),
                                      "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"])
    assert result.exit_code == 2
    assert "--workers" in result.output


def test_cli_without_dask_names_the_extra(monkeypatch, tmp_path, photo_dir):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    with pytest.raises(BatchError, match=r"photocheck\[dask\]"):
        DaskEngine()
    result = CliRunner().invoke(app, ["batch", str(photo_dir), "--out", str(tmp_path / "x.jsonl"),
                                      "--engine", "dask"])
    assert result.exit_code == 2
    text = " ".join(re.sub("[│╭╮╰╯─]", " ", result.output).split())  # unwrap the error box
    assert "pip install 'photocheck[dask]'" in text
    assert not (tmp_path / "x.jsonl").exists()


def test_an_input_that_kills_its_dask_worker_becomes_an_error_row(photo_dir, tmp_path,
                                                                  monkeypatch):
    module = Path(__file__).parent / "crashing_task.py"
    monkeypatch.syspath_prepend(str(module.parent))
    from crashing_task import CrashingTask

    files = sorted(photo_dir.glob("*.jpg"))[:7]
    tasks = [CrashingTask(key=str(p) + ("#crash" if i == 3 else ""), path=str(p), file=str(p))
             for i, p in enumerate(files)]
    with DaskEngine(workers=2) as own:  # its workers get killed: not the shared cluster
        own.client.upload_file(str(module))
        summary = run_batch(tasks, tmp_path / "r.jsonl", engine=own, chunk_size=3)
    rows = {row["key"]: row for row in read_results(tmp_path / "r.jsonl")}
    assert summary.judged == len(rows) == len(tasks)
    crashed = rows[tasks[3].key]
    assert (crashed["decision"], crashed["error_code"]) == ("error", "internal")
    assert "worker process died" in crashed["error_message"]
    others = [row for key, row in rows.items() if key != tasks[3].key]
    assert [row["error_message"] for row in others if row["error_code"] == "internal"] == []
