"""One colour scheme: the annotation, the counter page (and its slip), the report and the CLI
take their colours from photocheck.palette."""

from __future__ import annotations

import re
from pathlib import Path

from photocheck import palette
from photocheck.schema import Decision

CSS = (Path(__file__).resolve().parents[1] / "photocheck" / "service" / "static"
       / "app.css").read_text()


def css_variable(name: str) -> str:
    match = re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", CSS)
    assert match, f"app.css has no --{name}"
    return match.group(1).lower()


def test_page_and_slip_use_the_palette():
    for variable, decision in (("eligible", Decision.ELIGIBLE),
                               ("not-eligible", Decision.NOT_ELIGIBLE),
                               ("review", Decision.REVIEW), ("error", Decision.ERROR)):
        assert css_variable(variable) == palette.decision_hex(decision), variable
    for mark, rgb in palette.MARK_COLOURS.items():
        assert css_variable(f"mark-{mark}") == palette.hex_colour(rgb), mark


def test_annotation_report_and_cli_use_the_palette():
    from photocheck import annotate, cli, report

    assert annotate.COLOURS is palette.DECISION_COLOURS
    assert annotate.MARKS is palette.MARK_COLOURS
    for decision in Decision:
        assert report.COLOURS[decision.value] == palette.decision_hex(decision)
        assert palette.decision_hex(decision) in cli.STYLES[decision]


def luminance(rgb) -> float:
    """WCAG relative luminance."""
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_verdicts_differ_in_lightness_not_only_hue():
    """Printed in black and white, or seen without red-green vision, the defect, clear and
    review colours still differ in lightness (the words and icons carry the meaning too)."""
    levels = sorted(luminance(palette.DECISION_COLOURS[d])
                    for d in (Decision.ELIGIBLE, Decision.NOT_ELIGIBLE, Decision.REVIEW))
    assert all(b - a > 0.05 for a, b in zip(levels, levels[1:])), levels
    # The verdict banner's white text on the defect and clear colours: large text, >= 3:1.
    for decision in (Decision.ELIGIBLE, Decision.NOT_ELIGIBLE, Decision.ERROR):
        contrast = 1.05 / (luminance(palette.DECISION_COLOURS[decision]) + 0.05)
        assert contrast >= 3, (decision, contrast)
