"""``photocheck eval ...``: build a labelled set, run photocheck and the naive baseline on it,
score, and calibrate thresholds. Thin commands over :mod:`photocheck.evaluation`."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from ..pipeline import Checker
from ..policy import Policy
from . import calibrate as calibration
from .score import (Item, Label, Scores, compare, join, plot_measure, read_labels, score,
                    scores_of)

app = typer.Typer(help="Measure accuracy on a labelled set and fit thresholds to it.",
                  no_args_is_help=True, add_completion=False,
                  pretty_exceptions_show_locals=False)
# Wide enough for the breakdown tables when the output is a file or a CI log.
out = Console(highlight=False, width=140)

LabelsArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                           help="labels.csv of an evaluation set.")]
PolicyOption = Annotated[Optional[str], typer.Option(
    "--policy", "-p", metavar="NAME_OR_TOML", help="Policy to judge with (default: shipped).")]


@app.command()
def build(
    src: Annotated[Path, typer.Argument(exists=True, file_okay=False,
                                        help="Folder of portraits (MANIFEST.csv optional).")],
    dest: Annotated[Path, typer.Argument(file_okay=False, help="Output folder.")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same bytes.")] = 0,
    limit: Annotated[Optional[int], typer.Option(help="Use at most this many sources.")] = None,
) -> None:
    """Build a labelled set following LABELS.md: KTP framing, degradations, labels.csv."""
    from .build import build_eval_set

    labels = build_eval_set(src, dest, seed=seed, limit=limit)
    counts = Counter(row.label for row in read_labels(labels))
    out.print(f"{labels}: {sum(counts.values())} images; " +
              ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


@app.command()
def run(
    labels: LabelsArg,
    dest: Annotated[Path, typer.Option("--out", "-o", file_okay=False,
                                       help="Folder for results, scores and the plot.")],
    policy: PolicyOption = None,
    baseline: Annotated[bool, typer.Option(help="Also run the naive baseline.")] = True,
    min_accuracy: Annotated[Optional[float], typer.Option(
        help="Exit 1 when photocheck's accuracy on non-grey items is below this (0-1).")] = None,
    fold_models: Annotated[Optional[Path], typer.Option(
        exists=True, file_okay=False,
        help="Folder of visibility models trained without one source each (train-visibility "
             "--folds): rows of that source are judged by it (out-of-fold).")] = None,
) -> None:
    """Judge every labelled image with photocheck (and the naive baseline), then score.

    Writes results.jsonl, baseline.jsonl, scores.json and edge_blur_px.png into --out."""
    dest.mkdir(parents=True, exist_ok=True)
    rows = read_labels(labels)
    ours, active = _judge_out_of_fold(rows, policy, fold_models, dest / "results.jsonl")
    scores = score(labels, ours)
    report = {"photocheck": scores.to_dict(), "policy": f"{active.name} {active.version}"}
    if baseline:
        from .baseline import NaiveBaseline

        theirs = _judge(NaiveBaseline().check, rows, dest / "baseline.jsonl")
        baseline_scores = score(labels, theirs)
        report["baseline"] = baseline_scores.to_dict()
    _print(scores)
    if baseline:
        out.print(compare(scores, baseline_scores))
    (dest / "scores.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    plot_measure(labels, ours, dest / "edge_blur_px.png", measure="edge_blur_px",
                 thresholds=_bounds(active, "edge_blur_px"))
    out.print(f"written: {dest / 'results.jsonl'}, {dest / 'scores.json'}, "
              f"{dest / 'edge_blur_px.png'}")
    _enforce(scores, min_accuracy)


@app.command("score")
def score_command(
    labels: LabelsArg,
    results: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                            help="JSON Lines from `photocheck check --json`.")],
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write scores here.")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Write the edge_blur_px plot here.")] = None,
    min_accuracy: Annotated[Optional[float], typer.Option(
        help="Exit 1 when accuracy on non-grey items is below this (0-1).")] = None,
) -> None:
    """Score existing results (relative paths are taken from the current folder)."""
    loaded = _read_jsonl(results)
    scores = score(labels, loaded, results_root=Path.cwd())
    _print(scores)
    if json_out:
        json_out.write_text(json.dumps(scores.to_dict(), indent=2) + "\n", encoding="utf-8")
    if plot:
        plot_measure(labels, loaded, plot, results_root=Path.cwd())
    _enforce(scores, min_accuracy)


def calibrate_command(
    labels: LabelsArg,
    results: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                            help="results.jsonl with measures (eval run).")],
    policy_out: Annotated[Path, typer.Option("--out", "-o", dir_okay=False,
                                             help="Where to write the fitted policy TOML.")],
    policy: PolicyOption = None,
    false_eligible_cost: Annotated[float, typer.Option(
        help="How much worse a clear photo judged eligible is than a missed one.")] = 20.0,
    review_cost: Annotated[float, typer.Option(
        help="Cost of sending a photo to staff review, against 1 for a miss.")] = 0.65,
    grey_cost: Annotated[float, typer.Option(
        help="Cost of a borderline (grey) photo judged eligible.")] = 0.5,
    folds: Annotated[int, typer.Option(help="Cross-validation folds, split by group.")] = 5,
    version: Annotated[Optional[str], typer.Option(help="Version of the new policy.")] = None,
) -> None:
    """Fit thresholds to a labelled, measured set; report held-out figures; write the policy.

    No image is read again: results keep the raw measures and are re-scored."""
    base = Policy.load(policy)
    items, _ = join(labels, _read_jsonl(results), results_root=Path.cwd())
    items = [i for i in items if i.decision is not None and i.decision != "error"]
    options = dict(false_eligible_cost=false_eligible_cost, review_cost=review_cost,
                   grey_cost=grey_cost)
    held_out = scores_of(calibration.cross_validate(base, items, folds=folds, **options))
    groups = len({i.label.group for i in items})
    fitted = calibration.fit(
        base, items, version=version or f"{base.version}+fit", **options,
        fitted_on=(f"{labels.name}: {len(items)} images from {groups} groups; costs: false "
                   f"eligible {false_eligible_cost}, review {review_cost}, grey eligible {grey_cost}, "
                   f"miss 1; "
                   f"held-out ({folds}-fold by group) accuracy {_pct(held_out.accuracy)}, "
                   f"false-eligible {_pct(held_out.false_eligible_rate)}, missed "
                   f"{_pct(held_out.missed_eligible_rate)}, review {_pct(held_out.review_rate)}"))
    training = scores_of([calibration.rescore(fitted, i) for i in items])
    out.print(compare(held_out, training, names=("held out", "training (optimistic)"),
                      title=f"Fitted on {len(items)} images, {groups} groups"))
    policy_out.write_text(calibration.policy_toml(fitted), encoding="utf-8")
    out.print(f"written: {policy_out} (version {fitted.version})")


app.command("calibrate")(calibrate_command)


@app.command("train-visibility")
def train_visibility_command(
    labels: LabelsArg,
    weights: Annotated[Path, typer.Option("--out", "-o", dir_okay=False,
                                          help="Where to write the weights (.npz).")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same weights.")] = 0,
    variants: Annotated[int, typer.Option(help="Synthetic versions of each face.")] = 36,
    folds: Annotated[Optional[Path], typer.Option(
        file_okay=False, help="Also train one model without each licensed source, here, for "
                              "out-of-fold evaluation (eval run --fold-models).")] = None,
) -> None:
    """Train the feature-visibility model on the licensed clear portraits of LABELS (the real
    set's labels.csv) with synthetic occluders. Prints the training record and the SHA-256."""
    from .visibility_train import dump, train_visibility

    records = train_visibility(labels, weights, seed=seed, variants=variants, folds=folds)
    # The record names its weights by SHA-256, not by where this machine wrote them.
    record = {key: value for key, value in records[0].items() if key != "path"}
    weights.with_suffix(".json").write_text(dump(record) + "\n", encoding="utf-8")
    for record in records:
        held = record["excluded_source"]
        out.print(f"written: {record['path']}" + (f" (without {held})" if held else "") +
                  f" sha256 {record['sha256']}")


@app.command("visibility-report")
def visibility_report_command(
    labels: LabelsArg,
    results: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                            help="results.jsonl of `eval run` on LABELS.")],
    plot: Annotated[Path, typer.Option(dir_okay=False, help="Where to write the plot (PNG).")],
    record: Annotated[Optional[Path], typer.Option(
        exists=True, dir_okay=False,
        help="Training record of the model (default: the shipped visibility.json).")] = None,
) -> None:
    """Reliability of the feature-visibility probabilities: synthetic held out (from the
    training record) and real photos (per-feature labels read from the tags)."""
    from ..detect import VISIBILITY_MODEL, models_dir
    from .visibility_report import visibility_report

    record = record or (models_dir() / VISIBILITY_MODEL).with_suffix(".json")
    tables = visibility_report(read_labels(labels), _read_jsonl(results), record, plot)
    for name, table in tables.items():
        bins = ", ".join(f"{b['predicted']:.2f}->{b['observed']:.2f} (n={b['n']})"
                         for b in table["bins"])
        out.print(f"{name}: ECE {table['ece']}; {bins}")
    out.print(f"written: {plot}")


@app.command()
def agreement(
    decisions: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                              help="CSV of staff decisions: path,decision.")],
    policy: PolicyOption = None,
    refit: Annotated[Optional[Path], typer.Option(
        dir_okay=False, help="Also fit thresholds to the staff decisions; write the policy here.")
    ] = None,
    folds: Annotated[int, typer.Option(help="Cross-validation folds for --refit.")] = 5,
) -> None:
    """Agreement with decisions made by counter staff (eligible / not_eligible per photo),
    and, with --refit, thresholds fitted to them (held-out figures reported)."""
    with decisions.open(newline="", encoding="utf-8-sig") as fh:
        rows = [(r["path"].strip(), r["decision"].strip()) for r in csv.DictReader(fh)]
    wrong = sorted({d for _, d in rows} - {"eligible", "not_eligible"})
    if wrong:
        raise typer.BadParameter(f"decisions must be eligible or not_eligible, not {wrong}",
                                 param_hint="DECISIONS")
    base = decisions.resolve().parent
    items = []
    with Checker(policy) as checker:
        active = checker.policy
        for path, staff in rows:
            full = Path(path) if Path(path).is_absolute() else base / path
            result = checker.check(full)
            label = Label(file=path, path=full.resolve(), label=staff, group=path,
                          degradation=calibration.STAFF)
            items.append(Item(label, result.decision.value,
                              tuple(r.value for r in result.reasons), result.measures))
    _print_agreement(items)
    if refit is not None:
        judged = [i for i in items if i.decision != "error"]
        held_out = scores_of(calibration.cross_validate(active, judged, folds=folds))
        fitted = calibration.fit(
            active, judged, version=f"{active.version}+{decisions.stem}",
            fitted_on=(f"{decisions.name}: {len(judged)} staff decisions; held-out "
                       f"({folds}-fold) accuracy {_pct(held_out.accuracy)}, false-eligible "
                       f"{_pct(held_out.false_eligible_rate)}, missed "
                       f"{_pct(held_out.missed_eligible_rate)}"))
        out.print(compare(held_out, scores_of(items), names=("refit, held out", "current"),
                          title="Against the staff decisions"))
        refit.write_text(calibration.policy_toml(fitted), encoding="utf-8")
        out.print(f"written: {refit} (version {fitted.version})")


def _print_agreement(items: list[Item]) -> None:
    table: Counter[tuple[str, str]] = Counter((i.label.label, i.decision) for i in items)
    judged = ("eligible", "not_eligible", "review", "error")
    grid = Table(title=f"Staff (rows) vs photocheck (columns), {len(items)} photos")
    grid.add_column("staff")
    for name in judged:
        grid.add_column(name, justify="right")
    for staff in sorted({s for s, _ in table}):
        grid.add_row(staff, *(str(table[(staff, j)]) for j in judged))
    out.print(grid)
    agreed = sum(n for (s, j), n in table.items() if s == j)
    out.print(f"agreement: {_pct(agreed / len(items) if items else None)} of {len(items)} "
              f"({sum(n for (_, j), n in table.items() if j == 'review')} sent to review)")


def _judge_out_of_fold(rows, policy: str | None, fold_models: Path | None, path: Path
                       ) -> tuple[list[dict], Policy]:
    """Judge every row, in order; a row whose source has a model in ``fold_models`` (one that
    never saw that source) is judged with it, the rest with the shipped model."""
    from .visibility_train import fold_model_path, source_of

    def model_for(row) -> Path | None:
        candidate = fold_models and fold_model_path(fold_models, source_of(row))
        return candidate if candidate and candidate.is_file() else None

    by_model: dict[Path | None, list[int]] = {}
    for index, row in enumerate(rows):
        by_model.setdefault(model_for(row), []).append(index)
    results: list[dict | None] = [None] * len(rows)
    active = None
    for model, indices in by_model.items():
        with Checker(policy, visibility_model=model) as checker:
            active = active or checker.policy
            for index in indices:
                results[index] = checker.check(rows[index].path).to_dict()
    if active is None:
        active = Policy.load(policy)
    with path.open("w", encoding="utf-8") as fh:
        for result in results:
            fh.write(json.dumps(result, ensure_ascii=False) + "\n")
    return results, active


def _judge(check, rows, path: Path) -> list[dict]:
    """Run ``check`` on every labelled image, writing JSON Lines as it goes."""
    results = []
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            result = check(row.path).to_dict()
            fh.write(json.dumps(result, ensure_ascii=False) + "\n")
            results.append(result)
    return results


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _bounds(policy: Policy, measure: str) -> dict[str, float]:
    found = {}
    for rule in policy.rules:
        if rule.measure == measure:
            for name in ("eligible_above", "review_above", "eligible_below", "review_below"):
                if getattr(rule, name) is not None:
                    found[name] = getattr(rule, name)
    return found


def _print(scores: Scores) -> None:
    for table in scores.tables("photocheck"):
        out.print(table)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _enforce(scores: Scores, floor: float | None) -> None:
    if floor is not None and (scores.accuracy is None or scores.accuracy < floor):
        out.print(f"[bold red]accuracy {_pct(scores.accuracy)} is below the floor "
                  f"{_pct(floor)}[/bold red]")
        raise typer.Exit(1)
