"""Calibration: thresholds fitted from measured items, held-out by group, written as a policy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from photocheck import Policy, Reason
from photocheck.evaluation.calibrate import (FIXED_REASONS, cross_validate, fit, policy_toml,
                                             rescore)
from photocheck.evaluation.score import Item, Label, scores_of

BASE = Policy.load()


def _item(label: str, degradation: str, group: str, measures: dict) -> Item:
    row = Label(file=f"{group}_{len(measures)}.jpg", path=Path("/nonexistent"), label=label,
                reason_family="blurry" if label == "eligible" else "", group=group,
                degradation=degradation)
    return Item(row, None, (), measures)


def _items(n_people: int = 20, seed: int = 0) -> list[Item]:
    """Clear photos with sharpness ~N(1.3, 0.2) px and blurred ones ~N(2.8, 0.3) px."""
    rng = np.random.default_rng(seed)
    items = []
    for person in range(n_people):
        for _ in range(5):
            clear = {"edge_blur_px": rng.normal(1.3, 0.2), "edge_blur_max_px": rng.normal(1.5, 0.2)}
            items.append(_item("not_eligible", "clean", f"p{person}", _face(clear)))
            blurred = {"edge_blur_px": rng.normal(2.8, 0.3),
                       "edge_blur_max_px": rng.normal(3.0, 0.3)}
            items.append(_item("eligible", "gaussian", f"p{person}", _face(blurred)))
    return items


def _face(values: dict[str, float]) -> dict[str, float]:
    """Measures of a well-exposed, uncovered, whole face, plus ``values``."""
    return {"detection_confidence": 0.95, "face_count": 1.0, "face_outside_fraction": 0.0,
            "face_width_px": 160.0, "face_brightness": 130.0, "face_clipped_fraction": 0.0,
            "face_contrast": 120.0, "eyes_occluded": 0.0, "face_occluded": 0.0,
            "features_occluded": 0.0, "image_short_side_px": 400.0, "eyes_covered": 0.0,
            "nose_mouth_covered": 0.0, "features_covered": 0.0, **values}


def _rule(policy: Policy, measure: str):
    return next(r for r in policy.rules if r.measure == measure)


def test_fitted_blur_bound_separates_clear_from_blurred():
    fitted = fit(BASE, _items(), version="test", fitted_on="synthetic")
    bound = _rule(fitted, "edge_blur_px").eligible_above
    assert 1.3 < bound < 2.8
    assert _rule(fitted, "edge_blur_px").review_above <= bound
    assert (fitted.version, fitted.fitted_on) == ("test", "synthetic")


def test_fitted_policy_meets_the_target_on_its_training_items():
    items = _items()
    fitted = fit(BASE, items)
    scores = scores_of([rescore(fitted, i) for i in items])
    assert scores.false_eligible_rate <= 0.01
    assert scores.missed_eligible_rate <= 0.01


def test_face_presence_rules_are_not_fitted():
    fitted = fit(BASE, _items())
    for before, after in zip(BASE.rules, fitted.rules):
        if before.reason in FIXED_REASONS:
            assert before == after


def test_a_costlier_false_eligible_moves_the_bound_away_from_clear_photos():
    items = _items()
    cheap = _rule(fit(BASE, items, false_eligible_cost=1.0), "edge_blur_px").eligible_above
    costly = _rule(fit(BASE, items, false_eligible_cost=100.0), "edge_blur_px").eligible_above
    assert costly >= cheap


def test_the_bound_sits_in_the_middle_of_a_clean_gap():
    items = [_item("not_eligible", "clean", f"c{n}", _face({"edge_blur_px": 1.0 + n / 100,
                                                             "edge_blur_max_px": 1.0}))
             for n in range(10)]  # clear photos 1.00-1.09
    items += [_item("eligible", "gaussian", f"b{n}", _face({"edge_blur_px": 3.0 + n / 100,
                                                           "edge_blur_max_px": 1.0}))
              for n in range(10)]  # blurred photos 3.00-3.09
    bound = _rule(fit(BASE, items), "edge_blur_px").eligible_above
    assert 1.5 < bound < 2.6


def test_cross_validation_holds_every_item_out_once_and_never_splits_a_group():
    items = _items(n_people=10)
    held = cross_validate(BASE, items, folds=5)
    assert len(held) == len(items)
    assert sorted(id(i.label) for i in held) == sorted(id(i.label) for i in items)
    assert all(i.decision in {"eligible", "not_eligible", "review"} for i in held)
    assert scores_of(held).accuracy > 0.95


def test_policy_toml_round_trips():
    fitted = fit(BASE, _items(), version="2099.1.0", fitted_on='synthetic "quoted" set')
    loaded = Policy.from_toml(policy_toml(fitted))
    assert loaded.rules == fitted.rules
    assert loaded.processing == fitted.processing
    assert dict(loaded.measure_params) == dict(fitted.measure_params)
    assert (loaded.version, loaded.fitted_on) == ("2099.1.0", 'synthetic "quoted" set')
    assert loaded.card == fitted.card is not None  # a calibrated policy still judges cards


def test_policy_toml_round_trips_a_capture_policy():
    capture = Policy.load("capture")
    loaded = Policy.from_toml(policy_toml(capture))
    assert loaded.kind == capture.kind == "capture"
    assert loaded.background_colour == capture.background_colour is not None
    assert loaded.rules == capture.rules and loaded.card == capture.card


def test_rescore_uses_only_the_stored_measures():
    blurred = _item("eligible", "gaussian", "p", _face({"edge_blur_px": 3.0,
                                                        "edge_blur_max_px": 3.2}))
    judged = rescore(BASE, blurred)
    assert (judged.decision, judged.reasons) == ("eligible", ("blurry",))
    assert Reason.BLURRY not in FIXED_REASONS


def test_staff_photos_stand_for_the_reasons_found_or_their_most_unusual_measure():
    from photocheck.evaluation.calibrate import STAFF, _aims

    clear = [_item("not_eligible", STAFF, f"c{n}", _face({"edge_blur_px": 1.2 + n / 100,
                                                          "edge_blur_max_px": 1.3}))
             for n in range(20)]
    found = Item(_item("eligible", STAFF, "s1", {}).label, "eligible", ("blurry",),
                 _face({"edge_blur_px": 3.0, "edge_blur_max_px": 3.2}))
    dark = _item("eligible", STAFF, "s2", _face({"edge_blur_px": 1.25, "edge_blur_max_px": 1.3,
                                                 "face_brightness": 5.0}))
    aims = _aims(BASE, clear + [found, dark], clear)
    assert aims[:20] == [set()] * 20
    assert aims[20] == {Reason.BLURRY}
    assert aims[21] == {Reason.UNDEREXPOSED}
