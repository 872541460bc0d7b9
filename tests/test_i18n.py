"""Tests for photocheck.i18n: both languages complete, consistent and reachable by code."""

from __future__ import annotations

import pytest

from photocheck import i18n
from photocheck.errors import ErrorCode
from photocheck.measures import CARD_MEASURES, MEASURES
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
        # Measures (card mode's too), and the values a policy derives and reports with them.
        "measure": set(MEASURES) | set(CARD_MEASURES) | set(DERIVED_MEASURES),
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
    assert i18n.measure_label("edge_blur_px", "id") == "Lebar kabur garis wajah"
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


#: Reasons a rule can send to review (every quality and capture reason; not the verdict-only
#: ones): each needs guidance saying which limit is close and what to look at.
REVIEWABLE = [r for r in Reason if r not in (
    Reason.CLEAR_PHOTO, Reason.MEETS_CAPTURE_STANDARD, Reason.POLICY_HIJAB,
    Reason.POLICY_APPEARANCE_CHANGE, Reason.POLICY_VERIFICATION_FAILED)]


@pytest.mark.parametrize("reason", REVIEWABLE)
def test_review_guidance_names_what_to_look_at(reason):
    for lang, look in (("id", "lihat"), ("en", "look")):
        guidance = i18n.reason_sentence(reason, Decision.REVIEW, lang)
        assert guidance == i18n.text(f"review.{reason.value}", lang)
        assert guidance != i18n.reason_text(reason, lang)
        if reason not in (Reason.MULTIPLE_FACES, Reason.BIRTH_YEAR_MISSING):
            assert look in guidance.lower(), guidance
    # Any other verdict keeps the plain reason.
    assert i18n.reason_sentence(reason, "eligible", "id") == i18n.reason_text(reason, "id")


def test_review_of_a_reason_without_guidance_falls_back():
    assert (i18n.reason_sentence("clear_photo", "review", "en")
            == i18n.reason_text("clear_photo", "en"))


def test_no_face_asks_to_confirm_the_portrait():
    assert "pastikan" in i18n.reason_text("no_face", "id").lower()
    assert "pemohon" in i18n.reason_text("no_face", "id")
    assert "make sure" in i18n.reason_text("no_face", "en").lower()


def test_every_mark_has_a_legend_line():
    from photocheck.palette import MARK_COLOURS

    for mark in (*MARK_COLOURS, "face_box"):
        for lang in i18n.LANGUAGES:
            assert i18n.text(f"legend.{mark}", lang)


def test_placeholders_agree_between_languages():
    import string

    def fields(message: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(message) if name}

    for key in i18n.ID:
        assert fields(i18n.ID[key]) == fields(i18n.EN[key]), key


def test_indonesian_sentences_hold_no_english_catalogue_text():
    """No English message is reused in Indonesian (short labels and names may coincide)."""
    english = {value for value in i18n.EN.values() if len(value) > 12}
    copied = [key for key, value in i18n.ID.items() if value in english]
    assert not copied, copied


@pytest.mark.parametrize("value, lang, decimals, grouping, expected", [
    (3.8, "id", 2, False, "3,80"),
    (3.8, "en", 2, False, "3.80"),
    (1234.5, "id", 1, True, "1.234,5"),
    (1234.5, "en", 1, True, "1,234.5"),
    (-0.004, "id", 2, False, "-0,00"),
    (42, "id", 0, False, "42"),
])
def test_format_number(value, lang, decimals, grouping, expected):
    assert i18n.format_number(value, lang, decimals, grouping) == expected


def test_glossary_lists_the_terms_in_use():
    """docs/glossary-id.md names every verdict, the page's measures and every mark as i18n.py
    words them, and says for each term where it comes from (a source or *usulan*)."""
    from pathlib import Path

    from photocheck.palette import MARK_COLOURS
    from photocheck.service.render import CAPTURE_PAGE_MEASURES, PAGE_MEASURES

    glossary = (Path(__file__).resolve().parents[1] / "docs" / "glossary-id.md").read_text()
    for decision in Decision:
        assert f"| {i18n.decision_label(decision, 'id')} |" in glossary, decision
    for name in {*PAGE_MEASURES, *CAPTURE_PAGE_MEASURES} - {
            "head_yaw_deg", "head_pitch_deg", "head_roll_deg", "eyes_openness",
            "face_lighting_ratio", "background_clutter"}:
        assert f"`{name}`" in glossary, name
    assert all(f"legend.{mark}" in i18n.ID for mark in MARK_COLOURS)
    rows = [line for line in glossary.splitlines()
            if line.startswith("| ") and not line.startswith(("| Istilah", "|---"))]
    unsourced = [row for row in rows if not row.rstrip(" |").rsplit("|", 1)[-1].strip()]
    assert len(rows) > 40 and not unsourced, unsourced  # the last cell: source or *usulan*
