"""Tests for photocheck.i18n: both languages complete, consistent and reachable by code."""

from __future__ import annotations

import pytest

from photocheck import i18n
from photocheck.errors import ErrorCode
from photocheck.measures import MEASURES
from photocheck.policy import DERIVED_MEASURES
from photocheck.schema import Decision, Reason, RequestReason


def test_languages_have_identical_keys():
    assert set(i18n.ID) == set(i18n.EN)
    assert set(i18n.MESSAGES) == set(i18n.LANGUAGES) == {"id", "en"}
    assert i18n.DEFAULT_LANGUAGE == "id"


@pytest.mark.parametrize("prefix, codes", [
    ("decision", Decision),
    ("reason", Reason),
    ("error", ErrorCode),
    ("request", RequestReason),
    ("measure", MEASURES),
])
def test_every_code_has_a_message(prefix, codes):
    values = [getattr(c, "value", c) for c in codes]
    for lang in i18n.LANGUAGES:
        missing = [v for v in values if f"{prefix}.{v}" not in i18n.MESSAGES[lang]]
        assert not missing, f"{lang}: no message for {prefix} {missing}"


def test_no_stale_keys():
    """Every code-derived key names a code that exists (catches renamed enum members)."""
    known = {
        "decision": {d.value for d in Decision},
        "reason": {r.value for r in Reason},
        "error": {e.value for e in ErrorCode},
        "request": {r.value for r in RequestReason},
        # Measures, and the values a policy derives and reports with them.
        "measure": set(MEASURES) | set(DERIVED_MEASURES),
    }
    for key in i18n.ID:
        prefix, _, code = key.partition(".")
        if prefix in known:
            assert code in known[prefix], key


def test_messages_are_non_empty_ascii_and_translated():
    for lang, messages in i18n.MESSAGES.items():
        for key, message in messages.items():
            assert message.strip() == message and message, (lang, key)
            assert message.isascii(), f"{lang} {key}: annotations need ASCII text"
    # Sentences are translated, not copied (measure labels like "Laplacian" may coincide).
    for key in i18n.ID:
        if key.startswith(("decision.", "reason.", "error.")):
            assert i18n.ID[key] != i18n.EN[key], key


def test_decision_labels():
    assert i18n.decision_label(Decision.ELIGIBLE, "id") == "Memenuhi syarat penggantian foto"
    assert i18n.decision_label("not_eligible", "id") == "Tidak memenuhi syarat"
    assert i18n.decision_label(Decision.REVIEW) == "Perlu pemeriksaan petugas"
    assert i18n.decision_label(Decision.ERROR, "id") == "Tidak dapat diperiksa"
    assert i18n.decision_label(Decision.ELIGIBLE, "en") == "Eligible for photo replacement"
    assert len({i18n.decision_label(d, "en") for d in Decision}) == len(Decision)


def test_clear_photo_explains_the_refusal():
    sentence = i18n.reason_text(Reason.CLEAR_PHOTO, "id").lower()
    assert "jelas" in sentence and "penampilan" in sentence and "tidak dapat" in sentence
    assert "appearance" in i18n.reason_text("clear_photo", "en")


def test_request_labels_in_indonesian():
    assert i18n.request_label(RequestReason.QUALITY) == "kualitas foto"
    assert i18n.request_label("hijab", "id") == "berhijab"
    assert i18n.request_label(RequestReason.APPEARANCE_CHANGE) == "perubahan penampilan"
    assert i18n.request_label(RequestReason.VERIFICATION_FAILED) == "verifikasi wajah gagal"


def test_functions_accept_enums_and_strings():
    assert i18n.reason_text(Reason.BLURRY, "id") == i18n.reason_text("blurry", "id")
    assert "buram" in i18n.reason_text(Reason.BLURRY, "id").lower()
    assert i18n.error_text(ErrorCode.FILE_NOT_FOUND, "en") == i18n.error_text("file_not_found",
                                                                             "en")
    assert i18n.text("decision.review", i18n.Language.EN) == "Needs officer review"
    assert i18n.text("decision.review", " EN ") == "Needs officer review"  # normalised


def test_unknown_codes_raise():
    with pytest.raises(ValueError):
        i18n.reason_text("not_a_reason", "id")
    with pytest.raises(KeyError):
        i18n.text("reason.not_a_reason", "id")


def test_measure_label_falls_back_to_the_name():
    assert i18n.measure_label("edge_blur_px", "id") == "Keburaman tepi"
    assert i18n.measure_label("a_future_measure", "en") == "a_future_measure"


@pytest.mark.parametrize("call", [
    lambda: i18n.text("decision.eligible", "fr"),
    lambda: i18n.decision_label(Decision.ELIGIBLE, "ms"),
    lambda: i18n.measure_label("edge_blur_px", ""),
])
def test_unknown_language_lists_the_supported_ones(call):
    with pytest.raises(ValueError) as info:
        call()
    assert "id" in str(info.value) and "en" in str(info.value)
