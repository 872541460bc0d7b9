"""Result types: round trips, the JSON Schema contract, immutability, enums as strings.

The committed ``docs/result.schema.json`` must equal the schema generated from the models.
After a deliberate schema change, regenerate it with:

    photocheck schema > docs/result.schema.json

(or, without the CLI: ``python -c "import json, photocheck;
print(json.dumps(photocheck.json_schema(), indent=2, ensure_ascii=False))"
> docs/result.schema.json``) and bump ``SCHEMA_VERSION`` in ``photocheck/schema.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydantic
import pytest
from jsonschema import Draft202012Validator

import photocheck
from photocheck.evaluation.synth import degrade
from photocheck.errors import ErrorCode
from photocheck.schema import (SCHEMA_VERSION, Decision, ErrorInfo, FaceInfo, Finding, PolicyRef,
                               Reason, RequestReason, Result, json_schema)

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "result.schema.json"


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.fixture(scope="module")
def results(checker, portrait) -> dict[str, Result]:
    """Real results of every shape: verdicts with and without findings, no face, errors."""
    p = portrait()
    return {
        "clear": checker.check(p.rgb),
        "blurry": checker.check(degrade.gaussian_blur(p.rgb, 3.5, face_width=p.face_width)),
        "hijab": checker.check(p.rgb, reason="hijab"),
        "no face": checker.check(degrade.solid(321, 428, (200, 30, 30))),
        "error": checker.check(b""),
        "bad reason": checker.check(p.rgb, reason="vanity"),
    }


KINDS = ["clear", "blurry", "hijab", "no face", "error", "bad reason"]


def minimal_result(**overrides) -> Result:
    fields = dict(decision=Decision.REVIEW, reasons=(Reason.BLURRY,),
                  policy=PolicyRef(name="p", version="1"), version=photocheck.__version__)
    return Result(**{**fields, **overrides})


def test_committed_schema_file_matches_the_models():
    assert SCHEMA_FILE.is_file(), (
        f"{SCHEMA_FILE} is missing; run: photocheck schema > docs/result.schema.json")
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    assert json.loads(text) == json_schema(), (
        "docs/result.schema.json is out of date; regenerate it with "
        "`photocheck schema > docs/result.schema.json` (and bump SCHEMA_VERSION if the "
        "contract changed)")
    assert text.endswith("}\n")


def test_schema_is_draft_2020_12_and_versioned():
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA_VERSION in schema["$id"]
    assert schema["type"] == "object"
    assert {"decision", "reasons", "policy", "version"} <= set(schema["required"])


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip(results, kind):
    result = results[kind]
    assert Result.from_dict(result.to_dict()) == result
    assert Result.from_json(result.to_json()) == result
    assert json.loads(result.to_json()) == result.to_dict()


@pytest.mark.parametrize("kind", KINDS)
def test_results_validate_against_the_schema(results, validator, kind):
    errors = sorted(validator.iter_errors(results[kind].to_dict()), key=str)
    assert not errors, [e.message for e in errors]


def test_the_shapes_are_what_the_names_say(results):
    assert results["clear"].decision is Decision.NOT_ELIGIBLE and results["clear"].face
    assert results["blurry"].findings
    assert results["no face"].face is None
    assert results["error"].error.code is ErrorCode.EMPTY
    assert results["bad reason"].error.code is ErrorCode.INVALID_ARGUMENT


def test_schema_rejects_what_the_models_reject(results, validator):
    data = results["blurry"].to_dict()
    for broken in ({**data, "decision": "maybe"},
                   {**data, "reasons": ["ugly"]},
                   {**data, "unexpected": 1},
                   {k: v for k, v in data.items() if k != "decision"}):
        assert not validator.is_valid(broken), broken
        with pytest.raises(pydantic.ValidationError):
            Result.from_dict(broken)


def test_enums_serialise_as_strings(results):
    data = results["blurry"].to_dict()
    assert type(data["decision"]) is str and data["decision"] == "eligible"
    assert all(type(r) is str for r in data["reasons"]) and "blurry" in data["reasons"]
    assert all(type(f["reason"]) is str for f in data["findings"])
    assert type(data["request_reason"]) is str and data["request_reason"] == "quality"
    error = results["error"].to_dict()["error"]
    assert type(error["code"]) is str and error["code"] == "empty"
    # And plain JSON types throughout (tuples become lists).
    assert isinstance(data["reasons"], list) and isinstance(data["face"]["box"], list)
    assert '"decision": "eligible"' in results["blurry"].to_json()


def test_measures_are_plain_floats_or_null(results):
    for name, value in results["clear"].to_dict()["measures"].items():
        assert value is None or type(value) is float, (name, value)
    assert any(v is None for v in results["no face"].to_dict()["measures"].values())


def test_results_are_immutable(results):
    result = results["blurry"]
    with pytest.raises((pydantic.ValidationError, TypeError, AttributeError)):
        result.decision = Decision.NOT_ELIGIBLE
    with pytest.raises((pydantic.ValidationError, TypeError, AttributeError)):
        result.face.box = (0.0, 0.0, 1.0, 1.0)
    with pytest.raises((pydantic.ValidationError, TypeError, AttributeError)):
        result.findings[0].value = 0.0
    with pytest.raises((TypeError, AttributeError)):
        result.reasons.append(Reason.CLEAR_PHOTO)  # tuples, not lists


def test_models_forbid_unknown_fields():
    with pytest.raises(pydantic.ValidationError):
        minimal_result(colour="red")
    with pytest.raises(pydantic.ValidationError):
        FaceInfo(box=(0, 0, 1, 1), confidence=0.9, landmarks=True, extra=1)


def test_face_confidence_is_bounded():
    with pytest.raises(pydantic.ValidationError):
        FaceInfo(box=(0, 0, 1, 1), confidence=1.5, landmarks=True)


def test_hand_built_results_validate(validator):
    built = [
        minimal_result(),
        minimal_result(
            decision=Decision.ELIGIBLE, reasons=(Reason.POLICY_HIJAB,),
            request_reason=RequestReason.HIJAB, measures={"edge_blur_px": 2.5, "x": None},
            findings=(Finding(reason=Reason.BLURRY, outcome="eligible", measure="edge_blur_px",
                              value=2.5, threshold=2.0, comparison=">"),),
            face=FaceInfo(box=(1.0, 2.0, 3.0, 4.0), confidence=0.9, landmarks=True)),
        minimal_result(decision=Decision.ERROR, reasons=(),
                       error=ErrorInfo(code=ErrorCode.TRUNCATED, message="cut short")),
    ]
    for result in built:
        assert validator.is_valid(result.to_dict()), result
        assert Result.from_json(result.to_json()) == result


def test_schema_enums_match_the_python_enums():
    defs = json_schema()["$defs"]
    assert defs["Decision"]["enum"] == [d.value for d in Decision]
    assert defs["Reason"]["enum"] == [r.value for r in Reason]
    assert defs["RequestReason"]["enum"] == [r.value for r in RequestReason]
    assert defs["ErrorCode"]["enum"] == [c.value for c in ErrorCode]


def test_to_json_is_unicode_and_accepts_dumps_options():
    result = minimal_result(path="foto/KTP-Siti Aisyah é.jpg")
    assert "é" in result.to_json()
    assert result.to_json(indent=2).count("\n") > 5
    assert json.loads(result.to_json(sort_keys=True)) == result.to_dict()


def test_numpy_values_do_not_leak_into_json(results):
    """Measures and boxes come from numpy; the JSON must hold only standard types."""
    text = results["clear"].to_json()
    assert "np." not in text and "float32" not in text
    assert isinstance(json.loads(text)["face"]["box"][0], float)
    assert not isinstance(results["clear"].measures["edge_blur_px"], np.floating)
