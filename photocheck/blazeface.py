"""BlazeFace short-range face detection run directly with LiteRT.

This is the model and the post-processing of MediaPipe's ``FaceDetector`` task, step for step
(``face_detection_short_range`` graph: letterboxed 128x128 input in [-1, 1], 896 SSD anchors,
sigmoid scores clipped at +-100, weighted non-maximum suppression at IoU 0.3, letterbox
removal). photocheck runs it itself because the task's Python binding hands every native call
to a helper thread and waits on it: some 2 ms of a 10-15 ms check went to that hand-off, not
to the model (0.3 ms). ``tests/test_detect.py`` checks that boxes, keypoints and scores agree
with the MediaPipe task on the sample photos.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

INPUT_SIZE = 128  # fixed by the model's input tensor
# SSD anchor layout of the short-range model (MediaPipe's face_detection_short_range graph).
ANCHOR_STRIDES = (8, 16, 16, 16)
ANCHOR_OFFSET = 0.5
ANCHORS_PER_LAYER = 2  # one aspect ratio (1.0) plus the interpolated scale, fixed anchor size
NUM_KEYPOINTS = 6
SCORE_CLIP = 100.0
NMS_MIN_IOU = 0.3


@dataclass(frozen=True)
class Detection:
    """One face found by BlazeFace, in pixels of the searched image.

    Attributes:
        box: (x, y, width, height), px; may extend past the image edge.
        score: confidence, 0-1.
        keypoints: (6, 2) px: right eye, left eye, nose tip, mouth centre, right and left ear
            tragion (the subject's sides).
    """

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray


def aligned_zeros(shape: tuple[int, ...], alignment: int = 64) -> np.ndarray:
    """A float32 array of zeros whose data starts on an ``alignment``-byte boundary (LiteRT
    copies, and warns about, input buffers that are not 64-byte aligned)."""
    size = int(np.prod(shape)) * 4
    raw = np.zeros(size + alignment, np.uint8)
    start = -raw.ctypes.data % alignment
    return raw[start:start + size].view(np.float32).reshape(shape)


def anchor_centres() -> np.ndarray:
    """(896, 2) anchor centres (x, y) in 0-1 input coordinates, in the model's output order."""
    centres = []
    layer = 0
    while layer < len(ANCHOR_STRIDES):
        stride = ANCHOR_STRIDES[layer]
        # Consecutive layers with the same stride share one feature map.
        same = sum(1 for s in ANCHOR_STRIDES[layer:] if s == stride)
        cells = -(-INPUT_SIZE // stride)
        for y in range(cells):
            for x in range(cells):
                centre = ((x + ANCHOR_OFFSET) / cells, (y + ANCHOR_OFFSET) / cells)
                centres.extend([centre] * (ANCHORS_PER_LAYER * same))
        layer += same
    return np.array(centres, np.float32)


class BlazeFace:
    """The short-range BlazeFace model in a LiteRT interpreter. Not thread-safe."""

    def __init__(self, model: Path, *, min_confidence: float, num_threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_path=str(model), num_threads=num_threads)
        self._interpreter.allocate_tensors()
        self._input_index = self._interpreter.get_input_details()[0]["index"]
        outputs = sorted(self._interpreter.get_output_details(), key=lambda d: d["shape"][-1])
        self._score_index, self._box_index = outputs[0]["index"], outputs[1]["index"]
        self._anchors = anchor_centres()
        # Scores are compared as logits: the sigmoid is monotonic.
        self._min_logit = float(np.log(min_confidence / (1.0 - min_confidence)))
        self._input = aligned_zeros((1, INPUT_SIZE, INPUT_SIZE, 3))

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Faces in an HxWx3 uint8 RGB image, highest score first."""
        height, width = rgb.shape[:2]
        # Letterbox: fit the long side to the input, centred, as MediaPipe's ImageToTensor does
        # (a bilinear warp of pixel corners, black border, then scaled to [-1, 1]).
        scale = INPUT_SIZE / max(width, height)
        shift = np.array([(INPUT_SIZE - width * scale) / 2, (INPUT_SIZE - height * scale) / 2],
                         np.float32)
        to_input = np.array([[scale, 0, shift[0]], [0, scale, shift[1]]], np.float32)
        fitted = cv2.warpAffine(rgb, to_input, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        np.multiply(fitted, np.float32(2.0 / 255.0), out=self._input[0])
        self._input -= 1.0

        self._interpreter.set_tensor(self._input_index, self._input)
        self._interpreter.invoke()
        logits = self._interpreter.get_tensor(self._score_index).reshape(-1)
        raw = self._interpreter.get_tensor(self._box_index).reshape(len(logits), -1)
        chosen = np.flatnonzero(np.clip(logits, -SCORE_CLIP, SCORE_CLIP) >= self._min_logit)
        if chosen.size == 0:
            return []
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits[chosen], -SCORE_CLIP, SCORE_CLIP)))
        anchors = self._anchors[chosen]
        values = raw[chosen] / INPUT_SIZE
        centres = values[:, 0:2] + anchors
        sizes = values[:, 2:4]
        boxes = np.hstack([centres - sizes / 2, centres + sizes / 2])  # x0, y0, x1, y1 (0-1)
        keypoints = (values[:, 4:4 + 2 * NUM_KEYPOINTS].reshape(-1, NUM_KEYPOINTS, 2)
                     + anchors[:, None])

        # From 0-1 input coordinates to image pixels.
        boxes = (boxes * INPUT_SIZE - np.tile(shift, 2)) / scale
        keypoints = (keypoints * INPUT_SIZE - shift) / scale
        return [Detection(box=(float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])),
                          score=float(s), keypoints=k.astype(np.float32))
                for b, s, k in weighted_nms(boxes, scores, keypoints)]

    def close(self) -> None:
        self._interpreter = None


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, keypoints: np.ndarray
                 ) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """MediaPipe's weighted non-maximum suppression.

    Candidates are taken best first; each one absorbs the remaining candidates that overlap it
    by IoU > :data:`NMS_MIN_IOU`, and the face is their score-weighted mean box and keypoints,
    with the best candidate's score. ``boxes`` are (N, 4) x0, y0, x1, y1.
    """
    order = np.argsort(-scores, kind="stable")
    faces = []
    while order.size:
        best = order[0]
        overlap = _iou(boxes[best], boxes[order])
        cluster = order[overlap > NMS_MIN_IOU]
        cluster = cluster if cluster.size else order[:1]
        weights = scores[cluster] / scores[cluster].sum()
        faces.append((weights @ boxes[cluster], float(scores[best]),
                      np.tensordot(weights, keypoints[cluster], axes=1)))
        order = order[overlap <= NMS_MIN_IOU]
        order = order[order != best]
    return faces


def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], others[:, 0])
    y0 = np.maximum(box[1], others[:, 1])
    x1 = np.minimum(box[2], others[:, 2])
    y1 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-12)
