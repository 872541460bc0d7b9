"""Per-image shared state, built once and read by every measure (OFIQ's ``Session``).

The canonical face is the main face rotated so the eyes are level and resampled so the detector
box is ``canonical_face_width`` px wide: every pixel measure reads this crop, so a face scanned at
110 px and the same face at 220 px are measured alike. Region masks (face oval, eyes, nose,
mouth) come from the Face Mesh landmarks mapped into the crop.

For the capture profile the context also holds the person mask (selfie segmentation, see
``detect.FaceFinder.person_mask``): what is not the person is the background.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from .detect import Face

# MediaPipe Face Mesh topology (468-point model); see mediapipe's face_mesh_connections.py.
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400,
             377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67,
             109)
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
LEFT_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
NOSE = (168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 327, 129, 358, 48, 278, 64, 294)
LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)

# Regions in which occlusion is looked for.
REGIONS = {
    "right_eye": RIGHT_EYE,
    "left_eye": LEFT_EYE,
    # Brow to lower lid: under a band that hides the eyes the mesh may guess them just
    # below it, so an eye counts as covered if either its outline or this area is.
    "right_eye_area": RIGHT_EYE + RIGHT_BROW,
    "left_eye_area": LEFT_EYE + LEFT_BROW,
    "nose": NOSE,
    "mouth": LIPS,
}


@dataclass(frozen=True)
class CanonicalFace:
    """The main face at canonical scale.

    Attributes:
        rgb: HxWx3 uint8 crop, eyes level, detector box ``width`` px wide.
        grey: HxW float32 luminance (BT.601), 0-255.
        inside: HxW bool, True where the crop shows image pixels (False = beyond the frame).
        oval: HxW bool, face oval from the landmarks.
        regions: name -> HxW bool mask (see ``REGIONS``).
        to_image: 2x3 affine matrix mapping crop px back to working-image px.
        points: (468, 2) Face Mesh landmarks in crop px.
    """

    rgb: np.ndarray = field(repr=False)
    grey: np.ndarray = field(repr=False)
    inside: np.ndarray = field(repr=False)
    oval: np.ndarray = field(repr=False)
    regions: dict[str, np.ndarray] = field(repr=False)
    to_image: np.ndarray = field(repr=False)
    points: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Context:
    """Everything measures may read about one image.

    Attributes:
        rgb: working image (possibly reduced at decode), HxWx3 uint8.
        scale: working px per original px.
        faces: all faces found, best first.
        canonical: the best face at canonical scale, or None without a face / landmarks.
        person: HxW float32 probability (0-1) that a working-image pixel shows the person
            (hair, hijab, clothes included), or None when the policy needs no background.
        eye_contours: the best face's eyelid contours, {"right", "left"}: (71, 2) working-image
            px (``FaceFinder.eye_contours``), or None when the policy reads no eye openness.
        covered: probability (0-1) that each of the canonical face's features (right_eye,
            left_eye, nose, mouth) is covered (``FaceFinder.covered_features``), or None
            without a canonical face or when the policy reads no feature visibility.
    """

    rgb: np.ndarray = field(repr=False)
    scale: float
    faces: tuple[Face, ...]
    canonical: CanonicalFace | None
    person: np.ndarray | None = field(default=None, repr=False)
    eye_contours: dict[str, np.ndarray] | None = field(default=None, repr=False)
    covered: dict[str, float] | None = None

    @property
    def face(self) -> Face | None:
        return self.faces[0] if self.faces else None


def build_context(rgb: np.ndarray, faces: list[Face], *, scale: float = 1.0,
                  canonical_face_width: int, crop_margin: float,
                  person: np.ndarray | None = None,
                  eye_contours: dict[str, np.ndarray] | None = None) -> Context:
    """Build the per-image context; ``crop_margin`` is the crop side / detector box width;
    ``person`` the person probability map, when the policy reads the background;
    ``eye_contours`` those of the best face, when it reads eye openness."""
    canonical = None
    if faces and faces[0].landmarks is not None:
        canonical = canonical_face(rgb, faces[0], canonical_face_width, crop_margin)
    return Context(rgb=rgb, scale=scale, faces=tuple(faces), canonical=canonical, person=person,
                   eye_contours=eye_contours)


def canonical_face(rgb: np.ndarray, face: Face, face_width: int, margin: float) -> CanonicalFace:
    """Rotate ``face`` level and resample its detector box to ``face_width`` px wide."""
    x, y, w, h = face.box
    centre = (x + w / 2, y + h / 2)
    zoom = face_width / w
    size = int(round(face_width * margin))
    matrix = cv2.getRotationMatrix2D(centre, math.degrees(face.eye_angle), zoom)
    matrix[:, 2] += (size / 2 - centre[0], size / 2 - centre[1])
    to_image = cv2.invertAffineTransform(matrix)

    # Work on the part of the image the crop can see: resampling the whole frame costs more
    # than everything else here.
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], np.float64)
    seen = corners @ to_image.T
    height, width = rgb.shape[:2]
    left, top = (max(0, int(v) - 2) for v in seen.min(axis=0))
    right, bottom = (min(limit, int(v) + 3) for v, limit in zip(seen.max(axis=0), (width, height)))
    roi = rgb[top:max(bottom, top + 1), left:max(right, left + 1)]
    local = matrix.copy()
    local[:, 2] += matrix[:, :2] @ (left, top)

    # Shrinking needs an area filter or aliasing adds false detail.
    if zoom < 1:
        crop = _warp_area(roi, local, size)
    else:
        crop = cv2.warpAffine(roi, local, (size, size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
    ones = np.full(roi.shape[:2], 255, np.uint8)
    inside = cv2.warpAffine(ones, local, (size, size), flags=cv2.INTER_NEAREST,
                            borderValue=0) > 0
    points = face.landmarks[:, :2] @ matrix[:, :2].T + matrix[:, 2]
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
    regions = {name: _polygon_mask(points, idx, size) for name, idx in REGIONS.items()}
    return CanonicalFace(
        rgb=crop, grey=grey, inside=inside, oval=_polygon_mask(points, FACE_OVAL, size),
        regions=regions, to_image=to_image, points=points[:, :2],
    )


def _warp_area(rgb: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Warp with a shrinking similarity transform without aliasing: area-resize first, then a
    pure rotation/translation at the target scale."""
    zoom = math.hypot(matrix[0, 0], matrix[0, 1])
    small = cv2.resize(rgb, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA)
    # Express the transform in the coordinates of the shrunken image.
    rescaled = matrix.copy()
    rescaled[:, 0] /= small.shape[1] / rgb.shape[1]
    rescaled[:, 1] /= small.shape[0] / rgb.shape[0]
    return cv2.warpAffine(small, rescaled, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def _polygon_mask(points: np.ndarray, indices: tuple[int, ...], size: int) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    hull = cv2.convexHull(np.round(points[list(indices)]).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1)
    return mask.astype(bool)
