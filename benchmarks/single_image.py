"""Warm single-image latency and cold start of `photocheck check`, printed as a table.

    python benchmarks/single_image.py [--repeat 300] [--all-cores] [--policy NAME|PATH]
                                      [--portrait JPEG]

Input: a 600x800 JPEG (quality 90) made from matplotlib's public-domain Grace Hopper portrait,
framed like a KTP photo (face box half the width), or the ``--portrait`` given (the same file
for runs of different code). ``--policy``: a shipped policy name or a TOML file (default: the
default policy); a policy without the feature-visibility rules never loads or runs that model,
which gives the cost of everything else. The warm figure times `Checker.check(path)`
end to end (read + decode + detect + landmarks + measures + decision) pinned to one core, and
breaks it into stages. Cold start runs the CLI in a fresh process. Numbers vary with the
machine: quote them with the machine they were taken on.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image


def make_portrait(path: Path) -> None:
    from matplotlib import cbook

    from photocheck.evaluation.synth import degrade
    from photocheck.detect import FaceFinder

    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        rgb = np.asarray(Image.open(handle).convert("RGB"))
    with FaceFinder.create_from_options() as finder:
        box = finder.detect(rgb)[0].box
    portrait, _ = degrade.normalise_portrait(rgb, box, face_width=300)
    Image.fromarray(portrait).resize((600, 800)).save(path, "JPEG", quality=90)


def timed(fn, repeat: int) -> list[float]:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def row(name: str, times: list[float]) -> str:
    p95 = float(np.percentile(times, 95))
    return f"{name:<34}{min(times):>9.2f}{statistics.median(times):>9.2f}{p95:>9.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--all-cores", action="store_true", help="do not pin to one core")
    parser.add_argument("--policy", help="shipped policy name or TOML path (default: default)")
    parser.add_argument("--portrait", type=Path, help="JPEG to check instead of the made one")
    args = parser.parse_args()
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    import photocheck
    from photocheck.context import build_context
    from photocheck.load import load_image
    from photocheck.measures import measure_all

    with tempfile.TemporaryDirectory() as tmp:
        path = args.portrait or Path(tmp) / "portrait_600x800.jpg"
        if not args.portrait:
            make_portrait(path)
        data = path.read_bytes()
        with photocheck.Checker(args.policy) as checker:
            policy = checker.policy
            proc = policy.processing
            result = checker.check(path)
            loaded = load_image(io.BytesIO(data).getvalue(), max_pixels=proc.max_pixels,
                                working_min_side=proc.working_min_side,
                                working_max_side=proc.working_max_side)
            faces = checker._finder.detect(loaded.rgb)
            ctx = build_context(loaded.rgb, faces, canonical_face_width=proc.canonical_face_width,
                                crop_margin=proc.canonical_crop_margin)
            canonical = ctx.canonical
            ctx = replace(ctx, covered=checker._finder.covered_features(canonical.rgb,
                                                                       canonical.points))
            measures = measure_all(ctx, policy.measure_params, policy.measure_names)
            stages = {
                "check(path), end to end": lambda: checker.check(path),
                "  decode (load_image)": lambda: load_image(
                    data, max_pixels=proc.max_pixels, working_min_side=proc.working_min_side,
                    working_max_side=proc.working_max_side),
                "  detect + landmarks": lambda: checker._finder.detect(loaded.rgb),
                "  canonical face context": lambda: build_context(
                    loaded.rgb, faces, canonical_face_width=proc.canonical_face_width,
                    crop_margin=proc.canonical_crop_margin),
                "  feature visibility": lambda: checker._finder.covered_features(
                    canonical.rgb, canonical.points),
                "  measures": lambda: measure_all(ctx, policy.measure_params,
                                                  policy.measure_names),
                "  decision": lambda: policy.decide(measures, has_face=True),
            }
            results = {name: timed(fn, args.repeat) for name, fn in stages.items()}

        cold = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "photocheck", "check", str(path)]
                           + (["--policy", args.policy] if args.policy else []),
                           check=True, capture_output=True)
            cold.append(time.perf_counter() - start)

    cores = "1 core (pinned)" if not args.all_cores else f"{os.cpu_count()} cores"
    print(f"photocheck {photocheck.__version__}, {args.portrait or '600x800 JPEG q90'}, "
          f"{cores}, {args.repeat} runs; policy {policy.name} (feature visibility "
          f"{'on' if policy.needs_visibility else 'off'}); decision {result.decision.value}")
    # On a shared machine the median moves by a third between runs; the minimum is the
    # repeatable cost of the code, the median and p95 what a user sees under load.
    print(f"{'stage':<34}{'min ms':>9}{'p50 ms':>9}{'p95 ms':>9}")
    for name, times in results.items():
        print(row(name, times))
    print(f"{'cold start: photocheck check (s)':<34}{min(cold):>9.2f}"
          f"{statistics.median(cold):>9.2f}{max(cold):>9.2f}  (min, median, max of 3)")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'peak RSS of this process (MB)':<34}{peak_mb:>9.0f}")


if __name__ == "__main__":
    main()
