"""Policy: a versioned TOML file of thresholds, and the rules that turn measures into a decision.

Numbers that decide live only in the policy file (``policies/replacement.toml`` is the shipped
default); this module knows how to read and apply them, not what they are.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from .measures import MEASURE_PARAMETERS, MEASURES
from .schema import Decision, Finding, Reason, RequestReason

DEFAULT_POLICY = "replacement"
POLICY_KEYS = {"name", "version", "description", "fitted_on", "processing", "measures", "rules"}


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
class Rule:
    """One test of one measure. A bound left as None is not tested."""

    reason: Reason
    measure: str
    needs_face: bool = True
    eligible_below: float | None = None
    eligible_above: float | None = None
    review_below: float | None = None
    review_above: float | None = None

    def evaluate(self, value: float | None) -> Finding | None:
        """The finding this rule makes on ``value``, or None when it does not fire."""
        if value is None or math.isnan(value):
            return Finding(reason=self.reason, outcome="review", measure=self.measure,
                           value=None, threshold=None, comparison="not_assessed")
        for outcome, below, above in (("eligible", self.eligible_below, self.eligible_above),
                                      ("review", self.review_below, self.review_above)):
            if below is not None and value < below:
                return Finding(reason=self.reason, outcome=outcome, measure=self.measure,
                               value=value, threshold=below, comparison="<")
            if above is not None and value > above:
                return Finding(reason=self.reason, outcome=outcome, measure=self.measure,
                               value=value, threshold=above, comparison=">")
        return None


@dataclass(frozen=True)
class Policy:
    name: str
    version: str
    description: str
    fitted_on: str
    processing: Processing
    measure_params: Mapping[str, float]
    rules: tuple[Rule, ...]

    @classmethod
    def load(cls, source: str | Path | None = None) -> Policy:
        """Load a policy: None for the default, a shipped policy name, or a TOML file path."""
        if source is None:
            source = DEFAULT_POLICY
        path = Path(source)
        if path.suffix == ".toml" or path.is_file():
            text = path.read_text(encoding="utf-8")
        else:
            text = _shipped_text(str(source))
        return cls.from_toml(text)

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
        if MEASURE_PARAMETERS - set(params):
            # A policy may set only its thresholds: how measures are taken comes from the
            # shipped default.
            params = {**_shipped(DEFAULT_POLICY)["measures"], **params}
        try:
            processing = Processing(**data["processing"])
            rules = tuple(_rule(entry) for entry in data["rules"])
            policy = cls(
                name=str(data["name"]), version=str(data["version"]),
                description=str(data.get("description", "")),
                fitted_on=str(data.get("fitted_on", "")).strip(),
                processing=processing,
                measure_params=MappingProxyType(params),
                rules=rules,
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"invalid policy file: {exc}") from exc
        return policy

    @property
    def measures(self) -> tuple[str, ...]:
        """Measures the rules read, in rule order, without repeats."""
        return tuple(dict.fromkeys(rule.measure for rule in self.rules))

    def decide(self, measures: Mapping[str, float | None], *, has_face: bool,
               request_reason: RequestReason = RequestReason.QUALITY
               ) -> tuple[Decision, tuple[Reason, ...], tuple[Finding, ...]]:
        """Apply every rule; eligible beats review beats not_eligible.

        A request reason that is eligible by policy (hijab, appearance change, failed
        verification) decides alone; the quality findings are still returned as evidence.
        """
        findings = tuple(
            finding for rule in self.rules
            if has_face or not rule.needs_face
            if (finding := rule.evaluate(measures.get(rule.measure))) is not None
        )
        policy_reason = RequestReason(request_reason).policy_reason
        if policy_reason is not None:
            return Decision.ELIGIBLE, (policy_reason,), findings
        for outcome, decision in (("eligible", Decision.ELIGIBLE), ("review", Decision.REVIEW)):
            reasons = tuple(dict.fromkeys(f.reason for f in findings if f.outcome == outcome))
            if reasons:
                return decision, reasons, findings
        return Decision.NOT_ELIGIBLE, (Reason.CLEAR_PHOTO,), findings


def _shipped_text(name: str) -> str:
    shipped = resources.files("photocheck") / "policies" / f"{name}.toml"
    if not shipped.is_file():
        raise ValueError(f"no policy named {name!r} and no such file")
    return shipped.read_text(encoding="utf-8")


def _shipped(name: str) -> dict:
    return tomllib.loads(_shipped_text(name))


def _rule(entry: Mapping) -> Rule:
    known = {f.name for f in fields(Rule)}
    unknown = set(entry) - known
    if unknown:
        raise ValueError(f"unknown key(s) in rule: {sorted(unknown)}")
    if entry["measure"] not in MEASURES:
        raise ValueError(f"rule names unknown measure {entry['measure']!r}")
    return Rule(**{**entry, "reason": Reason(entry["reason"])})
