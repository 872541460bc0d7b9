"""Fairness of face visibility: clear portraits with a hijab, glasses or dark skin must not be
judged "face not clearly visible", at any face size or JPEG quality, any more than others.

Every clear (not_eligible) portrait of ``data/real`` and every portrait of ``data/portraits``,
tagged hijab, glasses or dark_skin, and the untagged ones for comparison, is framed like a KTP
photo at face widths 110, 140, 180 and 220 px and saved as JPEG at quality 70, 80 and 95 (12
versions each); each version is checked with the shipped policy. Printed per tag: versions,
share with a visibility finding (``face_occluded``, eligible or review) with its Wilson 95 %
interval, share judged eligible, and the portraits with a finding.

Target (issue 10): visibility findings on <= 1 % of each tag's versions and no more than on the
untagged faces.

    python benchmarks/visibility_fairness.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import io
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from photocheck.detect import FaceFinder
from photocheck.evaluation.synth import degrade
from photocheck.evaluation.score import wilson
from photocheck.pipeline import Checker

TAGS = ("hijab", "glasses", "dark_skin")
WIDTHS = (110, 140, 180, 220)
QUALITIES = (70, 80, 95)
VISIBILITY = "face_occluded"


def portraits(shared: Path) -> list[tuple[Path, tuple[str, ...]]]:
    """(path, tags) of the clear portraits of both folders (tags normalised: dark -> dark_skin
    is not assumed; only the folders' own tags count)."""
    out = []
    real = shared / "real" / "labels.csv"
    if real.is_file():
        with real.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                tags = tuple(t for t in row["tags"].split(";") if t)
                if row["label"] == "not_eligible" and "lowres" not in tags:
                    out.append((real.parent / row["file"], tags))
    manifest = shared / "portraits" / "MANIFEST.csv"
    if manifest.is_file():
        with manifest.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                tags = tuple(t for t in row["tags"].split(";") if t)
                if row["file"].startswith("dev_p") and "noface" not in tags:
                    out.append((manifest.parent / row["file"], tags))
    return out


def versions(rgb: np.ndarray, finder: FaceFinder):
    """The portrait framed at every width and quality, as JPEG bytes."""
    faces = finder.detect(rgb)
    if not faces:
        return
    face = faces[0]
    eye_y = float(face.keypoints[:2, 1].mean())
    for width in WIDTHS:
        framed, _ = degrade.normalise_portrait(rgb, face.box, face_width=width, eye_y=eye_y)
        for quality in QUALITIES:
            buffer = io.BytesIO()
            Image.fromarray(framed).save(buffer, "JPEG", quality=quality)
            yield width, quality, buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    found = portraits(args.shared)
    if not found:
        raise SystemExit(f"no portraits under {args.shared}")
    counts = defaultdict(lambda: [0, 0, 0])  # tag -> versions, with finding, eligible
    flagged = defaultdict(set)
    with Checker() as checker, FaceFinder.create_from_options() as finder:
        for path, tags in found:
            groups = [t for t in TAGS if t in tags] or (["untagged"] if not tags else [])
            if not groups:
                continue
            rgb = np.asarray(Image.open(path).convert("RGB"))
            for width, quality, data in versions(rgb, finder):
                result = checker.check(data)
                finding = any(f.reason.value == VISIBILITY for f in result.findings)
                for group in groups:
                    counts[group][0] += 1
                    counts[group][1] += finding
                    counts[group][2] += result.decision.value == "eligible"
                    if finding:
                        flagged[group].add(path.name)
    print(f"{'tag':10} {'versions':>8} {'visibility finding':>20} {'95 % CI':>14} "
          f"{'eligible':>9}  portraits with a finding")
    for group in (*TAGS, "untagged"):
        n, hits, eligible = counts[group]
        if not n:
            continue
        low, high = wilson(hits, n)
        print(f"{group:10} {n:8d} {hits:8d} ({100 * hits / n:5.1f} %) "
              f"{100 * low:5.1f}-{100 * high:4.1f} % {eligible:9d}  "
              f"{', '.join(sorted(flagged[group])) or '-'}")


if __name__ == "__main__":
    main()
