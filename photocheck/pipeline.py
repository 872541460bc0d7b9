"""load -> detect -> measure -> decide: the one path every command and route goes through.

Only this module turns exceptions into ``error`` results: a bad input gives a result with a
clear error code, never an exception, so a batch can go on.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .context import Context, build_context
from .detect import Face, FaceFinder, FaceFinderOptions
from .errors import ErrorCode, PhotocheckError
from .load import ImageSource, LoadedImage, load_image
from .measures import measure_all
from .policy import Policy
from .schema import (Decision, ErrorInfo, FaceInfo, ImageInfo, PolicyRef, RequestReason, Result)

#: Birth years accepted as input (a typo such as 19990 is refused, not judged).
BIRTH_YEARS = range(1900, 2101)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inspection:
    """A result together with the intermediate state, for drawing annotations."""

    result: Result
    image: LoadedImage | None = field(default=None, repr=False)
    context: Context | None = field(default=None, repr=False)


class Checker:
    """Checks many images with one set of models. Use as a context manager, or call close().

    Not safe to share between threads; create one per thread or process (never before fork).
    """

    def __init__(self, policy: Policy | str | Path | None = None, *,
                 models: Path | None = None) -> None:
        self.policy = policy if isinstance(policy, Policy) else Policy.load(policy)
        processing = self.policy.processing
        self._finder = FaceFinder.create_from_options(FaceFinderOptions(
            models=models, min_detection_confidence=processing.min_detection_confidence,
            max_faces=processing.max_faces,
            # The segmentation model is loaded only for a policy that reads the background.
            person_mask=self.policy.needs_person_mask,
        ))

    def check(self, source: ImageSource, *, reason: RequestReason | str = RequestReason.QUALITY,
              path: str | None = None, birth_year: int | None = None) -> Result:
        """Judge one image (a path, encoded bytes, an RGB array or a PIL image).

        ``birth_year`` (the holder's) picks the KTP-el background colour of a capture policy:
        red for an odd year, blue for an even one. A replacement policy only records it.
        """
        return self.inspect(source, reason=reason, path=path, birth_year=birth_year).result

    def inspect(self, source: ImageSource, *,
                reason: RequestReason | str = RequestReason.QUALITY,
                path: str | None = None, birth_year: int | None = None) -> Inspection:
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
        if birth_year is not None and (isinstance(birth_year, bool)
                                       or not isinstance(birth_year, int)
                                       or birth_year not in BIRTH_YEARS):
            return Inspection(self._error(
                path, reason, ErrorCode.INVALID_ARGUMENT,
                f"birth year {birth_year!r} is not a year from {BIRTH_YEARS.start} to "
                f"{BIRTH_YEARS.stop - 1}"))
        try:
            return self._inspect(source, reason, path, birth_year)
        except PhotocheckError as exc:
            return Inspection(self._error(path, reason, exc.code, exc.message))
        except Exception as exc:  # a bug: report it for this input, keep the batch alive
            log.exception("internal error while checking %s", path or "<in-memory image>")
            return Inspection(self._error(path, reason, ErrorCode.INTERNAL,
                                          f"internal error: {type(exc).__name__}: {exc}"))

    def _inspect(self, source: ImageSource, reason: RequestReason, path: str | None,
                 birth_year: int | None = None) -> Inspection:
        processing = self.policy.processing
        image = self._load(source, processing.working_min_side)
        faces = self._faces(image)
        if faces and faces[0].width < processing.min_working_face_width and image.scale < 1:
            # A small face in a reduced decode: decode again at full resolution.
            image = self._load(source, working_min_side=max(image.original_size))
            faces = self._faces(image)
        person = self._finder.person_mask(image.rgb) if self.policy.needs_person_mask else None
        context = build_context(image.rgb, faces, scale=image.scale,
                                canonical_face_width=processing.canonical_face_width,
                                crop_margin=processing.canonical_crop_margin, person=person)
        measures = measure_all(context, self.policy.measure_params, self.policy.measure_names)
        assessment = self.policy.assess(measures, has_face=context.face is not None,
                                        request_reason=reason, birth_year=birth_year)
        measures.update(assessment.derived)
        face = context.face
        result = Result(
            path=path, decision=assessment.decision, reasons=assessment.reasons,
            findings=assessment.findings, measures=measures,
            face=None if face is None else FaceInfo(
                box=tuple(round(v / image.scale, 1) for v in face.box),
                confidence=round(face.score, 4), landmarks=face.landmarks is not None),
            image=ImageInfo(width=image.original_size[0], height=image.original_size[1],
                            format=image.format),
            request_reason=reason, birth_year=birth_year, background=assessment.background,
            policy=self._policy_ref(), version=__version__,
        )
        return Inspection(result, image, context)

    def _faces(self, image: LoadedImage) -> list[Face]:
        """Detections the Face Mesh also accepts as faces: BlazeFace alone fires on some
        textures (a coffee cup, fabric) that the mesh model rejects with presence near 0."""
        floor = self.policy.processing.min_face_presence
        return [face for face in self._finder.detect(image.rgb)
                if face.presence is None or face.presence >= floor]

    def _load(self, source: ImageSource, working_min_side: int) -> LoadedImage:
        processing = self.policy.processing
        return load_image(source, max_pixels=processing.max_pixels,
                          working_min_side=working_min_side,
                          working_max_side=processing.working_max_side)

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
          policy: str | Path | None = None, birth_year: int | None = None) -> Result:
    """Judge one image with a process-wide checker (created on first use). ``policy`` is a
    shipped policy name (``capture`` for a new photo) or a TOML file."""
    key = (os.getpid(), None if policy is None else os.fspath(policy))
    with _shared_lock:
        checker = _shared.get(key)
        if checker is None:
            checker = _shared[key] = Checker(policy)
        return checker.check(source, reason=reason, birth_year=birth_year)


@atexit.register
def _close_shared() -> None:
    for (pid, _), checker in list(_shared.items()):
        if pid == os.getpid():
            checker.close()
    _shared.clear()
