"""Score photocheck (or a baseline) against a labelled image set.

A labels table (CSV, see ``../shared/LABELS.md`` for the convention) is joined with results
(:class:`photocheck.Result` objects or the dicts ``photocheck check --json`` writes) on the
resolved image path, and turned into :class:`Scores`: accuracy, the costly *false eligible*
rate, missed eligibles, review and error rates, reason agreement, grey-item counts and
breakdowns per degradation, case, tag and face width.

    >>> scores = score(Path("sets/dev/labels.csv"), results)
    >>> rich.print(*scores.tables("photocheck on dev"))
    >>> rich.print(compare(scores, baseline_scores))
    >>> plot_measure(Path("sets/dev/labels.csv"), results, Path("edge_blur.png"),
    ...              thresholds={"blurry_above": 2.4})

Conventions:

- Only ``not_eligible`` and ``eligible`` labels are scored; ``grey`` items are counted per
  decision and never enter a rate.
- ``review`` is never correct in ``accuracy`` (it is also reported as ``review_rate``);
  ``accuracy_decided`` leaves review items out. ``error`` is always wrong.
- A label row without a result is *missing*: it is counted in ``missing`` and listed in
  ``missing_files``, and left out of every rate (so the rates are over judged items only;
  compare ``missing`` before comparing rates). A result that matches no label row is counted in
  ``unmatched``. Two results for the same image are an error.
- A rate whose denominator is zero is ``None`` (``null`` in JSON).

Everything here is pure and deterministic; the only I/O is reading the labels CSV and, in
:func:`plot_measure`, writing the PNG.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from rich.table import Table

from ..schema import Decision, Reason

__all__ = [
    "DECISIONS", "FAMILIES", "LABELS", "Breakdown", "Item", "Label", "Scores",
    "breakdown_table", "compare", "join", "plot_measure", "read_labels", "score",
]

LABELS = ("not_eligible", "eligible", "grey")
# The decisions of a replacement policy: the evaluation set is about replacement requests.
DECISIONS = (Decision.ELIGIBLE.value, Decision.NOT_ELIGIBLE.value, Decision.REVIEW.value,
             Decision.ERROR.value)

#: Reason codes that count as agreeing with each ``reason_family`` label.
FAMILIES: dict[str, frozenset[str]] = {
    "blurry": frozenset({Reason.BLURRY.value}),
    "face_not_visible": frozenset({
        Reason.NO_FACE.value, Reason.FACE_OCCLUDED.value, Reason.FACE_CUT_OFF.value,
        Reason.FACE_TOO_SMALL.value, Reason.UNDEREXPOSED.value, Reason.OVEREXPOSED.value,
        Reason.LOW_CONTRAST.value, Reason.MULTIPLE_FACES.value, Reason.CARD_DAMAGED.value,
    }),
}

NO_FAMILY = "none"  # reason_family of a clear photo, as the real set writes it
NONE_KEY = "(none)"  # breakdown key for an empty degradation / case / tags / face_width cell
_REQUIRED = ("file", "label")
_OPTIONAL = ("source", "group", "tags", "case", "degradation", "params", "face_width",
             "jpeg_quality", "reason_family")


# --------------------------------------------------------------------------------------------
# Labels and joining


@dataclass(frozen=True)
class Label:
    """One row of the labels table; ``path`` is resolved against the CSV's folder."""

    file: str
    path: Path
    label: str
    reason_family: str = ""
    source: str = ""
    group: str = ""
    tags: tuple[str, ...] = ()
    case: str = ""
    degradation: str = ""
    params: str = ""
    face_width: str = ""
    jpeg_quality: str = ""


@dataclass(frozen=True)
class Item:
    """A label row joined with its result; ``decision`` is ``None`` when the result is missing."""

    label: Label
    decision: str | None
    reasons: tuple[str, ...] = ()
    measures: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def correct(self) -> bool:
        return self.decision == self.label.label

    @property
    def has_face(self) -> bool:
        """Whether a face was judged (the detector confidence is 0 without one)."""
        return (self.measures.get("detection_confidence") or 0.0) > 0.0


def read_labels(labels: Path) -> list[Label]:
    """Read and validate the labels CSV (UTF-8, optional BOM). Raises ``ValueError`` on a
    missing required column, an unknown ``label`` or ``reason_family``, or an empty ``file``."""
    labels = Path(labels)
    root = labels.resolve().parent
    with labels.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = set(reader.fieldnames or ())
        absent = [c for c in _REQUIRED if c not in columns]
        if absent:
            raise ValueError(f"{labels}: missing column(s) {', '.join(absent)}")
        rows = list(reader)
    out: list[Label] = []
    for line, row in enumerate(rows, start=2):
        cells = {k: (row.get(k) or "").strip() for k in (*_REQUIRED, *_OPTIONAL)}
        if not cells["file"]:
            raise ValueError(f"{labels}:{line}: empty file")
        if cells["label"] not in LABELS:
            raise ValueError(f"{labels}:{line}: label {cells['label']!r} is not one of {LABELS}")
        if cells["reason_family"] == NO_FAMILY:  # the real set spells "no reason" out
            cells["reason_family"] = ""
        if cells["reason_family"] and cells["reason_family"] not in FAMILIES:
            raise ValueError(f"{labels}:{line}: reason_family {cells['reason_family']!r} is not "
                             f"one of {tuple(FAMILIES)} or empty")
        tags = tuple(dict.fromkeys(t.strip() for t in cells.pop("tags").split(";") if t.strip()))
        out.append(Label(path=(root / cells["file"]).resolve(), tags=tags, **cells))
    return out


def _value(x: Any) -> Any:
    return x.value if isinstance(x, Enum) else x


def _fields(result: Any) -> tuple[str | None, str, tuple[str, ...], dict[str, Any]]:
    """(path, decision, reasons, measures) of a Result or a ``check --json`` dict."""
    if isinstance(result, Mapping):
        get = result.get
    else:
        def get(key: str, default: Any = None) -> Any:
            return getattr(result, key, default)
    decision = _value(get("decision"))
    if decision not in DECISIONS:
        raise ValueError(f"result for {get('path')!r}: unknown decision {decision!r}")
    reasons = tuple(str(_value(r)) for r in (get("reasons") or ()))
    return get("path"), decision, reasons, dict(get("measures") or {})


def join(labels: Path, results: Iterable[Any], *,
         results_root: Path | None = None) -> tuple[list[Item], int]:
    """Join label rows with results on the resolved path.

    A relative result ``path`` is resolved against ``results_root`` (default: the labels
    CSV's folder), an absolute one as is. Returns one :class:`Item` per label row, in CSV
    order (``decision`` ``None`` when no result matched), and the number of results that
    matched no label row (including results without a path). Raises ``ValueError`` when two
    results resolve to the same path.
    """
    rows = read_labels(labels)
    root = Path(results_root).resolve() if results_root is not None else \
        Path(labels).resolve().parent
    by_path: dict[Path, tuple[str, tuple[str, ...], dict[str, Any]]] = {}
    unmatched = 0
    for result in results:
        path, decision, reasons, measures = _fields(result)
        if not path:
            unmatched += 1
            continue
        p = Path(path)
        resolved = (p if p.is_absolute() else root / p).resolve()
        if resolved in by_path:
            raise ValueError(f"two results for {resolved}")
        by_path[resolved] = (decision, reasons, measures)
    wanted = {row.path for row in rows}
    unmatched += sum(1 for p in by_path if p not in wanted)
    items = []
    for row in rows:
        hit = by_path.get(row.path)
        items.append(Item(row, None) if hit is None else Item(row, *hit))
    return items, unmatched


# --------------------------------------------------------------------------------------------
# Scores


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """Wilson score interval (95 % by default) of a proportion ``k / n``; None when n = 0.
    Reference: Wilson, JASA 22(158), 1927, doi:10.1080/01621459.1927.10502953."""
    if n <= 0:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Breakdown:
    """Headline numbers for one group of items (one degradation, case, tag or face width).

    Rates are over the group's judged non-grey items, as in :class:`Scores`."""

    n: int
    n_not_eligible: int
    n_eligible: int
    n_correct: int
    n_false_eligible: int
    n_missed: int
    n_review: int
    n_error: int
    n_grey: int
    missing: int
    accuracy: float | None
    false_eligible_rate: float | None
    missed_eligible_rate: float | None
    review_rate: float | None

    @classmethod
    def of(cls, items: Iterable[Item]) -> Breakdown:
        items = list(items)
        judged = [i for i in items if i.decision is not None]
        scored = [i for i in judged if i.label.label != "grey"]
        neg = [i for i in scored if i.label.label == "not_eligible"]
        pos = [i for i in scored if i.label.label == "eligible"]
        n_correct = sum(i.correct for i in scored)
        n_fe = sum(i.decision == "eligible" for i in neg)
        n_missed = sum(i.decision == "not_eligible" for i in pos)
        n_review = sum(i.decision == "review" for i in scored)
        return cls(
            n=len(scored), n_not_eligible=len(neg), n_eligible=len(pos), n_correct=n_correct,
            n_false_eligible=n_fe, n_missed=n_missed, n_review=n_review,
            n_error=sum(i.decision == "error" for i in scored),
            n_grey=sum(i.label.label == "grey" for i in judged),
            missing=len(items) - len(judged),
            accuracy=_rate(n_correct, len(scored)),
            false_eligible_rate=_rate(n_fe, len(neg)),
            missed_eligible_rate=_rate(n_missed, len(pos)),
            review_rate=_rate(n_review, len(scored)),
        )


def _width_key(text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        return text or NONE_KEY
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _sort_key(key: str) -> tuple[int, float, str]:
    if key == NONE_KEY:
        return (0, 0.0, "")
    try:
        return (1, float(key), key)
    except ValueError:
        return (2, 0.0, key)


def _group(items: list[Item], keys_of) -> dict[str, Breakdown]:
    groups: dict[str, list[Item]] = {}
    for item in items:
        for key in keys_of(item):
            groups.setdefault(key, []).append(item)
    return {k: Breakdown.of(groups[k]) for k in sorted(groups, key=_sort_key)}


@dataclass(frozen=True)
class Scores:
    """Scores of one set of results against one labels table (see the module docstring).

    Headline rates are over judged non-grey items (``n``):

    - ``accuracy``: decision equals label; review and error are wrong.
    - ``accuracy_decided``: the same over items not in review.
    - ``false_eligible_rate``: share of ``not_eligible`` items judged eligible (the costly one).
    - ``missed_eligible_rate``: share of ``eligible`` items judged not_eligible.
    - ``review_rate``, ``error_rate``: share of items judged review / error.
    - ``reason_agreement``: of ``eligible`` items with a ``reason_family`` that were judged
      eligible, the share whose reasons include a code of that family;
      ``blur_reason_rate`` / ``visibility_reason_rate``: the same for the ``blurry`` /
      ``face_not_visible`` family alone.
    """

    n: int
    n_not_eligible: int
    n_eligible: int
    n_correct: int
    n_false_eligible: int
    n_missed: int
    n_review: int
    n_error: int
    accuracy: float | None
    accuracy_decided: float | None
    false_eligible_rate: float | None
    missed_eligible_rate: float | None
    review_rate: float | None
    error_rate: float | None
    reason_agreement: float | None
    blur_reason_rate: float | None
    visibility_reason_rate: float | None
    n_reason_checked: int  # denominator of reason_agreement
    # reason_family -> (eligible items of that family judged eligible, all of them): recall,
    # with review and error counted as misses.
    family_recall: dict[str, tuple[int, int]]
    confusion: dict[str, dict[str, int]]  # label -> decision -> count (non-grey, judged)
    n_grey: int
    grey: dict[str, int]  # decision -> count
    by_degradation: dict[str, Breakdown]
    by_case: dict[str, Breakdown]
    by_tag: dict[str, Breakdown]
    by_face_width: dict[str, Breakdown]
    labelled: int  # rows in the labels table
    missing: int  # label rows without a result
    missing_files: tuple[str, ...]
    unmatched: int  # results that match no label row
    false_eligible_files: tuple[str, ...]
    missed_files: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict (tuples as lists, breakdowns as dicts), with the
        Wilson intervals."""
        data = asdict(self)
        data["intervals_95"] = self.intervals()
        for key in ("missing_files", "false_eligible_files", "missed_files"):
            data[key] = list(data[key])
        return data

    def headline(self) -> dict[str, float | int | None]:
        """The numbers :func:`compare` shows, by name."""
        return {name: getattr(self, name) for name, _ in _HEADLINE}

    def table(self, title: str = "photocheck") -> Table:
        """The headline numbers as one Rich table."""
        table = Table(title=title, show_header=True, header_style="bold")
        table.add_column("measure")
        table.add_column("value", justify="right")
        table.add_column("count", justify="right")
        table.add_column("95 % CI", justify="right")
        for name, label in _HEADLINE:
            table.add_row(label, _fmt(getattr(self, name)), self._count(name),
                          _interval(self.fractions().get(name)))
        for family, (hits, total) in self.family_recall.items():
            table.add_row(f"recall, {family}", _fmt(_rate(hits, total)), f"{hits}/{total}",
                          _interval((hits, total)))
        if self.n_grey:
            grey = ", ".join(f"{d} {c}" for d, c in self.grey.items() if c)
            table.add_row("grey (not scored)", str(self.n_grey), grey)
        return table

    def tables(self, title: str = "photocheck") -> list[Table]:
        """The overall table, then one table per degradation, case, tag and face width."""
        out = [self.table(title)]
        for name, groups in (("degradation", self.by_degradation), ("case", self.by_case),
                             ("tag", self.by_tag), ("face width", self.by_face_width)):
            if groups:
                out.append(breakdown_table(groups, f"{title}: per {name}", name))
        return out

    def fractions(self) -> dict[str, tuple[int, int]]:
        """(numerator, denominator) of each headline rate, for its confidence interval."""
        decided = self.n - self.n_review
        return {"accuracy": (self.n_correct, self.n),
                "accuracy_decided": (self.n_correct, decided),
                "false_eligible_rate": (self.n_false_eligible, self.n_not_eligible),
                "missed_eligible_rate": (self.n_missed, self.n_eligible),
                "review_rate": (self.n_review, self.n), "error_rate": (self.n_error, self.n)}

    def intervals(self) -> dict[str, tuple[float, float] | None]:
        """Wilson 95 % intervals of the headline rates and the per-family recalls."""
        out = {name: wilson(*kn) for name, kn in self.fractions().items()}
        out.update({f"recall_{family}": wilson(*kn)
                    for family, kn in self.family_recall.items()})
        return out

    def _count(self, name: str) -> str:
        counts = {
            "n": f"{self.n_not_eligible} not_eligible, {self.n_eligible} eligible",
            "accuracy": f"{self.n_correct}/{self.n}",
            "accuracy_decided": f"{self.n_correct}/{self.n - self.n_review}",
            "false_eligible_rate": f"{self.n_false_eligible}/{self.n_not_eligible}",
            "missed_eligible_rate": f"{self.n_missed}/{self.n_eligible}",
            "review_rate": f"{self.n_review}/{self.n}",
            "error_rate": f"{self.n_error}/{self.n}",
            "reason_agreement": f"of {self.n_reason_checked}",
            "missing": f"of {self.labelled} labelled",
        }
        return counts.get(name, "")


_HEADLINE = (
    ("n", "items scored"),
    ("accuracy", "accuracy"),
    ("accuracy_decided", "accuracy (decided)"),
    ("false_eligible_rate", "false eligible"),
    ("missed_eligible_rate", "missed eligible"),
    ("review_rate", "review"),
    ("error_rate", "error"),
    ("reason_agreement", "reason agreement"),
    ("blur_reason_rate", "  blurry reason"),
    ("visibility_reason_rate", "  face-not-visible reason"),
    ("missing", "missing results"),
    ("unmatched", "unmatched results"),
)


def _interval(fraction: tuple[int, int] | None) -> str:
    bounds = None if fraction is None else wilson(*fraction)
    return "" if bounds is None else f"{100 * bounds[0]:.1f}–{100 * bounds[1]:.1f} %"


def _fmt(value: float | int | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{100 * value:.1f} %"


def breakdown_table(groups: Mapping[str, Breakdown], title: str, key: str) -> Table:
    """One Rich table row per group: n, accuracy, false eligible, missed, review."""
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column(key, no_wrap=True, min_width=max(len(key), *(len(g) for g in groups), 1))
    for col in ("n", "accuracy", "false eligible", "missed", "review", "grey", "missing"):
        table.add_column(col, justify="right", no_wrap=True)
    for name, b in groups.items():
        table.add_row(
            name, str(b.n), _fmt(b.accuracy),
            f"{_fmt(b.false_eligible_rate)} ({b.n_false_eligible}/{b.n_not_eligible})",
            f"{_fmt(b.missed_eligible_rate)} ({b.n_missed}/{b.n_eligible})",
            _fmt(b.review_rate), str(b.n_grey), str(b.missing),
        )
    return table


def score(labels: Path, results: Iterable[Any], *, results_root: Path | None = None) -> Scores:
    """Score ``results`` (Result objects or ``check --json`` dicts) against the labels CSV.

    ``results_root`` is the folder relative result paths are resolved against (default: the
    labels CSV's folder)."""
    return scores_of(*join(labels, results, results_root=results_root))


def scores_of(items: list[Item], unmatched: int = 0) -> Scores:
    """Scores of joined items (e.g. items re-scored with another policy)."""
    judged = [i for i in items if i.decision is not None]
    scored = [i for i in judged if i.label.label != "grey"]
    grey_items = [i for i in judged if i.label.label == "grey"]
    overall = Breakdown.of(scored)

    confusion = {lab: dict.fromkeys(DECISIONS, 0) for lab in ("not_eligible", "eligible")}
    for i in scored:
        confusion[i.label.label][i.decision] += 1
    decided = [i for i in scored if i.decision != "review"]

    def agreement(family: str | None) -> tuple[float | None, int]:
        pool = [i for i in scored
                if i.label.label == "eligible" and i.decision == "eligible"
                and i.label.reason_family
                and (family is None or i.label.reason_family == family)]
        hits = sum(bool(FAMILIES[i.label.reason_family] & set(i.reasons)) for i in pool)
        return _rate(hits, len(pool)), len(pool)

    reason_agreement, n_checked = agreement(None)
    grey = Counter(i.decision for i in grey_items)

    return Scores(
        n=overall.n, n_not_eligible=overall.n_not_eligible, n_eligible=overall.n_eligible,
        n_correct=overall.n_correct, n_false_eligible=overall.n_false_eligible,
        n_missed=overall.n_missed, n_review=overall.n_review, n_error=overall.n_error,
        accuracy=overall.accuracy,
        accuracy_decided=_rate(sum(i.correct for i in decided), len(decided)),
        false_eligible_rate=overall.false_eligible_rate,
        missed_eligible_rate=overall.missed_eligible_rate,
        review_rate=overall.review_rate,
        error_rate=_rate(overall.n_error, overall.n),
        reason_agreement=reason_agreement,
        blur_reason_rate=agreement("blurry")[0],
        visibility_reason_rate=agreement("face_not_visible")[0],
        n_reason_checked=n_checked,
        family_recall={family: (sum(i.decision == "eligible" for i in members), len(members))
                       for family in FAMILIES
                       if (members := [i for i in scored if i.label.label == "eligible"
                                       and i.label.reason_family == family])},
        confusion=confusion,
        n_grey=len(grey_items),
        grey={d: grey.get(d, 0) for d in DECISIONS},
        by_degradation=_group(items, lambda i: [i.label.degradation or NONE_KEY]),
        by_case=_group(items, lambda i: [i.label.case or NONE_KEY]),
        by_tag=_group(items, lambda i: list(i.label.tags) or [NONE_KEY]),
        by_face_width=_group(items, lambda i: [_width_key(i.label.face_width)]),
        labelled=len(items),
        missing=len(items) - len(judged),
        missing_files=tuple(i.label.file for i in items if i.decision is None),
        unmatched=unmatched,
        false_eligible_files=tuple(i.label.file for i in scored if i.label.label ==
                                   "not_eligible" and i.decision == "eligible"),
        missed_files=tuple(i.label.file for i in scored if i.label.label == "eligible"
                           and i.decision == "not_eligible"),
    )


def compare(a: Scores, b: Scores, names: tuple[str, str] = ("photocheck", "baseline"),
            title: str | None = None) -> Table:
    """A Rich table of the headline numbers of ``a`` and ``b`` side by side."""
    table = Table(title=title or f"{names[0]} vs {names[1]}", show_header=True,
                  header_style="bold")
    table.add_column("measure")
    table.add_column(names[0], justify="right")
    table.add_column(names[1], justify="right")
    for name, label in _HEADLINE:
        table.add_row(label, _fmt(getattr(a, name)), _fmt(getattr(b, name)))
    return table


# --------------------------------------------------------------------------------------------
# Plot


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def plot_measure(labels: Path, results: Iterable[Any], out_png: Path, *,
                 measure: str = "edge_blur_px", thresholds: dict[str, float] | None = None,
                 results_root: Path | None = None, bins: int = 30) -> Path:
    """Histogram of ``measure`` for ``not_eligible`` items, ``eligible`` items of the
    ``blurry`` family and ``grey`` items (light), with a vertical line per threshold.

    Items whose value is missing, ``None`` or not finite (or that have no result) are skipped
    and counted in the legend. Writes ``out_png`` (parent folders are created) with the Agg
    backend, without touching pyplot's global state, and returns it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    items, _ = join(labels, results, results_root=results_root)
    groups = (
        ("not_eligible", lambda i: i.label.label == "not_eligible", "tab:blue", 0.6),
        ("eligible (blurry)", lambda i: i.label.label == "eligible"
         and i.label.reason_family == "blurry", "tab:red", 0.6),
        ("grey", lambda i: i.label.label == "grey", "lightgrey", 0.5),
    )
    series = []
    for name, member, colour, alpha in groups:
        values, skipped = [], 0
        for item in filter(member, items):
            v = _finite(item.measures.get(measure)) if item.decision is not None else None
            if v is None:
                skipped += 1
            else:
                values.append(v)
        series.append((name, values, skipped, colour, alpha))

    everything = [v for _, values, _, _, _ in series for v in values]
    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    handles = []
    if everything:
        lo, hi = min(everything), max(everything)
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = [lo + (hi - lo) * k / bins for k in range(bins + 1)]
        # grey first, so the scored groups are drawn on top of it
        for _, values, _, colour, alpha in (series[2], series[0], series[1]):
            if values:
                ax.hist(values, bins=edges, color=colour, alpha=alpha)
    else:
        ax.text(0.5, 0.5, f"no values of {measure}", ha="center", va="center",
                transform=ax.transAxes)
    for name, values, skipped, colour, alpha in series:
        if name == "grey" and not values and not skipped:
            continue  # no grey items at all
        note = f", {skipped} without value" if skipped else ""
        handles.append(Patch(facecolor=colour, alpha=alpha,
                             label=f"{name} (n={len(values)}{note})"))
    styles = ("--", ":", "-.", (0, (5, 1)))
    for k, (name, value) in enumerate((thresholds or {}).items()):
        handles.append(ax.axvline(float(value), color="black",
                                  linestyle=styles[k % len(styles)], linewidth=1.2,
                                  label=f"{name} = {float(value):g}"))
    ax.set_xlabel(measure)
    ax.set_ylabel(f"images (count per {measure} bin)")
    ax.set_title(f"{measure}: not_eligible vs blurry eligible ({Path(labels).name})")
    ax.legend(handles=handles, loc="best", fontsize="small")
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, format="png", metadata={"Software": None})
    return out_png
