"""Deterministic image degradations that implement the labelled cases of ``LABELS.md``.

These functions generate sample images, the evaluation set and test fixtures. They are *pure*:
the input array is never modified, a new array is returned, and any randomness comes only from
an explicit ``rng: numpy.random.Generator`` argument.

Conventions
-----------
* Images are RGB ``uint8`` arrays of shape ``(H, W, 3)``. Every function returns a new ``uint8``
  array of the same shape, except :func:`cut_off` and :func:`normalise_portrait` (they crop) and
  :func:`solid` (it creates an image).
* Float results are rounded to the nearest integer (``numpy.rint``) and clipped to ``[0, 255]``.
* Coordinates are continuous pixel coordinates: pixel ``(row j, column i)`` covers
  ``[i, i + 1) x [j, j + 1)``, so its centre is ``(i + 0.5, j + 0.5)``. Boxes are
  ``(x, y, w, h)`` in pixels, points are ``(x, y)``. Float boxes and points are allowed.
* Blur sizes are given in the *canonical units* of ``LABELS.md`` and scale with the face:
  ``size_px = value * face_width / 160`` (see :func:`scaled`). Other sizes (patch boxes, scratch
  width, glare radius, the low-resolution factor) are absolute pixels / factors; use
  :func:`scaled` to derive them from the face width if wanted.
* Convolutions use ``cv2.BORDER_REFLECT_101`` at the image border.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence

import cv2
import numpy as np
from PIL import Image

__all__ = [
    "CANONICAL_FACE_WIDTH",
    "DEGRADATIONS",
    "add_noise",
    "cut_off",
    "defocus_blur",
    "disk_kernel",
    "exposure",
    "fade",
    "gaussian_blur",
    "glare",
    "jpeg",
    "low_resolution",
    "motion_blur",
    "motion_kernel",
    "normalise_portrait",
    "occlude_patch",
    "overexpose",
    "scaled",
    "scratch_band",
    "solid",
]

#: Face box width (px) at which canonical blur values equal pixel sizes (``LABELS.md``).
CANONICAL_FACE_WIDTH = 160.0

Box = tuple[float, float, float, float]
Colour = tuple[int, int, int]


# --------------------------------------------------------------------------------------------
# helpers


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    """Validate an RGB ``uint8`` array of shape ``(H, W, 3)`` and return it unchanged."""
    if not isinstance(rgb, np.ndarray):
        raise TypeError(f"expected a numpy array, got {type(rgb).__name__}")
    if rgb.dtype != np.uint8:
        raise TypeError(f"expected dtype uint8, got {rgb.dtype}")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ValueError(f"expected shape (H, W, 3), got {rgb.shape}")
    return rgb


def _to_uint8(x: np.ndarray) -> np.ndarray:
    """Round to nearest and clip a float array to ``uint8``."""
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _check_box(box: Sequence[float], name: str = "box") -> Box:
    if len(box) != 4:
        raise ValueError(f"{name} must be (x, y, w, h), got {box!r}")
    x, y, w, h = (float(v) for v in box)
    if not (w > 0 and h > 0):
        raise ValueError(f"{name} must have positive width and height, got {box!r}")
    return x, y, w, h


def _check_colour(colour: Sequence[float]) -> np.ndarray:
    c = np.asarray(colour, dtype=np.float32).reshape(-1)
    if c.shape != (3,):
        raise ValueError(f"colour must be an (R, G, B) triple, got {colour!r}")
    return c


def _filter(rgb: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlate every channel with ``kernel`` in float32 and return ``uint8``."""
    out = cv2.filter2D(
        rgb.astype(np.float32), -1, kernel.astype(np.float32), borderType=cv2.BORDER_REFLECT_101
    )
    return _to_uint8(out)


def scaled(value: float, face_width: float) -> float:
    """Convert a canonical blur size to pixels for a given face width.

    Parameters
    ----------
    value : float
        Size in canonical units, i.e. pixels at a face box width of 160 px (``LABELS.md``).
    face_width : float
        Width of the face (detector) box in pixels, > 0. KTP portraits have about 110-220 px.

    Returns
    -------
    float
        ``value * face_width / 160`` in pixels.
    """
    face_width = float(face_width)
    if not face_width > 0:
        raise ValueError(f"face_width must be > 0, got {face_width}")
    return float(value) * face_width / CANONICAL_FACE_WIDTH


# --------------------------------------------------------------------------------------------
# blur


def gaussian_blur(rgb: np.ndarray, sigma: float, *, face_width: float) -> np.ndarray:
    """Gaussian blur with a face-scaled standard deviation.

    Parameters
    ----------
    rgb : ndarray, uint8, shape (H, W, 3)
        Input image.
    sigma : float
        Standard deviation in canonical units (``>= 0``); in pixels it is
        ``sigma * face_width / 160``. LABELS: ``<= 0.4`` sharp, 1.0-1.6 grey, ``>= 2.6`` blurry.
    face_width : float
        Face box width in pixels (> 0).

    Returns
    -------
    ndarray, uint8, shape (H, W, 3)
        Blurred copy. ``sigma == 0`` returns an unchanged copy.
    """
    _check_rgb(rgb)
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    s = scaled(sigma, face_width)
    if s == 0:
        return rgb.copy()
    half = max(1, math.ceil(4.0 * s))
    out = cv2.GaussianBlur(
        rgb.astype(np.float32), (2 * half + 1, 2 * half + 1), sigmaX=s, sigmaY=s,
        borderType=cv2.BORDER_REFLECT_101,
    )
    return _to_uint8(out)


def motion_kernel(length_px: float, angle_deg: float) -> np.ndarray:
    """Normalised, anti-aliased linear motion kernel.

    The kernel is a line segment of length ``length_px`` centred on the kernel centre, rendered
    by integrating the segment with bilinear splatting (about 16 samples per pixel).

    Parameters
    ----------
    length_px : float
        Segment length in pixels (``>= 0``). 0 gives the identity kernel.
    angle_deg : float
        Direction in degrees, counter-clockwise from the +x axis with y pointing *up* on screen:
        0 = horizontal motion, 90 = vertical motion, 45 = bottom-left to top-right.

    Returns
    -------
    ndarray, float32, shape (k, k), k odd
        Kernel that sums to 1 and is point-symmetric about its centre.
    """
    if length_px < 0:
        raise ValueError(f"length must be >= 0, got {length_px}")
    half = math.ceil(length_px / 2.0) + 1
    k = 2 * half + 1
    n = max(1, math.ceil(length_px * 16))
    t = (np.arange(n, dtype=np.float64) + 0.5) / n * length_px - length_px / 2.0
    a = math.radians(angle_deg)
    # Symmetric samples: splat t and -t alike so that the kernel is exactly point-symmetric.
    t = np.concatenate([t, -t])
    xs = half + t * math.cos(a)
    ys = half - t * math.sin(a)
    x0 = np.floor(xs).astype(int)
    y0 = np.floor(ys).astype(int)
    fx = xs - x0
    fy = ys - y0
    kernel = np.zeros((k, k), dtype=np.float64)
    for dy, wy in ((0, 1.0 - fy), (1, fy)):
        for dx, wx in ((0, 1.0 - fx), (1, fx)):
            np.add.at(kernel, (y0 + dy, x0 + dx), wx * wy)
    kernel /= kernel.sum()
    return kernel.astype(np.float32)


def motion_blur(
    rgb: np.ndarray, length: float, angle_deg: float = 0.0, *, face_width: float
) -> np.ndarray:
    """Linear motion blur with a face-scaled length at an arbitrary angle.

    Parameters
    ----------
    rgb : ndarray, uint8, shape (H, W, 3)
        Input image.
    length : float
        Length of the motion path in canonical units (``>= 0``); in pixels
        ``length * face_width / 160``. LABELS: 3 grey, ``>= 9`` blurry (any angle).
    angle_deg : float
        Direction of motion in degrees, 0 = horizontal, 90 = vertical, counter-clockwise with
        y up on screen (see :func:`motion_kernel`). Any real value; periodic with 180.
    face_width : float
        Face box width in pixels (> 0).

    Returns
    -------
    ndarray, uint8, shape (H, W, 3)
        Blurred copy. ``length == 0`` returns an unchanged copy.
    """
    _check_rgb(rgb)
    L = scaled(length, face_width)
    if L < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    if L == 0:
        return rgb.copy()
    return _filter(rgb, motion_kernel(L, angle_deg))


def disk_kernel(radius_px: float) -> np.ndarray:
    """Normalised disk (defocus) kernel with an anti-aliased edge.

    Each tap's weight is its approximate area coverage by the disk,
    ``clip(radius + 0.5 - d, 0, 1)`` with ``d`` the distance of the tap from the centre.

    Parameters
    ----------
    radius_px : float
        Disk radius in pixels (``>= 0``); values below 0.5 give the identity kernel.

    Returns
    -------
    ndarray, float32, shape (k, k), k odd
        Kernel that sums to 1.
    """
    if radius_px < 0:
        raise ValueError(f"radius must be >= 0, got {radius_px}")
    half = max(1, math.ceil(radius_px + 0.5))
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    d = np.hypot(xx, yy)
    kernel = np.clip(radius_px + 0.5 - d, 0.0, 1.0)
    kernel /= kernel.sum()
    return kernel.astype(np.float32)


def defocus_blur(rgb: np.ndarray, radius: float, *, face_width: float) -> np.ndarray:
    """Defocus blur: convolution with a disk of face-scaled radius.

    Parameters
    ----------
    rgb : ndarray, uint8, shape (H, W, 3)
        Input image.
    radius : float
        Disk radius in canonical units (``>= 0``); in pixels ``radius * face_width / 160``.
        LABELS: 1.0-3.0 grey, ``>= 4.0`` blurry.
    face_width : float
        Face box width in pixels (> 0).

    Returns
    -------
    ndarray, uint8, shape (H, W, 3)
        Blurred copy. ``radius == 0`` returns an unchanged copy.
    """
    _check_rgb(rgb)
    r = scaled(radius, face_width)
    if r < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    if r == 0:
        return rgb.copy()
    return _filter(rgb, disk_kernel(r))


def low_resolution(rgb: np.ndarray, factor: float) -> np.ndarray:
    """Simulate a low-resolution source: downscale by ``factor``, upscale back.

    Parameters
    ----------
    rgb : ndarray, uint8, shape (H, W, 3)
        Input image.
    factor : float
        Downscale factor (``>= 1``), absolute (not face-scaled). The intermediate image has
        ``max(1, round(W / factor)) x max(1, round(H / factor))`` pixels (``cv2.INTER_AREA``); it
        is resized back to ``W x H`` with ``cv2.INTER_LINEAR``. LABELS: 2 grey, ``>= 4`` blurry.

    Returns
    -------
    ndarray, uint8, shape (H, W, 3)
        Degraded copy; ``factor == 1`` returns an unchanged copy.
    """
    _check_rgb(rgb)
    if not factor >= 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    h, w = rgb.shape[:2]
    sw = max(1, int(round(w / factor)))
    sh = max(1, int(round(h / factor)))
    if (sw, sh) == (w, h):
        return rgb.copy()
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


# --------------------------------------------------------------------------------------------
# noise and compression


def add_noise(
    rgb: np.ndarray, sigma: float, *, rng: np.random.Generator, monochrome: bool = False
) -> np.ndarray:
    """Add zero-mean Gaussian noise.

    Parameters
    ----------
    rgb : ndarray, uint8, shape (H, W, 3)
        Input image.
    sigma : float
        Noise standard deviation in grey levels of 255 (``>= 0``). LABELS: 6-12 on a sharp
        photo is still sharp; 8 after a Gaussian blur of 3.5 stays blurry.
    rng : numpy.random.Generator
        Source of randomness; the same generator state gives the same output.
    monochrome : bool
        If True the same noise value is added to the three channels (luma noise); otherwise
        each channel gets independent noise.

    Returns
    -------
    ndarray, uint8, shape (H, W, 3)
        Noisy copy, rounded and clipped to ``[0, 255]``.
    """
    _check_rgb(rgb)
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    h, w = rgb.shape[:2]
    shape = (h, w, 1) if monochrome else (h, w, 3)
    noise = rng.normal(0.0, float(sigma), size=shape)
    return _to_uint8(rgb.astype(np.float64) + noise)


def jpeg(rgb: np.ndarray, quality: int, *, subsampling: int | str | None = None) -> np.ndarray:
    """JPEG encode/decode round trip with Pillow.

    Parameters
    ----------
    rgb : ndarray, uint8, shape (H, W, 3)
        Input image.
    quality : int
        JPEG quality, 1-100 (Pillow scale; 95 is Pillow's recommended maximum). LABELS: KTP
        portraits are 70-95; 10-25 counts as strong artefacts (grey).
    subsampling : int or str, optional
        Chroma subsampling passed to Pillow (``"4:4:4"``, ``"4:2:2"``, ``"4:2:0"`` or 0/1/2).
        None uses Pillow's default (4:2:0).

    Returns
    -------
    ndarray, uint8, shape (H, W, 3)
        Decoded image (deterministic for a given Pillow/libjpeg build).
    """
    _check_rgb(rgb)
    q = int(quality)
    if not 1 <= q <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality}")
    kwargs: dict[str, object] = {"quality": q}
    if subsampling is not None:
        kwargs["subsampling"] = subsampling
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb), "RGB").save(buf, format="JPEG", **kwargs)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.array(im.convert("RGB"), dtype=np.uint8)


# --------------------------------------------------------------------------------------------
# exposure and contrast


def exposure(
    rgb: np.ndarray, *, gain: float = 1.0, gamma: float = 1.0, offset: float = 0.0
) -> np.ndarray:
    """Change exposure: ``out = 255 * (gain * in / 255) ** gamma + offset``, clipped.

    Parameters
    ----------
    rgb : ndarray, uint8, shape (H, W, 3)
        Input image.
    gain : float
        Linear gain (``>= 0``); 0.5 halves the values.
    gamma : float
        Exponent (> 0) applied to ``gain * in / 255``; > 1 darkens the mid-tones.
    offset : float
        Added after the gamma, in grey levels of 255 (may be negative).

    Returns
    -------
    ndarray, uint8, shape (H, W, 3)
        Adjusted copy, rounded and clipped to ``[0, 255]``.

    Notes
    -----
    LABELS cases: very dark = ``gain=0.18, gamma=1.4`` (face not visible); dimmed to 50 % =
    ``gain=0.5`` (grey); brightened by +30 = ``offset=30`` (usable).
    """
    _check_rgb(rgb)
    if gain < 0:
        raise ValueError(f"gain must be >= 0, got {gain}")
    if not gamma > 0:
        raise ValueError(f"gamma must be > 0, got {gamma}")
    x = rgb.astype(np.float64) * (float(gain) / 255.0)
    if gamma != 1.0:
        x = np.power(x, float(gamma))
    return _to_uint8(255.0 * x + float(offset))


def _box_slices(box: Sequence[float], shape: tuple[int, ...]) -> tuple[slice, slice]:
    """Integer row/column slices of a box rounded to the pixel grid and clipped to the image."""
    x, y, w, h = (float(v) for v in box)
    H, W = shape[:2]
    x0 = min(max(int(round(x)), 0), W)
    x1 = min(max(int(round(x + w)), 0), W)
    y0 = min(max(int(round(y)), 0), H)
    y1 = min(max(int(round(y + h)), 0), H)
    return slice(y0, y1), slice(x0, x1)


def overexpose(
    rgb: np.ndarray, face_box: Sequence[float], fraction: float = 0.95, *, level: int = 245
) -> np.ndarray:
    """Over-expose so that at least ``fraction`` of the face box is washed out.

    A pixel counts as washed out when *all three* channels are ``>= level`` (so its grey value
    is too, whatever the grey formula). The whole image is multiplied by one gain, found from
    the ``(1 - fraction)`` quantile of the per-pixel channel minimum inside the face box, and
    clipped. If that quantile is very dark (< 16) an offset is added as well so the target is
    still met.

    Parameters
    ----------
    rgb : ndarray, uint8, shape (H, W, 3)
        Input image.
    face_box : (x, y, w, h)
        Face box in pixels; rounded to the pixel grid and clipped to the image.
    fraction : float
        Target fraction of face-box pixels to saturate, in (0, 1]. LABELS: ``>= 0.95`` means
        the face is not visible.
    level : int
        Washed-out threshold in grey levels, 1-255 (LABELS: 245).

    Returns
    -------
    ndarray, uint8, shape (H, W, 3)
        Over-exposed copy. If the face box is already washed out, the gain is 1.
    """
    _check_rgb(rgb)
    _check_box(face_box, "face_box")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if not 1 <= level <= 255:
        raise ValueError(f"level must be in 1..255, got {level}")
    rows, cols = _box_slices(face_box, rgb.shape)
    mins = rgb[rows, cols].min(axis=2).ravel()
    if mins.size == 0:
        raise ValueError("face_box does not overlap the image")
    v = np.sort(mins)
    n = v.size
    k = n - math.ceil(fraction * n - 1e-9)  # v[k:] holds ceil(fraction * n) pixels
    k = min(max(k, 0), n - 1)
    q = float(v[k])
    target = level + 1.0  # one grey level of margin against rounding
    if q >= target:
        return rgb.copy()
    min_q = 16.0
    if q >= min_q:
        gain, offset = target / q, 0.0
    else:
        gain = target / min_q
        offset = target - q * gain
    return _to_uint8(rgb.astype(np.float64) * gain + offset)


def fade(
    rgb: np.ndarray,
    contrast: float,
    *,
    yellow: float = 0.0,
    paper: Colour = (232, 214, 160),
) -> np.ndarray:
    """Fade: reduce contrast around the image mean, optionally yellowing it (old card).

    ``out = m' + contrast * (in - m)`` per channel, where ``m`` is the channel's mean and
    ``m' = (1 - yellow) * m + yellow * paper``. The deviations from the mean, hence the
    standard deviation, scale by exactly ``contrast`` (before rounding and clipping);
    yellowing only moves the mean colour towards the ``paper`` colour.

    Parameters
    ----------
    rgb : ndarray, uint8, shape (H, W, 3)
        Input image.
    contrast : float
        Remaining contrast in [0, 1]: 0.15 = 15 % (face not visible), 0.5 = 50 % (grey).
    yellow : float
        Yellowing strength in [0, 1]: 0 keeps the mean colour, 1 moves it to ``paper``.
    paper : (R, G, B)
        Colour of aged, yellowed paper the mean moves towards.

    Returns
    -------
    ndarray, uint8, shape (H, W, 3)
        Faded copy. Clipping can only occur if ``yellow > 1 - contrast``.
    """
    _check_rgb(rgb)
    if not 0 <= contrast <= 1:
        raise ValueError(f"contrast must be in [0, 1], got {contrast}")
    if not 0 <= yellow <= 1:
        raise ValueError(f"yellow must be in [0, 1], got {yellow}")
    p = _check_colour(paper).astype(np.float64)
    x = rgb.astype(np.float64)
    m = x.reshape(-1, 3).mean(axis=0)
    new_mean = (1.0 - yellow) * m + yellow * p
    return _to_uint8(new_mean + float(contrast) * (x - m))


# --------------------------------------------------------------------------------------------
# occlusion


def occlude_patch(
    rgb: np.ndarray,
    box: Sequence[float],
    *,
    colour: Colour = (185, 185, 190),
    texture_sigma: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Cover a rectangle with a flat grey/silver patch (peeled laminate).

    Parameters
    ----------
    rgb : ndarray, uint8, shape (H, W, 3)
        Input image.
    box : (x, y, w, h)
        Patch rectangle in pixels; rounded to the pixel grid and clipped to the image (a box
        entirely outside changes nothing).
    colour : (R, G, B)
        Patch colour; the default is a light silver grey.
    texture_sigma : float
        If > 0, a faint, smooth (about 2 px grain) grey texture with this standard deviation in
        grey levels is added on the patch. Requires ``rng``.
    rng : numpy.random.Generator, optional
        Randomness for the texture; ignored when ``texture_sigma == 0``.

    Returns
    -------
    ndarray, uint8, shape (H, W, 3)
        Copy with the patch; pixels outside the (clipped) box are unchanged.

    Notes
    -----
    LABELS: a patch of at most 5 % of the face box on a cheek, or anywhere in the background,
    keeps the photo usable; covering both eyes or ``>= 50 %`` of the face box hides the face.
    """
    _check_rgb(rgb)
    if len(box) != 4:
        raise ValueError(f"box must be (x, y, w, h), got {box!r}")
    c = _check_colour(colour)
    if texture_sigma < 0:
        raise ValueError(f"texture_sigma must be >= 0, got {texture_sigma}")
    out = rgb.copy()
    rows, cols = _box_slices(box, rgb.shape)
    ph = rows.stop - rows.start
    pw = cols.stop - cols.start
    if ph <= 0 or pw <= 0:
        return out
    patch = np.broadcast_to(c.astype(np.float64), (ph, pw, 3)).copy()
    if texture_sigma > 0:
        if not isinstance(rng, np.random.Generator):
            raise TypeError("texture_sigma > 0 needs rng (a numpy.random.Generator)")
        t = rng.normal(0.0, 1.0, size=(ph, pw)).astype(np.float32)
        t = cv2.GaussianBlur(t, (0, 0), sigmaX=2.0, borderType=cv2.BORDER_REFLECT_101)
        sd = float(t.std())
        if sd > 0:
            t *= texture_sigma / sd
        patch += t[:, :, None]
    out[rows, cols] = _to_uint8(patch)
    return out


def _segment_coverage(
    shape: tuple[int, int], p0: Sequence[float], p1: Sequence[float], half_width: float
) -> tuple[slice, slice, np.ndarray]:
    """Anti-aliased coverage of a thick segment (round caps) on the pixel grid.

    Returns the bounding-box slices and the coverage ``clip(half_width + 0.5 - d, 0, 1)`` there,
    ``d`` being the distance from each pixel centre to the segment.
    """
    H, W = shape
    (ax, ay), (bx, by) = (float(p0[0]), float(p0[1])), (float(p1[0]), float(p1[1]))
    pad = half_width + 1.0
    x0 = max(0, int(math.floor(min(ax, bx) - pad)))
    x1 = min(W, int(math.ceil(max(ax, bx) + pad)))
    y0 = max(0, int(math.floor(min(ay, by) - pad)))
    y1 = min(H, int(math.ceil(max(ay, by) + pad)))
    rows, cols = slice(y0, max(y0, y1)), slice(x0, max(x0, x1))
    if y1 <= y0 or x1 <= x0:
        return rows, cols, np.zeros((0, 0))
    py, px = np.mgrid[y0:y1, x0:x1].astype(np.float64) + 0.5
    dx, dy = bx - ax, by - ay
    ll = dx * dx + dy * dy
    if ll > 0:
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / ll, 0.0, 1.0)
    else:
        t = np.zeros_like(px)
    d = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
    return rows, cols, np.clip(half_width + 0.5 - d, 0.0, 1.0)


def scratch_band(
    rgb: np.ndarray,
    p0: Sequence[float],
    p1: Sequence[float],
    width: float,
    *,
    colour: Colour = (25, 25, 25),
    opacity: float = 1.0,
) -> np.ndarray:
    """Draw a dark scratch: a thick anti-aliased band from ``p0`` to ``p1``.

    Pixels whose centre lies within ``width / 2 - 0.5`` of the segment get ``colour``; coverage
    falls linearly to 0 at ``width / 2 + 0.5`` (round caps at the ends).

    Parameters
    ----------
    rgb : ndarray, uint8, shape (H, W, 3)
        Input image.
    p0, p1 : (x, y)
        End points in pixel coordinates (may lie outside the image).
    width : float
        Band thickness in pixels (> 0), absolute.
    colour : (R, G, B)
        Band colour; dark by default.
    opacity : float
        In [0, 1]; the band is blended as ``(1 - a) * in + a * colour`` with
        ``a = opacity * coverage``.

    Returns
    -------
    ndarray, uint8, shape (H, W, 3)
        Copy with the band; pixels farther than ``width / 2 + 0.5`` are unchanged.

    Notes
    -----
    LABELS: scratches only in the background keep the photo usable; covering both eyes or
    ``>= 50 %`` of the face box hides the face.
    """
    _check_rgb(rgb)
    if not width > 0:
        raise ValueError(f"width must be > 0, got {width}")
    if not 0 <= opacity <= 1:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    c = _check_colour(colour).astype(np.float64)
    out = rgb.copy()
    rows, cols, cov = _segment_coverage(rgb.shape[:2], p0, p1, float(width) / 2.0)
    if cov.size == 0:
        return out
    a = (opacity * cov)[:, :, None]
    region = rgb[rows, cols].astype(np.float64)
    out[rows, cols] = _to_uint8((1.0 - a) * region + a * c)
    return out


def glare(
    rgb: np.ndarray,
    centre: Sequence[float],
    radius: float,
    *,
    strength: float = 1.0,
    core: float = 0.3,
) -> np.ndarray:
    """Add a specular highlight: a smooth radial blob that drives pixels towards white.

    ``out = in + a * (255 - in)`` with ``a = strength * profile(r / radius)``, where ``r`` is
    the distance of the pixel centre from ``centre``. ``profile`` is 1 for ``r <= core * radius``
    (saturated core) and falls smoothly (smoothstep) to 0 at ``r = radius``.

    Parameters
    ----------
    rgb : ndarray, uint8, shape (H, W, 3)
        Input image.
    centre : (x, y)
        Blob centre in pixel coordinates.
    radius : float
        Outer radius in pixels (> 0), absolute; nothing changes beyond it.
    strength : float
        In [0, 1]; 1 makes the core exactly 255.
    core : float
        Fraction of the radius that is fully saturated, in [0, 1).

    Returns
    -------
    ndarray, uint8, shape (H, W, 3)
        Copy with the highlight.
    """
    _check_rgb(rgb)
    if not radius > 0:
        raise ValueError(f"radius must be > 0, got {radius}")
    if not 0 <= strength <= 1:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    if not 0 <= core < 1:
        raise ValueError(f"core must be in [0, 1), got {core}")
    cx, cy = float(centre[0]), float(centre[1])
    H, W = rgb.shape[:2]
    out = rgb.copy()
    x0 = max(0, int(math.floor(cx - radius)))
    x1 = min(W, int(math.ceil(cx + radius)))
    y0 = max(0, int(math.floor(cy - radius)))
    y1 = min(H, int(math.ceil(cy + radius)))
    if x1 <= x0 or y1 <= y0:
        return out
    py, px = np.mgrid[y0:y1, x0:x1].astype(np.float64) + 0.5
    t = np.hypot(px - cx, py - cy) / radius
    u = np.clip((1.0 - t) / (1.0 - core), 0.0, 1.0)
    a = (strength * u * u * (3.0 - 2.0 * u))[:, :, None]
    region = rgb[y0:y1, x0:x1].astype(np.float64)
    out[y0:y1, x0:x1] = _to_uint8(region + a * (255.0 - region))
    return out


# --------------------------------------------------------------------------------------------
# framing


def cut_off(
    rgb: np.ndarray,
    face_box: Sequence[float],
    outside_fraction: float,
    side: str = "left",
    *,
    keep_aspect: bool = False,
    return_box: bool = False,
) -> np.ndarray | tuple[np.ndarray, Box]:
    """Crop the image so that part of the face lies outside the frame.

    **Changes the shape**: the result is a sub-array (copy) of the input, smaller along ``side``
    (and along the other axis too if ``keep_aspect``).

    The new edge on ``side`` is placed at ``outside_fraction`` of the face box's extent along
    that axis, e.g. for ``side="left"`` the new left edge is
    ``round(x + outside_fraction * w)``, so ``outside_fraction`` of the face box's width (hence
    of its area) is outside the new frame, within half a pixel.

    Parameters
    ----------
    rgb : ndarray, uint8, shape (H, W, 3)
        Input image.
    face_box : (x, y, w, h)
        Face box in pixels.
    outside_fraction : float
        Fraction of the face box to cut off, in [0, 1). LABELS: 0.10 grey, 0.45-0.60 face not
        visible.
    side : {"left", "right", "top", "bottom"}
        Frame edge that cuts the face.
    keep_aspect : bool
        If True, also crop the other axis, centred on the face box centre (shifted to stay in
        the image), so the output keeps the input's aspect ratio (within 1 px).
    return_box : bool
        If True, also return the face box in the output's coordinates (translated, *not*
        clipped: it extends beyond the frame by the part that was cut off).

    Returns
    -------
    ndarray, uint8, shape (H', W', 3)
        The cropped image, or ``(image, face_box)`` if ``return_box``.
    """
    _check_rgb(rgb)
    x, y, w, h = _check_box(face_box, "face_box")
    if not 0 <= outside_fraction < 1:
        raise ValueError(f"outside_fraction must be in [0, 1), got {outside_fraction}")
    H, W = rgb.shape[:2]
    x0, x1, y0, y1 = 0, W, 0, H
    f = float(outside_fraction)
    if side == "left":
        x0 = int(round(x + f * w))
    elif side == "right":
        x1 = int(round(x + (1.0 - f) * w))
    elif side == "top":
        y0 = int(round(y + f * h))
    elif side == "bottom":
        y1 = int(round(y + (1.0 - f) * h))
    else:
        raise ValueError(f"side must be left, right, top or bottom, got {side!r}")
    x0, x1 = max(0, x0), min(W, x1)
    y0, y1 = max(0, y0), min(H, y1)
    if x1 <= x0 or y1 <= y0:
        raise ValueError("the crop leaves no pixels")
    if keep_aspect:
        if side in ("left", "right"):
            nh = min(H, max(1, int(round((x1 - x0) * H / W))))
            y0 = int(round(y + h / 2.0 - nh / 2.0))
            y0 = min(max(y0, 0), H - nh)
            y1 = y0 + nh
        else:
            nw = min(W, max(1, int(round((y1 - y0) * W / H))))
            x0 = int(round(x + w / 2.0 - nw / 2.0))
            x0 = min(max(x0, 0), W - nw)
            x1 = x0 + nw
    out = rgb[y0:y1, x0:x1].copy()
    if return_box:
        return out, (x - x0, y - y0, w, h)
    return out


#: Face Mesh points of each eye (the subject's) for ``close_eyes``: corners, upper lid, lower
#: lid, brow.
EYE_OUTLINES = {
    "right": ((33, 133), (246, 161, 160, 159, 158, 157, 173), (7, 163, 144, 145, 153, 154, 155),
              (70, 63, 105, 66, 107)),
    "left": ((263, 362), (466, 388, 387, 386, 385, 384, 398), (249, 390, 373, 374, 380, 381, 382),
             (300, 293, 334, 296, 336)),
}
LID_BAND = 0.5  # height of the lid margin and lashes moved down whole, x the widest lid gap
LID_DROP_PX = 0.5  # the lash line comes to rest this far below the lower lid line


def lid_line(landmarks: np.ndarray, corners: tuple[int, int], lid: tuple[int, ...],
             cols: np.ndarray) -> np.ndarray:
    """Height of a lid (Face Mesh points from corner to corner) at each of ``cols``; beyond the
    corners, the corner's height."""
    xy = landmarks[[corners[0], *lid, corners[1]], :2].astype(np.float64)
    xy = xy[np.argsort(xy[:, 0])]
    return np.interp(cols, xy[:, 0], xy[:, 1])


def close_eyes(rgb: np.ndarray, landmarks: np.ndarray,
               eyes: tuple[str, ...] = ("right", "left"), closed: float = 1.0) -> np.ndarray:
    """Closed eyes (the subject's ``eyes``): each upper lid slides down until its lash line
    rests on the lower lid.

    Column by column between the eye corners, with the lid lines of the Face Mesh: a band of
    the upper lid above its margin (the lashes and the lid's edge, ``LID_BAND`` x the widest
    lid gap high) moves down by that column's lid gap, unchanged, so the lash line lands on the
    lower lid; the skin between the brow and that band stretches to follow (the lid unfolds).
    Nothing of the eye opening (white, iris) is left; the brow, the lower lid and everything
    outside the corners stay where they were. ``closed`` < 1 lowers each lid by that share of
    its gap only (eyes half shut, or looking down): the lower part of the opening still shows."""
    out = rgb.copy()
    for corners, upper, lower, brow in (EYE_OUTLINES[eye] for eye in eyes):
        left, right = landmarks[list(corners), 0].min(), landmarks[list(corners), 0].max()
        x0, x1 = int(np.floor(left)) - 2, int(np.ceil(right)) + 3
        cols = np.arange(x0, x1, dtype=np.float64)
        up, low = (lid_line(landmarks, corners, lid, cols) for lid in (upper, lower))
        gap = np.maximum(low - up, 0.0)
        if closed >= 1.0:  # the lash line rests on the lower lid; no shift beyond the corners
            shift = gap + LID_DROP_PX * np.clip(gap, 0.0, 1.0)
        else:  # lowered part of the way: the lower part of the opening still shows
            shift = closed * gap
        band = LID_BAND * gap.max()
        top = float(np.floor(landmarks[list(brow), 1].max()))  # lower edge of the brow
        band_top = up - band + shift  # where the band's upper edge lands
        rest = low + shift - gap  # where the lash line lands
        bottom = int(np.ceil(rest.max())) + 2
        rows = np.arange(int(top), bottom, dtype=np.float64)[:, None]
        stretched = top + (rows - top) * (up - band - top) / (band_top - top)
        source = np.where(rows <= band_top, stretched, np.where(rows <= rest, rows - shift, rows))
        map_x = np.broadcast_to(cols.astype(np.float32), source.shape)
        out[int(top):bottom, x0:x1] = cv2.remap(rgb, np.ascontiguousarray(map_x),
                                                source.astype(np.float32), cv2.INTER_LINEAR)
    return out


def solid(width: int, height: int, colour: Sequence[int]) -> np.ndarray:
    """A flat colour image (a "no face" case, e.g. an empty KTP background).

    Parameters
    ----------
    width, height : int
        Size in pixels (>= 1).
    colour : (R, G, B)
        Colour in 0-255, e.g. KTP red ``(200, 30, 30)`` or KTP blue ``(30, 60, 180)``.

    Returns
    -------
    ndarray, uint8, shape (height, width, 3)
    """
    if int(width) < 1 or int(height) < 1:
        raise ValueError(f"size must be >= 1, got {width}x{height}")
    c = _check_colour(colour)
    if np.any(c < 0) or np.any(c > 255):
        raise ValueError(f"colour must be in 0..255, got {colour!r}")
    return np.full((int(height), int(width), 3), _to_uint8(c), dtype=np.uint8)


def normalise_portrait(
    rgb: np.ndarray,
    face_box: Sequence[float],
    *,
    face_width: float,
    aspect: tuple[int, int] = (3, 4),
    face_fraction: float = 0.5,
    eyes_from_top: float = 0.4,
    eye_y: float | None = None,
) -> tuple[np.ndarray, Box]:
    """Crop and resize a portrait so that it is framed like a KTP photo.

    The output is ``aspect[0] * k`` by ``aspect[1] * k`` pixels with
    ``k = round(face_width / face_fraction / aspect[0])`` (so the aspect ratio is exact and the
    face box is about ``face_fraction`` of the width). The image is scaled by
    ``s = face_width / w`` (exactly, so the face box becomes ``face_width`` px wide), the face
    box is centred horizontally and the eyes are put at ``eyes_from_top`` of the height; both
    positions are rounded to whole output pixels (at most 0.5 px off). Where the frame leaves the
    source the border pixels are replicated (``cv2.BORDER_REPLICATE``). Resampling uses
    ``cv2.INTER_AREA`` when shrinking and ``cv2.INTER_CUBIC`` when enlarging.

    Parameters
    ----------
    rgb : ndarray, uint8, shape (H, W, 3)
        Source portrait.
    face_box : (x, y, w, h)
        Face (detector) box in source pixels.
    face_width : float
        Wanted face box width in output pixels (> 0); LABELS: 110-220.
    aspect : (int, int)
        Output width : height, default 3:4.
    face_fraction : float
        Face box width / output width, in (0, 1]; LABELS: 0.45-0.55.
    eyes_from_top : float
        Height of the eyes from the top as a fraction of the output height, in [0, 1].
    eye_y : float, optional
        y of the eyes in source pixels; default ``y + 0.4 * h`` of the face box.

    Returns
    -------
    rgb : ndarray, uint8, shape (aspect[1] * k, aspect[0] * k, 3)
        The normalised portrait.
    face_box : (x, y, w, h)
        The face box in output pixels (floats; ``w == face_width``).
    """
    _check_rgb(rgb)
    fx, fy, fw, fh = _check_box(face_box, "face_box")
    if not face_width > 0:
        raise ValueError(f"face_width must be > 0, got {face_width}")
    if not 0 < face_fraction <= 1:
        raise ValueError(f"face_fraction must be in (0, 1], got {face_fraction}")
    if not 0 <= eyes_from_top <= 1:
        raise ValueError(f"eyes_from_top must be in [0, 1], got {eyes_from_top}")
    aw, ah = (int(a) for a in aspect)
    if aw < 1 or ah < 1:
        raise ValueError(f"aspect must be positive integers, got {aspect!r}")
    k = max(1, int(round(float(face_width) / face_fraction / aw)))
    out_w, out_h = aw * k, ah * k
    s = float(face_width) / fw
    if eye_y is None:
        eye_y = fy + 0.4 * fh
    # Top-left of the wanted frame in source coordinates.
    sx0 = fx + fw / 2.0 - (out_w / 2.0) / s
    sy0 = float(eye_y) - (eyes_from_top * out_h) / s
    # Integer source crop with a margin for the interpolation kernel.
    m = max(2, math.ceil(2.0 / s))
    ix0 = math.floor(sx0) - m
    iy0 = math.floor(sy0) - m
    ix1 = math.ceil(sx0 + out_w / s) + m
    iy1 = math.ceil(sy0 + out_h / s) + m
    H, W = rgb.shape[:2]
    pad_l, pad_t = max(0, -ix0), max(0, -iy0)
    pad_r, pad_b = max(0, ix1 - W), max(0, iy1 - H)
    crop = rgb[max(0, iy0) : min(H, iy1), max(0, ix0) : min(W, ix1)]
    if crop.size == 0:
        # Frame entirely outside the source: replicate the nearest source pixel.
        cy = min(max(iy0, 0), H - 1)
        cx = min(max(ix0, 0), W - 1)
        crop = np.broadcast_to(rgb[cy, cx], (iy1 - iy0, ix1 - ix0, 3)).copy()
    elif pad_l or pad_t or pad_r or pad_b:
        crop = cv2.copyMakeBorder(crop, pad_t, pad_b, pad_l, pad_r, cv2.BORDER_REPLICATE)
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    # dsize=(0, 0) with fx=fy=s makes OpenCV use exactly s (not a rounded size ratio).
    big = cv2.resize(np.ascontiguousarray(crop), (0, 0), fx=s, fy=s, interpolation=interp)
    ox = int(round((sx0 - ix0) * s))
    oy = int(round((sy0 - iy0) * s))
    if big.shape[0] < oy + out_h or big.shape[1] < ox + out_w:  # pragma: no cover - margin guard
        big = cv2.copyMakeBorder(
            big, 0, max(0, oy + out_h - big.shape[0]), 0, max(0, ox + out_w - big.shape[1]),
            cv2.BORDER_REPLICATE,
        )
    out = np.ascontiguousarray(big[oy : oy + out_h, ox : ox + out_w])
    new_box = ((fx - ix0) * s - ox, (fy - iy0) * s - oy, fw * s, fh * s)
    return out, new_box


# --------------------------------------------------------------------------------------------
# registry

#: Name -> degradation function, for the evaluation builder. Keys equal the function names;
#: call as ``DEGRADATIONS[name](rgb, *args, **kwargs)`` with each function's own parameters.
DEGRADATIONS: dict[str, Callable[..., np.ndarray]] = {
    f.__name__: f
    for f in (
        gaussian_blur,
        motion_blur,
        defocus_blur,
        low_resolution,
        add_noise,
        jpeg,
        exposure,
        overexpose,
        fade,
        occlude_patch,
        scratch_band,
        glare,
        cut_off,
    )
}
