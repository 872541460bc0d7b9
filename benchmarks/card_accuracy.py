"""Card input accuracy on synthetic card photos: detection, crop IoU, failures by condition.

    python benchmarks/card_accuracy.py [--n 400] [--seed 0] [--max-tilt 30] [--light 60]
                                       [--decisions 16] [--failures DIR]

Each photo comes from ``photocheck.evaluation.synth.cards.card_photo(seed + i)``: a KTP-el-like card
with placeholder text and a public-domain sample portrait, on a desk (wood, cloth, plain, paper,
blue cloth) among other things, tilted 0 to ``--max-tilt`` degrees out of the image plane in any
direction, rotated anywhere in the plane, filling 30-95 % of the frame, with shadows, glare, uneven
light, a colour cast, mild camera blur (sigma 0-1.2 px), noise and JPEG quality 60-95. Twenty flat
scans (card edge to edge, or with a white margin) and twenty desks with no card are added, and
``--light`` clean cards on light backgrounds (``cardsynth.light_background_photo``: a scanner's
white or light-grey lid, or a light table; washed-out prints and bright, clipping skin in half of
them each).

``--decisions`` clean cards of each kind (a sharp shot of each sample portrait, and light
backgrounds), as many whose photo was blurry before printing (LABELS.md's Gaussian 2.6 and
motion 9) and as many with glare over both eyes are judged by ``Checker``, with the blur rules
reading the printed photo's own blur (policy 2026.12.3) and, on the same results, the raw
edge blur as before: a clean card must never be ``eligible``, a blurry print must be.

A card counts as **found** when ``find_card`` returns it upright (each corner within 5 % of the
card's diagonal of the true corner) with IoU >= 0.9 against the true outline; the portrait is
**cropped correctly** when the IoU of the cropped box, mapped back into the image, with the true
printed photo is >= 0.9. Time per image is ``inspect_card`` (find, rectify, portrait, shot and
damage measures), one process; generation is not timed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from photocheck import card
from photocheck.evaluation.synth import cards as cardsynth


def evaluate(photo: cardsynth.CardPhoto) -> dict:
    start, cpu = time.perf_counter(), time.process_time()
    inspection = card.inspect_card(photo.rgb)
    ms = (time.perf_counter() - start) * 1e3
    cpu_ms = (time.process_time() - cpu) * 1e3
    row = {"ms": ms, "cpu_ms": cpu_ms, "found": False, "card_iou": 0.0, "portrait_iou": 0.0,
           "upright": False}
    if inspection is None:
        return row
    corners = inspection.quad.corners
    diag = float(np.linalg.norm(photo.card_corners[0] - photo.card_corners[2]))
    upright = bool(np.linalg.norm(corners - photo.card_corners, axis=1).max() <= 0.05 * diag)
    row.update(
        card_iou=card.quad_iou(corners, photo.card_corners),
        portrait_iou=card.quad_iou(inspection.portrait_corners, photo.portrait_corners),
        upright=upright)
    row["found"] = upright and row["card_iou"] >= 0.9
    return row


def conditions(photo: cardsynth.CardPhoto) -> dict[str, str]:
    shot = photo.shot
    if shot.scan:
        return {"kind": "scan (margin)" if shot.position[0] else "scan (edge to edge)"}
    if shot.background in cardsynth.LIGHT_BACKGROUNDS:
        design = photo.design
        return {"kind": f"light {'scanner' if shot.tilt_deg == 0 else 'table'}",
                "background": shot.background,
                "print": ("faded 0.8-1.0" if design.print_fade >= 0.8 else "faded"
                          if design.print_fade else "crisp")
                + (", bright skin" if design.skin_highlight else "")}
    rot = (shot.rotation_deg + 180) % 360 - 180
    rotation = ("upright +-10" if abs(rot) <= 10 else "upside down +-10"
                if abs(rot) >= 170 else "other")
    return {
        "kind": "photo",
        "tilt": f"{int(shot.tilt_deg // 10 * 10):02d}-{int(shot.tilt_deg // 10 * 10 + 10)} deg",
        "rotation": rotation,
        "fill": "0.30-0.50" if shot.fill < 0.5 else "0.50-0.70" if shot.fill < 0.7
        else "0.70-0.95",
        "background": shot.background,
        "shadow": "yes" if shot.shadow else "no",
        "glare": "yes" if shot.laminate_glare else "no",
        "white card": "yes" if shot.business_card else "no",
        "blur": "< 0.6 px" if shot.blur_px < 0.6 else ">= 0.6 px",
        "jpeg": "< 75" if (shot.jpeg_quality or 100) < 75 else ">= 75",
        "portrait": photo.design.portrait,
    }


def decision_table(n: int) -> None:
    """Decisions on clean cards, on cards whose photo was blurry before it was printed, and on
    cards whose glare hides both eyes (Checker, card mode), with the shipped policy ("after")
    and, on the same results, with its blur rules reading the portrait's raw edge blur as
    before policy 2026.12.3 ("before": no print or camera blur taken out)."""
    from collections import Counter
    from dataclasses import replace

    from photocheck import Checker

    sharp_shot = dict(tilt_deg=8.0, fill=0.85, blur_px=0.3, laminate_glare=0.0, shadow=0.0)
    kinds = [
        ("clean, Grace Hopper", lambda s: cardsynth.damaged_card_photo(
            s, "none", portrait="grace_hopper")),
        ("clean, astronaut", lambda s: cardsynth.damaged_card_photo(
            s, "none", portrait="astronaut")),
        ("clean, light background", lambda s: cardsynth.light_background_photo(s)),
        ("clean, bright skin + faded", lambda s: cardsynth.light_background_photo(
            s, design={"skin_highlight": 0.8, "print_fade": 0.5})),
        # LABELS.md's clearly blurry photos (Gaussian sigma 2.6, motion 9 on the normalised
        # portrait), printed on an otherwise sharp card.
        ("blurry print, Gaussian 2.6", lambda s: cardsynth.card_photo(
            s, design={"photo_blur": 2.6}, **sharp_shot)),
        ("blurry print, motion 9", lambda s: cardsynth.card_photo(
            s, design={"photo_motion": 9.0, "photo_motion_deg": float(s * 37 % 180)},
            **sharp_shot)),
        ("blurry print, light background", lambda s: cardsynth.light_background_photo(
            s, design={"photo_blur": 2.6})),
        ("glare over both eyes", lambda s: cardsynth.damaged_card_photo(
            s, "glare", at="eyes")),
    ]
    print(f"\ndecisions, {n} cards each (seeds 60000-): eligible / review / not eligible / "
          "error, before (raw edge blur) -> after (printed photo's own blur); card_damaged "
          "eligible or review; eligible reasons after")
    with Checker() as checker:
        before = replace(checker.policy, rules=tuple(
            replace(rule, card_measure=None) for rule in checker.policy.rules))
        for label, make in kinds:
            counts = {"before": Counter(), "after": Counter()}
            reasons, damaged = Counter(), 0
            for k in range(n):
                result = checker.check(make(60_000 + k).rgb)
                counts["after"][result.decision.value] += 1
                old = result.decision
                if result.measures:
                    old = before.assess(result.measures, has_face=result.face is not None,
                                        has_card=True).decision
                counts["before"][old.value] += 1
                damaged += any(f.reason.value == "card_damaged" and f.outcome != "pass"
                               for f in result.findings)
                if result.decision.value == "eligible":
                    reasons.update(r.value for r in result.reasons)
            cells = [" / ".join(f"{c[d]:2d}" for d in ("eligible", "review", "not_eligible",
                                                       "error"))
                     for c in (counts["before"], counts["after"])]
            print(f"  {label:32s} {cells[0]}  ->  {cells[1]}   card_damaged {damaged:3d}   "
                  f"{dict(reasons)}")


def shot_table(n: int) -> None:
    """Text and portrait sharpness (CardShot, mm on the card) for sharp shots of sharp prints,
    sharp shots of blurry prints, and blurry shots of sharp prints."""
    cases = [
        ("sharp shot (camera 0-1.2 px)", lambda s: cardsynth.card_photo(s, fill=0.8,
                                                                       tilt_deg=10.0)),
        ("benchmark range shots", lambda s: cardsynth.card_photo(s)),
        ("blurry print 0.2 mm, sharp shot",
         lambda s: cardsynth.blurry_print_photo(s, print_blur_mm=0.2)),
        ("blurry print 0.3 mm, sharp shot",
         lambda s: cardsynth.blurry_print_photo(s, print_blur_mm=0.3)),
        ("blurry shot 2 px", lambda s: cardsynth.blurry_shot_photo(s, blur_px=2.0)),
        ("blurry shot 3 px", lambda s: cardsynth.blurry_shot_photo(s, blur_px=3.0)),
        ("blurry shot 4 px", lambda s: cardsynth.blurry_shot_photo(s, blur_px=4.0)),
    ]
    print(f"\nshot sharpness, {n} cards each (mm on the card; min / median / max)")
    print(f"{'':34s} {'found':>5s} {'text_blur_mm':>20s} {'portrait_blur_mm':>20s} "
          f"{'blur_ratio':>17s} {'px/mm':>9s}")
    for label, make in cases:
        found = [i for i in (card.inspect_card(make(30_000 + k).rgb) for k in range(n))
                 if i is not None]
        text = [i.shot.text_blur_mm for i in found if i.shot.text_blur_mm is not None]
        photo = [i.shot.portrait_blur_mm for i in found if i.shot.portrait_blur_mm is not None]
        ratio = [i.shot.blur_ratio for i in found if i.shot.blur_ratio is not None]
        ppm = [i.px_per_mm for i in found]

        def spread(values: list[float], digits: int = 3) -> str:
            if not values:
                return "-"
            return "/".join(f"{v:.{digits}f}" for v in (min(values), statistics.median(values),
                                                          max(values)))

        print(f"{label:34s} {len(found):2d}/{n:<2d} {spread(text):>20s} {spread(photo):>20s} "
              f"{spread(ratio, 2):>17s} {min(ppm):4.1f}-{max(ppm):4.1f}")


def damage_table(n: int) -> None:
    """PhotoDamage on the same cards, clean and damaged (Grace Hopper portrait: a KTP-like
    coloured background)."""
    print(f"\nphoto damage, {n} cards each (median, min-max)")
    print(f"{'':12s} {'glare_fraction':>20s} {'scratch_fraction':>20s} {'peeled_fraction':>20s}")
    for kind in ("none", "glare", "scratches", "peel"):
        values = []
        for k in range(n):
            inspection = card.inspect_card(cardsynth.damaged_card_photo(
                40_000 + k, kind, portrait="grace_hopper").rgb)
            if inspection is not None:
                d = inspection.damage
                values.append((d.glare_fraction, d.scratch_fraction, d.peeled_fraction))
        cells = []
        for column in np.array(values).T:
            cells.append(f"{np.median(column):.3f} ({column.min():.3f}-{column.max():.3f})")
        print(f"{kind:12s} " + " ".join(f"{c:>20s}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=400, help="synthetic card photos")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--max-tilt", type=float, default=30.0, help="degrees")
    parser.add_argument("--scans", type=int, default=20)
    parser.add_argument("--negatives", type=int, default=20, help="desks with no card")
    parser.add_argument("--light", type=int, default=60,
                        help="clean cards on light backgrounds (scanner lid, light table)")
    parser.add_argument("--faded", type=int, default=30,
                        help="light-background cards with the print faded 0.8-1.0 (detection "
                             "only: so faded, the face itself may be lost)")
    parser.add_argument("--decisions", type=int, default=16,
                        help="cards per kind judged by Checker (0: skip)")
    parser.add_argument("--failures", type=Path, help="write failed photos (PNG) here")
    parser.add_argument("--extras", type=int, default=16,
                        help="cards per condition for the shot-sharpness and damage tables "
                             "(0: skip them)")
    args = parser.parse_args(argv)

    rows = []
    for i in range(args.n):
        photo = cardsynth.card_photo(args.seed + i, max_tilt_deg=args.max_tilt)
        rows.append((photo, evaluate(photo)))
    for i in range(args.scans):
        photo = cardsynth.scan_photo(10_000 + args.seed + i, margin_px=0 if i % 2 else 12)
        rows.append((photo, evaluate(photo)))
    for i in range(args.light):
        photo = cardsynth.light_background_photo(50_000 + args.seed + i)
        rows.append((photo, evaluate(photo)))
    for i in range(args.faded):
        seed = 55_000 + args.seed + i
        fade = float(np.random.default_rng([seed, 4]).uniform(0.8, 1.0))
        photo = cardsynth.light_background_photo(seed, design={"print_fade": fade})
        rows.append((photo, evaluate(photo)))

    photos = [r for p, r in rows if not p.shot.scan and p.shot.background not in
              cardsynth.LIGHT_BACKGROUNDS]
    print(f"card photos: {len(photos)} (tilt 0-{args.max_tilt:g} deg), scans: {args.scans}, "
          f"light backgrounds: {args.light}, faded on light backgrounds: {args.faded}")
    print(f"{'':34s} {'n':>4s} {'found':>7s} {'crop ok':>8s} {'med card':>9s} "
          f"{'med crop':>9s}")

    def line(label: str, subset: list[dict]) -> None:
        if not subset:
            return
        found = np.mean([r["found"] for r in subset])
        ok = np.mean([r["found"] and r["portrait_iou"] >= 0.9 for r in subset])
        card_iou = statistics.median(r["card_iou"] for r in subset)
        crop_iou = statistics.median(r["portrait_iou"] for r in subset)
        print(f"{label:34s} {len(subset):4d} {found:7.1%} {ok:8.1%} {card_iou:9.3f} "
              f"{crop_iou:9.3f}")

    line("all photos", photos)
    line("all cards (photos, scans, light, faded)", [r for _, r in rows])
    line("all light backgrounds", [r for p, r in rows
                                   if p.shot.background in cardsynth.LIGHT_BACKGROUNDS])
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for photo, row in rows:
        for key, value in conditions(photo).items():
            groups[(key, value)].append(row)
    for key in ("kind", "tilt", "rotation", "fill", "background", "shadow", "glare",
                "white card", "blur", "jpeg", "portrait", "print"):
        for (k, value), subset in sorted(groups.items()):
            if k == key:
                line(f"  {key} = {value}", subset)

    false_cards = 0
    neg_ms = []
    for i in range(args.negatives):
        rgb = cardsynth.desk_photo(20_000 + args.seed + i)
        start = time.perf_counter()
        false_cards += card.find_card(rgb) is not None
        neg_ms.append((time.perf_counter() - start) * 1e3)
    print(f"desks without a card: {args.negatives}, card reported on {false_cards}")

    ms = [r["ms"] for _, r in rows] or [float("nan")]
    cpu = [r["cpu_ms"] for _, r in rows] or [float("nan")]
    print(f"time per card photo (inspect_card, one process): wall median "
          f"{statistics.median(ms):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms; CPU median "
          f"{statistics.median(cpu):.0f} ms, p95 {np.percentile(cpu, 95):.0f} ms; "
          f"desk without a card: wall median "
          f"{statistics.median(neg_ms) if neg_ms else float('nan'):.0f} ms")

    failures = [(p, r) for p, r in rows if not (r["found"] and r["portrait_iou"] >= 0.9)]
    if failures:
        print("failures (seed: card IoU, crop IoU, upright, conditions):")
        for photo, row in failures:
            c = conditions(photo)
            print(f"  {photo.seed}: {row['card_iou']:.3f} {row['portrait_iou']:.3f} "
                  f"{row['upright']} {c}")
    if args.decisions:
        decision_table(args.decisions)
    if args.extras:
        shot_table(args.extras)
        damage_table(max(4, args.extras // 2))
    if args.failures:
        from PIL import Image

        args.failures.mkdir(parents=True, exist_ok=True)
        for photo, _ in failures:
            Image.fromarray(photo.rgb).save(args.failures / f"fail_{photo.seed}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
