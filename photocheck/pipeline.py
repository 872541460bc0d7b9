"""load -> detect -> measure -> decide: the one path every command and route goes through.

Only this module turns exceptions into ``error`` results: a bad input gives a result with a
clear error code, never an exception, so a batch can go on.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import __version__
from .card import (CardInspection, card_added_blur_px, damage_over_face, default_config,
                   inspect_card, printed_face_width_px, remove_blur)
from .context import Context, build_context
from .detect import Face, FaceFinder, FaceFinderOptions
from .errors import ErrorCode, PhotocheckError
from .limits import Limits
from .load import ImageSource, LoadedImage, load_image
from .measures import measure_all
from .policy import CardSettings, Policy
from .schema import (CardInfo, Decision, ErrorInfo, FaceInfo, ImageInfo, PolicyRef,
                     RequestReason, Result)

#: Birth years accepted as input (a typo such as 19990 is refused, not judged).
BIRTH_YEARS = range(1900, 2101)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inspection:
    """A result together with the intermediate state, for drawing annotations.

    ``image`` and ``context`` are of the judged portrait; in card mode that is the portrait
    cut from the card, ``card`` what was found and ``scene`` the photo of the card.
    """

    result: Result
    image: LoadedImage | None = field(default=None, repr=False)
    context: Context | None = field(default=None, repr=False)
    card: CardInspection | None = field(default=None, repr=False)
    scene: LoadedImage | None = field(default=None, repr=False)


def card_measures(card: CardInspection, context: Context, measures: Mapping[str, float | None],
                  settings: CardSettings, canonical_face_width: int) -> dict[str, float | None]:
    """The card-mode measures (see :data:`photocheck.measures.CARD_MEASURES`); those of the
    damage over the face's features and of the printed photo's own blur need the portrait's
    canonical face (None without it). ``measures``: the portrait's own (``edge_blur_px``...)."""
    over = added = None
    canonical = context.canonical
    if canonical is not None:
        # Canonical px -> working px of the portrait -> px of the crop the damage was read on.
        over = damage_over_face(card.damage, {**canonical.regions, "oval": canonical.oval},
                                canonical.to_image / context.scale)
        added = card_added_blur_px(card.shot, print_blur_mm=settings.print_blur_mm,
                                   camera_blur_px=settings.camera_blur_px,
                                   face_width_px=context.face.width / context.scale,
                                   canonical_face_width=canonical_face_width)

    def printed(name: str) -> float | None:
        """A blur measure of the portrait, as the printed photo's own."""
        measured = measures.get(name)
        return None if added is None or measured is None else remove_blur(measured, added)

    return {
        "card_portrait_blur_px": printed("edge_blur_px"),
        "card_portrait_blur_max_px": printed("edge_blur_max_px"),
        "card_added_blur_px": added,
        "card_text_blur_mm": card.shot.text_blur_mm,
        "card_portrait_blur_mm": card.shot.portrait_blur_mm,
        "card_glare_fraction": card.damage.glare_fraction,
        "card_scratch_fraction": card.damage.scratch_fraction,
        "card_peeled_fraction": card.damage.peeled_fraction,
        "card_eyes_damaged": None if over is None else over.eyes,
        "card_nose_mouth_damaged": None if over is None else over.nose_mouth,
        "card_feature_damaged_max": None if over is None else over.feature_max,
        "card_face_damaged": None if over is None else over.face,
    }


def canonical_shot_blur(card: CardInspection, faces: list[Face],
                        canonical_face_width: int) -> float | None:
    """Blur of the shot itself (the card's printed text) as it appears on the canonical face,
    px: the text's edge blur in portrait px, times the enlargement of the face to
    ``canonical_face_width``. None without a face or a text measure."""
    if not faces or card.shot.text_blur_mm is None:
        return None
    return card.shot.text_blur_mm * card.px_per_mm * canonical_face_width / faces[0].width


def card_info(card: CardInspection, scale: float) -> CardInfo:
    """The card for the result, corners in pixels of the original image (``scale``: working
    image px per original px)."""
    def points(corners) -> tuple[tuple[float, float], ...]:
        return tuple((round(float(x) / scale, 1), round(float(y) / scale, 1)) for x, y in corners)

    return CardInfo(corners=points(card.quad.corners),
                    portrait_corners=points(card.portrait_corners),
                    confidence=card.quad.confidence, px_per_mm=round(card.px_per_mm, 3),
                    text_blur_mm=card.shot.text_blur_mm,
                    portrait_blur_mm=card.shot.portrait_blur_mm)


def parse_birth_year(value: str | None) -> int | None:
    """The birth year written in ``value`` (a manifest cell, a form field), or None for none.

    The text must be ASCII digits, surrounding spaces allowed: ``"²"`` or ``"١٩٩٠"`` pass
    ``str.isdigit`` but ``int()`` refuses the first, and neither is a year anyone typed. Raises
    :class:`PhotocheckError` (``invalid_argument``) for anything else or a year outside
    :data:`BIRTH_YEARS`. (:meth:`Checker.check` itself takes an int.)
    """
    if value is None:
        return None
    year: int | None = None
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 4:
            year = int(text)
    if year is None or year not in BIRTH_YEARS:
        raise PhotocheckError(ErrorCode.INVALID_ARGUMENT,
                              f"birth year {value!r} is not a year from {BIRTH_YEARS.start} to "
                              f"{BIRTH_YEARS.stop - 1}")
    return year


class Checker:
    """Checks many images with one set of models. Use as a context manager, or call close().

    Not safe to share between threads; create one per thread or process (never before fork).
    """

    def __init__(self, policy: Policy | str | Path | None = None, *,
                 models: Path | None = None, limits: Limits | None = None,
                 visibility_model: Path | None = None) -> None:
        """``models``: the folder of model files; ``limits``: resource limits (default: the
        shipped ones); ``visibility_model``: weights other than the shipped ones (out-of-fold
        evaluation)."""
        self.policy = policy if isinstance(policy, Policy) else Policy.load(policy)
        #: Resource limits (:mod:`photocheck.limits`): bytes of a file, pixels of an image.
        self.limits = Limits.load() if limits is None else limits
        processing = self.policy.processing
        self._finder = FaceFinder.create_from_options(FaceFinderOptions(
            models=models, min_detection_confidence=processing.min_detection_confidence,
            max_faces=processing.max_faces,
            # The segmentation and iris models are loaded only for a policy that reads the
            # background or eye openness.
            person_mask=self.policy.needs_person_mask,
            eye_contours=self.policy.needs_eye_contours,
            feature_visibility=self.policy.needs_visibility,
            visibility_model=visibility_model,
        ))
        self._card_config = default_config() if self.policy.card is not None else None

    def check(self, source: ImageSource, *, reason: RequestReason | str = RequestReason.QUALITY,
              path: str | None = None, birth_year: int | None = None,
              card: bool | None = None) -> Result:
        """Judge one image (a path, encoded bytes, an RGB array or a PIL image).

        ``birth_year`` (the holder's) picks the KTP-el background colour of a capture policy:
        red for an odd year, blue for an even one. A replacement policy only records it. Text
        (a manifest cell, a form field) is read with :func:`parse_birth_year` first.
        ``card``: True when the image is a photo or scan of the whole card (its portrait is
        found, cut out and judged; a shot too soft to judge gives error ``retake``), False for
        a portrait, None to decide by looking (the policy's ``[card]`` settings).
        """
        return self.inspect(source, reason=reason, path=path, birth_year=birth_year,
                            card=card).result

    def inspect(self, source: ImageSource, *,
                reason: RequestReason | str = RequestReason.QUALITY,
                path: str | None = None, birth_year: int | None = None,
                card: bool | None = None) -> Inspection:
        if self._finder is None:
            raise RuntimeError("this Checker is closed")
        if path is None and isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
        try:
            reason = RequestReason(reason)
        except ValueError:
            choices = ", ".join(r.value for r in RequestReason)
            return Inspection(self._error(path, RequestReason.QUALITY, ErrorCode.INVALID_ARGUMENT,
                                          f"unknown request reason {reason!r}; use {choices}"))
        if birth_year is not None and (isinstance(birth_year, (bool, str))
                                       or not isinstance(birth_year, int)
                                       or birth_year not in BIRTH_YEARS):
            return Inspection(self._error(
                path, reason, ErrorCode.INVALID_ARGUMENT,
                f"birth year {birth_year!r} is not a year from {BIRTH_YEARS.start} to "
                f"{BIRTH_YEARS.stop - 1}"))
        try:
            return self._inspect(source, reason, path, birth_year, card)
        except PhotocheckError as exc:
            return Inspection(self._error(path, reason, exc.code, exc.message))
        except Exception as exc:  # a bug: report it for this input, keep the batch alive
            log.exception("internal error while checking %s", path or "<in-memory image>")
            return Inspection(self._error(path, reason, ErrorCode.INTERNAL,
                                          f"internal error: {type(exc).__name__}: {exc}"))

    def _inspect(self, source: ImageSource, reason: RequestReason, path: str | None,
                 birth_year: int | None, card: bool | None) -> Inspection:
        processing = self.policy.processing
        if card:
            return self._inspect_card(source, reason, path, birth_year, required=True)
        image = self._load(source, processing.working_min_side)
        faces = self._faces(image)
        if faces and faces[0].width < processing.min_working_face_width and image.scale < 1:
            # A small face in a reduced decode: decode again at full resolution.
            image = self._load(source, working_min_side=max(image.original_size))
            faces = self._faces(image)
        if card is None and self._may_be_card(image, faces):
            found = self._inspect_card(source, reason, path, birth_year, required=False,
                                       decoded=image)
            if found is not None:
                return found
        return self._judge(image, faces, reason, path, birth_year)

    def _judge(self, image: LoadedImage, faces: list[Face], reason: RequestReason,
               path: str | None, birth_year: int | None, *, card: CardInspection | None = None,
               scene: LoadedImage | None = None) -> Inspection:
        """Measure and decide on a portrait (a whole image, or the portrait cut from a card)."""
        processing = self.policy.processing
        person = self._finder.person_mask(image.rgb) if self.policy.needs_person_mask else None
        eyes = (self._finder.eye_contours(image.rgb, faces[0])
                if faces and self.policy.needs_eye_contours else None)
        context = build_context(image.rgb, faces, scale=image.scale,
                                canonical_face_width=processing.canonical_face_width,
                                crop_margin=processing.canonical_crop_margin, person=person,
                                eye_contours=eyes)
        if context.canonical is not None and self.policy.needs_visibility:
            context = replace(context, covered=self._finder.covered_features(
                context.canonical.rgb, context.canonical.points))
        measures = measure_all(context, self.policy.measure_params, self.policy.measure_names)
        if card is not None:
            measures.update(card_measures(card, context, measures, self.policy.card,
                                          processing.canonical_face_width))
        assessment = self.policy.assess(measures, has_face=context.face is not None,
                                        has_card=card is not None, request_reason=reason,
                                        birth_year=birth_year)
        measures.update(assessment.derived)
        face = context.face
        shown = scene or image  # the input as given; in card mode the photo of the card
        result = Result(
            path=path, decision=assessment.decision, reasons=assessment.reasons,
            findings=assessment.findings, measures=measures,
            face=None if face is None else FaceInfo(
                box=tuple(round(v / image.scale, 1) for v in face.box),
                confidence=round(face.score, 4), landmarks=face.landmarks is not None),
            image=ImageInfo(width=shown.original_size[0], height=shown.original_size[1],
                            format=shown.format),
            request_reason=reason, birth_year=birth_year, background=assessment.background,
            card=None if card is None else card_info(card, scene.scale),
            policy=self._policy_ref(), version=__version__,
        )
        return Inspection(result, image, context, card=card, scene=scene)

    # Card mode ---------------------------------------------------------------------------

    def _may_be_card(self, image: LoadedImage, faces: list[Face]) -> bool:
        """Whether to look for a whole card: the policy handles cards, and no face was found
        or the face is as small in the frame as a card's printed portrait is (a portrait
        photo's face is far larger, so ordinary photos never pay for the card search)."""
        settings = self.policy.card
        if settings is None:
            return False
        width = image.rgb.shape[1]
        return not faces or faces[0].width < settings.search_below_face_fraction * width

    def _inspect_card(self, source: ImageSource, reason: RequestReason, path: str | None,
                      birth_year: int | None, *, required: bool,
                      decoded: LoadedImage | None = None) -> Inspection | None:
        """Find the card, cut out its portrait and judge that; None when ``required`` is
        False and there is no card. A shot too soft to judge is an error ``retake``.
        ``decoded``: the image as the portrait path already decoded it, used again when it
        has the resolution a card needs."""
        settings = self.policy.card
        if settings is None:
            raise PhotocheckError(ErrorCode.INVALID_ARGUMENT,
                                  f"policy {self.policy.name} does not judge photos of cards")
        scene = self._card_scene(source, decoded)
        found = inspect_card(scene.rgb, self._card_config)
        if found is None:
            if not required:
                return None
            raise PhotocheckError(ErrorCode.NO_CARD, "no KTP-el card found in this photo: "
                                  "photograph the whole card, flat, on a plain surface")

        def retake(why: str) -> Inspection:
            error = self._error(path, reason, ErrorCode.RETAKE,
                                f"the photo of the card is {why}; take the photo again, "
                                "closer and in focus")
            return Inspection(error.model_copy(update={"card": card_info(found, scene.scale)}),
                              card=found, scene=scene)

        text_blur = found.shot.text_blur_mm
        if text_blur is None or text_blur > settings.retake_text_blur_mm:
            shown = "unmeasured" if text_blur is None else f"{text_blur:.3f} mm"
            return retake(f"too blurred to judge its portrait: the card's own text has edge "
                          f"blur {shown} (limit {settings.retake_text_blur_mm} mm)")
        portrait = self._load(found.portrait_rgb,
                              working_min_side=max(found.portrait_rgb.shape[:2]))
        faces = self._faces(portrait)
        shot_blur = canonical_shot_blur(found, faces, self.policy.processing.canonical_face_width)
        if shot_blur is not None and shot_blur > settings.retake_shot_blur_px:
            # The printed face spans so few pixels, or the shot is so soft, that the blur of
            # the shot alone, enlarged to the canonical face, would read as a blurry photo.
            return retake(f"too blurred or too small to judge its portrait: on the face the "
                          f"shot alone adds {shot_blur:.2f} px of blur (limit "
                          f"{settings.retake_shot_blur_px} px)")
        face_px = printed_face_width_px(found, faces[0].width / portrait.scale if faces else None)
        if face_px < settings.retake_face_width_px:
            return retake(f"too small to judge its portrait: the printed face spans "
                          f"{face_px:.0f} px (at least {settings.retake_face_width_px:g} px)")
        return self._judge(portrait, faces, reason, path, birth_year, card=found, scene=scene)

    def _card_scene(self, source: ImageSource, decoded: LoadedImage | None) -> LoadedImage:
        """The photo of a card at the card's working resolution: ``decoded`` when it is
        already decoded that large (or as large as it gets), else decoded again."""
        wanted = self.policy.card.working_side
        if decoded is not None and (decoded.scale >= 1 or min(decoded.rgb.shape[:2]) >= wanted
                                    or max(decoded.rgb.shape[:2])
                                    >= self.policy.processing.working_max_side):
            return decoded
        return self._load(source, working_min_side=wanted)

    def _faces(self, image: LoadedImage) -> list[Face]:
        """Detections the Face Mesh also accepts as faces: BlazeFace alone fires on some
        textures (a coffee cup, fabric) that the mesh model rejects with presence near 0."""
        floor = self.policy.processing.min_face_presence
        return [face for face in self._finder.detect(image.rgb)
                if face.presence is None or face.presence >= floor]

    def _load(self, source: ImageSource, working_min_side: int) -> LoadedImage:
        processing = self.policy.processing
        return load_image(source, max_pixels=min(processing.max_pixels, self.limits.max_pixels),
                          working_min_side=working_min_side,
                          working_max_side=processing.working_max_side,
                          max_file_bytes=self.limits.max_image_bytes)

    def _policy_ref(self) -> PolicyRef:
        return PolicyRef(name=self.policy.name, version=self.policy.version,
                         kind=self.policy.kind)

    def _error(self, path: str | None, reason: RequestReason, code: ErrorCode,
               message: str) -> Result:
        return Result(path=path, decision=Decision.ERROR, reasons=(), request_reason=reason,
                      policy=self._policy_ref(), version=__version__,
                      error=ErrorInfo(code=code, message=message))

    def close(self) -> None:
        if self._finder is not None:
            self._finder.close()
            self._finder = None

    def __enter__(self) -> Checker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# One shared checker per process and policy for the one-call API. Rebuilt after a fork (MediaPipe
# tasks created before fork() hang in the child) and closed at exit (left to the garbage
# collector they print a traceback at interpreter shutdown).
_shared: dict[tuple[int, str | None], Checker] = {}
_shared_lock = threading.Lock()


def check(source: ImageSource, *, reason: RequestReason | str = RequestReason.QUALITY,
          policy: str | Path | None = None, birth_year: int | None = None,
          card: bool | None = None) -> Result:
    """Judge one image with a process-wide checker (created on first use). ``policy`` is a
    shipped policy name (``capture`` for a new photo) or a TOML file."""
    key = (os.getpid(), None if policy is None else os.fspath(policy))
    with _shared_lock:
        checker = _shared.get(key)
        if checker is None:
            checker = _shared[key] = Checker(policy)
        return checker.check(source, reason=reason, birth_year=birth_year, card=card)


@atexit.register
def _close_shared() -> None:
    for (pid, _), checker in list(_shared.items()):
        if pid == os.getpid():
            checker.close()
    _shared.clear()
