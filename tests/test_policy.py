"""Policy: loading and validating TOML, evaluating rules, combining findings into a decision.

Rule and decision tests use small policies written here, so they do not depend on the numbers
of the shipped policy (those are calibrated, and change by TOML diff).
"""

from __future__ import annotations

import dataclasses
import math
from importlib import resources
from pathlib import Path

import pytest

from photocheck.measures import CARD_MEASURES, MEASURES
from photocheck.policy import DEFAULT_POLICY, Policy, Rule
from photocheck.schema import Decision, Finding, Reason, RequestReason

SHIPPED = Policy.load()


def processing_toml() -> str:
    """A [processing] table with the shipped values (whatever fields Processing has)."""
    lines = ["[processing]"]
    for key, value in dataclasses.asdict(SHIPPED.processing).items():
        lines.append(f"{key} = {value!r}")
    return "\n".join(lines) + "\n"


MINI_RULES = """
[[rules]]
reason = "no_face"
measure = "detection_confidence"
needs_face = false
eligible_below = 0.3
review_below = 0.6

[[rules]]
reason = "blurry"
measure = "edge_blur_px"
eligible_above = 2.0
review_above = 1.5

[[rules]]
reason = "underexposed"
measure = "face_brightness"
eligible_below = 25
review_below = 40
"""


def mini_toml(*, head: str = 'name = "mini"\nversion = "0.0.1"\n', processing: str | None = None,
              rules: str = MINI_RULES, extra: str = "") -> str:
    return (head + extra + (processing_toml() if processing is None else processing)
            + "\n[measures]\ndenoise_sigma = 1.0\n" + rules)


@pytest.fixture(scope="module")
def mini() -> Policy:
    return Policy.from_toml(mini_toml())


CLEAR = {"detection_confidence": 0.95, "edge_blur_px": 1.0, "face_brightness": 140.0}


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def test_default_policy_loads_with_name_and_version():
    assert SHIPPED.name == DEFAULT_POLICY
    assert SHIPPED.version and SHIPPED.description and SHIPPED.fitted_on
    assert SHIPPED.rules
    assert Policy.load(DEFAULT_POLICY) == SHIPPED


def test_shipped_policy_names_only_registered_measures():
    for rule in SHIPPED.rules:
        assert rule.measure in MEASURES or rule.measure in CARD_MEASURES, rule
    assert set(SHIPPED.measures) <= set(MEASURES) | set(CARD_MEASURES)


def test_card_rules_are_tested_on_cards_only():
    card_rule = next(rule for rule in SHIPPED.rules if rule.measure in CARD_MEASURES)
    damaged = {card_rule.measure: 1.0}
    portrait = SHIPPED.assess(damaged, has_face=True)
    assert card_rule.measure not in {f.measure for f in portrait.findings}
    on_card = SHIPPED.assess(damaged, has_face=True, has_card=True)
    assert Reason.CARD_DAMAGED in on_card.reasons and on_card.decision == Decision.ELIGIBLE


def test_blur_rules_read_the_printed_photos_own_blur_on_cards():
    """On a card the blur rules read card_portrait_blur_px (the print's and the shot's blur
    taken out), on a portrait edge_blur_px; the finding names the measure it read."""
    measures = {"edge_blur_px": 2.6, "edge_blur_max_px": 2.7,
                "card_portrait_blur_px": 1.8, "card_portrait_blur_max_px": 2.0}
    portrait = SHIPPED.assess(measures, has_face=True)
    assert portrait.decision == Decision.ELIGIBLE and Reason.BLURRY in portrait.reasons
    assert "edge_blur_px" in {f.measure for f in portrait.findings}
    on_card = SHIPPED.assess(measures, has_face=True, has_card=True)
    assert Reason.BLURRY not in {f.reason for f in on_card.findings if f.value is not None}
    blurry_print = SHIPPED.assess({**measures, "card_portrait_blur_px": 2.9}, has_face=True,
                                  has_card=True)
    assert [f.measure for f in blurry_print.findings
            if f.reason == Reason.BLURRY and f.value is not None] == ["card_portrait_blur_px"]
    assert blurry_print.decision == Decision.ELIGIBLE


def test_a_rules_card_measure_must_be_a_card_measure():
    text = (Path(__file__).resolve().parent.parent / "photocheck" / "policies"
            / "replacement.toml").read_text()
    with pytest.raises(ValueError, match="card_measure"):
        Policy.from_toml(text.replace('card_measure = "card_portrait_blur_px"',
                                      'card_measure = "edge_blur_px"'))


def test_card_settings_are_strict():
    text = (Path(__file__).resolve().parent.parent / "photocheck" / "policies"
            / "replacement.toml").read_text()
    with pytest.raises(ValueError, match=r"\[card\]"):
        Policy.from_toml(text.replace("retake_shot_blur_px", "retake_shot_blur"))
    assert SHIPPED.card is not None and SHIPPED.card.retake_text_blur_mm > 0
    assert Policy.load("capture").card is None  # new photos are never cards


def test_shipped_policy_rules_are_consistent():
    """Every rule tests something, and its review band lies on the near side of eligible."""
    for rule in SHIPPED.rules:
        bounds = (rule.eligible_below, rule.eligible_above, rule.review_below, rule.review_above)
        assert any(b is not None for b in bounds), rule
        if rule.eligible_above is not None and rule.review_above is not None:
            assert rule.review_above <= rule.eligible_above, rule
        if rule.eligible_below is not None and rule.review_below is not None:
            assert rule.review_below >= rule.eligible_below, rule


def test_shipped_policy_can_say_no_face_without_a_face():
    """Only rules that need no face run on a faceless image; one of them must decide no_face."""
    faceless = [rule for rule in SHIPPED.rules if not rule.needs_face]
    assert any(rule.reason is Reason.NO_FACE for rule in faceless)


def test_policy_loads_from_a_path(tmp_path):
    path = tmp_path / "custom.toml"
    path.write_text(mini_toml(), encoding="utf-8")
    policy = Policy.load(path)
    assert (policy.name, policy.version) == ("mini", "0.0.1")
    assert Policy.load(str(path)) == policy


def test_shipped_file_is_the_default():
    text = (resources.files("photocheck") / "policies" / f"{DEFAULT_POLICY}.toml").read_text(
        encoding="utf-8")
    assert Policy.from_toml(text) == SHIPPED


def test_unknown_policy_name_is_a_value_error():
    with pytest.raises(ValueError, match="no-such-policy"):
        Policy.load("no-such-policy")


def test_custom_minimal_policy(mini):
    assert mini.name == "mini" and mini.version == "0.0.1"
    assert mini.measures == ("detection_confidence", "edge_blur_px", "face_brightness")
    assert [r.reason for r in mini.rules] == [Reason.NO_FACE, Reason.BLURRY, Reason.UNDEREXPOSED]
    assert mini.rules[0].needs_face is False and mini.rules[1].needs_face is True
    assert mini.measure_params["denoise_sigma"] == 1.0
    assert mini.processing == SHIPPED.processing


def test_policy_is_immutable(mini):
    with pytest.raises(dataclasses.FrozenInstanceError):
        mini.name = "changed"
    with pytest.raises(TypeError):
        mini.measure_params["denoise_sigma"] = 3.0


@pytest.mark.parametrize(("label", "text"), [
    ("unknown measure", mini_toml(rules=MINI_RULES.replace('"edge_blur_px"', '"sharpnes"'))),
    ("unknown rule key", mini_toml(rules=MINI_RULES.replace("eligible_above", "eligble_above"))),
    ("unknown reason", mini_toml(rules=MINI_RULES.replace('"blurry"', '"fuzzy"'))),
    ("rule without measure", mini_toml(rules=MINI_RULES.replace('measure = "edge_blur_px"\n', ""))),
    ("missing processing", mini_toml(processing="")),
    ("unknown processing key", mini_toml(processing=processing_toml() + "colour = 1\n")),
    ("incomplete processing", mini_toml(processing=processing_toml().split("\n", 2)[0] + "\n"
                                        + processing_toml().split("\n", 2)[2])),
    ("missing name", mini_toml(head='version = "1"\n')),
    ("missing rules", mini_toml(rules="")),
    # A misspelt section ([measure] for [measures]) must not be silently ignored: the measures
    # would then all lack their parameters and every photo would go to review.
    ("unknown top-level key", mini_toml(extra="threshold = 3\n")),
])
def test_invalid_policy_is_a_value_error(label, text):
    with pytest.raises(ValueError):
        Policy.from_toml(text)


def test_invalid_toml_syntax_is_a_value_error():
    with pytest.raises(ValueError):  # tomllib.TOMLDecodeError is a ValueError
        Policy.from_toml("name = ")


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------

ABOVE = Rule(reason=Reason.BLURRY, measure="edge_blur_px", eligible_above=2.0, review_above=1.5)
BELOW = Rule(reason=Reason.UNDEREXPOSED, measure="face_brightness", eligible_below=25.0,
             review_below=40.0)


def test_rule_above_bands():
    eligible = ABOVE.evaluate(2.5)
    assert eligible == Finding(reason=Reason.BLURRY, outcome="eligible", measure="edge_blur_px",
                               value=2.5, threshold=2.0, comparison=">")
    review = ABOVE.evaluate(1.7)
    assert (review.outcome, review.threshold, review.comparison) == ("review", 1.5, ">")
    assert ABOVE.evaluate(1.0) is None
    # Thresholds are strict: a value on the line belongs to the milder side.
    assert ABOVE.evaluate(2.0).outcome == "review"
    assert ABOVE.evaluate(1.5) is None


def test_rule_below_bands():
    eligible = BELOW.evaluate(10.0)
    assert (eligible.outcome, eligible.threshold, eligible.comparison) == ("eligible", 25.0, "<")
    review = BELOW.evaluate(30.0)
    assert (review.outcome, review.threshold, review.comparison) == ("review", 40.0, "<")
    assert BELOW.evaluate(120.0) is None
    assert BELOW.evaluate(25.0).outcome == "review"
    assert BELOW.evaluate(40.0) is None


def test_rule_with_only_a_review_band():
    rule = Rule(reason=Reason.MULTIPLE_FACES, measure="face_count", review_above=1.5)
    assert rule.evaluate(2.0).outcome == "review"
    assert rule.evaluate(1.0) is None


def test_rule_on_a_missing_value_asks_for_review():
    finding = ABOVE.evaluate(None)
    assert finding == Finding(reason=Reason.BLURRY, outcome="review", measure="edge_blur_px",
                              value=None, threshold=None, comparison="not_assessed")


def test_rule_on_nan_is_not_silently_passed():
    """measure_all turns NaN into None; a NaN reaching a rule must not read as 'fine'."""
    finding = ABOVE.evaluate(math.nan)
    assert finding is not None and finding.outcome != "eligible", finding


# --------------------------------------------------------------------------------------------
# Decisions
# --------------------------------------------------------------------------------------------


def test_no_finding_means_not_eligible_clear_photo(mini):
    decision, reasons, findings = mini.decide(CLEAR, has_face=True)
    assert (decision, reasons, findings) == (Decision.NOT_ELIGIBLE, (Reason.CLEAR_PHOTO,), ())


def test_review_beats_not_eligible(mini):
    decision, reasons, findings = mini.decide({**CLEAR, "edge_blur_px": 1.7}, has_face=True)
    assert decision is Decision.REVIEW
    assert reasons == (Reason.BLURRY,)
    assert [f.outcome for f in findings] == ["review"]


def test_eligible_beats_review(mini):
    measures = {**CLEAR, "edge_blur_px": 1.7, "face_brightness": 10.0}
    decision, reasons, findings = mini.decide(measures, has_face=True)
    assert decision is Decision.ELIGIBLE
    assert reasons == (Reason.UNDEREXPOSED,)  # only the reasons that decided
    assert {f.reason for f in findings} == {Reason.BLURRY, Reason.UNDEREXPOSED}  # all evidence


def test_every_eligible_reason_is_reported_once(mini):
    measures = {**CLEAR, "edge_blur_px": 3.0, "face_brightness": 10.0}
    decision, reasons, _ = mini.decide(measures, has_face=True)
    assert decision is Decision.ELIGIBLE
    assert sorted(reasons) == sorted((Reason.BLURRY, Reason.UNDEREXPOSED))
    assert len(set(reasons)) == len(reasons)


def test_a_measure_not_assessed_gives_review(mini):
    decision, reasons, findings = mini.decide({**CLEAR, "edge_blur_px": None}, has_face=True)
    assert (decision, reasons) == (Decision.REVIEW, (Reason.BLURRY,))
    assert findings[0].comparison == "not_assessed"
    # An absent key is not assessed either.
    measures = {k: v for k, v in CLEAR.items() if k != "face_brightness"}
    assert mini.decide(measures, has_face=True)[0] is Decision.REVIEW


def test_without_a_face_only_faceless_rules_run(mini):
    decision, reasons, findings = mini.decide(
        {"detection_confidence": 0.0, "edge_blur_px": None, "face_brightness": None},
        has_face=False)
    assert (decision, reasons) == (Decision.ELIGIBLE, (Reason.NO_FACE,))
    assert [f.measure for f in findings] == ["detection_confidence"]


def test_shipped_policy_without_a_face_reports_only_no_face():
    measures = {name: None for name in MEASURES}
    measures.update(detection_confidence=0.0, face_count=0.0, image_short_side_px=400.0)
    decision, reasons, findings = SHIPPED.decide(measures, has_face=False)
    assert (decision, reasons) == (Decision.ELIGIBLE, (Reason.NO_FACE,))
    assert all(f.comparison != "not_assessed" for f in findings), findings
    # A file too small to hold a judgeable face is blurry too, face found or not.
    measures.update(image_short_side_px=30.0)
    decision, reasons, _ = SHIPPED.decide(measures, has_face=False)
    assert reasons == (Reason.NO_FACE, Reason.BLURRY)


@pytest.mark.parametrize(("request_reason", "policy_reason"), [
    (RequestReason.HIJAB, Reason.POLICY_HIJAB),
    (RequestReason.APPEARANCE_CHANGE, Reason.POLICY_APPEARANCE_CHANGE),
    (RequestReason.VERIFICATION_FAILED, Reason.POLICY_VERIFICATION_FAILED),
    ("hijab", Reason.POLICY_HIJAB),
])
def test_policy_request_reasons_are_eligible_and_keep_the_evidence(mini, request_reason,
                                                                    policy_reason):
    blurry = {**CLEAR, "edge_blur_px": 3.0}
    decision, reasons, findings = mini.decide(blurry, has_face=True,
                                              request_reason=request_reason)
    assert (decision, reasons) == (Decision.ELIGIBLE, (policy_reason,))
    assert [f.reason for f in findings] == [Reason.BLURRY]
    # On a clear photo as well: the request reason alone decides.
    assert mini.decide(CLEAR, has_face=True, request_reason=request_reason)[:2] == (
        Decision.ELIGIBLE, (policy_reason,))


def test_quality_request_is_judged_on_the_photo(mini):
    assert mini.decide(CLEAR, has_face=True, request_reason=RequestReason.QUALITY)[0] is (
        Decision.NOT_ELIGIBLE)


def test_unknown_request_reason_is_a_value_error(mini):
    with pytest.raises(ValueError):
        mini.decide(CLEAR, has_face=True, request_reason="vanity")
