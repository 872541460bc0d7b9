"""Fit a policy's thresholds to a labelled set, and say how well they hold on people not seen.

Re-scoring needs no image: results keep their raw measures, and ``Policy.decide`` turns measures
into a decision. So calibration reads measured items once and tries thresholds on them.

Method (one rule at a time, so each bound can be explained on its own). For a rule, the clear
photos are the ``not_eligible`` items with a face, and its targets are the eligible items of the
degradations the rule exists for (blur for ``blurry``, the dark ones of "exposure" for
``underexposed``, ...). Every pair of bounds (eligible, review) is given a cost:

    false_eligible_cost x (share of clear photos judged eligible)
  + review_cost x (share of clear photos and of targets sent to review)
  + 1 x (share of targets judged not eligible)

  + grey_cost x (share of the rule's borderline, grey items judged eligible)

and the cheapest pair is kept; where several tie, the one in the middle of the tie, which
leaves the widest margin on both sides. The grey term keeps a bound out of the borderline zone
of LABELS.md (a face 10 % cut off is grey, 45 % is eligible) when the clear photos alone would
let it sit anywhere in the gap. The weights say how much worse a wrongly granted
replacement is than a missed one (20 by default) and what a look by staff costs (0.65).
Rules that test face presence (``no_face``, ``multiple_faces``) are kept as they are: their
bounds are confidences and counts, not fitted quantities. So are rules the set has no targets
for (``face_too_small``).

Honest figures come from cross-validation by group (a person, or a source folder): thresholds
are fitted on the other folds and the held-out fold is scored with them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence

import numpy as np

from ..policy import DEFECT_KEYS, Policy, Rule
from ..schema import Reason, RequestReason
from .score import Item

# Which degradations of an evaluation set each reason is meant to catch.
REASON_DEGRADATIONS: dict[Reason, frozenset[str]] = {
    Reason.BLURRY: frozenset({"gaussian", "motion", "defocus", "lowres", "blur_noise"}),
    Reason.FACE_CUT_OFF: frozenset({"cut_off"}),
    Reason.UNDEREXPOSED: frozenset({"exposure"}),
    Reason.OVEREXPOSED: frozenset({"exposure"}),
    Reason.LOW_CONTRAST: frozenset({"fade"}),
    Reason.FACE_OCCLUDED: frozenset({"patch", "scratch", "glare"}),
    Reason.FACE_TOO_SMALL: frozenset(),
}
FIXED_REASONS = frozenset({Reason.NO_FACE, Reason.MULTIPLE_FACES})


STAFF = "staff"  # degradation of items labelled by counter staff, not made by a builder


def fit(policy: Policy, items: Sequence[Item], *, false_eligible_cost: float = 20.0,
        review_cost: float = 0.65, grey_cost: float = 0.5, version: str | None = None,
        fitted_on: str = "") -> Policy:
    """A copy of ``policy`` with every fittable rule's bounds chosen from ``items``."""
    clear = [i for i in items if i.label.label == "not_eligible" and i.has_face]
    aims = _aims(policy, items, clear)
    rules = []
    for rule in policy.rules:
        degradations = REASON_DEGRADATIONS.get(rule.reason, ())
        targets = [i for i, reasons in zip(items, aims) if rule.reason in reasons]
        grey = [i for i in items if i.label.label == "grey" and i.label.degradation in degradations
                and i.has_face]
        fitted = rule if rule.reason in FIXED_REASONS else _fit_rule(
            rule, clear, targets, grey, false_eligible_cost=false_eligible_cost,
            review_cost=review_cost, grey_cost=grey_cost)
        rules.append(fitted)
    return dataclasses.replace(policy, rules=tuple(rules),
                               version=version or policy.version,
                               fitted_on=fitted_on or policy.fitted_on)


def _aims(policy: Policy, items: Sequence[Item], clear: Sequence[Item]) -> list[set[Reason]]:
    """For each item, the reasons it is an example of (empty unless labelled eligible).

    Items of an evaluation set say so by their degradation. A photo that staff judged eligible
    says nothing: it stands for the reasons photocheck found in it, or, where it found none, for
    the rule whose measure lies furthest into the tail of the clear photos' values."""
    aims = []
    for item in items:
        if item.label.label != "eligible":
            aims.append(set())
        elif item.label.degradation != STAFF:
            aims.append({reason for reason, kinds in REASON_DEGRADATIONS.items()
                         if item.label.degradation in kinds})
        else:
            found = {Reason(r) for r in item.reasons} - FIXED_REASONS - {Reason.CLEAR_PHOTO}
            aims.append(found or {_most_unusual(policy, item, clear)})
    return aims


def _most_unusual(policy: Policy, item: Item, clear: Sequence[Item]) -> Reason:
    """The fittable rule whose measure, on ``item``, exceeds the largest share of clear photos."""
    best, best_share = Reason.BLURRY, -1.0
    for rule in policy.rules:
        if rule.reason in FIXED_REASONS:
            continue
        sign = 1.0 if rule.eligible_above is not None or rule.review_above is not None else -1.0
        value = item.measures.get(rule.measure)
        values = _values(clear, rule.measure, sign)
        if value is None or not math.isfinite(value) or not values.size:
            continue
        share = float(np.mean(values < sign * value))
        if share > best_share:
            best, best_share = rule.reason, share
    return best


def _fit_rule(rule: Rule, clear: Sequence[Item], targets: Sequence[Item], grey: Sequence[Item],
              *, false_eligible_cost: float, review_cost: float, grey_cost: float) -> Rule:
    upward = rule.eligible_above is not None or rule.review_above is not None
    sign = 1.0 if upward else -1.0  # work on "higher is worse" values
    clear_values = np.sort(_values(clear, rule.measure, sign))
    target_values = _values(targets, rule.measure, sign)
    if not clear_values.size:
        return rule
    # The targets on the bad side of a typical clear photo: for underexposed, the dark
    # photos of "exposure", not the blown-out ones.
    target_values = np.sort(target_values[target_values > np.median(clear_values)])
    if not target_values.size:
        return rule
    values = np.unique(np.concatenate([clear_values, target_values]))
    bounds = np.concatenate([(values[:-1] + values[1:]) / 2, [values[-1] + 1.0]])
    clear_above = 1.0 - np.searchsorted(clear_values, bounds, side="right") / clear_values.size
    targets_below = np.searchsorted(target_values, bounds, side="right") / target_values.size
    grey_values = np.sort(_values(grey, rule.measure, sign))
    grey_above = (1.0 - np.searchsorted(grey_values, bounds, side="right") / grey_values.size
                  if grey_values.size else np.zeros_like(bounds))
    # cost(eligible e, review r <= e) = A(e) + B(r): clear photos above e are false eligible,
    # between r and e in review; targets below r are missed, between r and e in review.
    cost_eligible = ((false_eligible_cost - review_cost) * clear_above
                     + review_cost * targets_below + grey_cost * grey_above)
    cost_review = review_cost * clear_above + (1.0 - review_cost) * targets_below
    has_eligible = rule.eligible_above is not None or rule.eligible_below is not None
    has_review = rule.review_above is not None or rule.review_below is not None
    if has_eligible and has_review:
        e = _middle_of_minimum(cost_eligible + np.minimum.accumulate(cost_review))
        r = _middle_of_minimum(cost_review[:e + 1])
    elif has_eligible:
        e = r = _middle_of_minimum(false_eligible_cost * clear_above + targets_below
                                   + grey_cost * grey_above)
    else:  # a review-only rule: its "eligible" side is review
        e = r = _middle_of_minimum(review_cost * clear_above + targets_below)
    fitted = {}
    if has_eligible:
        fitted["eligible_above" if upward else "eligible_below"] = _round(sign * bounds[e])
    if has_review:
        fitted["review_above" if upward else "review_below"] = _round(sign * bounds[r])
    return dataclasses.replace(rule, **fitted)


def _middle_of_minimum(costs: np.ndarray) -> int:
    """Index of the middle of the cheapest stretch: the widest margin among equal costs."""
    cheapest = np.flatnonzero(costs <= costs.min() + 1e-12)
    return int(cheapest[len(cheapest) // 2])


def _values(items: Iterable[Item], measure: str, sign: float) -> np.ndarray:
    values = [i.measures.get(measure) for i in items]
    return np.array([sign * v for v in values if v is not None and math.isfinite(v)], float)


def _round(value: float) -> float:
    """Three significant digits: a policy file is read by people."""
    return float(f"{value:.3g}")


def rescore(policy: Policy, item: Item) -> Item:
    """``item`` judged again by ``policy`` from its stored measures (no image needed)."""
    decision, reasons, _ = policy.decide(item.measures, has_face=item.has_face,
                                         request_reason=RequestReason.QUALITY)
    return dataclasses.replace(item, decision=decision.value,
                               reasons=tuple(r.value for r in reasons))


def cross_validate(policy: Policy, items: Sequence[Item], *, folds: int = 5, **fit_options
                   ) -> list[Item]:
    """Held-out re-scored items: items are split into ``folds`` by group (never a group in two
    folds); each fold is judged by a policy fitted on the others."""
    groups = sorted({i.label.group for i in items})
    fold_of = {g: n % folds for n, g in enumerate(_shuffled(groups))}
    held_out = []
    for fold in range(folds):
        train = [i for i in items if fold_of[i.label.group] != fold]
        test = [i for i in items if fold_of[i.label.group] == fold]
        if not test or not train:
            continue
        fitted = fit(policy, train, **fit_options)
        held_out.extend(rescore(fitted, i) for i in test)
    return held_out


def _shuffled(groups: list[str]) -> list[str]:
    # Deterministic: the same groups always land in the same folds.
    order = np.random.default_rng(0).permutation(len(groups))
    return [groups[n] for n in order]


def policy_toml(policy: Policy) -> str:
    """The policy as TOML text, in the layout of the shipped policy file."""
    lines = [
        "# photocheck policy, written by `photocheck eval calibrate`.",
        f"name = {_toml(policy.name)}",
        f"version = {_toml(policy.version)}",
        f"description = {_toml(policy.description)}",
        f"fitted_on = {_toml(policy.fitted_on)}",
        f"kind = {_toml(policy.kind)}",
        "",
        "[processing]",
        *_fields(policy.processing),
        "",
        "[measures]",
        *(f"{key} = {_toml(value)}" for key, value in policy.measure_params.items()),
    ]
    if policy.card is not None:
        lines += ["", "[card]", *_fields(policy.card)]
    colour = policy.background_colour
    if colour is not None:
        lines += ["", "[background_colour]",
                  *(line for line in _fields(colour) if not line.startswith("hue_deg ")),
                  "", "[background_colour.hue_deg]",
                  *(f"{name} = {_toml(hue)}" for name, hue in colour.hue_deg.items())]
    for rule in policy.rules:
        lines += ["", "[[rules]]", f"reason = {_toml(rule.reason.value)}",
                  f"measure = {_toml(rule.measure)}"]
        if not rule.needs_face:
            lines.append("needs_face = false")
        if rule.card_measure is not None:
            lines.append(f"card_measure = {_toml(rule.card_measure)}")
        for name in ("eligible_below", "eligible_above", "review_below", "review_above"):
            value = getattr(rule, name)
            if value is not None:  # the decisive bounds by their neutral names: any kind reads them
                lines.append(f"{_NEUTRAL_NAME.get(name, name)} = {_toml(value)}")
    return "\n".join(lines) + "\n"


_NEUTRAL_NAME = {field_name: alias for alias, field_name in DEFECT_KEYS.items()}


def _fields(settings) -> list[str]:
    """``key = value`` lines of a settings dataclass's fields."""
    return [f"{f.name} = {_toml(getattr(settings, f.name))}"
            for f in dataclasses.fields(settings)]


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{text}"'
