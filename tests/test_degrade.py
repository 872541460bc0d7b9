"""Property tests for photocheck.evaluation.synth.degrade on synthetic images."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from photocheck.evaluation.synth import degrade as d


# ------------------------------------------------------------------------------------ fixtures


def texture(h: int = 120, w: int = 100, seed: int = 0, smooth: float = 1.0) -> np.ndarray:
    """Random colour texture with detail at several scales, uint8 RGB."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, size=(h, w, 3)).astype(np.float32)
    if smooth > 0:
        x = cv2.GaussianBlur(x, (0, 0), smooth)
    x = (x - x.mean()) / x.std()
    return np.clip(128 + 45 * x, 0, 255).astype(np.uint8)


def checkerboard(h: int = 96, w: int = 96, cell: int = 8) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    g = np.where(((yy // cell) + (xx // cell)) % 2 == 0, 40, 215).astype(np.uint8)
    return np.repeat(g[:, :, None], 3, axis=2)


def lap_var(rgb: np.ndarray) -> float:
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float64)
    return float(cv2.Laplacian(g, cv2.CV_64F)[4:-4, 4:-4].var())


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


BLURS = {
    "gaussian": lambda im, v, fw: d.gaussian_blur(im, v, face_width=fw),
    "motion": lambda im, v, fw: d.motion_blur(im, v, 30.0, face_width=fw),
    "defocus": lambda im, v, fw: d.defocus_blur(im, v, face_width=fw),
}
BLUR_VALUES = {
    "gaussian": [0.4, 1.0, 1.6, 2.6, 4.0],
    "motion": [1.0, 3.0, 6.0, 9.0, 14.0],
    "defocus": [1.0, 2.0, 3.0, 4.0, 6.0],
}


# ------------------------------------------------------------------------------------ generic


def _all_calls(img: np.ndarray):
    box = (30, 35, 40, 50)
    rng = np.random.default_rng(1)
    return {
        "gaussian_blur": lambda: d.gaussian_blur(img, 2.0, face_width=160),
        "motion_blur": lambda: d.motion_blur(img, 9, 37, face_width=160),
        "defocus_blur": lambda: d.defocus_blur(img, 3, face_width=160),
        "low_resolution": lambda: d.low_resolution(img, 3),
        "add_noise": lambda: d.add_noise(img, 8, rng=rng),
        "jpeg": lambda: d.jpeg(img, 50),
        "exposure": lambda: d.exposure(img, gain=0.18, gamma=1.4),
        "overexpose": lambda: d.overexpose(img, box),
        "fade": lambda: d.fade(img, 0.15, yellow=0.3),
        "occlude_patch": lambda: d.occlude_patch(img, box, texture_sigma=3, rng=rng),
        "scratch_band": lambda: d.scratch_band(img, (0, 0), (99, 119), 6),
        "glare": lambda: d.glare(img, (50, 60), 20),
    }


def test_dtype_shape_and_purity():
    img = texture()
    before = img.copy()
    calls = _all_calls(img)
    assert set(calls) <= set(d.DEGRADATIONS)
    for name, call in calls.items():
        out = call()
        assert out.dtype == np.uint8, name
        assert out.shape == img.shape, name
        assert out is not img, name
        assert not np.shares_memory(out, img), name
        np.testing.assert_array_equal(img, before, err_msg=f"{name} modified its input")


def test_registry_maps_names_to_functions():
    for name, fn in d.DEGRADATIONS.items():
        assert fn is getattr(d, name)
    assert {"gaussian_blur", "motion_blur", "defocus_blur", "cut_off"} <= set(d.DEGRADATIONS)


def test_rejects_bad_input():
    with pytest.raises(TypeError):
        d.gaussian_blur(np.zeros((8, 8, 3), np.float32), 1.0, face_width=160)
    with pytest.raises(ValueError):
        d.gaussian_blur(np.zeros((8, 8), np.uint8), 1.0, face_width=160)
    with pytest.raises(ValueError):
        d.scaled(1.0, 0)
    with pytest.raises(TypeError):
        d.add_noise(texture(), 5, rng=None)  # type: ignore[arg-type]


def test_deterministic():
    img = texture()
    a = d.add_noise(img, 10, rng=np.random.default_rng(7))
    b = d.add_noise(img, 10, rng=np.random.default_rng(7))
    c = d.add_noise(img, 10, rng=np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    p = d.occlude_patch(img, (10, 10, 40, 40), texture_sigma=4, rng=np.random.default_rng(3))
    q = d.occlude_patch(img, (10, 10, 40, 40), texture_sigma=4, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(p, q)
    for name, call in _all_calls(img).items():
        if name in ("add_noise", "occlude_patch"):
            continue
        np.testing.assert_array_equal(call(), call(), err_msg=name)


def test_scaled():
    assert d.scaled(2.6, 160) == pytest.approx(2.6)
    assert d.scaled(2.6, 220) == pytest.approx(2.6 * 220 / 160)
    assert d.scaled(4.0, 110) == pytest.approx(2.75)


# ------------------------------------------------------------------------------------ blur


@pytest.mark.parametrize("kind", list(BLURS))
def test_blur_reduces_laplacian_monotonically(kind):
    img = texture(smooth=0.7)
    vs = [lap_var(img)] + [lap_var(BLURS[kind](img, v, 160)) for v in BLUR_VALUES[kind]]
    assert all(a > b for a, b in zip(vs, vs[1:])), vs
    # bigger face width = more pixels of blur at the same canonical value
    v = BLUR_VALUES[kind][2]
    assert lap_var(BLURS[kind](img, v, 220)) < lap_var(BLURS[kind](img, v, 110))


@pytest.mark.parametrize("kind,value", [("gaussian", 2.6), ("motion", 9.0), ("defocus", 4.0)])
def test_blur_scales_with_face_width(kind, value):
    base = texture(96, 96, seed=4, smooth=1.2)

    def up(im):
        return cv2.resize(im, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)

    small_then_up = up(BLURS[kind](base, value, 110))
    up_then_big = BLURS[kind](up(base), value, 220)
    up_then_unscaled = BLURS[kind](up(base), value, 110)
    c = slice(16, -16)
    err = mad(small_then_up[c, c], up_then_big[c, c])
    wrong = mad(small_then_up[c, c], up_then_unscaled[c, c])
    assert err < 0.35 * wrong, (err, wrong)
    ratio = lap_var(up_then_big[c, c]) / lap_var(small_then_up[c, c])
    assert 0.6 < ratio < 1.6, ratio


def test_zero_blur_is_identity():
    img = texture()
    np.testing.assert_array_equal(d.gaussian_blur(img, 0, face_width=160), img)
    np.testing.assert_array_equal(d.motion_blur(img, 0, 45, face_width=160), img)
    np.testing.assert_array_equal(d.defocus_blur(img, 0, face_width=160), img)


def test_motion_blur_direction():
    # vertical edges only: horizontal motion destroys them, vertical motion leaves them alone
    edges = np.zeros((64, 64, 3), np.uint8)
    edges[:, 32:] = 220
    horiz = d.motion_blur(edges, 9, 0, face_width=160)
    vert = d.motion_blur(edges, 9, 90, face_width=160)
    np.testing.assert_array_equal(vert, edges)
    assert mad(horiz, edges) > 5
    # on a texture: angle 0 removes x-gradients more than y-gradients, angle 90 the opposite
    img = texture(seed=2, smooth=0.8)

    def grad_energy(im):
        g = cv2.cvtColor(im, cv2.COLOR_RGB2GRAY).astype(np.float64)
        gx = cv2.Sobel(g, cv2.CV_64F, 1, 0)[8:-8, 8:-8]
        gy = cv2.Sobel(g, cv2.CV_64F, 0, 1)[8:-8, 8:-8]
        return (gx**2).mean(), (gy**2).mean()

    gx0, gy0 = grad_energy(d.motion_blur(img, 9, 0, face_width=160))
    gx90, gy90 = grad_energy(d.motion_blur(img, 9, 90, face_width=160))
    assert gx0 < 0.5 * gy0
    assert gy90 < 0.5 * gx90


@pytest.mark.parametrize("length,angle", [(0.5, 0), (3, 17), (9, 45), (14.2, 123), (20, 90)])
def test_motion_kernel_normalised_symmetric(length, angle):
    k = d.motion_kernel(length, angle)
    assert k.shape[0] == k.shape[1] and k.shape[0] % 2 == 1
    assert k.sum() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-6)
    assert (k >= 0).all()


def test_motion_kernel_axis_aligned():
    k0 = d.motion_kernel(9, 0)
    c = k0.shape[0] // 2
    assert k0[c].sum() == pytest.approx(1.0, abs=1e-6)
    assert np.count_nonzero(k0[c] > 0.05) >= 8
    k90 = d.motion_kernel(9, 90)
    assert k90[:, c].sum() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("radius", [0.2, 0.8, 1.0, 2.5, 4.0, 7.3])
def test_disk_kernel(radius):
    k = d.disk_kernel(radius)
    assert k.sum() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(k, k.T, atol=1e-7)
    np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-7)
    c = k.shape[0] // 2
    assert k[c, c] == k.max()


def test_low_resolution():
    img = texture()
    np.testing.assert_array_equal(d.low_resolution(img, 1), img)
    lv = [lap_var(d.low_resolution(img, f)) for f in (1, 2, 4, 6)]
    assert all(a > b for a, b in zip(lv, lv[1:])), lv
    with pytest.raises(ValueError):
        d.low_resolution(img, 0.5)


# ------------------------------------------------------------------------------------ noise / jpeg


def test_noise_std_on_mid_grey():
    grey = np.full((200, 200, 3), 128, np.uint8)
    for sigma in (6, 12):
        out = d.add_noise(grey, sigma, rng=np.random.default_rng(0))
        diff = out.astype(np.float64) - 128
        assert diff.std() == pytest.approx(sigma, rel=0.03)
        assert abs(diff.mean()) < 0.2
    mono = d.add_noise(grey, 8, rng=np.random.default_rng(0), monochrome=True)
    assert (mono[..., 0] == mono[..., 1]).all() and (mono[..., 1] == mono[..., 2]).all()


def test_jpeg_quality_order():
    img = texture(smooth=2.5)
    errs = [mad(d.jpeg(img, q), img) for q in (10, 25, 70, 95)]
    assert all(a > b for a, b in zip(errs, errs[1:])), errs
    assert errs[0] > 2 * errs[-1] > 0
    # without chroma subsampling high quality is close to lossless
    e444 = mad(d.jpeg(img, 95, subsampling="4:4:4"), img)
    assert 0 < e444 < errs[-1]


# ------------------------------------------------------------------------------------ exposure


def test_exposure_cases():
    img = texture()
    half = d.exposure(img, gain=0.5)
    assert half.astype(float).mean() == pytest.approx(0.5 * img.astype(float).mean(), abs=0.5)
    low = np.clip(texture(), 0, 200)
    plus = d.exposure(low, offset=30)
    np.testing.assert_array_equal(plus.astype(int), low.astype(int) + 30)
    dark = d.exposure(img, gain=0.18, gamma=1.4)
    assert dark.mean() < 0.12 * img.mean()
    np.testing.assert_array_equal(d.exposure(img), img)


@pytest.mark.parametrize("fraction", [0.5, 0.95, 1.0])
def test_overexpose_meets_fraction(fraction):
    img = (texture(seed=5).astype(np.float64) * 0.6).astype(np.uint8)
    box = (20, 30, 50, 60)
    out = d.overexpose(img, box, fraction)
    face = out[30:90, 20:70]
    assert (face.min(axis=2) >= 245).mean() >= fraction
    grey = cv2.cvtColor(np.ascontiguousarray(face), cv2.COLOR_RGB2GRAY)
    assert (grey >= 245).mean() >= fraction
    if fraction < 1:  # not simply everything white
        assert (face.min(axis=2) >= 245).mean() < 1.0


def test_overexpose_black_face():
    img = np.zeros((40, 40, 3), np.uint8)
    out = d.overexpose(img, (10, 10, 20, 20))
    assert (out[10:30, 10:30] >= 245).all()


def test_fade_contrast():
    img = texture()
    for c in (0.15, 0.5):
        out = d.fade(img, c)
        for ch in range(3):
            s_in = img[..., ch].astype(float).std()
            s_out = out[..., ch].astype(float).std()
            assert s_out == pytest.approx(c * s_in, rel=0.05)
        np.testing.assert_allclose(out.reshape(-1, 3).mean(0), img.reshape(-1, 3).mean(0), atol=0.5)
    yellowed = d.fade(img, 0.15, yellow=0.6)
    m = yellowed.reshape(-1, 3).astype(float).mean(0)
    assert m[0] > m[2] + 30  # yellow: more red/green than blue
    assert yellowed[..., 1].astype(float).std() == pytest.approx(
        0.15 * img[..., 1].astype(float).std(), rel=0.05
    )


# ------------------------------------------------------------------------------------ occlusion


def test_occlude_patch():
    img = texture()
    out = d.occlude_patch(img, (20, 30, 25, 15))
    assert (out[30:45, 20:45] == np.array([185, 185, 190], np.uint8)).all()
    mask = np.ones(img.shape[:2], bool)
    mask[30:45, 20:45] = False
    np.testing.assert_array_equal(out[mask], img[mask])
    # clipped at the image border, and off-image boxes are harmless
    out2 = d.occlude_patch(img, (80, -10, 100, 30), colour=(10, 20, 30))
    assert (out2[0:20, 80:] == np.array([10, 20, 30], np.uint8)).all()
    np.testing.assert_array_equal(out2[20:], img[20:])
    np.testing.assert_array_equal(d.occlude_patch(img, (500, 500, 10, 10)), img)
    tex = d.occlude_patch(img, (10, 10, 60, 60), texture_sigma=3, rng=np.random.default_rng(0))
    patch = tex[10:70, 10:70].astype(float)
    assert abs(patch[..., 0].mean() - 185) < 1.5
    assert 1.5 < patch[..., 0].std() < 4.5
    with pytest.raises(TypeError):
        d.occlude_patch(img, (10, 10, 5, 5), texture_sigma=3)


def test_scratch_band():
    img = np.full((80, 100, 3), 230, np.uint8)
    out = d.scratch_band(img, (10, 40), (90, 40), 6)
    darker = (out < img).any(axis=2)
    rows = np.nonzero(darker.any(axis=1))[0]
    cols = np.nonzero(darker.any(axis=0))[0]
    # band: y in [37, 43), about; nothing beyond half width + 0.5 px of the segment
    assert rows.min() >= 40 - 3 - 1 and rows.max() <= 40 + 3
    assert cols.min() >= 10 - 4 and cols.max() <= 90 + 3
    assert (out[38:42, 12:88] == 25).all()
    # a diagonal band darkens only pixels near the line
    tex = texture(80, 100)
    out = d.scratch_band(tex, (0, 0), (100, 80), 4)
    yy, xx = np.mgrid[0:80, 0:100] + 0.5
    dist = np.abs(80 * xx - 100 * yy) / np.hypot(80, 100)
    changed = (out != tex).any(axis=2)
    assert not changed[dist > 2.5].any()
    assert (out[dist < 1.4] == 25).all()


def test_glare():
    img = texture() // 3
    out = d.glare(img, (50.5, 60.5), 20)
    assert (out[60, 50] == 255).all()
    yy, xx = np.mgrid[0:120, 0:100] + 0.5
    core = np.hypot(xx - 50.5, yy - 60.5) <= 0.3 * 20  # saturated core
    assert (out[core] == 255).all()
    far = np.hypot(xx - 50.5, yy - 60.5) >= 20
    np.testing.assert_array_equal(out[far], img[far])
    assert (out >= img).all()
    half = d.glare(img, (50.5, 60.5), 20, strength=0.5)
    expected = img[60, 50].astype(float) + 0.5 * (255 - img[60, 50].astype(float))
    np.testing.assert_allclose(half[60, 50], expected, atol=0.51)


# ------------------------------------------------------------------------------------ framing


@pytest.mark.parametrize("side", ["left", "right", "top", "bottom"])
@pytest.mark.parametrize("frac", [0.1, 0.5, 0.6])
def test_cut_off(side, frac):
    img = texture(160, 120)
    box = (30.0, 40.0, 60.0, 70.0)
    out, nb = d.cut_off(img, box, frac, side, return_box=True)
    x, y, w, h = nb
    H, W = out.shape[:2]
    ix0, ix1 = max(0.0, x), min(float(W), x + w)
    iy0, iy1 = max(0.0, y), min(float(H), y + h)
    inside = (ix1 - ix0) * (iy1 - iy0) / (w * h)
    assert inside == pytest.approx(1 - frac, abs=0.5 / 60 + 1e-9)
    if side in ("left", "right"):
        assert H == 160 and W < 120
    else:
        assert W == 120 and H < 160
    # the content is a crop of the input
    dx, dy = int(round(box[0] - x)), int(round(box[1] - y))
    np.testing.assert_array_equal(out, img[dy : dy + H, dx : dx + W])
    # plain call returns just the array
    plain = d.cut_off(img, box, frac, side)
    np.testing.assert_array_equal(plain, out)


@pytest.mark.parametrize("side", ["left", "top"])
def test_cut_off_keep_aspect(side):
    img = texture(160, 120)
    box = (30.0, 40.0, 60.0, 70.0)
    out, nb = d.cut_off(img, box, 0.5, side, keep_aspect=True, return_box=True)
    H, W = out.shape[:2]
    assert abs(H * 3 - W * 4) <= 4
    x, y, w, h = nb
    ix0, ix1 = max(0.0, x), min(float(W), x + w)
    iy0, iy1 = max(0.0, y), min(float(H), y + h)
    inside = (ix1 - ix0) * (iy1 - iy0) / (w * h)
    assert inside == pytest.approx(0.5, abs=0.02)


def test_solid():
    red = d.solid(30, 40, (200, 30, 30))
    assert red.shape == (40, 30, 3) and red.dtype == np.uint8
    assert (red == np.array([200, 30, 30], np.uint8)).all()


def _portrait_source(h=400, w=300, box=(100, 120, 80, 100)):
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 200 // w, yy * 200 // h, np.full_like(xx, 60)], axis=2).astype(np.uint8)
    x, y, bw, bh = box
    img[y : y + bh, x : x + bw] = 250
    return img


@pytest.mark.parametrize(
    "box,face_width",
    [
        ((100, 120, 80, 100), 220),  # enlarge
        ((100, 120, 80, 100), 110),  # mild shrink
        ((40, 60, 200, 260), 110),  # strong shrink
        ((5, 10, 90, 110), 160),  # frame leaves the source: replicate padding
        ((101, 123, 77, 93), 147),  # odd sizes
    ],
)
def test_normalise_portrait(box, face_width):
    img = _portrait_source(box=box)
    out, nb = d.normalise_portrait(img, box, face_width=face_width)
    H, W = out.shape[:2]
    assert out.dtype == np.uint8
    assert H * 3 == W * 4
    x, y, w, h = nb
    assert abs(w - face_width) <= 1
    assert h == pytest.approx(box[3] * face_width / box[2])
    assert w / W == pytest.approx(0.5, abs=0.02)
    assert x + w / 2 == pytest.approx(W / 2, abs=0.51)
    assert y + 0.4 * h == pytest.approx(0.4 * H, abs=0.51)
    # the white face box lands where the returned box says
    inner = out[int(np.ceil(y)) + 2 : int(y + h) - 2, int(np.ceil(x)) + 2 : int(x + w) - 2]
    assert inner.size and (inner >= 240).all()
    ring = np.zeros((H, W), bool)
    x0, y0 = int(np.floor(x)) - 3, int(np.floor(y)) - 3
    x1, y1 = int(np.ceil(x + w)) + 3, int(np.ceil(y + h)) + 3
    ring[max(0, y0) : y1, max(0, x0) : x1] = True
    ring[max(0, y0 + 1) : y1 - 1, max(0, x0 + 1) : x1 - 1] = False
    assert (out[ring].min(axis=1) < 200).all()


def test_normalise_portrait_options():
    img = _portrait_source()
    out, nb = d.normalise_portrait(
        img, (100, 120, 80, 100), face_width=120, face_fraction=0.45, eyes_from_top=0.38,
        eye_y=160,
    )
    H, W = out.shape[:2]
    assert H * 3 == W * 4
    assert nb[2] / W == pytest.approx(0.45, abs=0.02)
    s = 120 / 80
    assert nb[1] + (160 - 120) * s == pytest.approx(0.38 * H, abs=0.51)
