"""Throughput of `photocheck batch` against its floor, per worker count, printed as a table.

    python benchmarks/batch_throughput.py [--images 2000] [--workers 1,2] [--repeat 1]
                                          [--chunk-size 32] [--chunk-sizes 1,8,32,128]
                                          [--policy NAME|PATH]

Input: a zip archive (stored) of N 600x800 JPEG portraits made in a temporary folder from
matplotlib's public-domain Grace Hopper portrait, framed like a KTP photo and varied (shift,
brightness, JPEG quality, every fifth blurred) so that no two files are identical. For each worker
count three things run, each in a fresh process so that nothing is warm and memory is its own:

* floor: read the member + decode (photocheck.load, the checker's working size) + face detector
  + landmarks (FaceFinder.detect), in the same spawn worker processes and chunks;
* checker: the same plus measures and decision (Checker.check), still without batch machinery;
* batch: photocheck.batch.run_batch, everything: listing, SHA-256, rows, JSONL written and fsync-ed
  per chunk, progress bookkeeping.

"img/s" is over the whole run, worker start-up (spawn, imports, models) included; "steady"
counts from the moment a tenth of the images are done (start-up left out). "peak RSS" is the
largest worker's high-water mark (VmHWM; with 1 worker everything runs in one process, which is
measured). Each figure is the best of ``--repeat`` runs: a shared VM varies by 20 % from run to
run. ``--policy`` (a shipped policy name or a TOML file, default: the default policy) is the
policy of every mode; one without the feature-visibility rules never loads or runs that model.
Quote figures with the machine they were taken on.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np
from PIL import Image


def make_archive(path: Path, count: int) -> int:
    import cv2
    from matplotlib import cbook

    from photocheck.evaluation.synth import degrade
    from photocheck.detect import FaceFinder

    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        rgb = np.asarray(Image.open(handle).convert("RGB"))
    with FaceFinder.create_from_options() as finder:
        box = finder.detect(rgb)[0].box
    framed, _ = degrade.normalise_portrait(rgb, box, face_width=330)
    base = cv2.resize(framed, (660, 880), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for index in range(count):
            dx, dy = rng.integers(0, 60, size=2)
            image = base[dy:dy + 800, dx:dx + 600].astype(np.float32) * rng.uniform(0.75, 1.15)
            image = np.clip(image, 0, 255).astype(np.uint8)
            if index % 5 == 0:
                image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(2.0, 7.0)))
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, "JPEG", quality=int(rng.integers(82, 95)))
            archive.writestr(f"ktp/{index:05d}.jpg", buffer.getvalue())
    return path.stat().st_size


# ------------------------------------------------------------------------------------------
# Worker-side functions of the floor and checker modes (one finder / checker per process)

_state: dict = {}


def _floor_chunk(tasks, policy: str | None) -> int:
    from photocheck.detect import FaceFinder, FaceFinderOptions
    from photocheck.load import load_image
    from photocheck.policy import Policy

    if "finder" not in _state:
        processing = Policy.load(policy).processing
        _state["processing"] = processing
        _state["finder"] = FaceFinder.create_from_options(FaceFinderOptions(
            min_detection_confidence=processing.min_detection_confidence,
            max_faces=processing.max_faces))
    processing, finder = _state["processing"], _state["finder"]
    for task in tasks:
        image = load_image(task.read_bytes(), max_pixels=processing.max_pixels,
                           working_min_side=processing.working_min_side,
                           working_max_side=processing.working_max_side)
        finder.detect(image.rgb)
    return len(tasks)


def _checker_chunk(tasks, policy: str | None) -> int:
    from photocheck.pipeline import Checker

    if "checker" not in _state:
        _state["checker"] = Checker(policy)
    for task in tasks:
        _state["checker"].check(task.read_bytes(), path=task.path)
    return len(tasks)


def _peak_rss_of_children() -> float:
    """Largest VmHWM (MiB) of this process's live multiprocessing children; 0 if unknown."""
    peaks = []
    for child in multiprocessing.active_children():
        try:
            for line in Path(f"/proc/{child.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            pass
    return max(peaks, default=0.0)


def _self_peak_rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


class _Clock:
    """Progress sink recording when each chunk completed."""

    def __init__(self) -> None:
        self.marks: list[tuple[float, int]] = []

    def phase(self, description: str, total: int) -> None:
        pass

    def advance(self, count: int) -> None:
        self.marks.append((time.perf_counter(), count))


def _steady_rate(marks: list[tuple[float, int]], workers: int) -> float:
    """Images per second once a tenth of the images (and a chunk per worker) are done."""
    total = sum(count for _, count in marks)
    done = 0
    for index, (when, count) in enumerate(marks):
        done += count
        if index + 1 >= workers and done >= total / 10:
            break
    if index == len(marks) - 1:
        return float("nan")
    return (total - done) / (marks[-1][0] - when)


def run_one(mode: str, archive: str, workers: int, chunk_size: int, policy: str | None
            ) -> dict:
    """One measurement, in this (fresh) process."""
    from photocheck import batch

    tasks = batch.collect_tasks([archive])
    start = time.perf_counter()
    clock = _Clock()
    rss = 0.0
    if mode == "batch":
        with tempfile.TemporaryDirectory() as folder:
            engine = batch.LocalEngine(workers)
            batch.run_batch(tasks, Path(folder) / "results.jsonl", engine=engine,
                            policy=policy, chunk_size=chunk_size, progress=clock)
            rss = _peak_rss_of_children() if workers > 1 else _self_peak_rss()
            engine.close()
    else:
        work = _floor_chunk if mode == "floor" else _checker_chunk
        chunks = [tasks[i:i + chunk_size] for i in range(0, len(tasks), chunk_size)]
        if workers == 1:
            for chunk in chunks:
                clock.advance(work(chunk, policy))
            rss = _self_peak_rss()
        else:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=context,
                                     initializer=batch._worker_init) as pool:
                pending = set()
                queue = iter(chunks)
                while True:
                    while len(pending) < 2 * workers and (chunk := next(queue, None)):
                        pending.add(pool.submit(work, chunk, policy))
                    if not pending:
                        break
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        clock.advance(future.result())
                rss = _peak_rss_of_children()
    wall = time.perf_counter() - start
    return {"mode": mode, "workers": workers, "chunk": chunk_size, "images": len(tasks),
            "wall": wall, "rate": len(tasks) / wall,
            "steady": _steady_rate(clock.marks, workers), "rss": rss}


def measure(mode: str, archive: Path, workers: int, chunk_size: int, repeat: int,
            policy: str | None) -> dict:
    """The best of ``repeat`` runs, each in a fresh process."""
    command = [sys.executable, __file__, "--_one", mode, str(archive), str(workers),
               str(chunk_size), policy or ""]
    runs = [json.loads(subprocess.run(command, capture_output=True, text=True, check=True)
                       .stdout.strip().splitlines()[-1]) for _ in range(repeat)]
    best = min(runs, key=lambda run: run["wall"])
    best["steady"] = max(run["steady"] for run in runs)
    best["rss"] = max(run["rss"] for run in runs)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--workers", default="1,2", help="worker counts, comma separated")
    parser.add_argument("--chunk-size", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    parser.add_argument("--chunk-sizes", default="",
                        help="also run batch at these chunk sizes (largest worker count)")
    parser.add_argument("--policy", help="shipped policy name or TOML path (default: default)")
    parser.add_argument("--_one", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._one:
        mode, archive, workers, chunk, policy = args._one
        print(json.dumps(run_one(mode, archive, int(workers), int(chunk), policy or None)))
        return

    counts = [int(w) for w in args.workers.split(",")]
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "portraits.zip"
        started = time.perf_counter()
        size = make_archive(archive, args.images)
        print(f"{args.images} JPEG portraits 600x800 in a zip ({size / 2**20:.0f} MiB, made in "
              f"{time.perf_counter() - started:.0f} s); {cpus} CPUs; chunk size "
              f"{args.chunk_size}; best of {args.repeat}; policy {args.policy or 'default'}; "
              f"Python {sys.version.split()[0]}")
        header = (f"{'mode':<42}{'workers':>8}{'chunk':>7}{'wall s':>9}{'img/s':>9}"
                  f"{'steady':>9}{'peak RSS MiB':>14}")
        print(header)
        print("-" * len(header))
        labels = {"floor": "floor: read + decode + detect + landmarks",
                  "checker": "checker: floor + measures + decision",
                  "batch": "batch: checker + sha256 + rows + fsync"}
        results: dict[tuple[str, int], dict] = {}

        def show(row: dict) -> None:
            print(f"{labels[row['mode']]:<42}{row['workers']:>8}{row['chunk']:>7}"
                  f"{row['wall']:>9.1f}{row['rate']:>9.1f}{row['steady']:>9.1f}"
                  f"{row['rss']:>14.0f}")

        for workers in counts:
            for mode in ("floor", "checker", "batch"):
                row = measure(mode, archive, workers, args.chunk_size, args.repeat, args.policy)
                results[mode, workers] = row
                show(row)
        for chunk in [int(c) for c in args.chunk_sizes.split(",") if c]:
            show(measure("batch", archive, max(counts), chunk, args.repeat, args.policy))
        print()
        for workers in counts:
            floor, checker, full = (results[m, workers] for m in ("floor", "checker", "batch"))
            print(f"{workers} worker(s): batch / floor time {floor['rate'] / full['rate']:.2f} "
                  f"(steady {floor['steady'] / full['steady']:.2f}); batch / checker time "
                  f"{checker['rate'] / full['rate']:.2f} (steady "
                  f"{checker['steady'] / full['steady']:.2f})")
        if len(counts) > 1:
            low, high = counts[0], counts[-1]
            speedup = results["batch", high]["rate"] / results["batch", low]["rate"]
            print(f"batch speed-up {low} -> {high} workers: {speedup:.2f}x")


if __name__ == "__main__":
    main()
