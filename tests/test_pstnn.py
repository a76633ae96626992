"""PSTNN and its shared numerics: patch grids and fusion, the t-SVD prox, the structure-tensor prior."""

from __future__ import annotations

import numpy as np
import pytest

from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.core.registry import create_method
from istdbench.core.types import Sequence
from istdbench.methods._numerics import corner_prior, fspecial_gaussian, snap_to_8bit, tnn_prox
from istdbench.methods._patches import extract_patches, fuse_patches, make_grid, patch_origins
from istdbench.methods.pstnn import PSTNN, PSTNNConfig, estimate_rank, pstnn

# --- patch grids and fusion ---------------------------------------------------------------------------------


def test_patch_origins_follow_matlab_grids() -> None:
    # gen_patch_ten: [1:step:(N-1)*step, H-p+1] with N = ceil((H-p)/step)+1 (1-based)
    np.testing.assert_array_equal(patch_origins(256, 40, 40), [0, 40, 80, 120, 160, 200, 216])
    np.testing.assert_array_equal(patch_origins(256, 50, 30), [0, 30, 60, 90, 120, 150, 180, 206])
    np.testing.assert_array_equal(patch_origins(250, 10, 10)[-2:], [230, 240])
    np.testing.assert_array_equal(patch_origins(40, 40, 7), [0])
    # IPI: 1:step:m-p+1, no border patch
    np.testing.assert_array_equal(patch_origins(256, 60, 25, border=False), [0, 25, 50, 75, 100, 125, 150, 175])


@pytest.mark.parametrize("row_fastest", [True, False])
def test_extract_order_and_roundtrip(rng: np.random.Generator, row_fastest: bool) -> None:
    img = rng.random((23, 31))
    grid = make_grid(img.shape, 8, 6, border=True, row_fastest=row_fastest)
    patches = extract_patches(img, grid)
    assert patches.shape == (8, 8, len(grid.rows) * len(grid.cols))
    second = (grid.rows[1], grid.cols[0]) if row_fastest else (grid.rows[0], grid.cols[1])
    np.testing.assert_array_equal(patches[:, :, 1], img[second[0] : second[0] + 8, second[1] : second[1] + 8])
    for mode in ("last", "mean", "median"):
        np.testing.assert_allclose(fuse_patches(patches, grid, mode), img, rtol=0, atol=1e-15)


def test_fusion_rules_on_overlaps() -> None:
    grid = make_grid((4, 6), 4, 1, border=False)  # 3 patches along the columns, overlapping
    patches = np.stack([np.full((4, 4), v) for v in (1.0, 2.0, 6.0)], axis=-1)
    np.testing.assert_array_equal(fuse_patches(patches, grid, "last")[0], [1, 2, 6, 6, 6, 6])
    np.testing.assert_allclose(fuse_patches(patches, grid, "mean")[0], [1, 1.5, 3, 3, 4, 6])
    np.testing.assert_allclose(fuse_patches(patches, grid, "median")[0], [1, 1.5, 2, 2, 4, 6])


def test_uncovered_pixels_are_zero(rng: np.random.Generator) -> None:
    img = rng.random((20, 20)) + 1.0
    grid = make_grid(img.shape, 6, 5, border=False)  # origins 0,5,10 -> rows/cols 16..19 uncovered
    out = fuse_patches(extract_patches(img, grid), grid, "median")
    np.testing.assert_array_equal(out[16:, :], 0.0)
    np.testing.assert_allclose(out[:16, :16], img[:16, :16], rtol=0, atol=0)


def test_patch_errors() -> None:
    with pytest.raises(DataError, match="frame of 8x12 pixels is smaller than the 10x10 patch"):
        make_grid((8, 12), 10, 10)
    with pytest.raises(InvalidParameterError, match="patch size and step must be >= 1; got patch=4, step=0"):
        patch_origins(10, 4, 0)
    with pytest.raises(DataError, match="image side of 5 pixels is smaller than the patch size 8"):
        patch_origins(5, 8, 1)
    grid = make_grid((10, 10), 5, 5)
    with pytest.raises(DataError, match=r"frame of shape \(10, 11\) does not match the patch grid"):
        extract_patches(np.zeros((10, 11)), grid)
    with pytest.raises(DataError, match=r"patch tensor of shape \(5, 5, 3\) does not match"):
        fuse_patches(np.zeros((5, 5, 3)), grid)
    with pytest.raises(InvalidParameterError, match="fusion mode must be one of"):
        fuse_patches(np.zeros((5, 5, 4)), grid, "max")  # type: ignore[arg-type]


# --- t-SVD prox and MATLAB helpers ---------------------------------------------------------------------------


def _tsvd_shrink_full(x: np.ndarray, tau: float, n_keep: int) -> np.ndarray:
    """Every Fourier slice decomposed (no conjugate symmetry used), as a check of the rfft shortcut."""
    xf = np.fft.fft(x, axis=2)
    out = np.empty_like(xf)
    for i in range(x.shape[2]):
        u, s, vh = np.linalg.svd(xf[:, :, i], full_matrices=False)
        s[n_keep:] = np.maximum(s[n_keep:] - tau, 0)
        out[:, :, i] = (u * s) @ vh
    return np.fft.ifft(out, axis=2).real


@pytest.mark.parametrize(("n3", "n_keep"), [(7, 0), (8, 1), (9, 2), (1, 0)])
def test_tsvd_shrink_matches_all_slices(rng: np.random.Generator, n3: int, n_keep: int) -> None:
    x = rng.standard_normal((6, 5, n3))
    out, _ = tnn_prox(x, 0.8, axis=2, n_keep=n_keep, solver="svd")
    np.testing.assert_allclose(out, _tsvd_shrink_full(x, 0.8, n_keep), rtol=0, atol=1e-12)


def _shrink(x: np.ndarray, tau: float, n_keep: int) -> np.ndarray:
    return tnn_prox(x, tau, axis=2, n_keep=n_keep, solver="svd")[0]


def test_tsvd_shrink_limits(rng: np.random.Generator) -> None:
    x = rng.standard_normal((4, 6, 5))
    np.testing.assert_allclose(_shrink(x, 1e9, 0), 0.0, atol=1e-12)
    np.testing.assert_allclose(_shrink(x, 1e9, 99), x, rtol=0, atol=1e-12)  # n_keep clipped to min(n1, n2)
    np.testing.assert_allclose(_shrink(x, 0.0, 0), x, rtol=0, atol=1e-12)


def test_gram_and_svd_solvers_agree(rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 7, 6, 5))
    gram, ranks_gram = tnn_prox(x, 0.8, axis=1)
    svd, ranks_svd = tnn_prox(x, 0.8, axis=1, solver="svd")
    np.testing.assert_allclose(gram, svd, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(ranks_gram, ranks_svd)
    # leading singular values kept, per tensor and Fourier slice (NPSTT's capped thresholding)
    n_keep = np.array([[1, 0, 2, 0], [0, 3, 1, 1], [2, 2, 0, 1]])
    gram_k, ranks_k = tnn_prox(x, 0.8, axis=1, n_keep=n_keep)
    svd_k, ranks_k_svd = tnn_prox(x, 0.8, axis=1, n_keep=n_keep, solver="svd")
    np.testing.assert_allclose(gram_k, svd_k, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(ranks_k, ranks_k_svd)


def test_fspecial_gaussian_matches_matlab() -> None:
    # fspecial('gaussian', [3 3], 2) in MATLAB
    expected = np.array([[0.1019, 0.1154, 0.1019], [0.1154, 0.1308, 0.1154], [0.1019, 0.1154, 0.1019]])
    np.testing.assert_allclose(fspecial_gaussian(3, 2.0), expected, rtol=0, atol=5e-5)
    assert fspecial_gaussian(5, 9.0).sum() == pytest.approx(1.0, abs=1e-15)


def test_corner_prior_flat_and_range(rng: np.random.Generator) -> None:
    np.testing.assert_array_equal(corner_prior(np.full((12, 12), 3.0)), 0.0)
    w = corner_prior(rng.random((20, 20)))
    assert np.nanmin(w) == 0.0 and np.nanmax(w) == 1.0


def test_snap_to_8bit() -> None:
    k = np.arange(256, dtype=np.float64)
    np.testing.assert_array_equal(snap_to_8bit((k / 255).astype(np.float32)), k / 255)
    noisy = np.array([0.1234567, 0.5])
    np.testing.assert_array_equal(snap_to_8bit(noisy), noisy)


def test_estimate_rank() -> None:
    assert estimate_rank(np.zeros((4, 4, 6)), 0.1) == 1
    assert estimate_rank(np.ones((4, 4, 6)), 0.1) == 1
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((6, 2)), rng.standard_normal((2, 16))
    two = (a @ b).reshape((4, 4, 6), order="F")  # reshape(X, n3, []) has rank 2
    assert estimate_rank(two, 0.01) == 2


# --- the method -------------------------------------------------------------------------------------------------


def _planted(rng: np.random.Generator, shape: tuple[int, int] = (60, 70)) -> tuple[np.ndarray, tuple[int, int]]:
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    frame = 0.4 + 0.15 * np.sin(rows / 9.0) + 0.1 * cols / shape[1] + 0.005 * rng.standard_normal(shape)
    frame[31:33, 41:43] += 0.35
    return np.clip(frame, 0, 1), (32, 42)


@pytest.mark.parametrize("preset", ["paper", "original", "tensoristd"])
def test_planted_target_recovered(rng: np.random.Generator, preset: str) -> None:
    frame, (r, c) = _planted(rng)
    small = {"patch_size": 20, "step": 10}
    cfg = PSTNN.presets[preset].with_overrides(small) if preset != "tensoristd" else None
    res = pstnn(frame, cfg or PSTNN.presets[preset])
    assert (res.target >= 0).all()
    peak = np.unravel_index(np.argmax(res.target), res.target.shape)
    assert abs(peak[0] - r) <= 1 and abs(peak[1] - c) <= 1
    mask = np.zeros(frame.shape, bool)
    mask[r - 2 : r + 2, c - 2 : c + 2] = True
    assert res.target[mask].sum() > 0.9 * res.target.sum()
    # what is taken from the frame is split between background and target (in 0..255 units); the support
    # stop of paper/original ends the ADMM after a few iterations, so the split is only approximate
    np.testing.assert_allclose(res.background + res.target, frame * 255, rtol=0, atol=0.08 * 255)


def test_detect_returns_background_and_diagnostics(rng: np.random.Generator) -> None:
    frame, _ = _planted(rng, (40, 50))
    det = create_method("pstnn", "tensoristd").detect(Sequence(frames=np.stack([frame, frame])))
    assert det.background is not None and det.background.shape == det.target.shape
    assert len(det.diagnostics["iterations"]) == 2 and det.diagnostics["iterations"][0] >= 1
    np.testing.assert_array_equal(det.target[0], det.target[1])


@pytest.mark.parametrize("shape", [(1, 40, 40), (1, 45, 67)])
def test_constant_frames_give_finite_zeros(shape: tuple[int, int, int]) -> None:
    for value in (0.0, 0.6):
        det = create_method("pstnn").detect(Sequence(frames=np.full(shape, value, dtype=np.float32)))
        assert np.isfinite(det.target).all()
        np.testing.assert_allclose(det.target, 0.0, atol=1e-9)


def test_large_non_square_frame(rng: np.random.Generator) -> None:
    frame = 0.5 + 0.05 * rng.random((512, 640))
    det = create_method("pstnn", "paper", overrides={"max_iter": "3"}).detect(Sequence(frames=frame[None]))
    assert det.target.shape == (1, 512, 640)
    assert np.isfinite(det.target).all()


def test_frame_smaller_than_patch() -> None:
    seq = Sequence(frames=np.zeros((1, 30, 64), dtype=np.float32))
    with pytest.raises(DataError, match=r"PSTNN needs frames of at least 40x40 pixels .* got 30x64"):
        create_method("pstnn", "paper").detect(seq)


def test_presets() -> None:
    paper, ti = PSTNN.presets["paper"], PSTNN.presets["tensoristd"]
    assert (paper.patch_size, paper.step, paper.lambda_l, paper.nnz_stop) == (40, 40, 1.0, True)
    assert PSTNN.presets["original"].lambda_l == 0.7
    assert (ti.patch_size, ti.step, ti.lambda_l, ti.tol, ti.nnz_stop, ti.fusion) == (10, 10, 0.9, 1e-4, False, "last")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("patch_size", 1, "an integer >= 2"),
        ("step", 0, "an integer >= 1"),
        ("lambda_l", 0.0, "a float > 0"),
        ("tol", -1.0, "a float > 0"),
        ("max_iter", 0, "an integer >= 1"),
        ("rho", 0.5, "a float >= 1"),
        ("mu0", 0.0, "a float > 0"),
        ("mu_max", 1e-6, "a float >= mu0"),
        ("rank_ratio", 1.5, r"a float in \(0, 1\)"),
        ("input_scale", 0.0, "a float > 0"),
        ("fusion", "max", "one of"),
    ],
)
def test_invalid_config(field: str, value: object, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"'{field}' parameter of PSTNNConfig must be {message}"):
        PSTNNConfig(**{field: value})
