"""Fit a policy's thresholds to a labelled set, and say how well they hold on people not seen.

Re-scoring needs no image: results keep their raw measures, and ``Policy.decide`` turns measures
into a decision. So calibration reads measured items once and tries thresholds on them.

Method (one rule at a time, so each bound can be explained on its own):

* The **eligible bound** of a rule is set so that at most ``target_false_eligible / R`` of the
  clear (``not_eligible``) photos cross it, R being the number of fitted rules: the union of the
  rules then keeps false eligibility near the target. Within that limit the bound sits halfway
  to the photos the rule exists for (the eligible items whose degradation belongs to the rule's
  reason, e.g. blur for ``blurry``), which leaves a margin on both sides instead of hugging the
  clear photos seen in training.
* The **review bound** lets at most ``review_budget / R`` of the clear photos into review.
* Rules that test face presence (``no_face``, ``multiple_faces``) are kept as they are: their
  bounds are confidences and counts, not fitted quantities.

Honest figures come from cross-validation by group (a person, or a source folder): thresholds
are fitted on the other folds and the held-out fold is scored with them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence

import numpy as np

from ..policy import Policy, Rule
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


def fit(policy: Policy, items: Sequence[Item], *, target_false_eligible: float = 0.01,
        review_budget: float = 0.04, version: str | None = None,
        fitted_on: str = "") -> Policy:
    """A copy of ``policy`` with every fittable rule's bounds chosen from ``items``."""
    clear = [i for i in items if i.label.label == "not_eligible" and i.has_face]
    fitted_rules = [r for r in policy.rules if r.reason not in FIXED_REASONS]
    share = max(len(fitted_rules), 1)
    rules = []
    for rule in policy.rules:
        if rule.reason in FIXED_REASONS:
            rules.append(rule)
            continue
        targets = [i for i in items if i.label.label == "eligible"
                   and i.label.degradation in REASON_DEGRADATIONS.get(rule.reason, ())]
        rules.append(_fit_rule(rule, clear, targets, target_false_eligible / share,
                               review_budget / share))
    return dataclasses.replace(policy, rules=tuple(rules),
                               version=version or policy.version,
                               fitted_on=fitted_on or policy.fitted_on)


def _fit_rule(rule: Rule, clear: Sequence[Item], targets: Sequence[Item], eligible_share: float,
              review_share: float) -> Rule:
    upward = rule.eligible_above is not None or rule.review_above is not None
    sign = 1.0 if upward else -1.0  # work on "higher is worse" values
    clear_values = _values(clear, rule.measure, sign)
    if clear_values.size == 0:
        return rule
    old_eligible = rule.eligible_above if upward else rule.eligible_below
    old_review = rule.review_above if upward else rule.review_below
    eligible = float(np.quantile(clear_values, 1.0 - eligible_share))
    # The photos this rule is for are those of its degradations on the bad side of a typical
    # clear photo (for underexposed: the dark ones of "exposure", not the blown-out ones).
    target_values = _values(targets, rule.measure, sign)
    target_values = target_values[target_values > np.median(clear_values)]
    if target_values.size:
        low_target = float(np.quantile(target_values, 0.05))
        if low_target > eligible:
            eligible = (eligible + low_target) / 2
    elif old_eligible is not None:
        # Nothing in the set shows what the rule is for: only move away from clear photos.
        eligible = max(eligible, sign * old_eligible)
    review = float(np.quantile(clear_values, 1.0 - review_share))
    if not target_values.size and old_review is not None:
        review = max(review, sign * old_review)
    # Where clear photos barely vary (a face is rarely cut off at all), a quantile would put
    # the review bound on top of them: keep it at least halfway to the eligible bound.
    review = max(review, (float(np.median(clear_values)) + eligible) / 2)
    bounds = {}
    if old_eligible is not None:
        bounds["eligible_above" if upward else "eligible_below"] = _round(sign * eligible)
        review = min(review, eligible)
    if old_review is not None:
        bounds["review_above" if upward else "review_below"] = _round(sign * review)
    return dataclasses.replace(rule, **bounds)


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
        "",
        "[processing]",
        *(f"{f.name} = {_toml(getattr(policy.processing, f.name))}"
          for f in dataclasses.fields(policy.processing)),
        "",
        "[measures]",
        *(f"{key} = {_toml(value)}" for key, value in policy.measure_params.items()),
    ]
    for rule in policy.rules:
        lines += ["", "[[rules]]", f"reason = {_toml(rule.reason.value)}",
                  f"measure = {_toml(rule.measure)}"]
        if not rule.needs_face:
            lines.append("needs_face = false")
        for name in ("eligible_below", "eligible_above", "review_below", "review_above"):
            value = getattr(rule, name)
            if value is not None:
                lines.append(f"{name} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{text}"'
