"""The one colour scheme of photocheck: annotation, counter page, decision slip, HTML report, CLI.

Colours come from the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), chosen
to stay distinct for the common colour-vision deficiencies. Colour is never the only signal:
every verdict is also written in words (and on the page and slip has its own icon and line
style), and every mark on a photo has a legend line (``legend.<mark>`` in
:mod:`photocheck.i18n`), so a slip printed in black and white reads the same.

Meaning, the same everywhere:

* :data:`DEFECT` (vermillion): the photo is defective: ``eligible`` for replacement, or a new
  photo ``rejected``;
* :data:`CLEAR` (blue): the photo is fine: ``not_eligible``, or a new photo ``accepted``;
* :data:`REVIEW` (orange): an officer decides;
* :data:`ERROR` (grey): could not be checked.

The counter page's stylesheet (``service/static/app.css``) repeats the hex values as CSS
variables; ``tests/test_palette.py`` checks that they agree. A new mark gets a colour here and a
``legend.`` line in :mod:`photocheck.i18n`.
"""

from __future__ import annotations

from .schema import Decision

RGB = tuple[int, int, int]

# Okabe-Ito colours, RGB.
VERMILLION: RGB = (213, 94, 0)
BLUE: RGB = (0, 114, 178)
ORANGE: RGB = (230, 159, 0)
SKY_BLUE: RGB = (86, 180, 233)
BLUISH_GREEN: RGB = (0, 158, 115)
YELLOW: RGB = (240, 228, 66)
REDDISH_PURPLE: RGB = (204, 121, 167)
GREY: RGB = (110, 110, 110)  # not Okabe-Ito: "nothing was judged" should look like nothing
WHITE: RGB = (255, 255, 255)

DEFECT, CLEAR, REVIEW, ERROR = VERMILLION, BLUE, ORANGE, GREY

#: Verdict colour by decision.
DECISION_COLOURS: dict[Decision, RGB] = {
    Decision.ELIGIBLE: DEFECT,
    Decision.REJECTED: DEFECT,
    Decision.NOT_ELIGIBLE: CLEAR,
    Decision.ACCEPTED: CLEAR,
    Decision.REVIEW: REVIEW,
    Decision.ERROR: ERROR,
}

#: Marks drawn on a photo, by the name of their ``legend.<name>`` line (``face_box`` takes the
#: decision's colour).
MARK_COLOURS: dict[str, RGB] = {
    "other_face": WHITE,
    "landmarks": SKY_BLUE,
    "covered": REDDISH_PURPLE,
    "background": YELLOW,
    "card": BLUISH_GREEN,
    "portrait_area": YELLOW,  # card mode only; never drawn with the capture background
}


def hex_colour(rgb: RGB) -> str:
    """``#d55e00`` for (213, 94, 0)."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def decision_hex(decision: Decision | str) -> str:
    """The decision's colour as CSS hex."""
    return hex_colour(DECISION_COLOURS[Decision(getattr(decision, "value", decision))])
