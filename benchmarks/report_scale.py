"""`photocheck report` at archive scale: generation time, file size, peak memory, and how fast
the report opens in Chromium.

    python benchmarks/report_scale.py [--rows 300000] [--chromium /usr/bin/chromium]

Writes a synthetic results file of ``--rows`` batch rows (JSON Lines, the columns of
``photocheck batch``) in a temporary folder: 70 % not eligible, 15 % eligible, 10 % review,
5 % errors (a fifth of them files that are not images), measures drawn at random with a fixed
seed, every photo's path pointing at one of the project's ``samples/`` images (so the gallery
has real thumbnails to decode) under a distinct id, and 500 groups of 2-4 rows sharing a SHA-256
(identical photos under different ids). Then, in a fresh process, ``write_report`` on it:

* generation time (wall clock), the report's size, and the process's peak RSS (ru_maxrss);
* in headless Chromium (Debian's ``chromium`` with the ``playwright`` package; skipped without
  them): the page's load event and the first paint after it (two animation frames), from
  navigation start, and the page's height in CSS px (bounded whatever the row count).

Target: load event + first rendered page <= 3 s for 300,000 rows. Quote the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "samples").glob("*.jpg"))
TARGET_S = 3.0


def write_rows(path: Path, rows: int, seed: int = 1) -> None:
    """``rows`` synthetic batch rows as JSON Lines."""
    rng = random.Random(seed)
    shared = [f"{rng.getrandbits(256):064x}" for _ in range(500)]
    with open(path, "w", encoding="utf-8") as out:
        for k in range(rows):
            draw = rng.random()
            digest = (shared[k % 500] if k < 500 * 3 and k % 3 else f"{rng.getrandbits(256):064x}")
            row = {"key": f"k{k}", "path": str(SAMPLES[k % len(SAMPLES)]), "id": f"{k:07d}",
                   "birth_year": None, "sha256": digest, "error": None,
                   "policy": "replacement", "policy_version": "2026.11.5", "version": "0.1.0"}
            if draw < 0.05:
                code = "not_an_image" if draw < 0.01 else "corrupt"
                row.update(decision="error", reasons=[], measures={}, face_box=None,
                           error_code=code, error_message=f"{code} (synthetic)")
            else:
                blur = rng.uniform(1.1, 4.0)
                decision, reasons = (("eligible", ["blurry"]) if draw < 0.20 else
                                     ("review", ["blurry"]) if draw < 0.30 else
                                     ("not_eligible", ["clear_photo"]))
                row.update(decision=decision, reasons=reasons, face_box=[80, 90, 160, 160],
                           measures={"edge_blur_px": blur, "edge_blur_max_px": blur + 0.2,
                                     "laplacian_variance": rng.lognormvariate(4, 1),
                                     "face_brightness": rng.uniform(60, 200),
                                     "face_contrast": rng.uniform(40, 200),
                                     "detection_confidence": rng.uniform(0.6, 1.0)})
            out.write(json.dumps(row) + "\n")


GENERATE = """
import json, resource, sys, time
from pathlib import Path
from photocheck.report import write_report
started = time.perf_counter()
written = write_report(Path(sys.argv[1]), Path(sys.argv[2]))
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_rss_mb": resource.getrusage(
    resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def open_in_chromium(html: Path, chromium: Path) -> dict | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not chromium.is_file():
        return None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(html.as_uri(), wait_until="load", timeout=60_000)
        timing = page.evaluate("""() => new Promise(resolve => {
            requestAnimationFrame(() => requestAnimationFrame(() => {
                const nav = performance.getEntriesByType("navigation")[0];
                resolve({load_ms: nav.loadEventEnd, rendered_ms: performance.now(),
                         height_px: document.documentElement.scrollHeight,
                         detail_pages: document.querySelectorAll("tbody.page").length,
                         shown_rows: document.querySelectorAll("tbody.page.shown > tr").length});
            }));
        })""")
        browser.close()
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--chromium", type=Path,
                        default=Path(os.environ.get("PHOTOCHECK_CHROMIUM", "/usr/bin/chromium")))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results, html = Path(folder) / "hasil.jsonl", Path(folder) / "laporan.html"
        started = time.perf_counter()
        write_rows(results, args.rows)
        print(f"{args.rows:,} rows written in {time.perf_counter() - started:.1f} s "
              f"({results.stat().st_size / 2**20:.0f} MiB of JSON Lines)")
        run = subprocess.run([sys.executable, "-c", GENERATE, str(results), str(html)],
                             capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        figures = json.loads(run.stdout.strip().splitlines()[-1])
        print(f"report generated in {figures['seconds']:.1f} s, "
              f"{html.stat().st_size / 2**20:.2f} MiB, peak RSS {figures['peak_rss_mb']:.0f} MB")
        timing = open_in_chromium(html, args.chromium)
        if timing is None:
            print("Chromium or playwright missing: page load not measured")
            return
        total_s = timing["rendered_ms"] / 1000
        print(f"Chromium: load event {timing['load_ms']:.0f} ms, first page rendered "
              f"{timing['rendered_ms']:.0f} ms after navigation start "
              f"({'within' if total_s <= TARGET_S else 'OVER'} the {TARGET_S:.0f} s target); "
              f"page height {timing['height_px']:,} px, detail table {timing['detail_pages']} "
              f"pages of which one shown ({timing['shown_rows']} rows)")


if __name__ == "__main__":
    main()
