"""How well calibrated are the feature-visibility probabilities? A reliability plot and table.

Two sources of truth:

* synthetic, held out: the training record's cross-validated predictions (folds by person), on
  the occluders of ``occluders.py``;
* real photos (``data/real``), with per-feature labels read from the image tags (no one drew
  boxes): every feature of a clear portrait is visible; a mask, niqab or scarf covers nose and
  mouth; dark sunglasses cover both eyes. Photos whose tags say nothing sure (hands, objects,
  transparent masks, tinted lenses, grey labels) are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from ..visibility import FEATURES
from .score import Label
from .visibility_train import expected_calibration_error, reliability

LOWER_FACE_TAGS = frozenset({"mask", "niqab", "scarf"})
UNSURE_TAGS = frozenset({"clear_mask", "tinted", "hand", "object", "grey"})


def weak_labels(label: Label) -> dict[str, int]:
    """Per-feature covered (1) / visible (0) labels that a real photo's tags imply; features
    they say nothing sure about are absent."""
    tags = set(label.tags)
    if label.label == "not_eligible":
        return dict.fromkeys(FEATURES, 0)
    if label.label != "eligible" or label.reason_family != "face_not_visible" or \
            tags & UNSURE_TAGS:
        return {}
    out: dict[str, int] = {}
    if tags & LOWER_FACE_TAGS:
        out.update(nose=1, mouth=1)
    if "sunglasses" in tags:
        out.update(right_eye=1, left_eye=1)
    elif tags & LOWER_FACE_TAGS:
        out.update(right_eye=0, left_eye=0)
    return out


def real_pairs(labels: Iterable[Label], results: Mapping[Path, Mapping]) -> tuple[np.ndarray,
                                                                                  np.ndarray]:
    """(probabilities, labels) of every feature the tags label and the checker measured."""
    probabilities, truths = [], []
    for label in labels:
        measures = (results.get(label.path) or {}).get("measures") or {}
        for name, truth in weak_labels(label).items():
            value = measures.get(f"{name}_covered")
            if value is not None:
                probabilities.append(value)
                truths.append(truth)
    return np.asarray(probabilities, float), np.asarray(truths, float)


def reliability_plot(tables: Mapping[str, list[dict]], out_png: Path) -> None:
    """One reliability curve per table on a shared diagonal, marker area by count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5.5), dpi=110)
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="perfect calibration")
    for name, table in tables.items():
        if not table:
            continue
        x = [row["predicted"] for row in table]
        y = [row["observed"] for row in table]
        n = np.array([row["n"] for row in table], float)
        ece = expected_calibration_error(table)
        line, = ax.plot(x, y, marker="o", lw=1.5,
                        label=f"{name} (n={int(n.sum())}, ECE {ece:.3f})")
        ax.scatter(x, y, s=10 + 200 * n / n.max(), color=line.get_color(), alpha=0.35)
    ax.set_xlabel("predicted probability that the feature is covered")
    ax.set_ylabel("observed share covered")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Feature visibility: reliability")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out_png)
    plt.close(fig)


def visibility_report(labels: list[Label], results: list[dict], record: Path, out_png: Path
                      ) -> dict:
    """Reliability tables (synthetic held out per feature kind, real weak labels) and the plot.
    ``record`` is the training record (JSON written beside the weights)."""
    training = json.loads(Path(record).read_text(encoding="utf-8"))
    tables = {f"synthetic held out, {kind}": info.get("cv_reliability", [])
              for kind, info in training["models"].items()}
    by_path = {Path(r["path"]).resolve(): r for r in results if r.get("path")}
    probabilities, truths = real_pairs(labels, by_path)
    tables["real photos, tags as labels"] = (reliability(probabilities, truths)
                                             if len(truths) else [])
    reliability_plot(tables, out_png)
    return {name: {"ece": round(expected_calibration_error(t), 4) if t else None, "bins": t}
            for name, t in tables.items()}
