"""Face detection and landmarks: the only module that opens models.

Detection runs MediaPipe's BlazeFace short-range model with MediaPipe's own post-processing,
re-implemented in :mod:`photocheck.blazeface` on the LiteRT interpreter (the MediaPipe Tasks
``FaceDetector`` gives the same faces, ``detector="mediapipe"``, but its binding's per-call thread
hand-off costs more than the model itself). Landmarks
come from the Face Mesh model (``face_landmark.tflite``), which photocheck runs itself with the
LiteRT interpreter on a crop aligned by the detector's eye keypoints, exactly as MediaPipe's own
face-mesh graph prepares it: in mediapipe 1.2.3 the ``FaceLandmarker`` task fed this model
returns scrambled points (see ``models/README.md``). Running it directly also saves the second
detection pass that ``FaceLandmarker`` would make.

For the capture profile a person mask comes from MediaPipe's selfie segmentation model
(``selfie_segmentation.tflite``, also run with LiteRT): it tells the person (face, hair, hijab,
shoulders) from the background. It is loaded only when asked for
(``FaceFinderOptions.person_mask``), so a replacement check neither loads nor runs it.

Also for the capture profile (eyes open?), MediaPipe's iris landmark model
(``iris_landmark.tflite``, LiteRT) traces each eyelid on a 64x64 crop of the eye, far more
closely than the Face Mesh does: :meth:`FaceFinder.eye_contours`. It too is loaded only when
asked for (``FaceFinderOptions.eye_contours``).

All are created once per :class:`FaceFinder` and released by :meth:`FaceFinder.close` (or a
``with`` block). Never create a finder before ``fork()``: MediaPipe tasks hang in forked
children. Create one inside each worker process instead.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from .blazeface import BlazeFace, Detection, aligned_zeros
from .visibility import VisibilityModel

# MediaPipe and LiteRT log through glog: keep their start-up chatter off the console.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DETECTOR_MODEL = "face_detection_short_range.tflite"
LANDMARK_MODEL = "face_landmark.tflite"
SEGMENTATION_MODEL = "selfie_segmentation.tflite"
EYE_MODEL = "iris_landmark.tflite"
VISIBILITY_MODEL = "visibility.npz"  # photocheck's own feature-visibility weights
EYE_INPUT_SIZE = 64  # fixed by the iris landmark model's input tensor
# MediaPipe's iris graph crops a square 2.3x the distance between the eye's corners, centred
# between them and turned so that the corners are level.
EYE_CROP_SCALE = 2.3
# Face Mesh corners of each eye, the one nearer the image's left edge first. The iris model is
# trained on the eye on the image's left (the subject's right eye); the subject's left eye is
# mirrored before it is fed, as MediaPipe's iris graph does.
MESH_EYE_CORNERS = {"right": (33, 133), "left": (362, 263)}
#: Number of points of an eye contour from the iris model: 0-8 the lower lid from the outer
#: corner (0) to the inner corner (8), 9-15 the upper lid from outer to inner, then 55 points
#: of four rings around the eye and the brow (MediaPipe's order; in the Face Mesh's numbering
#: the first 16 are 33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173
#: for the right eye and 263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385,
#: 384, 398 for the left).
EYE_CONTOUR_POINTS = 71
SEGMENTATION_INPUT_SIZE = 256  # fixed by the selfie segmentation model's input tensor
LANDMARK_INPUT_SIZE = 192  # fixed by the Face Mesh model's input tensor
# MediaPipe's face-mesh graph crops 1.5x the detection box, squared on its long side.
LANDMARK_CROP_SCALE = 1.5

# Indices into MediaPipe's six BlazeFace keypoints (subject's right eye first).
KEYPOINT_RIGHT_EYE, KEYPOINT_LEFT_EYE = 0, 1
# Face Mesh outer eye corners (subject's right, left).
MESH_RIGHT_EYE_OUTER, MESH_LEFT_EYE_OUTER = 33, 263


def models_dir() -> Path:
    """Folder holding the model files.

    ``PHOTOCHECK_MODELS`` wins; then the copy packed inside an installed wheel
    (``photocheck/models``); then ``models/`` beside the package in a source checkout.
    """
    override = os.environ.get("PHOTOCHECK_MODELS")
    if override:
        return Path(override)
    packaged = Path(str(resources.files("photocheck"))) / "models"
    if (packaged / DETECTOR_MODEL).is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "models"


@dataclass(frozen=True)
class Face:
    """One detected face, in pixels of the image that was searched.

    Attributes:
        box: (x, y, width, height) of the detector box, px; may extend past the image edge.
        score: detector confidence, 0-1.
        keypoints: (6, 2) BlazeFace keypoints, px: right eye, left eye, nose tip, mouth centre,
            right ear tragion, left ear tragion (subject's left/right).
        landmarks: (468, 3) Face Mesh points (x, y px; z relative depth, px scale), or None
            when landmarks were not computed.
        presence: Face Mesh face-presence probability, 0-1 (None without landmarks).
    """

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray = field(repr=False)
    landmarks: np.ndarray | None = field(default=None, repr=False)
    presence: float | None = None

    @property
    def width(self) -> float:
        return self.box[2]

    @property
    def eye_angle(self) -> float:
        """Angle of the line from the subject's right eye to the left eye, radians (0 = level).

        From the Face Mesh eye corners when there are landmarks (BlazeFace's eye keypoints can be
        some 5 degrees off), else from the detector keypoints."""
        if self.landmarks is not None:
            (rx, ry), (lx, ly) = (self.landmarks[MESH_RIGHT_EYE_OUTER, :2],
                                  self.landmarks[MESH_LEFT_EYE_OUTER, :2])
        else:
            (rx, ry), (lx, ly) = (self.keypoints[KEYPOINT_RIGHT_EYE],
                                  self.keypoints[KEYPOINT_LEFT_EYE])
        return math.atan2(ly - ry, lx - rx)


@dataclass(frozen=True)
class FaceFinderOptions:
    """How to build a :class:`FaceFinder` (mirrors MediaPipe's ``*Options`` dataclasses)."""

    models: Path | None = None  # folder with the model files; None = :func:`models_dir`
    min_detection_confidence: float = 0.3
    max_faces: int = 5
    landmarks: bool = True
    person_mask: bool = False  # load the segmentation model for :meth:`FaceFinder.person_mask`
    eye_contours: bool = False  # load the iris model for :meth:`FaceFinder.eye_contours`
    # Load the feature-visibility model for :meth:`FaceFinder.covered_features`; a path other
    # than the shipped weights (``visibility_model``) serves out-of-fold evaluation.
    feature_visibility: bool = False
    visibility_model: Path | None = None
    num_threads: int = 1
    # "litert": photocheck.blazeface (fast); "mediapipe": the MediaPipe Tasks FaceDetector, the
    # reference it is tested against.
    detector: str = "litert"


class FaceFinder:
    """Owns the detector and landmark models; ``detect(rgb)`` returns faces, best first."""

    def __init__(self, detector, landmarker, options: FaceFinderOptions,
                 segmenter=None, eye_model: EyeContourModel | None = None,
                 visibility: VisibilityModel | None = None) -> None:
        self._detector = detector
        self._visibility = visibility
        self._landmarker = landmarker
        self._segmenter = segmenter
        self._options = options
        self._eye_model = eye_model
        self._warm = False
        # LiteRT copies (and warns about) input buffers not aligned to 64 bytes.
        self._landmark_input = aligned_zeros((1, LANDMARK_INPUT_SIZE, LANDMARK_INPUT_SIZE, 3))
        self._segmentation_input = (
            None if segmenter is None
            else aligned_zeros((1, SEGMENTATION_INPUT_SIZE, SEGMENTATION_INPUT_SIZE, 3)))

    @classmethod
    def create_from_options(cls, options: FaceFinderOptions | None = None) -> FaceFinder:
        with _native_logs_silenced():
            return cls._create(options or FaceFinderOptions())

    @classmethod
    def _create(cls, options: FaceFinderOptions) -> FaceFinder:
        folder = Path(options.models) if options.models else models_dir()
        needed = (DETECTOR_MODEL, LANDMARK_MODEL) + (
            (SEGMENTATION_MODEL,) if options.person_mask else ()) + (
            (EYE_MODEL,) if options.eye_contours else ()) + (
            (VISIBILITY_MODEL,) if options.feature_visibility and not options.visibility_model
            else ())
        for name in needed:
            if not (folder / name).is_file():
                raise FileNotFoundError(
                    f"model file {name} not found in {folder}; see models/README.md"
                )
        if options.detector == "litert":
            detector = BlazeFace(folder / DETECTOR_MODEL,
                                 min_confidence=options.min_detection_confidence,
                                 num_threads=options.num_threads)
        elif options.detector == "mediapipe":
            detector = _MediaPipeDetector(folder / DETECTOR_MODEL,
                                          min_confidence=options.min_detection_confidence)
        else:
            raise ValueError(f"unknown detector {options.detector!r}; use litert or mediapipe")
        # Imported here so that importing photocheck stays cheap and model-free.
        from ai_edge_litert.interpreter import Interpreter

        landmarker = segmenter = None
        if options.landmarks:
            landmarker = Interpreter(
                model_path=str(folder / LANDMARK_MODEL), num_threads=options.num_threads
            )
            landmarker.allocate_tensors()
        if options.person_mask:
            segmenter = Interpreter(
                model_path=str(folder / SEGMENTATION_MODEL), num_threads=options.num_threads
            )
            segmenter.allocate_tensors()
        eye_model = (EyeContourModel(folder / EYE_MODEL, options.num_threads)
                     if options.eye_contours else None)
        visibility = (VisibilityModel.load(options.visibility_model
                                           or folder / VISIBILITY_MODEL)
                      if options.feature_visibility else None)
        return cls(detector, landmarker, options, segmenter, eye_model, visibility)

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """Find faces in an HxWx3 uint8 RGB image; best (score x area) first; [] when none."""
        if self._detector is None:
            raise RuntimeError("FaceFinder is closed")
        if not self._warm:  # the first call prints native set-up notices
            with _native_logs_silenced():
                return self._detect(rgb)
        return self._detect(rgb)

    def _detect(self, rgb: np.ndarray) -> list[Face]:
        self._warm = True
        faces = []
        for detection in self._detector.detect(rgb)[: self._options.max_faces]:
            face = Face(detection.box, detection.score, detection.keypoints)
            if self._landmarker is not None:
                landmarks, presence = self._landmarks(rgb, face)
                face = Face(face.box, face.score, face.keypoints, landmarks, presence)
            faces.append(face)
        faces.sort(key=lambda f: f.score * f.box[2] * f.box[3], reverse=True)
        return faces

    def _landmarks(self, rgb: np.ndarray, face: Face) -> tuple[np.ndarray, float]:
        size = LANDMARK_INPUT_SIZE
        x, y, w, h = face.box
        side = max(w, h) * LANDMARK_CROP_SCALE
        to_crop = _similarity((x + w / 2, y + h / 2), face.eye_angle, size / side, size)
        crop = cv2.warpAffine(rgb, to_crop, (size, size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        tensor = self._landmark_input
        np.multiply(crop, np.float32(1.0 / 255.0), out=tensor[0])
        interpreter = self._landmarker
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor)
        interpreter.invoke()
        outputs = interpreter.get_output_details()
        points = interpreter.get_tensor(outputs[0]["index"]).reshape(-1, 3).astype(np.float32)
        logit = float(interpreter.get_tensor(outputs[1]["index"]).ravel()[0])
        back = cv2.invertAffineTransform(to_crop)
        xy = points[:, :2] @ back[:, :2].T + back[:, 2]
        z = points[:, 2:3] * (side / size)
        return np.hstack([xy, z]), 1.0 / (1.0 + math.exp(-logit))

    def person_mask(self, rgb: np.ndarray) -> np.ndarray:
        """Probability that each pixel shows the person (HxW float32, 0-1, same size as ``rgb``).

        MediaPipe's selfie segmentation on the whole image squeezed to 256x256 (aspect not
        kept, as MediaPipe's own selfie-segmentation graph feeds it), values scaled to [0, 1];
        the 256x256 output is resized back bilinearly. The person includes hair, a hijab or
        other head cover, clothes and shoulders. Needs ``FaceFinderOptions(person_mask=True)``.
        """
        if self._segmenter is None:
            raise RuntimeError("this FaceFinder was created without person_mask=True")
        size = SEGMENTATION_INPUT_SIZE
        height, width = rgb.shape[:2]
        small = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
        tensor = self._segmentation_input
        np.multiply(small, np.float32(1.0 / 255.0), out=tensor[0])
        interpreter = self._segmenter
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor)
        interpreter.invoke()
        output = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
        probability = output.reshape(size, size).astype(np.float32)
        return cv2.resize(probability, (width, height), interpolation=cv2.INTER_LINEAR)

    def eye_contours(self, rgb: np.ndarray, face: Face) -> dict[str, np.ndarray] | None:
        """Eyelid contours of ``face`` (found in ``rgb``) from MediaPipe's iris landmark model:
        {"right": (71, 2), "left": (71, 2)} for the subject's eyes, float32 pixels of ``rgb``,
        points in the order given at ``EYE_CONTOUR_POINTS``; None for a face without
        landmarks (or with a degenerate mesh). Needs ``FaceFinderOptions(eye_contours=True)``.
        """
        if self._eye_model is None:
            raise RuntimeError("this FaceFinder was created without eye_contours=True")
        if face.landmarks is None:
            return None
        return self._eye_model.contours(rgb, face.landmarks)

    def covered_features(self, canonical_rgb: np.ndarray, points: np.ndarray
                         ) -> dict[str, float] | None:
        """Probability (0-1) that each eye, the nose and the mouth is covered, from the
        canonical face crop and its mesh points in crop px (see :mod:`photocheck.visibility`);
        None when the model was not asked for."""
        if self._visibility is None:
            return None
        return self._visibility.covered(canonical_rgb, points)

    def close(self) -> None:
        with _native_logs_silenced():
            if self._detector is not None:
                self._detector.close()
                self._detector = None
            self._landmarker = None
            self._segmenter = None
            self._eye_model = None

    def __enter__(self) -> FaceFinder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class EyeContourModel:
    """MediaPipe's iris landmark model on both eyes of a face. Not thread-safe.

    For each eye, a square crop EYE_CROP_SCALE times the distance between the Face Mesh eye
    corners, centred between them and turned so that they are level, is resampled to 64x64 (the
    subject's left eye mirrored), fed with values in [0, 1], and the 71 eye-contour points that
    come out (x, y in pixels of the crop) are mapped back to the image. The model's other output
    (5 iris points) is not used.
    """

    def __init__(self, model: Path, num_threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        with _native_logs_silenced():
            self._interpreter = Interpreter(model_path=str(model), num_threads=num_threads)
            self._interpreter.allocate_tensors()
        self._input_index = self._interpreter.get_input_details()[0]["index"]
        # The contour output has 71 x 3 values, the iris output 5 x 3.
        self._output = next(d["index"] for d in self._interpreter.get_output_details()
                            if int(np.prod(d["shape"])) == EYE_CONTOUR_POINTS * 3)
        self._input = aligned_zeros((1, EYE_INPUT_SIZE, EYE_INPUT_SIZE, 3))

    def contours(self, rgb: np.ndarray, landmarks: np.ndarray) -> dict[str, np.ndarray] | None:
        """{"right", "left"}: (71, 2) float32 eye-contour points in pixels of ``rgb``, from
        the (468, 2+) Face Mesh ``landmarks`` of a face in ``rgb``; None if an eye's corners
        coincide."""
        interpreter = self._interpreter
        size = EYE_INPUT_SIZE
        mirror = np.array([[-1.0, 0.0, size], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        result = {}
        for side, (first, second) in MESH_EYE_CORNERS.items():
            a = landmarks[first, :2].astype(np.float64)
            b = landmarks[second, :2].astype(np.float64)
            distance = float(np.hypot(*(b - a)))
            if not distance > 0:  # a degenerate mesh: no eye to crop, openness not assessed
                return None
            angle = math.atan2(b[1] - a[1], b[0] - a[0])
            to_crop = _similarity(tuple((a + b) / 2), angle, size / (EYE_CROP_SCALE * distance),
                                  size)
            if side == "left":  # the model knows the eye on the image's left: mirror this one
                to_crop = (mirror @ np.vstack([to_crop, (0.0, 0.0, 1.0)]))[:2]
            crop = cv2.warpAffine(rgb, to_crop, (size, size), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REPLICATE)
            np.multiply(crop, np.float32(1.0 / 255.0), out=self._input[0])
            interpreter.set_tensor(self._input_index, self._input)
            interpreter.invoke()
            points = interpreter.get_tensor(self._output).reshape(EYE_CONTOUR_POINTS, 3)[:, :2]
            back = cv2.invertAffineTransform(to_crop)
            result[side] = (points @ back[:, :2].T + back[:, 2]).astype(np.float32)
        return result



class _MediaPipeDetector:
    """The MediaPipe Tasks ``FaceDetector``, giving :class:`~photocheck.blazeface.Detection`."""

    def __init__(self, model: Path, *, min_confidence: float) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        self._task = vision.FaceDetector.create_from_options(vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.IMAGE, min_detection_confidence=min_confidence,
        ))

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        import mediapipe as mp

        height, width = rgb.shape[:2]
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        return [Detection(
            box=(float(d.bounding_box.origin_x), float(d.bounding_box.origin_y),
                 float(d.bounding_box.width), float(d.bounding_box.height)),
            score=float(d.categories[0].score),
            keypoints=np.array([[k.x * width, k.y * height] for k in d.keypoints], np.float32),
        ) for d in self._task.detect(image).detections]

    def close(self) -> None:
        self._task.close()


def _similarity(centre: tuple[float, float], angle: float, scale: float, size: int) -> np.ndarray:
    """2x3 matrix mapping image px to a size x size crop centred on ``centre``, rotated by
    ``-angle`` (so the eye line becomes level) and scaled by ``scale``."""
    matrix = cv2.getRotationMatrix2D(centre, math.degrees(angle), scale)
    matrix[:, 2] += (size / 2 - centre[0], size / 2 - centre[1])
    return matrix


@contextlib.contextmanager
def _native_logs_silenced():
    """Send file descriptor 2 to /dev/null while native code sets up: LiteRT and MediaPipe print
    INFO/WARNING notices there that glog settings do not reach. Python exceptions still propagate.
    Skipped when the process has no descriptor 2 or when PHOTOCHECK_DEBUG is set."""
    fd = 2  # native code writes to the descriptor, whatever sys.stderr has been replaced with
    if os.environ.get("PHOTOCHECK_DEBUG"):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(fd)
    except OSError:  # no descriptor 2 in this process
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)
