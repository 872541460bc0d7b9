"""Policy: a versioned TOML file of thresholds, and the rules that turn measures into a decision.

Numbers that decide live only in the policy file (``policies/replacement.toml`` is the shipped
default, ``policies/capture.toml`` the capture profile); this module knows how to read and apply
them, not what they are.

A policy has a *kind*. Every rule that fires with its decisive bound is a defect of the photo;
the kind says what a defect means:

* ``replacement`` (an existing card photo): a defect makes the photo ``eligible`` for
  replacement; without one it is ``not_eligible`` (``clear_photo``);
* ``capture`` (a new photo taken at the office): a defect makes it ``rejected`` (take it
  again); without one it is ``accepted`` (``meets_capture_standard``).

A capture policy may also carry the KTP-el background-colour rule (``[background_colour]``:
red for an odd birth year, blue for an even one), which needs the holder's birth year.
"""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from .measures import CARD_MEASURES, CORE_MEASURES, MEASURE_PARAMETERS, MEASURES
from .schema import BackgroundInfo, Decision, Finding, Reason, RequestReason

DEFAULT_POLICY = "replacement"
CAPTURE_POLICY = "capture"
POLICY_KEYS = {"name", "version", "description", "fitted_on", "kind", "processing", "measures",
               "rules", "background_colour", "card"}


@dataclass(frozen=True)
class Kind:
    """What a kind of policy answers: the finding outcome and decision of a defect, and the
    decision and reason when no rule fires."""

    defect_outcome: str
    defect: Decision
    clean: Decision
    clean_reason: Reason


KINDS: dict[str, Kind] = {
    "replacement": Kind("eligible", Decision.ELIGIBLE, Decision.NOT_ELIGIBLE,
                        Reason.CLEAR_PHOTO),
    "capture": Kind("rejected", Decision.REJECTED, Decision.ACCEPTED,
                    Reason.MEETS_CAPTURE_STANDARD),
}

#: Values the policy derives from measures and the request (not from the image alone); they
#: are reported with the measures. name -> (unit, description).
DERIVED_MEASURES: dict[str, tuple[str, str]] = {
    "background_hue_error_deg": (
        "deg", "Hue distance of the background from the colour the birth year asks for (from "
               "the nearest allowed colour when no birth year is given)"),
}


@dataclass(frozen=True)
class Processing:
    """How images are prepared before measuring (see the policy file for meanings)."""

    working_min_side: int
    min_working_face_width: int
    working_max_side: int
    max_pixels: int
    min_detection_confidence: float
    min_face_presence: float
    max_faces: int
    canonical_face_width: int
    canonical_crop_margin: float


@dataclass(frozen=True)
class CardSettings:
    """Card mode: judging the portrait on a photo or scan of the whole card (``[card]``)."""

    # Auto mode looks for a card only when no face was found, or a face narrower than this
    # share of the image width.
    search_below_face_fraction: float
    # Shorter side (px) the photo of a card is decoded at: the portrait needs the resolution.
    working_side: int
    # Edge blur of the card's own text (mm on the card) above which the shot is too soft to
    # judge the printed photo: error ``retake``.
    retake_text_blur_mm: float
    # The same blur enlarged to the canonical face (px) above which the shot is too soft or
    # too small to judge the printed photo's sharpness: error ``retake``.
    retake_shot_blur_px: float
    # Width (px) of the printed face in the photo of the card below which there is too little
    # to judge it (found or not): error ``retake``, not a verdict on the card.
    retake_face_width_px: float
    # Blur (Gaussian sigma) every print of a photo has from the printer's dot spread, mm on the
    # card; card mode takes it out of the portrait's measured blur.
    print_blur_mm: float
    # The camera's own blur (lens, pixel aperture, demosaicing), px of the photo of the card;
    # taken out likewise.
    camera_blur_px: float


@dataclass(frozen=True)
class Rule:
    """One test of one measure. A bound left as None is not tested."""

    reason: Reason
    measure: str
    needs_face: bool = True
    # On a photo of a whole card, the rule reads this card measure instead of ``measure`` (the
    # same quantity of the printed photo, e.g. its blur without the print's and the shot's).
    card_measure: str | None = None
    # The decisive (defect) bounds; ``defect_below`` / ``defect_above`` in a policy file, or
    # ``eligible_below`` / ``eligible_above`` in a replacement policy.
    eligible_below: float | None = None
    eligible_above: float | None = None
    review_below: float | None = None
    review_above: float | None = None

    def evaluate(self, value: float | None, defect_outcome: str = "eligible"
                 ) -> Finding | None:
        """The finding this rule makes on ``value``, or None when it does not fire.
        ``defect_outcome`` names a finding at the decisive bound (the policy kind's)."""
        if value is None or math.isnan(value):
            return Finding(reason=self.reason, outcome="review", measure=self.measure,
                           value=None, threshold=None, comparison="not_assessed")
        for outcome, below, above in ((defect_outcome, self.eligible_below, self.eligible_above),
                                      ("review", self.review_below, self.review_above)):
            if below is not None and value < below:
                return Finding(reason=self.reason, outcome=outcome, measure=self.measure,
                               value=value, threshold=below, comparison="<")
            if above is not None and value > above:
                return Finding(reason=self.reason, outcome=outcome, measure=self.measure,
                               value=value, threshold=above, comparison=">")
        return None


@dataclass(frozen=True)
class BackgroundColourRule:
    """The KTP-el background colour rule: the colour asked for by the parity of the birth year,
    colour classes by CIELAB hue angle, and how far the background may be from one."""

    odd_year: str
    even_year: str
    hue_deg: Mapping[str, float]  # colour class name -> its hue angle h_ab, degrees
    hue_tolerance_deg: float  # farther than this from every class hue: colour 'other'
    min_chroma: float  # below this C*ab the background is grey or white: no colour at all

    def expected(self, birth_year: int | None) -> str | None:
        if birth_year is None:
            return None
        return self.odd_year if birth_year % 2 else self.even_year

    def hue_error(self, hue: float, colour: str) -> float:
        """Circular distance of ``hue`` from the hue of ``colour``, degrees 0-180."""
        difference = abs(hue - self.hue_deg[colour]) % 360.0
        return min(difference, 360.0 - difference)

    def classify(self, hue: float, chroma: float) -> str:
        """The colour class of a background: the nearest class hue within tolerance, or
        'other' (also for a grey or white background)."""
        if chroma < self.min_chroma:
            return "other"
        nearest = min(self.hue_deg, key=lambda colour: self.hue_error(hue, colour))
        return nearest if self.hue_error(hue, nearest) <= self.hue_tolerance_deg else "other"


@dataclass(frozen=True)
class Assessment:
    """Everything a policy concludes about one image."""

    decision: Decision
    reasons: tuple[Reason, ...]
    findings: tuple[Finding, ...]
    derived: Mapping[str, float | None]  # see DERIVED_MEASURES
    background: BackgroundInfo | None


@dataclass(frozen=True)
class Policy:
    name: str
    version: str
    description: str
    fitted_on: str
    processing: Processing
    measure_params: Mapping[str, float]
    rules: tuple[Rule, ...]
    kind: str = "replacement"
    background_colour: BackgroundColourRule | None = None
    card: CardSettings | None = None  # None: this policy does not judge photos of cards

    @classmethod
    def load(cls, source: str | Path | None = None) -> Policy:
        """Load a policy: None for the default, a shipped policy name (see
        :func:`shipped_policies`), or a TOML file path."""
        return cls.from_toml(config_text(source, folder="policies", default=DEFAULT_POLICY,
                                         what="policy"))

    @classmethod
    def from_toml(cls, text: str) -> Policy:
        data = tomllib.loads(text)
        unknown = set(data) - POLICY_KEYS
        if unknown:
            raise ValueError(f"invalid policy file: unknown key(s) {sorted(unknown)}")
        params = dict(data.get("measures", {}))
        extra = set(params) - MEASURE_PARAMETERS
        if extra:
            raise ValueError(f"invalid policy file: unknown [measures] key(s) {sorted(extra)}")
        kind = str(data.get("kind", DEFAULT_POLICY))
        if kind not in KINDS:
            raise ValueError(f"invalid policy file: unknown kind {kind!r}; use "
                             f"{' or '.join(KINDS)}")
        if MEASURE_PARAMETERS - set(params):
            # A policy may set only its thresholds: how measures are taken comes from the
            # shipped default (and, for a capture policy, the shipped capture profile).
            defaults = dict(_shipped(DEFAULT_POLICY)["measures"])
            if kind == CAPTURE_POLICY:
                defaults.update(_shipped(CAPTURE_POLICY)["measures"])
            params = {**defaults, **params}
        try:
            processing = Processing(**data["processing"])
            rules = tuple(_rule(entry, kind) for entry in data["rules"])
            colour = data.get("background_colour")
            if colour is not None and kind != CAPTURE_POLICY:
                raise ValueError("[background_colour] belongs in a capture policy")
            policy = cls(
                name=str(data["name"]), version=str(data["version"]),
                description=str(data.get("description", "")),
                fitted_on=str(data.get("fitted_on", "")).strip(),
                processing=processing,
                measure_params=MappingProxyType(params),
                rules=rules,
                kind=kind,
                background_colour=None if colour is None else _background_colour(colour),
                card=None if "card" not in data else _card(data["card"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"invalid policy file: {exc}") from exc
        missing = sorted({param for name in policy.measure_names
                          for param in MEASURES[name].params} - set(params))
        if missing:
            raise ValueError(f"invalid policy file: [measures] lacks {missing}")
        return policy

    @property
    def measures(self) -> tuple[str, ...]:
        """Measures the rules read, in rule order, without repeats."""
        return tuple(dict.fromkeys(rule.measure for rule in self.rules))

    # Read for every image (and by each needs_* below); a policy never changes.
    @functools.cached_property
    def measure_names(self) -> tuple[str, ...]:
        """Measures to compute, in registry order: the core measures, which every result
        reports, plus any other measure the rules or the background colour rule read (and,
        when one feature-visibility measure is read, all of them)."""
        read = set(self.measures)
        if self.background_colour is not None:
            read |= {"background_hue_deg", "background_chroma"}
        if any(name in MEASURES and MEASURES[name].needs_visibility for name in read):
            # The model judges every feature at once: report each one's probability.
            read |= {name for name, spec in MEASURES.items() if spec.needs_visibility}
        return tuple(name for name in MEASURES if name in read or name in CORE_MEASURES)

    @property
    def needs_person_mask(self) -> bool:
        """Whether a measure to compute reads the person mask (the segmentation model)."""
        return any(MEASURES[name].needs_person_mask for name in self.measure_names)

    @property
    def needs_eye_contours(self) -> bool:
        """Whether a measure to compute reads the eyelid contours (the iris landmark model)."""
        return any(MEASURES[name].needs_eye_contours for name in self.measure_names)

    @property
    def needs_visibility(self) -> bool:
        """Whether a measure to compute reads the features' covered probabilities (the
        feature-visibility model)."""
        return any(MEASURES[name].needs_visibility for name in self.measure_names)

    def decide(self, measures: Mapping[str, float | None], *, has_face: bool,
               request_reason: RequestReason = RequestReason.QUALITY,
               birth_year: int | None = None
               ) -> tuple[Decision, tuple[Reason, ...], tuple[Finding, ...]]:
        """Apply every rule: a defect beats review beats a clean photo (see :meth:`assess`)."""
        assessment = self.assess(measures, has_face=has_face, request_reason=request_reason,
                                 birth_year=birth_year)
        return assessment.decision, assessment.reasons, assessment.findings

    def assess(self, measures: Mapping[str, float | None], *, has_face: bool,
               has_card: bool = False, request_reason: RequestReason = RequestReason.QUALITY,
               birth_year: int | None = None) -> Assessment:
        """Apply every rule and the background colour rule.

        Replacement: eligible beats review beats not_eligible. A request reason that is
        eligible by policy (hijab, appearance change, failed verification) decides alone; the
        quality findings are still returned as evidence.

        Capture: rejected beats review beats accepted; the request reason plays no part.
        ``birth_year`` picks the background colour; without it a background of an allowed
        colour goes to review (``birth_year_missing``), one of no allowed colour is rejected.
        """
        kind = KINDS[self.kind]
        rules = (replace(rule, measure=rule.card_measure) if has_card and rule.card_measure
                 else rule for rule in self.rules)
        findings = [
            finding for rule in rules
            if has_face or not rule.needs_face
            if has_card or rule.measure not in CARD_MEASURES  # card rules: on cards only
            if (finding := rule.evaluate(measures.get(rule.measure), kind.defect_outcome))
            is not None
        ]
        derived: dict[str, float | None] = {}
        background = None
        if self.background_colour is not None and has_face:
            background, colour_findings, derived = self._background(measures, birth_year)
            findings += colour_findings
        findings = tuple(findings)
        policy_reason = RequestReason(request_reason).policy_reason
        if policy_reason is not None and self.kind == DEFAULT_POLICY:
            return Assessment(Decision.ELIGIBLE, (policy_reason,), findings, derived, background)
        for outcome, decision in ((kind.defect_outcome, kind.defect), ("review", Decision.REVIEW)):
            reasons = tuple(dict.fromkeys(f.reason for f in findings if f.outcome == outcome))
            if reasons:
                return Assessment(decision, reasons, findings, derived, background)
        return Assessment(kind.clean, (kind.clean_reason,), findings, derived, background)

    def _background(self, measures: Mapping[str, float | None], birth_year: int | None
                    ) -> tuple[BackgroundInfo, list[Finding], dict[str, float | None]]:
        """The colour class, findings and derived hue error of the background colour rule."""
        rule = self.background_colour
        kind = KINDS[self.kind]
        hue, chroma = measures.get("background_hue_deg"), measures.get("background_chroma")
        expected = rule.expected(birth_year)
        error_name = "background_hue_error_deg"
        if hue is None or chroma is None:
            finding = Finding(reason=Reason.BACKGROUND_COLOUR_MISMATCH, outcome="review",
                              measure="background_hue_deg", value=None, threshold=None,
                              comparison="not_assessed")
            return (BackgroundInfo(colour=None, expected=expected), [finding],
                    {error_name: None})
        colour = rule.classify(hue, chroma)
        allowed = [expected] if expected is not None else [rule.odd_year, rule.even_year]
        error = min(rule.hue_error(hue, name) for name in allowed)
        findings = []
        if chroma < rule.min_chroma:  # grey or white: wrong whatever the birth year
            findings.append(Finding(
                reason=Reason.BACKGROUND_COLOUR_MISMATCH, outcome=kind.defect_outcome,
                measure="background_chroma", value=chroma, threshold=rule.min_chroma,
                comparison="<"))
        elif error > rule.hue_tolerance_deg:
            findings.append(Finding(
                reason=Reason.BACKGROUND_COLOUR_MISMATCH, outcome=kind.defect_outcome,
                measure=error_name, value=error, threshold=rule.hue_tolerance_deg,
                comparison=">"))
        elif expected is None:  # an allowed colour, but which one is right is not known
            findings.append(Finding(
                reason=Reason.BIRTH_YEAR_MISSING, outcome="review", measure=error_name,
                value=error, threshold=None, comparison="not_assessed"))
        return (BackgroundInfo(colour=colour, expected=expected), findings,
                {error_name: error})


def shipped_policies() -> tuple[str, ...]:
    """Names of the policies shipped in the package (``replacement``, ``capture``)."""
    folder = resources.files("photocheck") / "policies"
    return tuple(sorted(entry.name[:-len(".toml")] for entry in folder.iterdir()
                        if entry.name.endswith(".toml")))


def config_text(source: str | Path | None, *, folder: str, default: str, what: str) -> str:
    """The text of a TOML configuration: ``source`` is a file path, or the name of a file
    shipped in ``photocheck/<folder>/`` (None: ``default``). ``what`` names it in errors."""
    source = default if source is None else source
    path = Path(source)
    if path.suffix == ".toml" or path.is_file():
        return path.read_text(encoding="utf-8")
    return _shipped_text(str(source), folder, what)


def _shipped_text(name: str, folder: str = "policies", what: str = "policy") -> str:
    shipped = resources.files("photocheck") / folder / f"{name}.toml"
    if not shipped.is_file():
        raise ValueError(f"no {what} named {name!r} and no such file")
    return shipped.read_text(encoding="utf-8")


def _shipped(name: str) -> dict:
    return tomllib.loads(_shipped_text(name))


# Neutral names of the decisive bounds, for any kind of policy.
DEFECT_KEYS = {"defect_below": "eligible_below", "defect_above": "eligible_above"}


def _rule(entry: Mapping, kind: str = DEFAULT_POLICY) -> Rule:
    known = {f.name for f in fields(Rule)} | set(DEFECT_KEYS)
    unknown = set(entry) - known
    if unknown:
        raise ValueError(f"unknown key(s) in rule: {sorted(unknown)}")
    entry = dict(entry)
    for alias, field_name in DEFECT_KEYS.items():
        if alias in entry:
            if field_name in entry:
                raise ValueError(f"rule gives both {alias} and {field_name}")
            entry[field_name] = entry.pop(alias)
        elif field_name in entry and kind != DEFAULT_POLICY:
            raise ValueError(f"{field_name} in a {kind} policy: use {alias}")
    if entry["measure"] not in MEASURES and entry["measure"] not in CARD_MEASURES:
        raise ValueError(f"rule names unknown measure {entry['measure']!r}")
    card_measure = entry.get("card_measure")
    if card_measure is not None and card_measure not in CARD_MEASURES:
        raise ValueError(f"rule's card_measure {card_measure!r} is not a card measure")
    return Rule(**{**entry, "reason": Reason(entry["reason"])})


def _card(table: Mapping) -> CardSettings:
    known = {f.name for f in fields(CardSettings)}
    if set(table) != known:
        raise ValueError(f"[card] needs exactly {sorted(known)}, got {sorted(table)}")
    return CardSettings(**table)


def _background_colour(table: Mapping) -> BackgroundColourRule:
    known = {f.name for f in fields(BackgroundColourRule)}
    unknown = set(table) - known
    if unknown:
        raise ValueError(f"unknown key(s) in [background_colour]: {sorted(unknown)}")
    rule = BackgroundColourRule(**{**table, "hue_deg": MappingProxyType(
        {str(k): float(v) for k, v in table["hue_deg"].items()})})
    for colour in (rule.odd_year, rule.even_year):
        if colour not in rule.hue_deg:
            raise ValueError(f"[background_colour] has no hue for {colour!r}")
    return rule
